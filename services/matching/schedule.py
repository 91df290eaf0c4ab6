"""The scheduler: one `tick` times out offers and solves — new and due held needs at once (incremental), the
whole world when a full re-solve is due (debounced) — and settles the proposals the solve made.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import helpers, projection, series
from services.matching.cascade import expire_offers
from services.matching.db import applied_events, open_needs, proposals, solver_state, unmet_needs
from services.matching.explain import explain, repriced
from services.matching.model import ACTIVE, COMMITTED, PROPOSED, REPLACED, SERVED, NotAllowed
from services.matching.review import approve
from services.matching.rules import (
    STATIC_RULES,
    Candidate,
    Funnel,
    Need,
    Provider,
    TimeWindow,
    distance_km,
    first_rejection,
)
from services.matching.settings import Settings
from services.matching.solver import (
    HELD,
    UNMET_REASONS_PL,
    MatchResult,
    Option,
    Weights,
    assignment,
    feasible_options,
    option,
    rank_at_provider,
    runner_ups,
    schedule,
    solve_with_hours_repair,
)
from services.matching.solver import unmet_needs as unmet_verdicts
from services.matching.store import AUTO_REVIEWER, close_match, create_match, locked_state, moderation_mode
from services.matching.world import World, load_world, solvable_slots
from wspolnota.transport.outbox import Outbox


def resolve_due(session: Session, now: datetime, settings: Settings) -> bool:
    """A full re-solve is due: something besides new needs changed (dirty) and the debounce allows it."""
    state = locked_state(session)
    if not state["dirty"]:
        return False
    last = state["last_solved_at"]
    return bool(state["urgent"]) or last is None or now - last >= settings.resolve_interval


def new_needs(session: Session, now: datetime) -> list[str]:
    """Open needs no solve has looked at yet: no active match and no `unmet_needs` verdict."""
    active = sa.select(proposals.c.need_id).where(proposals.c.status.in_(ACTIVE))
    found = list(session.execute(sa.select(open_needs.c.need_id).where(
        open_needs.c.status == "open", open_needs.c.window_end > now,
        open_needs.c.need_id.not_in(active), open_needs.c.need_id.not_in(sa.select(unmet_needs.c.need_id)),
    ).order_by(open_needs.c.need_id)).scalars())
    reserved = series.reserved_needs(session, now) if found else set()  # kept for a committed provider
    return [need_id for need_id in found if need_id not in reserved]


def held_due(session: Session, now: datetime, settings: Settings) -> list[str]:
    """Held needs (see `hold_until`) whose visit is now within `hold_hours`: time to propose them.
    With the hold turned off (0) every need still held from before is due."""
    query = sa.select(open_needs.c.need_id).join(unmet_needs, unmet_needs.c.need_id == open_needs.c.need_id).where(
        unmet_needs.c.code == HELD, open_needs.c.status == "open", open_needs.c.window_end > now)
    if settings.hold_hours > 0:
        query = query.where(open_needs.c.window_start <= now + timedelta(hours=settings.hold_hours))
    return list(session.execute(query.order_by(open_needs.c.need_id)).scalars())


def hold_until(world: World, need: Need, now: datetime, settings: Settings) -> datetime | None:
    """When a need that can wait will be proposed, or None to propose it now.

    A need that is not urgent, whose visit is more than `hold_hours` away, with no match yet and at least
    `hold_min_providers` verified, unpaused providers who could serve it (every rule but the current load)
    is held: it takes part in the solve (it keeps its place in the plan) but gets no proposal until
    `hold_hours` before the visit. With that many able people it is safe to wait, and meanwhile their hours
    and task slots stay free for needs reported later that only they can serve. In the benchmark it took the
    coverage gain over greedy-nearest from +1.4 / +1.9 pp to +1.8 / +3.7 pp in *scarce* / *surge*
    (docs/matching-benchmark.md).
    """
    if settings.hold_hours <= 0 or need.urgency == "urgent" or world.matches.get(need.id):
        return None
    due = min(w.start for w in need.windows) - timedelta(hours=settings.hold_hours)
    if due <= now:
        return None
    able = 0
    for p in world.providers.values():
        if p.verified and not p.paused and first_rejection(Candidate(need, p, distance_km(need, p)),
                                                           STATIC_RULES) is None:
            able += 1
            if able >= settings.hold_min_providers:
                return due
    return None


def tick(session: Session, outbox: Outbox, now: datetime, settings: Settings) -> dict[str, int]:
    """One step of the scheduler: time out offers, then solve.

    New needs are placed at once (an incremental solve over just them against the capacity the kept
    proposals leave; cheap, no debounce), and so are held needs whose time to be proposed has come.
    Everything else that changes the world (a volunteer, a rejection, a cancelled match, an urgent need)
    marks the projection dirty for a full re-solve, debounced by `resolve_interval` — except for urgent
    needs, which make it due at once.
    """
    expired = expire_offers(session, outbox, now, settings) + helpers.expire_offers(session, outbox, now, settings)
    series.apply(session, outbox, now, settings)  # committed providers get their series' next visits first
    done = {"expired": expired, "proposed": 0, "replaced": 0, "solves": 0}
    if resolve_due(session, now, settings):
        stats = resolve(session, outbox, now, settings)
    elif fresh := new_needs(session, now) + held_due(session, now, settings):
        stats = resolve(session, outbox, now, settings, only=fresh)
    else:
        return done
    done["proposed"], done["replaced"], done["solves"] = stats["proposed"], stats["replaced"], 1
    return done


def resolve(session: Session, outbox: Outbox, now: datetime, settings: Settings,
            only: list[str] | None = None) -> dict[str, int]:
    """Solve and settle the proposals; returns how many were proposed and replaced.

    Full (``only=None``): every open need at once; unapproved proposals are re-decided, but each keeps
    its provider unless another assignment is cheaper by `settings.replace_margin` (the solver sees a
    bonus on the pairs already proposed). Incremental (``only``: new need ids): just those needs, with the
    existing proposals kept and booking their providers' time. A full run with no open need or no
    matchable provider does not count against the debounce interval (nothing expensive happened).
    """
    full = only is None
    world = load_world(session, now, settings, COMMITTED if full else COMMITTED + (PROPOSED,), only)
    wanted: list[Need] = []
    reserved = series.reserved_needs(session, now)  # occurrences kept for their committed provider
    for need_id in sorted(world.needs) if full else only or []:
        slots = solvable_slots(world, need_id, now) if need_id in world.needs and need_id not in reserved else 0
        if slots > 0:
            wanted.append(replace(world.domain_need(need_id), slots=slots))
    if not full:
        _cap_at_units_per_solve(world, settings.weights.max_units_per_provider)
    people = list(world.providers.values())
    village_deficit, category_deficit = deficits(world, now)
    weights = replace(settings.weights, village_deficit=village_deficit, category_deficit=category_deficit,
                      expected_weight=settings.weights.expected_weight / max(1, settings.history_weeks))
    kept = {(n.id, m["volunteer_id"]) for n in wanted for m in world.active(n.id, (PROPOSED,))}
    ahead = expected_needs(session, now, settings) if wanted else []
    held = {n.id for n in wanted if hold_until(world, n, now, settings) is not None}
    result = _match(wanted, people, weights, kept, settings.replace_margin if full else 0, ahead)
    assigned: dict[str, list[Any]] = defaultdict(list)
    planned: dict[str, int] = defaultdict(int)  # tasks per provider in this plan: the load explanations price
    for a in result.assignments:
        assigned[a.need_id].append(a)
        planned[a.provider_id] += 1
    stats = {"proposed": 0, "replaced": 0}
    for need in wanted:
        if need.id in held:
            continue  # planned in this solve, proposed later (held_due)
        made, replaced = _settle_proposals(session, outbox, world, need, assigned[need.id], result, people, now,
                                           settings, planned)
        stats["proposed"] += made
        stats["replaced"] += replaced
    _record_unmet(session, wanted, result, now, held)
    if full:
        matchable = any(p.verified and not p.paused and p.availability for p in people)
        values: dict[str, Any] = {"dirty": False, "urgent": False}
        if wanted and matchable:
            values["last_solved_at"] = now
        session.execute(sa.update(solver_state).where(solver_state.c.id == 1).values(**values))
    return stats


def _cap_at_units_per_solve(world: World, units: int) -> None:
    """A full solve gives a provider at most `units` unapproved proposals; incremental solves keep to that
    too (by lowering the open-task room), so the next full solve has no excess to take back."""
    pending: dict[str, int] = defaultdict(int)
    for rows in world.matches.values():
        for m in rows:
            if m["status"] == PROPOSED:
                pending[m["volunteer_id"]] += 1
    for pid, count in pending.items():
        p = world.providers.get(pid)
        if p is not None and p.max_open_tasks - p.open_tasks > units - count:
            world.providers[pid] = replace(p, open_tasks=p.max_open_tasks - max(0, units - count))


def expected_needs(session: Session, now: datetime, settings: Settings) -> list[Need]:
    """The look-ahead: needs reported in the next `forecast_hours` of each of the last `history_weeks` weeks,
    moved forward by those weeks (ids ``F<k>-<need id>``). They take part in the solve at a share of their
    unmet penalty, so a provider who is the only one able to serve the coming demand is not spent on a need
    others can serve; they are never proposed, offered or reported (solver.match's ``expected``)."""
    if settings.forecast_hours <= 0 or settings.history_weeks <= 0:
        return []
    found: list[Need] = []
    for k in range(1, settings.history_weeks + 1):
        shift = timedelta(days=7 * k)
        reported = sa.select(applied_events.c.key).where(
            applied_events.c.type == "NeedRegistered", applied_events.c.time > now - shift,
            applied_events.c.time <= now - shift + timedelta(hours=settings.forecast_hours))
        for row in session.execute(sa.select(open_needs).where(open_needs.c.need_id.in_(reported))
                                   .order_by(open_needs.c.need_id)).mappings():
            if row["window_end"] + shift <= now:
                continue
            need = projection.need_from_row(row)
            found.append(replace(need, id=f"F{k}-{need.id}", beneficiary_ref=None, plan_ref=None,
                                 windows=tuple(TimeWindow(w.start + shift, w.end + shift) for w in need.windows)))
    return found


def _match(needs: list[Need], people: list[Provider], weights: Weights, kept: set[tuple[str, str]],
           margin: int, expected: list[Need] | None = None) -> MatchResult:
    """solver.match, with a bonus of `margin` on the (need, provider) pairs already proposed.

    The bonus only steers the optimisation (hysteresis): score terms, runner-ups and unmet reasons are
    priced without it. A kept pair outside the k nearest is still offered to the solver if it is feasible.
    `expected` needs (the look-ahead) join the flow at `weights.expected_weight` of their unmet penalty;
    their picks are dropped before anything is proposed.
    """
    funnel = Funnel()
    options_per_need: dict[str, list[Option]] = {}
    by_id = {p.id: p for p in people}
    for need in needs:
        found = feasible_options(need, people, distance_km, weights, funnel)
        have = {o.provider.id for o in found}
        for need_id, provider_id in kept:
            if need_id == need.id and provider_id not in have and provider_id in by_id:
                p = by_id[provider_id]
                d = distance_km(need, p)
                if first_rejection(Candidate(need, p, d)) is None:
                    found.append(option(need, p, d, weights))
        options_per_need[need.id] = found
    options = [o for need in needs for o in options_per_need[need.id]]
    real = {need.id for need in needs}
    ahead = [need for need in expected or () if need.id not in real]
    ahead_options = [o for need in ahead for o in feasible_options(need, people, distance_km, weights, Funnel())]
    if margin > 0 and kept:
        biased = [replace(o, continuity=o.continuity + margin) if (o.need.id, o.provider.id) in kept else o
                  for o in options]
        # the offset that keeps arc costs ≥ 0 must cover the larger bonus; each unit pays it once
        chosen, capacity = solve_with_hours_repair(
            [*needs, *ahead], biased + ahead_options,
            replace(weights, continuity_bonus=weights.continuity_bonus + margin), expected=len(ahead))
        visits = schedule(chosen, frozenset(n.id for n in ahead)).visits
        plain = {(o.need.id, o.provider.id): o for o in options}
        chosen = [plain[(o.need.id, o.provider.id)] for o in chosen if o.need.id in real]
    else:
        chosen, capacity = solve_with_hours_repair([*needs, *ahead], options + ahead_options, weights,
                                                   expected=len(ahead))
        visits = schedule(chosen, frozenset(n.id for n in ahead)).visits  # the times the repair checked
        chosen = [o for o in chosen if o.need.id in real]
    return MatchResult(
        assignments=[assignment(o, rank, weights) for o, rank in rank_at_provider(chosen)],
        unmet=unmet_verdicts(needs, options_per_need, chosen, capacity, people, distance_km),
        runner_up=runner_ups(needs, options_per_need, chosen, capacity, weights),
        funnel=funnel,
        visits={(o.need.id, o.provider.id): visits[(o.need.id, o.provider.id)] for o in chosen},
    )


DEFICIT_LOOKBACK = timedelta(days=60)


def deficits(world: World, now: datetime) -> tuple[dict[str, float], dict[str, float]]:
    """How far each village and category fell behind: its share of past needs left without anyone,
    above the share for the whole gmina (0..1). Feeds the solver's deficit boost."""
    past = [n for n in world.needs.values()
            if n["status"] != "cancelled" and now - DEFICIT_LOOKBACK <= n["window_end"] <= now]
    if not past:
        return {}, {}
    served = {n["need_id"] for n in past
              if any(m["status"] in SERVED for m in world.matches.get(n["need_id"], []))}
    overall = 1 - len(served) / len(past)

    def behind(key: str) -> dict[str, float]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for n in past:
            totals[n[key]][0] += 1
            totals[n[key]][1] += n["need_id"] not in served
        return {k: round(min(1.0, unserved / total - overall), 3) for k, (total, unserved) in totals.items()
                if unserved / total > overall}

    return behind("village"), behind("category")


def _settle_proposals(session: Session, outbox: Outbox, world: World, need: Need, chosen: list[Any],
                      result: Any, people: list[Provider], now: datetime, settings: Settings,
                      planned: dict[str, int]) -> tuple[int, int]:
    """Replace the proposals the solve dropped, create the new ones, refresh the kept ones that changed.

    The explanation (funnel and candidates over every provider: the costly part) is computed only for a
    new proposal or a kept one whose travel cost changed (its need or provider changed); for a kept pair
    whose load term, score, runner-up or candidates' prices moved only those are patched, and one with
    nothing changed is not written at all. `planned`: tasks per provider in this solve's plan, at which the
    candidates are priced, as the runner-up is. Returns (made, replaced).
    """
    pending = {m["volunteer_id"]: m for m in world.active(need.id, (PROPOSED,))}
    keep = {a.provider_id for a in chosen}
    replaced = 0
    for volunteer_id, old in pending.items():
        if volunteer_id not in keep:
            close_match(session, outbox, old, REPLACED, "replaced", now)
            replaced += 1
    runner = result.runner_up.get(need.id)
    runner_up = None if runner is None else {
        "volunteer_id": runner.provider_id, "km": runner.km, "cost": runner.cost, "why_not": runner.why_not}
    made = 0
    for a in chosen:
        score = a.terms["distance"] + a.terms["load"] - a.terms["continuity"]
        current = pending.get(a.provider_id)
        visit = result.visits.get((need.id, a.provider_id))
        if current is not None and visit is not None and (current["agreed_start"], current["agreed_end"]) != (
                visit.start, visit.end):  # the plan moved the proposal's time: staff see the new one
            session.execute(sa.update(proposals).where(proposals.c.id == current["id"])
                            .values(agreed_start=visit.start, agreed_end=visit.end, updated_at=now))
        if current is not None:
            stored = dict(current["explanation"] or {})
            terms = stored.get("terms") or {}
            candidates = repriced(stored.get("candidates"), world, planned, settings)
            if (stored.get("km") == a.km and all(terms.get(k) == a.terms[k] for k in ("distance", "continuity"))
                    and candidates is not None):
                # Same pair at the same travel cost: the funnel and who the candidates are (need × providers)
                # still hold; only the solve's own numbers (load rank, urgency, deficit, runner-up, the
                # candidates' load) may have moved.
                if (terms != a.terms or stored.get("runner_up") != runner_up or current["score"] != score
                        or stored.get("candidates") != candidates):
                    stored.update(terms=a.terms, runner_up=runner_up, candidates=candidates)
                    session.execute(sa.update(proposals).where(proposals.c.id == current["id"])
                                    .values(explanation=stored, score=score, updated_at=now))
                continue
            explanation = explain(need, a.provider_id, people, settings, terms=a.terms, km=a.km,
                                       runner_up=runner_up, planned=planned)
            session.execute(sa.update(proposals).where(proposals.c.id == current["id"])
                            .values(explanation=explanation, score=score, updated_at=now))
            continue
        explanation = explain(need, a.provider_id, people, settings, terms=a.terms, km=a.km,
                                   runner_up=runner_up, planned=planned)
        row = create_match(session, outbox, world, need.id, a.provider_id, now, explanation, score, visit)
        made += 1
        if moderation_mode(session, world.needs[need.id]) == "auto":
            try:
                approve(session, outbox, row["id"], AUTO_REVIEWER, now, settings)
            except NotAllowed:
                pass  # the provider's time went to another visit meanwhile: staff decide (the plan avoids it)
    return made, replaced


def _record_unmet(session: Session, wanted: list[Need], result: Any, now: datetime, held: set[str]) -> None:
    """Why each need of the solve is still without a provider; a held need is recorded as held."""
    if wanted:
        session.execute(sa.delete(unmet_needs).where(unmet_needs.c.need_id.in_([n.id for n in wanted])))
    for u in result.unmet:
        if u.need_id not in held:
            session.execute(sa.insert(unmet_needs).values(
                need_id=u.need_id, missing_slots=u.missing_slots, code=u.code, reason=u.reason[:500],
                funnel=u.funnel, at=now))
    for need in wanted:
        if need.id in held:
            session.execute(sa.insert(unmet_needs).values(
                need_id=need.id, missing_slots=need.slots, code=HELD, reason=UNMET_REASONS_PL[HELD], funnel={},
                at=now))
