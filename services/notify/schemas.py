"""Notify service API: the output of its HTTP API.

The payloads of the events it publishes on `notifications` are its published contract: contracts/notify.py.
"""
from __future__ import annotations

from marshmallow import Schema, fields


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
