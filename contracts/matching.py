"""Matching service: the payloads of the events it publishes on `matches`, and the reason codes they carry.

Every match event carries match_id, need_id and volunteer_id and is keyed by need_id. Fields and meaning:
docs/events.md.
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
    "activity_cancelled": "zajęcia odwołane",
    "activity_updated": "zmienione zajęcia nie pasują już do wykonawcy",
    "answer_too_late": "odpowiedź przyszła, gdy prośba była już nieaktualna",
    "stepped_back": "wykonawca zrezygnował z wizyty",
    "did_not_happen": "wizyta się nie odbyła (według wykonawcy)",
    "did_not_happen_staff": "wizyta się nie odbyła (według pracownika)",
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
    # the need's weekly series (a support package's recurring need): the provider may accept the whole series
    series_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    deadline = fields.AwareDateTime(required=True)
    urgent = fields.Boolean(required=True)
    category = category_field(required=True)
    village = village_field(required=True)
    window_start = fields.AwareDateTime(required=True)
    # the visit's time the offer is for (accepting agrees to it); absent on older events: window_start
    agreed_start = fields.AwareDateTime(load_default=None, allow_none=True)
    agreed_end = fields.AwareDateTime(load_default=None, allow_none=True)


class MatchAccepted(MatchEvent):
    # set when the visit was given to the provider by their series commitment (no offer was sent): the
    # commitment's id, with the visit's facts an offer would have carried; absent on an answered offer
    series_commitment = uuid_str(load_default=None, allow_none=True)
    series_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    category = category_field(load_default=None, allow_none=True)
    village = village_field(load_default=None, allow_none=True)
    window_start = fields.AwareDateTime(load_default=None, allow_none=True)
    agreed_start = fields.AwareDateTime(load_default=None, allow_none=True)
    agreed_end = fields.AwareDateTime(load_default=None, allow_none=True)


class MatchDeclined(MatchEvent):
    reason = fields.String(load_default="", validate=REASON)


class MatchExpired(MatchEvent):
    pass


class MatchCancelled(MatchEvent):
    reason = fields.String(required=True, validate=REASON)


class MatchCompleted(MatchEvent):
    hours = fields.Float(required=True, validate=validate.Range(min=0))
    category = category_field(load_default=None, allow_none=True)  # the visit's kind of help; absent on older events


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


# --- helpers wanted at a community activity ---------------------------------------------------------------
# A community activity's helper places (community's HelpersWanted) are offered to eligible providers one by one,
# as the cascade offers a need: events of their own, keyed by activity_id, so no consumer of the match events
# takes an activity for a need. `match_id` is the helper offer's id: the provider's answer comes back as
# notify's ProviderResponded with that match_id (and activity_id).
HELPER_CANCEL_REASONS = ("activity_cancelled", "activity_updated", "covered", "answer_too_late", "credential_changed", "credential_expired",
                         "credential_revoked", "volunteer_paused", "volunteer_erased", "volunteer_updated",
                         "safety_review", "offer_changed", "offer_withdrawn")


class HelperEvent(Schema):
    match_id = uuid_str(required=True)  # the helper offer
    activity_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)


class HelperOffered(HelperEvent):
    deadline = fields.AwareDateTime(required=True)
    village = village_field(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    involves_children = fields.Boolean(required=True)
    kind = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    category = category_field(load_default=None, allow_none=True)


class HelperAccepted(HelperEvent):
    starts_at = fields.AwareDateTime(load_default=None, allow_none=True)


class HelperDeclined(HelperEvent):
    reason = fields.String(load_default="", validate=REASON)  # one of the response page's fixed answers


class HelperExpired(HelperEvent):
    pass


class HelperCancelled(HelperEvent):
    """An offer or an acceptance withdrawn before the activity: a HELPER_CANCEL_REASONS code (REASON_LABELS).
    `answer_too_late`: an acceptance reached matching after the offer closed (expired, withdrawn); the offer stays
    as it was and the provider is told not to come."""

    reason = fields.String(required=True, validate=validate.OneOf(HELPER_CANCEL_REASONS))
    accepted = fields.Boolean(load_default=False)  # it had been accepted: the helper must be told not to come


# --- series commitments and stepping back ---------------------------------------------------------------
# A provider who accepts an offer for one occurrence of a weekly series "for the whole series" commits to it:
# every later occurrence is given to them directly (MatchAccepted{series_commitment}) while every legal and
# safety gate holds at that occurrence's time. Events keyed by series_id (the commitment's) or need_id.
STEP_BACK_SCOPES = ("visit", "series")
# Why a provider steps back: codes, never typed text (labels are what the provider picked from)
STEP_BACK_REASONS = {
    "illness": "choroba",
    "family": "sprawy rodzinne",
    "schedule": "zmiana planów, brak czasu",
    "travel": "problem z dojazdem",
    "other": "inny powód",
}
# Why a commitment ended (SeriesCommitmentEnded.reason): stepping back, or a permanent change
COMMITMENT_END_REASONS = {
    "stepped_back": "wykonawca zrezygnował z cyklu",
    "volunteer_erased": "dane wykonawcy usunięte",
    "credential_revoked": "uprawnienie wykonawcy cofnięte",
    "plan_closed": "plan (IPUS) zamknięty",
    "series_ended": "cykl się zakończył",
}


class SeriesCommitted(Schema):
    commitment_id = uuid_str(required=True)
    series_id = fields.String(required=True, validate=validate.Length(max=64))
    volunteer_id = uuid_str(required=True)
    match_id = uuid_str(required=True)  # the accepted offer that made it
    need_id = uuid_str(required=True)
    plan_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class SeriesCommitmentEnded(Schema):
    commitment_id = uuid_str(required=True)
    series_id = fields.String(required=True, validate=validate.Length(max=64))
    volunteer_id = uuid_str(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(list(COMMITMENT_END_REASONS)))


class SeriesVisitSkipped(Schema):
    """One occurrence of a committed series could not go to the committed provider (a gate failed at its time:
    `reason` is the rule's name, e.g. `kamilka_gate`, `time_windows_overlap`): it went to the normal cascade."""

    commitment_id = uuid_str(required=True)
    series_id = fields.String(required=True, validate=validate.Length(max=64))
    need_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=60))


