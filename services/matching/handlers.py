"""Matching service: consumed events → projection, cascade reactions and the debounced re-solve.

Every handled event is folded into the projection (and kept in applied_events), then the reaction
runs in the same transaction: cancel what the change broke, move the cascade on, mark the projection
dirty. Finally `schedule.tick` runs: offers past their deadline expire, new needs are placed and, when due,
the full re-solve runs (an urgent need makes it due at once). The consumer's batch-tick loop
(services/matching/loop.py) builds these handlers with `tick=False` and runs the tick once per poll batch instead.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from contracts import community as community_contract
from contracts import matching as match_contract
from contracts import needs as need_contract
from contracts import notify as notify_contract
from contracts import volunteers as volunteer_contract
from services.matching import cascade, confirmations, feedback, helpers, projection, schedule, series, store
from services.matching.model import MatchNotFound, NotAllowed
from services.matching.settings import Settings
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(match_contract.EVENTS)
CONSUMES = Catalog(need_contract.EVENTS, volunteer_contract.EVENTS, notify_contract.EVENTS, community_contract.EVENTS)
SUBSCRIPTIONS = [need_contract.TOPIC, volunteer_contract.TOPIC, notify_contract.TOPIC, community_contract.TOPIC]

log = logging.getLogger(__name__)
STEP_BACK_BY_LINK = "wykonawca (link z oferty)"  # who stepped back through notify's signed link
STEP_BACK_IN_SPACE = "wykonawca (strona wolontariusza)"  # through the volunteer's own space (volunteers service)
Clock = Callable[[], datetime]
Reaction = Callable[[Session, Outbox, Event, datetime, Settings], None]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def _need_changed(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    urgent = bool(event.data.get("urgent"))
    if event.type == "NeedUpdated":
        cascade.recheck_need(session, outbox, event.data["need_id"], now, s)
        store.mark_dirty(session, urgent=urgent)
    elif urgent:  # an urgent need may take a provider from an unapproved proposal: full solve, at once
        store.mark_dirty(session, urgent=True)
    # A plain new need needs no mark: it is "new" (schedule.new_needs) until a solve looks at it.


def _need_cancelled(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    cascade.cancel_need(session, outbox, event.data["need_id"], now)


def _need_completed(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    cascade.complete_need(session, outbox, event.data["need_id"], event.data.get("hours"), now)


def _resident_erased(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    """Folding (projection.resident_erased) is all: the needs service cancels the resident's unfinished
    needs with their own NeedCancelled events, which close the proposals."""


def _volunteer_changed(reason: str) -> Reaction:
    def react(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
        cascade.recheck_volunteer(session, outbox, event.data["volunteer_id"], reason, now, s)
        helpers.recheck_volunteer(session, outbox, event.data["volunteer_id"], reason, now, s)
        helpers.refill_open(session, outbox, now, s)
        store.mark_dirty(session)
    return react


def _volunteer_paused(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    """The person's own pause, or CUS pausing them pending a safety review: every active match ends."""
    reason = "safety_review" if event.data.get("reason") == volunteer_contract.PAUSE_SAFETY_REVIEW else "volunteer_paused"
    _volunteer_changed(reason)(session, outbox, event, now, s)


