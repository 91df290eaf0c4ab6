"""What matching consumes: the publishers' schemas, with tolerant stand-ins for agreed events they lack yet.

docs/events.md agrees on events that the needs, volunteers and notify services add while matching is built.
A stand-in below declares the agreed fields (all optional beyond the ids) and lets unknown fields through;
as soon as the publisher's own schema exists it takes precedence (later parts of a Catalog win).
"""
from __future__ import annotations

from typing import cast

from marshmallow import INCLUDE, Schema, fields, validate

from services.needs import schemas as need_schemas
from services.notify import schemas as notify_schemas
from services.volunteers import schemas as volunteer_schemas
from wspolnota.schemas import category_field, uuid_str, village_field
from wspolnota.transport import Catalog


class Tolerant(Schema):
    class Meta:
        unknown = INCLUDE


class CredentialIn(Tolerant):
    kind = fields.String(required=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True)
    credential_id = fields.String(load_default=None, allow_none=True)
    written = fields.Boolean(load_default=False)


class NeedFields(Tolerant):
    need_id = uuid_str(required=True)
    resident_ref = fields.String(load_default=None, allow_none=True)
    category = category_field(required=True)
    village = village_field(required=True)
    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    urgent = fields.Boolean(load_default=False)
    slots = fields.Integer(load_default=1)
    requirements = fields.List(fields.String(), load_default=list)
    involves_minor = fields.Boolean(load_default=False)
    language = fields.String(load_default="pl")
    plan_ref = fields.String(load_default=None, allow_none=True)
    series_id = fields.String(load_default=None, allow_none=True)
    continuity = fields.Boolean(load_default=False)
    moderation = fields.String(load_default="review", validate=validate.OneOf(["review", "auto"]))


class NeedRef(Tolerant):
    need_id = uuid_str(required=True)
    reason = fields.String(load_default="")


class ResidentErased(Tolerant):
    resident_ref = fields.String(required=True)
    erased_at = fields.AwareDateTime(load_default=None, allow_none=True)
    need_ids = fields.List(fields.String(), load_default=list)


class VolunteerFields(Tolerant):
    volunteer_id = uuid_str(required=True)
    provider_type = fields.String(load_default="volunteer")
    villages = fields.List(village_field(), load_default=list)
    home_village = fields.String(load_default=None, allow_none=True)
    radius_km = fields.Float(load_default=None, allow_none=True)
    languages = fields.List(fields.String(), load_default=None, allow_none=True)
    skills = fields.List(fields.String(), load_default=None, allow_none=True)
    capacity_hours_per_week = fields.Float(load_default=None, allow_none=True)
    max_open_tasks = fields.Integer(load_default=None, allow_none=True)
    verified = fields.Boolean(load_default=None, allow_none=True)
    paused = fields.Boolean(load_default=None, allow_none=True)
    credentials = fields.List(fields.Nested(CredentialIn), load_default=None, allow_none=True)
    weekly_slots = fields.List(fields.Dict(), load_default=None, allow_none=True)
    unavailable = fields.List(fields.Dict(), load_default=None, allow_none=True)
    neighbour_conditions_met = fields.Boolean(load_default=None, allow_none=True)


class VolunteerRef(Tolerant):
    volunteer_id = uuid_str(required=True)


class CredentialRecorded(Tolerant):
    volunteer_id = uuid_str(required=True)
    kind = fields.String(required=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True)
    credential_id = fields.String(load_default=None, allow_none=True)
    written = fields.Boolean(load_default=False)


class CredentialExpired(Tolerant):
    volunteer_id = uuid_str(required=True)
    kind = fields.String(required=True)
    valid_until = fields.Date(load_default=None, allow_none=True)
    credential_id = fields.String(load_default=None, allow_none=True)


class CredentialRevoked(Tolerant):
    volunteer_id = uuid_str(required=True)
    credential_id = fields.String(required=True)
    kind = fields.String(required=True)
    reason = fields.String(load_default="")


class VolunteerPaused(Tolerant):
    volunteer_id = uuid_str(required=True)
    reason = fields.String(load_default=None, allow_none=True)  # "safety_review"; absent: the person's own


class OfferWithdrawn(Tolerant):
    offer_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)


class ProviderResponded(Tolerant):
    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    response = fields.String(required=True, validate=validate.OneOf(["accept", "decline"]))
    reason = fields.String(load_default="")


STAND_INS: dict[str, type[Schema]] = {
    "NeedUpdated": NeedFields,
    "NeedCancelled": NeedRef,
    "NeedCompleted": NeedRef,
    "ResidentErased": ResidentErased,
    "VolunteerUpdated": VolunteerFields,
    "VolunteerPaused": VolunteerPaused,
    "VolunteerResumed": VolunteerRef,
    "VolunteerErased": VolunteerRef,
    "CredentialRecorded": CredentialRecorded,
    "CredentialExpired": CredentialExpired,
    "CredentialRevoked": CredentialRevoked,
    "OfferWithdrawn": OfferWithdrawn,
    "ProviderResponded": ProviderResponded,
}

CONSUMES = Catalog(STAND_INS, *(cast(dict[str, type[Schema]], events) for events in (
    need_schemas.EVENTS, volunteer_schemas.EVENTS, notify_schemas.EVENTS)))
