"""The offer cascade and what undoes matches: offers out (k at once for an urgent need), a provider's answer,
offers timing out, and the re-checks after a change in a volunteer or a need, a cancelled or completed need.
When nobody is left to ask, the need goes back to the solver (the re-solve is marked due)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from services.matching import model, projection
from services.matching.db import open_needs, proposals, unmet_needs
from services.matching.explain import explain, price_of, terms_of
from services.matching.model import (
    ACCEPTED,
    ACTIVE,
    APPROVED,
    CANCELLED,
    COMMITTED,
    COMPLETED,
    DECLINED,
    EXPIRED,
    OFFERED,
    PROPOSED,
    REPLACED,
)
from services.matching.rules import (
    RULES,
    Candidate,
    Funnel,
    distance_km,
    first_rejection,
    not_declined_before,
    open_tasks_left,
    weekly_hours_left,
)
from services.matching.settings import Settings
from services.matching.solver import Option, feasible_options
from services.matching.store import (
    CASCADE_REVIEWER,
    close_match,
    create_match,
    mark_dirty,
    match_ids,
    update_match,
    visit_fields,
)
from services.matching.world import World, load_world, visit_begun
from wspolnota.transport.outbox import Outbox

# A match already made is re-checked against every rule except load and history: those held when it was made.
RECHECK_RULES = tuple(r for r in RULES if r not in (weekly_hours_left, open_tasks_left, not_declined_before))
MIN_ANSWER_TIME = timedelta(minutes=10)


def send_offer(session: Session, outbox: Outbox, row: Any, now: datetime, settings: Settings) -> None:
    deadline = now + (settings.urgent_offer_deadline if row["urgent"] else settings.offer_deadline)
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == row["need_id"])).mappings().first()
    if need is not None:  # an answer after the visit's agreed (or last possible) start is no use
        latest_start = row.get("agreed_start") or need["window_end"] - timedelta(minutes=need["duration_minutes"])
        deadline = max(min(deadline, latest_start), now + MIN_ANSWER_TIME)
    update_match(session, row, now, status=OFFERED, deadline=deadline)
    series = {"series_id": need["series_id"]} if need is not None and need["series_id"] else {}
    outbox.add(session, match_contract.TOPIC, "MatchOffered", row["need_id"], {**series,
        **match_ids(row), "deadline": deadline.isoformat(), "urgent": bool(row["urgent"]),
        "category": row["category"], "village": row["village"], "window_start": row["window_start"].isoformat(), **visit_fields(row)})


def refill(session: Session, outbox: Outbox, need_id: str, now: datetime, settings: Settings) -> None:
    """Keep the need's cascade going: enough offers out (k at once when urgent), the rest told it is covered.

    When nobody is left to ask, the need goes back to the solver, whose next proposal staff review again.
    """
    world = load_world(session, now, settings)
    need = world.needs.get(need_id)
    if need is None or need["status"] != "open":
        return
    accepted = len(world.active(need_id, (ACCEPTED,)))
    if accepted >= need["slots"]:
        for row in world.active(need_id, (PROPOSED, APPROVED, OFFERED)):
            close_match(session, outbox, row, CANCELLED, "covered", now)
        return
    missing = need["slots"] - accepted
    target = max(missing, settings.urgent_parallel) if need["urgent"] else missing
    waiting = len(world.active(need_id, (PROPOSED, APPROVED, OFFERED)))
    if target > waiting and need["window_end"] > now:
        for provider_id, option in next_candidates(world, need_id, target - waiting, settings):
            explanation = explain(world.domain_need(need_id), provider_id, list(world.providers.values()),
                                  settings, source="cascade", km=round(option.km, 2),
                                  terms=terms_of(option, option.need, settings), runner_up=None)
            new = create_match(session, outbox, world, need_id, provider_id, now, explanation,
                               price_of(option, settings))
            update_match(session, new, now, status=APPROVED, reviewer=CASCADE_REVIEWER)
            new = {**new, "status": APPROVED, "reviewer": CASCADE_REVIEWER}
            outbox.add(session, match_contract.TOPIC, "MatchApproved", need_id,
                       {**match_ids(new), "reviewer": CASCADE_REVIEWER})
            send_offer(session, outbox, new, now, settings)
            world.providers[provider_id] = replace(world.providers[provider_id],
                                                   open_tasks=world.providers[provider_id].open_tasks + 1)
    if not session.execute(sa.select(proposals.c.id).where(
            proposals.c.need_id == need_id, proposals.c.status.in_((OFFERED, PROPOSED)))).first():
        mark_dirty(session, urgent=bool(need["urgent"]))


def next_candidates(world: World, need_id: str, count: int, settings: Settings) -> list[tuple[str, Option]]:
    """The best providers not yet asked, by the solver's own price (travel, load, continuity)."""
    asked = {m["volunteer_id"] for m in world.matches.get(need_id, []) if m["status"] not in (REPLACED,)}
    need = world.domain_need(need_id)
    need = replace(need, declined_by=need.declined_by | frozenset(asked))
    options = feasible_options(need, list(world.providers.values()), distance_km, settings.weights, Funnel())
    ranked = sorted(options, key=lambda o: (price_of(o, settings), o.km, o.provider.id))
    return [(o.provider.id, o) for o in ranked[:count]]