def _provider_responded(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    d = event.data
    if d.get("activity_id") or helpers.is_helper_offer(session, d["match_id"]):
        helpers.respond(session, outbox, d["match_id"], d["volunteer_id"], d["response"], d.get("reason") or "", now, s)
        return
    answered = cascade.respond(session, outbox, d["match_id"], d["volunteer_id"], d["response"],
                               d.get("reason") or "", now, s)
    if answered and d["response"] == "accept" and d.get("scope") == "series":
        series.commit(session, outbox, d["match_id"], now, s)  # the later weeks are theirs too


def _provider_stepped_back(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    """Through the provider's signed link (notify) or their own space (volunteers' VisitSteppedBack): a step-back
    that no longer fits (not accepted, begun, not theirs) changes nothing; the same step-back through both is one
    (series.step_back keeps one per match and scope)."""
    d = event.data
    actor = STEP_BACK_IN_SPACE if event.type == "VisitSteppedBack" else STEP_BACK_BY_LINK
    try:
        series.step_back(session, outbox, d["match_id"], d["volunteer_id"], d["scope"], d["reason"], actor, now, s)
    except (NotAllowed, MatchNotFound) as err:
        log.info("step-back of match %s refused: %s", d["match_id"], err)


def _visit_confirmed(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    d = event.data
    confirmations.confirm(session, outbox, d["match_id"], d["volunteer_id"], bool(d["happened"]), d.get("minutes"),
                          now)


def _visit_outcome_given(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    """The provider's answer to "did it happen?" through notify's signed link: VisitConfirmed's code path."""
    d = event.data
    confirmations.confirm(session, outbox, d["match_id"], d["volunteer_id"], bool(d["happened"]), d.get("minutes"),
                          now, actor=confirmations.BY_LINK)


def _volunteer_erased(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    series.volunteer_erased(session, outbox, event.data["volunteer_id"], now)
    _volunteer_changed("volunteer_erased")(session, outbox, event, now, s)


def _credential_revoked(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    _volunteer_changed("credential_revoked")(session, outbox, event, now, s)
    if event.data.get("reason") != volunteer_contract.REVOKED_SUPERSEDED:
        series.credential_revoked(session, outbox, event.data["volunteer_id"], now, s)


def _package_closed(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    series.plan_closed(session, outbox, event.data["plan_ref"], now)


def _helpers_wanted(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    helpers.wanted(session, outbox, event.data, now, s)


def _activity_cancelled(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    helpers.cancelled(session, outbox, event.data["activity_id"], now)


def _asset_changed(session: Session, outbox: Outbox, event: Event, now: datetime, s: Settings) -> None:
    """Folding (projection.asset_recorded / asset_removed) is all: the village map reads the assets."""


REACTIONS: dict[str, Reaction] = {
    "NeedRegistered": _need_changed,
    "NeedUpdated": _need_changed,
    "NeedCancelled": _need_cancelled,
    "NeedCompleted": _need_completed,
    "ResidentErased": _resident_erased,
    "VolunteerRegistered": _volunteer_changed("volunteer_updated"),
    "VolunteerUpdated": _volunteer_changed("volunteer_updated"),
    "VolunteerPaused": _volunteer_paused,
    "VolunteerResumed": _volunteer_changed("volunteer_updated"),
    "VolunteerErased": _volunteer_erased,
    "CredentialRecorded": _volunteer_changed("credential_changed"),
    "CredentialExpired": _volunteer_changed("credential_expired"),
    "CredentialRevoked": _credential_revoked,
    "OfferPublished": _volunteer_changed("offer_changed"),
    "OfferWithdrawn": _volunteer_changed("offer_withdrawn"),
    "ProviderResponded": _provider_responded,
    "ProviderSteppedBack": _provider_stepped_back,
    # the volunteer's own space: the same code paths as notify's link answers
    "VisitAnswered": _provider_responded,
    "VisitSteppedBack": _provider_stepped_back,
    "VisitConfirmed": _visit_confirmed,
    "VisitOutcomeGiven": _visit_outcome_given,  # notify's "did it happen?" link: the same code path
    "SupportPackageClosed": _package_closed,
    "HelpersWanted": _helpers_wanted,
    "ActivityCancelled": _activity_cancelled,
    "AssetRecorded": _asset_changed,
    "AssetRemoved": _asset_changed,
}


def handlers(outbox: Outbox, clock: Clock = wall_clock, settings: Settings | None = None,
             tick: bool = True) -> dict[str, Handler]:
    """`tick=False`: the caller runs `schedule.tick` itself, once per poll batch (services/matching/loop.py)."""
    config = settings or Settings.from_config()

    def make(reaction: Reaction) -> Handler:
        def handle(session: Session, event: Event) -> None:
            store.lock(session)
            now = clock()
            projection.apply(session, str(event.id), event.type, event.key, event.data, event.time)
            reaction(session, outbox, event, now, config)
            if tick:
                schedule.tick(session, outbox, now, config)
        return handle

    made = {event_type: make(reaction) for event_type, reaction in REACTIONS.items() if event_type in CONSUMES}
    made["FeedbackGiven"] = feedback.on_feedback_given  # kept for the organiser; nothing to project or re-solve
    return made
