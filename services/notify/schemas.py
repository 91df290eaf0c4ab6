"""Notify service contract: its API output and the payloads it publishes on `notifications`.

Event names and fields agreed between services: docs/events.md. Working rules: CONTRIBUTING.md.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from wspolnota.schemas import uuid_str

TOPIC = "notifications"
CHANNELS = ["panel", "email", "sms", "webhook"]
RESPONSES = ["accept", "decline"]


class NotificationRecorded(Schema):
    notification_id = uuid_str(required=True)
    cause_event_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.Length(min=1, max=50))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    recipient_role = fields.String(required=True, validate=validate.Length(min=1, max=50))


class ProviderResponded(Schema):
    """A provider answered an offer through a signed link (key match_id); matching turns it into
    MatchAccepted / MatchDeclined. `reason` is one of the fixed Polish reasons of the response page,
    never free text, so no personal data reaches the bus."""

    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    response = fields.String(required=True, validate=validate.OneOf(RESPONSES))
    reason = fields.String(load_default="", validate=validate.Length(max=200))


class NotificationOut(Schema):
    id = fields.String()
    cause_event_id = fields.String()
    need_id = fields.String()
    match_id = fields.String(allow_none=True)
    kind = fields.String()
    channel = fields.String()
    recipient = fields.String()
    subject = fields.String()
    body = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    segments = fields.Integer(allow_none=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class DeadLetterOut(Schema):
    notification_id = fields.String()
    kind = fields.String()
    channel = fields.String()
    recipient = fields.String()
    attempts = fields.Integer()
    reason = fields.String()
    failed_at = fields.AwareDateTime()


EVENTS = {"NotificationRecorded": NotificationRecorded, "ProviderResponded": ProviderResponded}
