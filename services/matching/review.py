"""The review queue: staff approve a proposal (it is offered at once), reject it, or pick another candidate
(checked against every hard rule, then approved and offered)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from contracts import matching as match_contract
from services.matching import model, projection
from services.matching.cascade import refill, send_offer
from services.matching.explain import explain, price_of, terms_of
from services.matching.model import (
    ACTIVE,
    ALREADY_ON_NEED,
    APPROVED,
    BUSY,
    COMMITTED,
    REJECTED,
    REPLACED,
    UNKNOWN_PROVIDER,
    NotAllowed,
)
from services.matching.rules import Candidate, Funnel, TimeWindow, distance_km, first_rejection
from services.matching.settings import Settings
from services.matching.solver import earliest_visit, feasible_options, fits
from services.matching.store import (
    SYSTEM_ACTOR,
    audit,
    close_match,
    create_match,
    get_match,
    holds_another_slot,
    mark_dirty,
    match_ids,
    update_match,
)
from services.matching.world import load_world, visit_of
from wspolnota.transport.outbox import Outbox


def approve(session: Session, outbox: Outbox, match_id: str, reviewer: str | None, now: datetime,
            settings: Settings) -> None:
    row = get_match(session, match_id)
    model.check_reviewable(row["status"])
    if holds_another_slot(session, row, row["volunteer_id"], COMMITTED):
        raise NotAllowed(ALREADY_ON_NEED)
    visit = _free_visit(session, row, now, settings)
    times = {} if visit is None else {"agreed_start": visit.start, "agreed_end": visit.end}
    update_match(session, row, now, status=APPROVED, reviewer=reviewer, **times)
    row = get_match(session, match_id)
    audit(session, reviewer or SYSTEM_ACTOR, "approve", match_id,
          f"need {row['need_id']}, volunteer {row['volunteer_id']}", now)
    outbox.add(session, match_contract.TOPIC, "MatchApproved", row["need_id"],
               {**match_ids(row), "reviewer": reviewer})
    send_offer(session, outbox, row, now, settings)
    refill(session, outbox, row["need_id"], now, settings)


def _free_visit(session: Session, row: Any, now: datetime, settings: Settings) -> TimeWindow | None:
    """The time an approved proposal reserves: its planned time while the provider is still free then, else
    the earliest free time in the need's window (a proposal reserves nothing, so a visit approved or
    offered since may have taken its time); NotAllowed when the provider has no free time left there."""
    world = load_world(session, now, settings)
    need_row = world.needs.get(row["need_id"])
    provider = world.provider_for(row["volunteer_id"], row["need_id"])
    if need_row is None or provider is None:
        return None  # nothing to plan against: the re-checks close such a match
    need = projection.need_from_row(need_row)
    planned = visit_of(row, need_row)
    if fits(planned, need, provider.availability):
        return planned
    visit = earliest_visit(need, provider.availability)
    if visit is None:
        raise NotAllowed(BUSY)
    return visit


def reject(session: Session, outbox: Outbox, match_id: str, reason: str, reviewer: str | None,
           now: datetime) -> None:
    row = get_match(session, match_id)
    model.check_reviewable(row["status"])
    # the typed reason stays here
    update_match(session, row, now, status=REJECTED, reviewer=reviewer, decision_reason=reason)
    audit(session, reviewer or SYSTEM_ACTOR, "reject", match_id,  # the typed reason may name a resident: not here
          f"need {row['need_id']}, volunteer {row['volunteer_id']}", now)
    outbox.add(session, match_contract.TOPIC, "MatchRejected", row["need_id"],
               {**match_ids(row), "reason": match_contract.REJECTED_BY_STAFF})
    mark_dirty(session)


def pick(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, reviewer: str | None,
         now: datetime, settings: Settings) -> dict[str, Any]:
    """Staff choose another candidate: checked against every hard rule, then approved and offered."""
    row = get_match(session, match_id)
    model.check_reviewable(row["status"])
    world = load_world(session, now, settings)
    provider = world.providers.get(volunteer_id)
    if provider is None:
        raise NotAllowed(UNKNOWN_PROVIDER)
    if holds_another_slot(session, row, volunteer_id, ACTIVE):
        raise NotAllowed(ALREADY_ON_NEED)
    need = world.domain_need(row["need_id"])
    rejection = first_rejection(Candidate(need, provider, distance_km(need, provider)))
    if rejection is not None:
        raise NotAllowed(f"Nie można wybrać tego wykonawcy: {rejection.reason}.")
    close_match(session, outbox, row, REPLACED, "replaced", now)
    people = list(world.providers.values())
    option = feasible_options(need, [provider], distance_km, settings.weights, Funnel())[0]
    explanation = explain(need, volunteer_id, people, settings, source="staff", km=round(option.km, 2),
                          terms=terms_of(option, need, settings), runner_up=None)
    new = create_match(session, outbox, world, row["need_id"], volunteer_id, now, explanation,
                       price_of(option, settings))
    audit(session, reviewer or SYSTEM_ACTOR, "pick", match_id,
          f"need {row['need_id']}, volunteer {row['volunteer_id']} -> {volunteer_id}, match {new['id']}", now)
    approve(session, outbox, new["id"], reviewer, now, settings)
    return new
