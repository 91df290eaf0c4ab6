"""Needs service contract: API bodies and the payloads of the events it publishes on `needs`.

Event names and fields agreed between services: docs/events.md. Working rules: CONTRIBUTING.md.
"""
from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from wspolnota.schemas import category_field, uuid_str, village_field

TOPIC = "needs"


class NeedCreate(Schema):
    """What staff (or the case system) send to register a need."""

    resident_ref = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "pseudonymous resident id (no names here)"})
    category = category_field(required=True)
    village = village_field(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=15, max=12 * 60))
    urgent = fields.Boolean(load_default=False)
    slots = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10))

    @validates_schema
    def _window(self, data, **_kw):  # type: ignore[no-untyped-def]
        start, end = data.get("window_start"), data.get("window_end")
        if start and end:
            if end <= start:
                raise ValidationError("Koniec okna musi być po jego początku.", "window_end")
            if end < datetime.now(UTC):
                raise ValidationError("Okno czasowe już minęło.", "window_end")
            minutes = data.get("duration_minutes")
            if minutes and (end - start).total_seconds() < minutes * 60:
                raise ValidationError("Okno jest krótsze niż czas trwania.", "duration_minutes")


class NeedOut(Schema):
    id = fields.String()
    resident_ref = fields.String()
    category = fields.String()
    village = fields.String()
    description = fields.String()
    window_start = fields.AwareDateTime()
    window_end = fields.AwareDateTime()
    duration_minutes = fields.Integer()
    urgent = fields.Boolean()
    slots = fields.Integer()
    status = fields.String()
    created_at = fields.AwareDateTime()


class NeedRegistered(Schema):
    """No personal data: the description stays in the needs service."""

    need_id = uuid_str(required=True)
    resident_ref = fields.String(required=True)
    category = category_field(required=True)
    village = village_field(required=True)
    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    urgent = fields.Boolean(required=True)
    slots = fields.Integer(required=True)


class NeedCancelled(Schema):
    need_id = uuid_str(required=True)
    reason = fields.String(load_default="")


EVENTS = {"NeedRegistered": NeedRegistered, "NeedCancelled": NeedCancelled}
