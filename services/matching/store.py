"""Matching's own rows: creating, changing and closing matches (each change checked against the lifecycle in
model.py and published through the outbox), the audit log, moderation modes and the solver-state row that
serialises matching's writers and marks a re-solve due.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from services.matching import model, projection
from services.matching.db import audit_log, moderation, proposals, solver_state
from services.matching.model import BUSY, NO_OFFER, MatchNotFound, NotAllowed
from services.matching.rules import TimeWindow
from services.matching.solver import earliest_visit
from services.matching.world import World
from wspolnota import reference
from wspolnota.transport.outbox import Outbox

CASCADE_REVIEWER = "kaskada"
AUTO_REVIEWER = "automatycznie"
SYSTEM_ACTOR = "system"


def lock(session: Session) -> None:
    """Serialise matching's writers (consumer, scheduler, staff actions) on the solver_state row.

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); on PostgreSQL this row lock keeps two
    re-solves or cascades from deciding the same need at once.
    """
    locked_state(session)


def locked_state(session: Session) -> sa.RowMapping:
    row = session.execute(sa.select(solver_state).where(solver_state.c.id == 1).with_for_update()).mappings().first()
    if row is None:
        session.execute(sa.insert(solver_state).values(id=1, dirty=False, urgent=False, last_solved_at=None))
        row = session.execute(sa.select(solver_state).where(solver_state.c.id == 1)).mappings().one()
    return row


def mark_dirty(session: Session, urgent: bool = False) -> None:
    state = locked_state(session)
    session.execute(sa.update(solver_state).where(solver_state.c.id == 1)
                    .values(dirty=True, urgent=bool(state["urgent"] or urgent)))


def moderation_mode(session: Session, need: sa.RowMapping) -> str:
    """Automatic when the need asks for it or staff set its category to automatic; otherwise staff review."""
    category = session.execute(sa.select(moderation.c.mode).where(moderation.c.category == need["category"])).scalar()
    return "auto" if "auto" in (need["moderation"], category) else "review"


def audit(session: Session, actor: str, action: str, subject_id: str, detail: str, now: datetime) -> None:
    """Who decided what, when: the signed-in account (or the cascade / automatic approval), never typed text."""
    session.execute(sa.insert(audit_log).values(at=now, actor=actor[:200], action=action, subject_id=subject_id,
                                                detail=detail[:200]))


def _reason_pl(need: sa.RowMapping, explanation: dict[str, Any]) -> str:
    category = reference.categories()[need["category"]]["name"]
    village = reference.villages()[need["village"]]["name"]
    km = f"{explanation['km']:.1f}".replace(".", ",")
    f = explanation["funnel"]
    return (f"Kategoria {category}, miejscowość {village}; dojazd {km} km; spełnia wszystkie warunki "
            f"(sprawdzono wykonawców: {f['examined']}, pasuje: {f['passed']}).")[:500]


def create_match(session: Session, outbox: Outbox, world: World, need_id: str, volunteer_id: str, now: datetime,
                 explanation: dict[str, Any], score: int | None, visit: TimeWindow | None = None,
                 publish: bool = True) -> dict[str, Any]:
    """A proposal at `visit` (the solve's plan), else at the earliest time free in the provider's
    availability (reserved times already taken out) and the need's window. `publish=False`: no MatchProposed
    (a series commitment's visit, accepted at once, is published as MatchAccepted alone)."""
    need = world.needs[need_id]
    free = world.free.get(volunteer_id) or projection.Availability()
    offer_id = free.offer_for(projection.need_from_row(need)) or (free.windows[0][1] if free.windows else None)
    if offer_id is None:
        raise NotAllowed(NO_OFFER)
    provider = world.providers.get(volunteer_id)
    visit = visit or (earliest_visit(projection.need_from_row(need), provider.availability) if provider else None)
    if visit is None:
        raise NotAllowed(BUSY)
    row = {"id": str(uuid.uuid4()), "need_id": need_id, "volunteer_id": volunteer_id, "offer_id": offer_id,
           "category": need["category"], "village": need["village"], "window_start": need["window_start"],
           "status": model.INITIAL, "reason": _reason_pl(need, explanation), "created_at": now, "updated_at": now,
           "urgent": need["urgent"], "score": score, "explanation": explanation,
           "agreed_start": visit.start, "agreed_end": visit.end}
    session.execute(sa.insert(proposals).values(**row))
    if publish:
            outbox.add(session, match_contract.TOPIC, "MatchProposed", need_id, {
            "match_id": row["id"], "need_id": need_id, "volunteer_id": volunteer_id, "offer_id": offer_id,
            "category": row["category"], "village": row["village"], "window_start": row["window_start"].isoformat(),
            "urgent": bool(row["urgent"]), "reason": row["reason"], "score": score, "explanation": explanation,
            **visit_fields(row)})
    world.matches[need_id].append(row)  # type: ignore[arg-type]
    return row


def holds_another_slot(session: Session, row: Any, volunteer_id: str, statuses: tuple[str, ...]) -> bool:
    """Does this provider already hold another match of the same need? One person fills one slot of a need:
    two would be one visit counted twice (and two overlapping visits on the provider's calendar)."""
    return session.execute(sa.select(proposals.c.id).where(
        proposals.c.need_id == row["need_id"], proposals.c.volunteer_id == volunteer_id,
        proposals.c.id != row["id"], proposals.c.status.in_(statuses))).first() is not None


def visit_fields(row: Any) -> dict[str, str]:
    """The visit's time on MatchProposed / MatchOffered (absent on rows made before it was kept)."""
    if row.get("agreed_start") is None:
        return {}
    return {"agreed_start": row["agreed_start"].isoformat(), "agreed_end": row["agreed_end"].isoformat()}


def match_ids(row: Any) -> dict[str, str]:
    return {"match_id": row["id"], "need_id": row["need_id"], "volunteer_id": row["volunteer_id"]}


def update_match(session: Session, row: Any, now: datetime, **values: Any) -> None:
    """Change a match's row; a new `status` must be one the lifecycle allows from the row's (model.py)."""
    if "status" in values:
        model.check_transition(row["status"], values["status"])
    session.execute(sa.update(proposals).where(proposals.c.id == row["id"]).values(updated_at=now, **values))


def close_match(session: Session, outbox: Outbox, row: Any, status: str, reason: str, now: datetime) -> None:
    """End a match for a reason of ours (replaced, covered, cancelled): one MatchCancelled."""
    update_match(session, row, now, status=status, decision_reason=reason)
    outbox.add(session, match_contract.TOPIC, "MatchCancelled", row["need_id"], {**match_ids(row), "reason": reason})


def get_match(session: Session, match_id: str) -> sa.RowMapping:
    row = session.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().first()
    if row is None:
        raise MatchNotFound(match_id)
    return row
