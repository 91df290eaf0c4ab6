"""Volunteers service contract: API bodies and payloads on `volunteers` (never contact data).

Event names and fields agreed between services: docs/events.md. Working rules: CONTRIBUTING.md.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from wspolnota.schemas import category_field, uuid_str, village_field

TOPIC = "volunteers"
PROVIDER_TYPES = ["volunteer", "paid_neighbour", "partner_organisation", "staff"]
PHONE = validate.Regexp(r"^\+?[0-9 ]{9,15}$", error="Niepoprawny numer telefonu.")


class VolunteerCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    email = fields.Email(required=True, validate=validate.Length(max=200), error_messages={"invalid": "Niepoprawny adres e-mail."})
    phone = fields.String(required=True, validate=PHONE)
    provider_type = fields.String(load_default="volunteer", validate=validate.OneOf(PROVIDER_TYPES))
    villages = fields.List(village_field(), required=True, validate=validate.Length(min=1, max=30))


class VolunteerOut(Schema):
    id = fields.String()
    provider_type = fields.String()
    villages = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class OfferCreate(Schema):
    categories = fields.List(category_field(), required=True, validate=validate.Length(min=1, max=14))
    villages = fields.List(village_field(), load_default=None, validate=validate.Length(min=1, max=30))
    available_from = fields.AwareDateTime(required=True)
    available_to = fields.AwareDateTime(required=True)

    @validates_schema
    def _window(self, data, **_kw):  # type: ignore[no-untyped-def]
        start, end = data.get("available_from"), data.get("available_to")
        if start and end and end <= start:
            raise ValidationError("Koniec dostępności musi być po jej początku.", "available_to")


class OfferOut(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    categories = fields.List(fields.String())
    villages = fields.List(fields.String())
    available_from = fields.AwareDateTime()
    available_to = fields.AwareDateTime()
    status = fields.String()


class VolunteerRegistered(Schema):
    volunteer_id = uuid_str(required=True)
    provider_type = fields.String(required=True, validate=validate.OneOf(PROVIDER_TYPES))
    villages = fields.List(village_field(), required=True)


class OfferPublished(Schema):
    offer_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    categories = fields.List(category_field(), required=True, validate=validate.Length(min=1))
    villages = fields.List(village_field(), required=True, validate=validate.Length(min=1))
    available_from = fields.AwareDateTime(required=True)
    available_to = fields.AwareDateTime(required=True)


EVENTS = {"VolunteerRegistered": VolunteerRegistered, "OfferPublished": OfferPublished}