class MatchSteppedBack(MatchEvent):
    """The provider stepped back from an accepted visit (`visit`) or from the whole series (`series`: the
    commitment ended and its future accepted visits were cancelled, each with MatchCancelled{stepped_back}).
    One event per step-back: the organiser is told once; `short_notice` when the (first) cancelled visit
    starts within MATCHING_STEP_BACK_NOTICE_H hours."""

    scope = fields.String(required=True, validate=validate.OneOf(STEP_BACK_SCOPES))
    reason = fields.String(required=True, validate=validate.OneOf(list(STEP_BACK_REASONS)))
    short_notice = fields.Boolean(required=True)
    visit_start = fields.AwareDateTime(load_default=None, allow_none=True)  # the first cancelled visit
    cancelled = fields.Integer(load_default=0)  # visits cancelled
    commitment_id = uuid_str(load_default=None, allow_none=True)
    series_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class IdleVolunteerNudged(Schema):
    """Matching's periodic job: a verified, unpaused volunteer has had no visit for MATCHING_NUDGE_IDLE_DAYS while
    `open_needs` needs wait in their villages (key volunteer_id). At most one per volunteer per that many days;
    `period` (the day the period began, Warsaw calendar) makes notify send it once. Counts only, no need ids."""

    volunteer_id = uuid_str(required=True)
    open_needs = fields.Integer(required=True, validate=validate.Range(min=1))
    villages = fields.List(village_field(), load_default=list)  # the villages where needs wait (codes)
    period = fields.Date(required=True)


class VisitCheckDue(Schema):
    """Matching's periodic job: an accepted visit ended MATCHING_VISIT_CHECK_HOURS ago and nobody has said whether
    it happened (key match_id). Published once per match; notify asks the provider "did it happen?" with a signed
    link, and the answer comes back as notify's VisitOutcomeGiven. Ids only."""

    match_id = uuid_str(required=True)
    provider_id = uuid_str(required=True)
    need_id = uuid_str(required=True)


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
    "HelperOffered": HelperOffered,
    "HelperAccepted": HelperAccepted,
    "HelperDeclined": HelperDeclined,
    "HelperExpired": HelperExpired,
    "HelperCancelled": HelperCancelled,
    "SeriesCommitted": SeriesCommitted,
    "SeriesCommitmentEnded": SeriesCommitmentEnded,
    "SeriesVisitSkipped": SeriesVisitSkipped,
    "MatchSteppedBack": MatchSteppedBack,
    "IdleVolunteerNudged": IdleVolunteerNudged,
    "VisitCheckDue": VisitCheckDue,
}
