"""Matching service contract: payloads of the events it publishes on `matches`, and its API bodies.

Event names and fields agreed between services: docs/events.md. Working rules: CONTRIBUTING.md.
Every match event carries match_id, need_id and volunteer_id and is keyed by need_id.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from wspolnota.schemas import category_field, uuid_str, village_field

TOPIC = "matches"
REASON = validate.Length(max=500)

# `reason` on MatchRejected and MatchCancelled is one of these codes, never text staff typed (it may name a
# resident): the typed reason of a rejection stays in matching (proposals.decision_reason). MatchDeclined
# carries one of the fixed Polish answers of the provider's response page. Consumers show `reason_label`.
REJECTED_BY_STAFF = "rejected_by_staff"
REASON_LABELS = {
    REJECTED_BY_STAFF: "odrzucona przez pracownika",
    "replaced": "zastąpiona lepszą propozycją",
    "covered": "zadanie już objęte przez innego wykonawcę",
    "need_cancelled": "potrzeba odwołana",
    "need_completed": "potrzeba zrealizowana",
    "need_updated": "zmieniona potrzeba nie pasuje już do wykonawcy",
    "volunteer_updated": "zmienione dane wykonawcy",
    "volunteer_paused": "wykonawca wstrzymał udział",
    "volunteer_erased": "dane wykonawcy usunięte",
    "credential_changed": "zmienione uprawnienia wykonawcy",
    "credential_expired": "uprawnienie wykonawcy wygasło",
    "credential_revoked": "uprawnienie wykonawcy cofnięte",
    "safety_review": "udział wykonawcy wstrzymany przez CUS",
    "offer_changed": "zmieniona oferta wykonawcy",
    "offer_withdrawn": "wykonawca wycofał ofertę",
}


def reason_label(reason: str | None) -> str:
    """The Polish label of a reason code; a text that is not a code (an older event, a provider's answer) as is."""
    return REASON_LABELS.get(reason or "", reason or "")


class MatchEvent(Schema):
    match_id = uuid_str(required=True)
    need_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)


class MatchProposed(MatchEvent):
    offer_id = uuid_str(required=True)
    category = category_field(required=True)
    village = village_field(required=True)
    window_start = fields.AwareDateTime(required=True)
    urgent = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=REASON)
    score = fields.Integer(load_default=None, allow_none=True)
    explanation = fields.Dict(keys=fields.String(), load_default=None, allow_none=True)
    # the visit's planned time (start .. start + duration) inside the need's window; absent on older events
    agreed_start = fields.AwareDateTime(load_default=None, allow_none=True)
    agreed_end = fields.AwareDateTime(load_default=None, allow_none=True)


class MatchApproved(MatchEvent):
    reviewer = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class MatchRejected(MatchEvent):
    reason = fields.String(required=True, validate=REASON)


class MatchOffered(MatchEvent):
    deadline = fields.AwareDateTime(required=True)
    urgent = fields.Boolean(required=True)
    category = category_field(required=True)
    village = village_field(required=True)
    window_start = fields.AwareDateTime(required=True)
    # the visit's time the offer is for (accepting agrees to it); absent on older events: window_start
    agreed_start = fields.AwareDateTime(load_default=None, allow_none=True)
    agreed_end = fields.AwareDateTime(load_default=None, allow_none=True)


class MatchAccepted(MatchEvent):
    pass


class MatchDeclined(MatchEvent):
    reason = fields.String(load_default="", validate=REASON)


class MatchExpired(MatchEvent):
    pass


class MatchCancelled(MatchEvent):
    reason = fields.String(required=True, validate=REASON)


class MatchCompleted(MatchEvent):
    hours = fields.Float(required=True, validate=validate.Range(min=0))


# Why an answer found its offer no longer open (MatchAnswerTooLate.status): codes, never text.
TOO_LATE_PASSED_ON = "passed_on"  # no answer by the deadline: the task was offered to the next person
TOO_LATE_NOT_NEEDED = "not_needed"  # the offer was withdrawn: covered by someone else, or the need is off
TOO_LATE_ALREADY_DECLINED = "already_declined"  # the provider had declined it already
TOO_LATE_STATUSES = (TOO_LATE_PASSED_ON, TOO_LATE_NOT_NEEDED, TOO_LATE_ALREADY_DECLINED)


class MatchAnswerTooLate(MatchEvent):
    """An acceptance that reached matching after the offer stopped being open; the match stays as it was."""

    status = fields.String(required=True, validate=validate.OneOf(TOO_LATE_STATUSES))
    reason = fields.String(load_default=None, allow_none=True,  # why it was withdrawn: a REASON_LABELS code
                           validate=validate.OneOf(list(REASON_LABELS)))


EVENTS: dict[str, type[Schema]] = {
    "MatchProposed": MatchProposed,
    "MatchApproved": MatchApproved,
    "MatchRejected": MatchRejected,
    "MatchOffered": MatchOffered,
    "MatchAccepted": MatchAccepted,
    "MatchDeclined": MatchDeclined,
    "MatchExpired": MatchExpired,
    "MatchCancelled": MatchCancelled,
    "MatchCompleted": MatchCompleted,
    "MatchAnswerTooLate": MatchAnswerTooLate,
}


# --- HTTP API ------------------------------------------------------------------------------------


class ProposalOut(Schema):
    id = fields.String()
    need_id = fields.String()
    volunteer_id = fields.String()
    offer_id = fields.String()
    category = fields.String()
    village = fields.String()
    window_start = fields.AwareDateTime()
    status = fields.String()
    reason = fields.String()
    created_at = fields.AwareDateTime()
    score = fields.Integer(allow_none=True)
    urgent = fields.Boolean()
    deadline = fields.AwareDateTime(allow_none=True)
    reviewer = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    agreed_start = fields.AwareDateTime(allow_none=True)
    agreed_end = fields.AwareDateTime(allow_none=True)


class MatchDetailOut(ProposalOut):
    explanation = fields.Dict(allow_none=True)


# The reviewer of approve / reject / pick is the signed-in account: a body naming one (`reviewer`) is refused
# as an unknown field (422), so no typed name can stand in for the person who decided.
class ApproveIn(Schema):
    pass


class RejectIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500, error="Podaj powód (3–500 znaków)."))


class PickIn(Schema):
    volunteer_id = uuid_str(required=True)


class CompleteIn(Schema):
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=24, error="Podaj liczbę godzin od 0 do 24."))


class ModerationIn(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(["review", "auto"]))
