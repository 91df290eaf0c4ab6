"""Matching service: consumed events → projection, cascade reactions and the debounced re-solve.

Every handled event is folded into the projection (and kept in applied_events), then the reaction
runs in the same transaction: cancel what the change broke, move the cascade on, mark the projection
dirty. Finally `engine.tick` runs: offers past their deadline expire, new needs are placed and, when due,
the full re-solve runs (an urgent need makes it due at once). The worker (services/matching/worker.py)
builds these handlers with `tick=False` and runs the tick once per poll batch instead.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from services.matching import engine, projection, schemas
from services.matching.contracts import CONSUMES
from services.needs import schemas as need_schemas
from services.notify import schemas as notify_schemas
from services.volunteers import schemas as volunteer_schemas
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(schemas.EVENTS)
__all__ = ["CONSUMES", "PUBLISHES", "SUBSCRIPTIONS", "handlers"]
SUBSCRIPTIONS = [need_schemas.TOPIC, volunteer_schemas.TOPIC, notify_schemas.TOPIC]

Clock = Callable[[], datetime]
Reaction = Callable[[Session, Outbox, Event, datetime, engine.Settings], None]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def _need_changed(session: Session, outbox: Outbox, event: Event, now: datetime, s: engine.Settings) -> None:
    urgent = bool(event.data.get("urgent"))
    if event.type == "NeedUpdated":
        engine.recheck_need(session, outbox, event.data["need_id"], now, s)
        engine.mark_dirty(session, urgent=urgent)
    elif urgent:  # an urgent need may take a provider from an unapproved proposal: full solve, at once
        engine.mark_dirty(session, urgent=True)
    # A plain new need needs no mark: it is "new" (engine.new_needs) until a solve looks at it.


def _need_cancelled(session: Session, outbox: Outbox, event: Event, now: datetime, s: engine.Settings) -> None:
    engine.cancel_need(session, outbox, event.data["need_id"], now)


def _need_completed(session: Session, outbox: Outbox, event: Event, now: datetime, s: engine.Settings) -> None:
    engine.complete_need(session, outbox, event.data["need_id"], event.data.get("hours"), now)


def _resident_erased(session: Session, outbox: Outbox, event: Event, now: datetime, s: engine.Settings) -> None:
    """Folding (projection.resident_erased) is all: the needs service cancels the resident's unfinished
    needs with their own NeedCancelled events, which close the proposals."""


def _volunteer_changed(reason: str) -> Reaction:
    def react(session: Session, outbox: Outbox, event: Event, now: datetime, s: engine.Settings) -> None:
        engine.recheck_volunteer(session, outbox, event.data["volunteer_id"], reason, now, s)
        engine.mark_dirty(session)
    return react


def _volunteer_paused(session: Session, outbox: Outbox, event: Event, now: datetime, s: engine.Settings) -> None:
    """The person's own pause, or CUS pausing them pending a safety review: every active match ends."""
    reason = "safety_review" if event.data.get("reason") == "safety_review" else "volunteer_paused"
    _volunteer_changed(reason)(session, outbox, event, now, s)


def _provider_responded(session: Session, outbox: Outbox, event: Event, now: datetime, s: engine.Settings) -> None:
    d = event.data
    engine.respond(session, outbox, d["match_id"], d["volunteer_id"], d["response"], d.get("reason") or "", now, s)


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
    "VolunteerErased": _volunteer_changed("volunteer_erased"),
    "CredentialRecorded": _volunteer_changed("credential_changed"),
    "CredentialExpired": _volunteer_changed("credential_expired"),
    "CredentialRevoked": _volunteer_changed("credential_revoked"),
    "OfferPublished": _volunteer_changed("offer_changed"),
    "OfferWithdrawn": _volunteer_changed("offer_withdrawn"),
    "ProviderResponded": _provider_responded,
}


def handlers(outbox: Outbox, clock: Clock = wall_clock, settings: engine.Settings | None = None,
             tick: bool = True) -> dict[str, Handler]:
    """`tick=False`: the caller runs `engine.tick` itself, once per poll batch (services/matching/worker.py)."""
    config = settings or engine.Settings.from_env()

    def make(reaction: Reaction) -> Handler:
        def handle(session: Session, event: Event) -> None:
            engine.lock(session)
            now = clock()
            projection.apply(session, str(event.id), event.type, event.key, event.data, event.time)
            reaction(session, outbox, event, now, config)
            if tick:
                engine.tick(session, outbox, now, config)
        return handle

    return {event_type: make(reaction) for event_type, reaction in REACTIONS.items() if event_type in CONSUMES}
