"""Volunteers service: the payloads of the events it publishes on `volunteers`, and the codes they carry.

Events never carry a person's name, e-mail, phone number or free text; a partner organisation's profile carries the
organisation's public identity (name, kind, KRS: a legal entity, not a person). Fields and meaning: docs/events.md.
"""
from __future__ import annotations

import base64
import hashlib
import uuid

from itsdangerous import BadSignature, Signer
from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.needs import FeedbackGiven
from wspolnota.schemas import category_field, uuid_str, village_field

TOPIC = "volunteers"

# Provider types (same codes as services/matching/rules.py).
VOLUNTEER = "volunteer"
PAID_NEIGHBOUR = "paid_neighbour"
PARTNER_ORGANISATION = "partner_organisation"
STAFF = "staff"
PROVIDER_TYPES = (VOLUNTEER, PAID_NEIGHBOUR, PARTNER_ORGANISATION, STAFF)

# Credential kinds = requirement codes of docs/events.md, plus "agreement" (porozumienie).
DRIVING_LICENCE = "driving_licence"
OWN_CAR = "own_car"  # the matcher's rules.py calls this one "car"
KAMILKA_CHECK = "kamilka_check"
FIRST_AID = "first_aid"
CONFIDENTIALITY_AUTHORISATION = "confidentiality_authorisation"
NNW_INSURANCE = "nnw_insurance"
AGREEMENT = "agreement"
CREDENTIAL_KINDS = (DRIVING_LICENCE, OWN_CAR, KAMILKA_CHECK, FIRST_AID, CONFIDENTIALITY_AUTHORISATION,
                    NNW_INSURANCE, AGREEMENT)

# Reason codes on the bus (never the text staff type, which stays in `credentials.revoke_reason`).
REVOKED_BY_STAFF = "revoked_by_staff"  # explicit staff action
REVOKED_ADVERSE_RESULT = "adverse_result"  # a later Kamilka check: listed in the register, or a KRK entry
REVOKED_SUPERSEDED = "superseded"  # a later Kamilka check now decides
REVOKE_REASONS = (REVOKED_BY_STAFF, REVOKED_ADVERSE_RESULT, REVOKED_SUPERSEDED)
PAUSE_SAFETY_REVIEW = "safety_review"  # paused by the service after an adverse Kamilka result, pending review

# Volunteers' sign-in links: the link names a token by id and carries an HMAC of it under a key derived from
# SECRET_KEY for this purpose only (the salt). Notify builds the link, the volunteers service reads it; the bus
# carries only the id, which opens nothing without the key.
SIGN_IN_CHANNELS = ("email", "sms")
SIGN_IN_SALT = "wspolnota.volunteers.sign-in-link"
SIGN_IN_PATH = "/volunteers/wolontariusz/wejscie/"  # behind the front door


def _sign_in_signer(secret: str) -> Signer:
    return Signer(secret, salt=SIGN_IN_SALT, digest_method=hashlib.sha256)


def sign_in_token(secret: str, token_id: str) -> str:
    """The secret part of a sign-in link: the token id (22 characters) and its signature."""
    compact = base64.urlsafe_b64encode(uuid.UUID(token_id).bytes).rstrip(b"=").decode()
    return _sign_in_signer(secret).sign(compact).decode()


def read_sign_in_token(secret: str, token: str) -> str | None:
    """The token id inside a correctly signed sign-in token; None for anything else."""
    try:
        value = _sign_in_signer(secret).unsign(token.encode("ascii", "replace")).decode()
        if len(value) != 22:
            return None
        return str(uuid.UUID(bytes=base64.urlsafe_b64decode(value + "==")))
    except (BadSignature, ValueError):
        return None


REQUIRED = "To pole jest wymagane."
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class WeeklySlot(Schema):
    """One weekly slot of availability, in events and in the service's API bodies alike (Polish messages:
    the staff forms show them next to their fields)."""

    error_messages = {"unknown": "Nieznane pole.", "type": "Niepoprawne dane."}

    weekday = fields.Integer(required=True, validate=validate.Range(
        0, 6, error="Dzień tygodnia od 0 (pon.) do 6 (niedz.)."), error_messages={
        "required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawna liczba całkowita."})
    start = fields.String(required=True, validate=validate.Regexp(HH_MM, error="Godzina GG:MM."), error_messages={
        "required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawny tekst."})
    end = fields.String(required=True, validate=validate.Regexp(HH_MM + "|^24:00$", error="Godzina GG:MM."),
                        error_messages={"required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawny tekst."})


class EventSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a newer producer's extra fields do not break an older consumer


class Absence(EventSchema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CredentialPayload(EventSchema):
    kind = fields.String(required=True, validate=validate.OneOf(CREDENTIAL_KINDS))
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True, allow_none=True)
    credential_id = uuid_str()  # optional: absent in events from before credentials were named
    written = fields.Boolean()  # agreements only


