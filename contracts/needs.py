"""Needs service: the payloads of the events it publishes on `needs`.

Event payloads carry no personal data: residents appear only as their pseudonymous `resident_ref`,
and descriptions stay in the needs service. Fields and meaning: docs/events.md.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from wspolnota.schemas import category_field, uuid_str, village_field

TOPIC = "needs"

# Codes the payloads carry (the needs service's domain and API use the same ones).
REQUIREMENT_CODES = ("driving_licence", "own_car", "kamilka_check", "first_aid",
                     "confidentiality_authorisation", "nnw_insurance")
URGENCIES = ("normal", "high", "urgent")
MODERATION = ("review", "auto")

requirement_code = fields.String(validate=validate.OneOf(REQUIREMENT_CODES, error="Nieznany wymóg: {input}."))


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
    requirements = fields.List(requirement_code, load_default=list)
    involves_minor = fields.Boolean(load_default=False)
    language = fields.String(load_default="pl")
    plan_ref = fields.String(load_default=None, allow_none=True)
    series_id = fields.String(load_default=None, allow_none=True)
    continuity = fields.Boolean(load_default=False)
    moderation = fields.String(load_default="review", validate=validate.OneOf(MODERATION))
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    # what the need asks of its provider beyond credentials (absent in older events: nothing asked)
    personal_care = fields.Boolean(load_default=False)  # personal (hygiene) care: paid neighbours only
    skills = fields.List(fields.String(), load_default=list)  # as volunteers name their skills
    relatives = fields.List(uuid_str(), load_default=list)  # volunteer ids of the resident's relatives


class NeedUpdated(NeedRegistered):
    """The need's current terms after staff edited it (same fields as NeedRegistered)."""


class NeedCancelled(Schema):
    need_id = uuid_str(required=True)
    reason = fields.String(load_default="")
    plan_ref = fields.String(load_default=None, allow_none=True)
    series_id = fields.String(load_default=None, allow_none=True)


class NeedCompleted(Schema):
    need_id = uuid_str(required=True)
    visits = fields.Integer(load_default=0)
    hours = fields.Float(load_default=0.0)
    plan_ref = fields.String(load_default=None, allow_none=True)


class SupportPackageOpened(Schema):
    plan_ref = fields.String(required=True)
    resident_ref = fields.String(required=True)
    village = village_field(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


PACKAGE_CLOSED_BY_STAFF = "closed"  # the reason staff type stays in support_packages.close_reason


class SupportPackageClosed(Schema):
    plan_ref = fields.String(required=True)
    reason = fields.String(load_default="")  # a code (PACKAGE_CLOSED_BY_STAFF), never typed text
    visits_delivered = fields.Integer(load_default=0)
    hours_delivered = fields.Float(load_default=0.0)


class ResidentErased(Schema):
    """RODO art. 17: the resident's personal data is gone from the needs service; every service drops what
    links it to the pseudonym. `need_ids` (optional) names the resident's needs, for services that keep
    need ids but not the pseudonym (notify)."""

    resident_ref = fields.String(required=True)
    erased_at = fields.AwareDateTime(required=True)
    need_ids = fields.List(uuid_str(), load_default=list)
    plan_refs = fields.List(fields.String(), load_default=list)


class ConcernReported(Schema):
    """A volunteer or staff reported a concern about a resident's well-being or safety. Never the text: it stays
    in the needs service (its concern page, read by staff and audited). `resident_ref` is absent for a general
    concern that names no visit; notify sends the resident's social worker (or the organiser) a link at once."""

    concern_id = uuid_str(required=True)
    need_id = uuid_str(load_default=None, allow_none=True)
    resident_ref = fields.String(load_default=None, allow_none=True)
    urgent = fields.Boolean(load_default=True)
    kind = fields.String(load_default="concern")  # CONCERN_KINDS (absent in older events: a concern)


CONCERN_KINDS = ("concern", "incident", "safeguarding")


class ConcernEscalated(Schema):
    """A concern nobody acknowledged by its deadline: the needs job escalates it once; notify sends the director
    an urgent e-mail with a link to the concern page. Ids and codes only, never the text."""

    concern_id = uuid_str(required=True)
    kind = fields.String(load_default="concern")
    urgent = fields.Boolean(load_default=True)


# Feedback on a visit, from whoever gave it. The same schema is published by the volunteers service (source
# "volunteer"), the needs service (a call staff logged, "resident_call") and notify (a resident's SMS reply,
# "resident_sms"), each on its own topic. Score: 1 good ("dobrze"), 2 so-so ("średnio" / "były trudności"),
# 3 bad ("źle" / "potrzebna interwencja"). A note anyone typed stays in the service that took it.
FEEDBACK_SOURCES = ("volunteer", "resident_sms", "resident_call")
FEEDBACK_SCORES = (1, 2, 3)


class FeedbackGiven(Schema):
    feedback_id = uuid_str(required=True)  # the owning service's id of the feedback (one per event)
    match_id = uuid_str(required=True)
    need_id = uuid_str(load_default=None, allow_none=True)
    source = fields.String(required=True, validate=validate.OneOf(FEEDBACK_SOURCES))
    score = fields.Integer(required=True, validate=validate.OneOf(FEEDBACK_SCORES))


# NeedCancelled.reason is a code, never the text staff typed (which may name the resident: it stays in the
# needs database, on the need's page and timeline). Consumers treat unknown codes as a plain cancellation.
CANCEL_BY_STAFF = "cancelled"  # by staff or by the case system
CANCEL_EXPIRED = "expired"
CANCEL_RESIDENT_ERASED = "resident_erased"

EVENTS: dict[str, type[Schema]] = {
    "NeedRegistered": NeedRegistered, "NeedUpdated": NeedUpdated, "NeedCancelled": NeedCancelled,
    "NeedCompleted": NeedCompleted, "SupportPackageOpened": SupportPackageOpened,
    "SupportPackageClosed": SupportPackageClosed, "ResidentErased": ResidentErased,
    "ConcernReported": ConcernReported, "ConcernEscalated": ConcernEscalated, "FeedbackGiven": FeedbackGiven}
