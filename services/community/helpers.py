"""Helpers who answered a helper offer (matching's HelperAccepted / HelperCancelled) and community's own gate on them.

An acceptance adds the provider as a helper of the activity through `plan_handlers.add_helper`, which re-checks
the Kamilka clearance this service follows (clearances.py) for an activity with children. An acceptance it refuses
waits (helper_acceptances_waiting) and is tried again after each of the provider's volunteer events — the check
or the registration may reach this service after the acceptance, on another topic; meanwhile the page shows the
place as missing. A withdrawn acceptance removes the helper unless attendance was recorded. Whatever matching does, after every credential or volunteer event the
provider's places at upcoming activities with children are checked again: whoever is no longer cleared for the
activity's day is removed, with an audit entry, so no helper at an activity with children lacks a check in date.

Who takes part is this service's word: a helper added here (by staff or through an accepted offer that passed the
gate) is published as `ParticipantAdded` (role helper) and one removed as `ParticipantRemoved`, so notify reminds
exactly the helpers the activity page lists — not an acceptance still waiting at the gate.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import community as contract
from services.community import animation, clearances, plan_handlers
from services.community.db import audit_log
from services.community.db_plan import activities, activity_helpers, helper_acceptances_waiting
from wspolnota import localtime
from wspolnota.errors import DomainError
from wspolnota.transport import Event
from wspolnota.transport.outbox import Outbox

log = logging.getLogger(__name__)
SYSTEM = "system"


def on_helper_accepted(session: Session, event: Event, outbox: Outbox | None = None) -> None:
    d = event.data
    if not _try_add(session, d["activity_id"], d["volunteer_id"], outbox):
        w = helper_acceptances_waiting
        if session.execute(sa.select(w.c.provider_id).where(w.c.activity_id == d["activity_id"],
                                                            w.c.provider_id == d["volunteer_id"])).first() is None:
            session.execute(sa.insert(w).values(activity_id=d["activity_id"], provider_id=d["volunteer_id"],
                                                received_at=datetime.now(UTC)))


def _try_add(session: Session, activity_id: str, provider_id: str, outbox: Outbox | None) -> bool:
    """add_helper checks everything before it writes: refused, nothing is written."""
    try:
        plan_handlers.add_helper(session, activity_id, provider_id, outbox)
    except DomainError as err:
        log.info("helper acceptance waits: activity=%s provider=%s (%s)", activity_id, provider_id,
                 type(err).__name__)
        return False
    return True


def _removed(outbox: Outbox | None, session: Session, activity_id: str, provider_id: str) -> None:
    if outbox is not None:
        outbox.add(session, contract.TOPIC, "ParticipantRemoved", activity_id, {
            "activity_id": activity_id, "participant_id": provider_id, "role": contract.HELPER,
            "reason": contract.HELPER_REMOVED})


def retry_waiting(session: Session, provider_id: str, now: datetime, outbox: Outbox | None = None) -> int:
    """The provider's acceptances the gate could not take: tried again (upcoming, scheduled activities only)."""
    w = helper_acceptances_waiting
    rows = session.execute(sa.select(w.c.activity_id, activities.c.starts_at, activities.c.status).join(
        activities, activities.c.id == w.c.activity_id).where(w.c.provider_id == provider_id)).all()
    taken = 0
    for activity_id, starts_at, status in rows:
        if status != animation.SCHEDULED or starts_at <= now or _try_add(session, activity_id, provider_id, outbox):
            session.execute(sa.delete(w).where(w.c.activity_id == activity_id, w.c.provider_id == provider_id))
            taken += status == animation.SCHEDULED and starts_at > now
    return taken


def on_helper_cancelled(session: Session, event: Event, outbox: Outbox | None = None) -> None:
    d = event.data
    session.execute(sa.delete(helper_acceptances_waiting).where(
        helper_acceptances_waiting.c.activity_id == d["activity_id"],
        helper_acceptances_waiting.c.provider_id == d["volunteer_id"]))
    if d.get("accepted"):
        gone = session.execute(sa.delete(activity_helpers).where(
            activity_helpers.c.activity_id == d["activity_id"], activity_helpers.c.provider_id == d["volunteer_id"],
            activity_helpers.c.hours.is_(None))).rowcount  # type: ignore[attr-defined]
        if gone:
            _removed(outbox, session, d["activity_id"], d["volunteer_id"])


def drop_uncleared(session: Session, provider_id: str, now: datetime | None = None,
                   outbox: Outbox | None = None) -> int:
    """Remove the provider from upcoming activities with children whose day their clearance no longer covers."""
    now = now or datetime.now(UTC)
    rows = session.execute(sa.select(activities.c.id, activities.c.starts_at).join(
        activity_helpers, activity_helpers.c.activity_id == activities.c.id).where(
        activity_helpers.c.provider_id == provider_id, activity_helpers.c.hours.is_(None),
        activities.c.involves_children.is_(True), activities.c.status == animation.SCHEDULED,
        activities.c.starts_at > now)).all()
    dropped = 0
    for activity_id, starts_at in rows:
        if clearances.cleared_for_children(session, provider_id, localtime.local_day(starts_at)):
            continue
        session.execute(sa.delete(activity_helpers).where(activity_helpers.c.activity_id == activity_id,
                                                          activity_helpers.c.provider_id == provider_id))
        session.execute(sa.insert(audit_log).values(at=now, actor=SYSTEM, action="update", subject="helper",
                                                    subject_id=f"{activity_id}"[:64],
                                                    purpose="no Kamilka check in date: helper removed"))
        _removed(outbox, session, activity_id, provider_id)
        dropped += 1
    return dropped


def events(outbox: Outbox | None) -> dict[str, Callable[[Session, Event], None]]:
    """The handlers, publishing through `outbox`: matching's answers, and the gate after each volunteer event."""

    def on_volunteer_event(session: Session, event: Event) -> None:
        now = datetime.now(UTC)
        drop_uncleared(session, event.data["volunteer_id"], now, outbox)
        retry_waiting(session, event.data["volunteer_id"], now, outbox)

    return {"HelperAccepted": lambda session, event: on_helper_accepted(session, event, outbox),
            "HelperCancelled": lambda session, event: on_helper_cancelled(session, event, outbox),
            "volunteer": on_volunteer_event}
