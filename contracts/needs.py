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



# Requests for help from residents and their families (docs/needs.md "Requests from residents"): ids and codes only;
# names, phone numbers, e-mail addresses and what was written stay in the needs service. Notify reads the
# requester's address at send time from the needs service's internal API.
REQUEST_CHANNELS = ("online", "phone")  # the public form; staff taking a phone call
REQUEST_CLOSE_REASONS = ("not_our_help", "referred", "resolved", "no_contact", "duplicate", "outside_area")
REQUEST_CLOSE_REASON_PL = {
    "not_our_help": "tej pomocy nie organizujemy (np. opieka medyczna, prace wymagające fachowca)",
    "referred": "sprawę przekazaliśmy właściwej instytucji",
    "resolved": "pomoc nie jest już potrzebna",
    "no_contact": "nie udało się skontaktować",
    "duplicate": "ta sama prośba była już zgłoszona",
    "outside_area": "osoba mieszka poza gminą Zagnańsk",
}


class RequestReceived(Schema):
    """A request for help came in (the public form, or staff wrote down a call)."""

    request_id = uuid_str(required=True)
    village = fields.String(load_default=None, allow_none=True)
    channel = fields.String(required=True, validate=validate.OneOf(REQUEST_CHANNELS))


class RequestConverted(Schema):
    """Staff turned the request into a need (the resident record made or picked); the requester hears help is
    being arranged."""

    request_id = uuid_str(required=True)
    need_id = uuid_str(required=True)


class RequestClosed(Schema):
    """Staff closed the request without a need; `reason` is a REQUEST_CLOSE_REASONS code (staff's note stays in
    the needs service). The requester is told the reason."""

    request_id = uuid_str(required=True)
    reason = fields.String(required=True)
# Well-being call series ("telefon życzliwości"): what the volunteer recorded after a call, and two unanswered calls
# in a row. Codes and ids only: what the volunteer wrote (a worry, what is needed) stays in the needs service.
CALL_OUTCOMES = ("all_well", "needs_something", "worrying", "no_answer")


class CallOutcomeRecorded(Schema):
    """The volunteer recorded a call's outcome (one per match; the same outcome again publishes nothing).
    `category` is the code of the need created for `needs_something`, else null; `minutes` the call's length."""

    match_id = uuid_str(required=True)
    series_id = uuid_str(required=True)
    need_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(CALL_OUTCOMES))
    minutes = fields.Integer(load_default=None, allow_none=True)
    category = category_field(load_default=None, allow_none=True)


class CallSeriesEscalated(Schema):
    """Two calls of a series in a row were not answered: staff must find out why. One per escalation (a run of
    unanswered calls); notify e-mails the resident's social worker (or the organiser) once."""

    escalation_id = uuid_str(required=True)
    series_id = uuid_str(required=True)


# NeedCancelled.reason is a code, never the text staff typed (which may name the resident: it stays in the
# needs database, on the need's page and timeline). Consumers treat unknown codes as a plain cancellation.
CANCEL_BY_STAFF = "cancelled"  # by staff or by the case system
CANCEL_EXPIRED = "expired"
CANCEL_RESIDENT_ERASED = "resident_erased"
CANCEL_NO_LONGER_NEEDED = "no_longer_needed"  # the requesting worker answered "is it still needed?" with no


class NeedCheckDue(Schema):
    """Needs' periodic job: an open need unmatched for NEEDS_CHECK_DAYS and not checked in that long (key need_id).
    `check_id` names this one check: notify e-mails the requesting worker a signed link once per check, and the
    answer comes back as notify's NeedCheckAnswered with the same id."""

    need_id = uuid_str(required=True)
    check_id = uuid_str(required=True)

# How a resident hears about their visits (ResidentNoticesChanged.channel): SMS, a call from staff (no mobile
# phone: the "Do zadzwonienia" list in notify), or not at all (no consent, or the resident's wish).
NOTICE_SMS, NOTICE_CALL, NOTICE_NONE = "sms", "call", "none"
NOTICE_CHANNELS = (NOTICE_SMS, NOTICE_CALL, NOTICE_NONE)


class ResidentNoticesChanged(Schema):
    """How the resident now wants to hear about their visits — with their consent; `none` without it. A code only:
    the phone and the consent's details stay in the needs service, which notify asks at send time."""

    resident_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))
    channel = fields.String(required=True, validate=validate.OneOf(NOTICE_CHANNELS))


EVENTS: dict[str, type[Schema]] = {
    "NeedRegistered": NeedRegistered, "NeedUpdated": NeedUpdated, "NeedCancelled": NeedCancelled,
    "NeedCompleted": NeedCompleted, "SupportPackageOpened": SupportPackageOpened,
    "SupportPackageClosed": SupportPackageClosed, "ResidentErased": ResidentErased,
    "ConcernReported": ConcernReported,
    "RequestReceived": RequestReceived, "RequestConverted": RequestConverted, "RequestClosed": RequestClosed,
    "NeedCheckDue": NeedCheckDue,
    "CallOutcomeRecorded": CallOutcomeRecorded, "CallSeriesEscalated": CallSeriesEscalated,
    "ResidentNoticesChanged": ResidentNoticesChanged,
    "ConcernEscalated": ConcernEscalated, "FeedbackGiven": FeedbackGiven}