class Organisation(EventSchema):
    """A partner organisation's public identity: a legal entity's registered name, kind and KRS number — not a
    natural person's data. Only providers of type partner_organisation carry it; contacts never travel."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(load_default=None, allow_none=True)  # kgw, osp, parish, school, ngo, business, other
    krs = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9]{10}$"))


class VolunteerRegistered(EventSchema):
    volunteer_id = uuid_str(required=True)
    provider_type = fields.String(required=True, validate=validate.OneOf(PROVIDER_TYPES))
    villages = fields.List(village_field(), required=True)
    home_village = village_field(load_default=None, allow_none=True)
    radius_km = fields.Float(load_default=None, allow_none=True)
    languages = fields.List(fields.String(), load_default=list)
    skills = fields.List(fields.String(), load_default=list)
    capacity_hours_per_week = fields.Float(load_default=None, allow_none=True)
    max_open_tasks = fields.Integer(load_default=None, allow_none=True)
    verified = fields.Boolean(load_default=False)
    paused = fields.Boolean(load_default=False)
    credentials = fields.List(fields.Nested(CredentialPayload), load_default=list)
    # Added here (optional): art. 50 conditions met, the weekly availability of the profile, and the days
    # it does not hold (holidays, sickness — the reason stays in this service).
    neighbour_conditions_met = fields.Boolean(load_default=False)
    weekly_slots = fields.List(fields.Nested(WeeklySlot), load_default=list)
    unavailable = fields.List(fields.Nested(Absence), load_default=list)
    # Added (optional): partner organisations only; absent for every other provider type.
    organisation = fields.Nested(Organisation, load_default=None, allow_none=True)


class VolunteerUpdated(VolunteerRegistered):
    pass


class CredentialRecorded(EventSchema):
    volunteer_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CREDENTIAL_KINDS))
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True, allow_none=True)
    credential_id = uuid_str()  # optional for replayed older events; always sent now
    written = fields.Boolean()  # agreements only: signed in writing


class CredentialExpired(EventSchema):
    volunteer_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CREDENTIAL_KINDS))
    valid_until = fields.Date(load_default=None, allow_none=True)
    credential_id = uuid_str()  # only this credential lapsed (absent in older events: see docs/events.md)


class CredentialRevoked(EventSchema):
    volunteer_id = uuid_str(required=True)
    credential_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CREDENTIAL_KINDS))
    reason = fields.String(required=True, validate=validate.OneOf(REVOKE_REASONS))


class VolunteerRef(EventSchema):
    volunteer_id = uuid_str(required=True)


class VolunteerPaused(VolunteerRef):
    reason = fields.String()  # optional code: "safety_review" (paused by the service); absent: an ordinary pause


class OfferPublished(EventSchema):
    offer_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    categories = fields.List(category_field(), required=True, validate=validate.Length(min=1))
    villages = fields.List(village_field(), required=True, validate=validate.Length(min=1))
    available_from = fields.AwareDateTime(required=True)
    available_to = fields.AwareDateTime(required=True)
    weekly_slots = fields.List(fields.Nested(WeeklySlot), load_default=list)
    standing = fields.Boolean(load_default=False)


class OfferWithdrawn(EventSchema):
    offer_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)


class SignInLinkRequested(EventSchema):
    """A volunteer asked for a sign-in link (docs/security.md, "Volunteers' sign-in"). No address, no secret: notify
    sends the link on `channel` to the volunteer's own address (the contact API), built by `sign_in_token` from
    `token_id` with the purpose-specific key; the volunteers service checks the signature, expiry and single use."""

    volunteer_id = uuid_str(required=True)
    token_id = uuid_str(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(SIGN_IN_CHANNELS))
    expires_at = fields.AwareDateTime(required=True)


# --- the volunteer's own answers from their space (services/volunteers/visits.py) -------------------------------
# The same shapes as notify's link answers (contracts/notify.py ProviderResponded / ProviderSteppedBack), on the
# volunteers topic: matching handles them with the same code paths, so an answer through the link and one through
# the space for the same offer are one answer (the second finds the offer answered and changes nothing).
VISIT_RESPONSES = ("accept", "decline")
VISIT_SCOPES = ("visit", "series")
VISIT_MINUTES_MIN, VISIT_MINUTES_MAX = 5, 720  # a visit that happened lasted 5 minutes to 12 hours


class VisitAnswered(EventSchema):
    """The signed-in volunteer answered an offer in their space (key match_id); as ProviderResponded. `reason`:
    one of the fixed Polish answers of notify's response page, never free text."""

    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    response = fields.String(required=True, validate=validate.OneOf(VISIT_RESPONSES))
    reason = fields.String(load_default="", validate=validate.Length(max=200))
    scope = fields.String(load_default="visit", validate=validate.OneOf(VISIT_SCOPES))


class VisitSteppedBack(EventSchema):
    """The signed-in volunteer stepped back from an accepted visit or its series; as ProviderSteppedBack
    (`reason`: a code of matching's STEP_BACK_REASONS)."""

    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    scope = fields.String(required=True, validate=validate.OneOf(VISIT_SCOPES))
    reason = fields.String(required=True, validate=validate.Length(max=30))


class VisitConfirmed(EventSchema):
    """The signed-in volunteer said an accepted visit happened (with its minutes) or did not; matching completes
    the match (MatchCompleted with hours = minutes / 60) or cancels it (MatchCancelled{did_not_happen})."""

    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    happened = fields.Boolean(required=True)
    minutes = fields.Integer(load_default=None, allow_none=True,
                             validate=validate.Range(min=VISIT_MINUTES_MIN, max=VISIT_MINUTES_MAX))


EVENTS: dict[str, type[Schema]] = {
    "VolunteerRegistered": VolunteerRegistered,
    "VolunteerUpdated": VolunteerUpdated,
    "CredentialRecorded": CredentialRecorded,
    "CredentialExpired": CredentialExpired,
    "CredentialRevoked": CredentialRevoked,
    "OfferPublished": OfferPublished,
    "OfferWithdrawn": OfferWithdrawn,
    "VolunteerPaused": VolunteerPaused,
    "VolunteerResumed": VolunteerRef,
    "VolunteerErased": VolunteerRef,
    "SignInLinkRequested": SignInLinkRequested,
    "VisitAnswered": VisitAnswered,
    "VisitSteppedBack": VisitSteppedBack,
    "VisitConfirmed": VisitConfirmed,
    "FeedbackGiven": FeedbackGiven,  # source "volunteer" (the schema is shared: contracts/needs.py)
}