def respond(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, response: str, reason: str,
            now: datetime, settings: Settings) -> bool:
    """A provider's answer to an offer. An answer to an offer no longer open (expired and passed on, covered,
    cancelled) changes nothing; an acceptance among them publishes MatchAnswerTooLate, so the provider is
    told the truth and the organiser sees it."""
    row = session.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().first()
    if row is None or row["volunteer_id"] != volunteer_id:
        return False
    if not model.awaits_answer(row["status"]):
        too_late = model.too_late(row["status"])
        if response == "accept" and too_late is not None:
            code = row["decision_reason"] if row["status"] == CANCELLED else None
            outbox.add(session, match_contract.TOPIC, "MatchAnswerTooLate", row["need_id"], {
                **match_ids(row), "status": too_late,
                "reason": code if code in match_contract.REASON_LABELS else None})
        return False
    if response == "accept":
        update_match(session, row, now, status=ACCEPTED)
        outbox.add(session, match_contract.TOPIC, "MatchAccepted", row["need_id"], match_ids(row))
    else:
        update_match(session, row, now, status=DECLINED, decision_reason=reason[:500])
        outbox.add(session, match_contract.TOPIC, "MatchDeclined", row["need_id"],
                   {**match_ids(row), "reason": reason[:500]})
    refill(session, outbox, row["need_id"], now, settings)
    return True


def expire_offers(session: Session, outbox: Outbox, now: datetime, settings: Settings) -> int:
    rows = session.execute(sa.select(proposals).where(proposals.c.status == OFFERED, proposals.c.deadline <= now)
                           .order_by(proposals.c.deadline)).mappings().all()
    for row in rows:
        update_match(session, row, now, status=EXPIRED)
        outbox.add(session, match_contract.TOPIC, "MatchExpired", row["need_id"], match_ids(row))
    for need_id in sorted({r["need_id"] for r in rows}):
        refill(session, outbox, need_id, now, settings)
    return len(rows)


def recheck_volunteer(session: Session, outbox: Outbox, volunteer_id: str, reason: str, now: datetime,
                      settings: Settings) -> int:
    """After a pause, a withdrawn offer or an expired credential: cancel the matches that no longer hold."""
    world = load_world(session, now, settings)
    provider = world.providers.get(volunteer_id)
    broken = []
    for need_id, rows in world.matches.items():
        for row in rows:
            if row["volunteer_id"] != volunteer_id or row["status"] not in ACTIVE or need_id not in world.needs:
                continue
            if visit_begun(row, world.needs[need_id], now):
                continue  # it has taken place (or is under way): staff record how it went, nothing to undo
            need = projection.need_from_row(world.needs[need_id])
            own = world.provider_for(volunteer_id, need_id)  # its own visit's time is not taken from it
            if provider is None or own is None or first_rejection(Candidate(need, own, distance_km(need, own)),
                                                                  RECHECK_RULES) is not None:
                broken.append(row)
    return _cancel_and_rematch(session, outbox, broken, reason, now, settings)


def recheck_need(session: Session, outbox: Outbox, need_id: str, now: datetime, settings: Settings) -> int:
    world = load_world(session, now, settings)
    if need_id not in world.needs:
        return 0
    need = projection.need_from_row(world.needs[need_id])
    broken = [row for row in world.active(need_id) if not visit_begun(row, world.needs[need_id], now)
              if (p := world.provider_for(row["volunteer_id"], need_id)) is None
              or first_rejection(Candidate(need, p, distance_km(need, p)), RECHECK_RULES) is not None]
    return _cancel_and_rematch(session, outbox, broken, "need_updated", now, settings)


def _cancel_and_rematch(session: Session, outbox: Outbox, rows: list[Any], reason: str, now: datetime,
                        settings: Settings) -> int:
    in_cascade = set()
    for row in rows:
        if row["status"] in COMMITTED:
            in_cascade.add(row["need_id"])
        close_match(session, outbox, row, CANCELLED, reason, now)
    for need_id in sorted(in_cascade):
        refill(session, outbox, need_id, now, settings)
    mark_dirty(session)
    return len(rows)


def cancel_need(session: Session, outbox: Outbox, need_id: str, now: datetime) -> None:
    for row in session.execute(sa.select(proposals).where(proposals.c.need_id == need_id,
                                                          proposals.c.status.in_(ACTIVE))).mappings().all():
        close_match(session, outbox, row, CANCELLED, "need_cancelled", now)
    session.execute(sa.delete(unmet_needs).where(unmet_needs.c.need_id == need_id))


def complete_need(session: Session, outbox: Outbox, need_id: str, hours: float | None, now: datetime) -> None:
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == need_id)).mappings().first()
    for row in session.execute(sa.select(proposals).where(proposals.c.need_id == need_id,
                                                          proposals.c.status.in_(ACTIVE))).mappings().all():
        if row["status"] == ACCEPTED:
            spent = hours if hours else (need["duration_minutes"] / 60 if need else 0.0)  # 0: not reported
            update_match(session, row, now, status=COMPLETED, hours=spent, completed_at=now)
            outbox.add(session, match_contract.TOPIC, "MatchCompleted", need_id,
                       {**match_ids(row), "hours": spent, "category": row["category"]})
        else:
            close_match(session, outbox, row, CANCELLED, "need_completed", now)
    session.execute(sa.delete(unmet_needs).where(unmet_needs.c.need_id == need_id))
