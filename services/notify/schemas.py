"""Notify service contract: its API output and the payloads it publishes on `notifications`.

Event names and fields agreed between services: docs/events.md. Working rules: CONTRIBUTING.md.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from wspolnota.schemas import uuid_str

TOPIC = "notifications"
CHANNELS = ["panel", "email", "sms", "webhook"]


class NotificationRecorded(Schema):
    notification_id = uuid_str(required=True)
    cause_event_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.Length(min=1, max=50))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    recipient_role = fields.String(required=True, validate=validate.Length(min=1, max=50))


class NotificationOut(Schema):
    id = fields.String()
    cause_event_id = fields.String()
    need_id = fields.String()
    kind = fields.String()
    channel = fields.String()
    recipient = fields.String()
    subject = fields.String()
    body = fields.String()
    status = fields.String()
    created_at = fields.AwareDateTime()


EVENTS = {"NotificationRecorded": NotificationRecorded}
