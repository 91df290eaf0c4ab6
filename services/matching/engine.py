"""Matching use cases: the debounced re-solve, the review queue and the offer cascade.

Every function takes the session of the caller's unit of work, the outbox and `now` (an injected
clock: tests pass their own times, nothing here reads the wall clock). Events go through the outbox in
the same transaction as the change. Hard filters come from rules.py and are re-checked whenever a
match is created outside the solver (cascade, staff pick), so the Kamilka gate holds on every path.
"""
from __future__ import annotations

import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import projection, schemas
from services.matching.db import (
    applied_events,
    audit_log,
    moderation,
    open_needs,
    proposals,
    providers,
    solver_state,
    unmet_needs,
)
from services.matching.rules import (
    RULES,
    STATIC_RULES,
    Candidate,
    Funnel,
    Need,
    Provider,
    TimeWindow,
    Week,
    distance_km,
    first_rejection,
    funnel,
    iso_week,
    not_declined_before,
    open_tasks_left,
    weekly_hours_left,
)
from services.matching.solver import (
    HELD,
    UNMET_REASONS_PL,
    MatchResult,
    Option,
    Weights,
    assignment,
    earliest_visit,
    feasible_options,
    fits,
    marginal_load_cost,
    option,
    rank_at_provider,
    runner_ups,
    schedule,
    solve_with_hours_repair,
    without,
)
from services.matching.solver import unmet_needs as unmet_verdicts
from wspolnota import reference
from wspolnota.transport.outbox import Outbox

PROPOSED, APPROVED, OFFERED, ACCEPTED, COMPLETED = "proposed", "approved", "offered", "accepted", "completed"
REJECTED, REPLACED, DECLINED, EXPIRED, CANCELLED = "rejected", "replaced", "declined", "expired", "cancelled"
ACTIVE = (PROPOSED, APPROVED, OFFERED, ACCEPTED)
COMMITTED = (APPROVED, OFFERED, ACCEPTED)  # count towards the provider's load and reserve the visit's time
EXCLUDING = (REJECTED, DECLINED, EXPIRED)  # the provider is not asked again for this need

# A match already made is re-checked against every rule except load and history: those held when it was made.
RECHECK_RULES = tuple(r for r in RULES if r not in (weekly_hours_left, open_tasks_left, not_declined_before))

DEBOUNCED_INTERVAL_S = 5
# The service's cost balance, as benchmarked (bench/matching/run.py OURS_WEIGHTS, docs/matching-benchmark.md):
# distance and load ×3 against the unmet penalties (an unmet normal need is worth ≈ 33 km), and the
# look-ahead's expected needs at 0.6 of their penalty in all (shared by the past weeks replayed).
SERVICE_WEIGHTS = Weights(km_cost=30, load_cost=120, expected_weight=0.6)
FORECAST_HOURS = 48.0  # look-ahead: needs reported in the next 48 h of past weeks take part in every solve
HISTORY_WEEKS = 3
# Holding back easy needs (as benchmarked: bench/matching/run.py HOLD_HOURS, HOLD_MIN_FEASIBLE): a non-urgent need
# whose visit is more than HOLD_HOURS away and which at least HOLD_MIN_PROVIDERS providers could serve is
# planned in every solve but proposed only from HOLD_HOURS before the visit, so those providers' hours and
# task slots stay free meanwhile for the needs that only they can serve.
HOLD_HOURS = 48.0
HOLD_MIN_PROVIDERS = 16
# An unapproved proposal is replaced only when the new assignment is cheaper by at least this much (solver
# cost units: 30 per km, so 10 km of travel): a stable review queue, no cancel + re-notify churn.
REPLACE_MARGIN = 300
MIN_ANSWER_TIME = timedelta(minutes=10)
# An acceptance of an offer in one of these states comes too late: what the provider is told (schemas.py).
TOO_LATE = {EXPIRED: schemas.TOO_LATE_PASSED_ON, CANCELLED: schemas.TOO_LATE_NOT_NEEDED,
            REPLACED: schemas.TOO_LATE_NOT_NEEDED, DECLINED: schemas.TOO_LATE_ALREADY_DECLINED}
CASCADE_REVIEWER = "kaskada"
AUTO_REVIEWER = "automatycznie"
SYSTEM_ACTOR = "system"


class MatchNotFound(LookupError):
    pass


class NotAllowed(ValueError):
    """The action does not fit the match's state or the rules; the message is Polish, for staff."""


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class Settings:
    resolve_interval: timedelta = timedelta(seconds=5)
    offer_deadline: timedelta = timedelta(hours=2)
    urgent_offer_deadline: timedelta = timedelta(minutes=30)
    urgent_parallel: int = 2  # providers alerted at once for an urgent need (3 gained nothing in the benchmark)
    horizon_days: int = 28  # how far ahead weekly slots are expanded
    candidates_shown: int = 5
    replace_margin: int = REPLACE_MARGIN
    weights: Weights = SERVICE_WEIGHTS
    forecast_hours: float = FORECAST_HOURS  # 0: no look-ahead
    history_weeks: int = HISTORY_WEEKS
    hold_hours: float = HOLD_HOURS  # 0: every need is proposed at once
    hold_min_providers: int = HOLD_MIN_PROVIDERS

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            # 0 under a plain `wspolnota consume matching`, which has no idle tick to run a deferred solve;
            # services.matching.worker has one and defaults it to DEBOUNCED_INTERVAL_S.
            resolve_interval=timedelta(seconds=_env_float("MATCHING_RESOLVE_INTERVAL_S", 0)),
            offer_deadline=timedelta(minutes=_env_float("MATCHING_OFFER_DEADLINE_MIN", 120)),
            urgent_offer_deadline=timedelta(minutes=_env_float("MATCHING_URGENT_OFFER_DEADLINE_MIN", 30)),
            urgent_parallel=int(_env_float("MATCHING_URGENT_PARALLEL", 2)),
            replace_margin=int(_env_float("MATCHING_REPLACE_MARGIN", REPLACE_MARGIN)),
            hold_hours=_env_float("MATCHING_HOLD_HOURS", HOLD_HOURS),
            hold_min_providers=int(_env_float("MATCHING_HOLD_MIN_PROVIDERS", HOLD_MIN_PROVIDERS)),
        )


# --- the world as the matcher sees it -----------------------------------------------------------

@dataclass
class World:
    needs: dict[str, sa.RowMapping]
    providers: dict[str, Provider]
    free: dict[str, projection.Availability]  # as offered, before the reserved times are taken out
    matches: dict[str, list[sa.RowMapping]]  # per need, every match row
    # per provider, the visit times their matches hold (need id, time): already cut out of the providers'
    # availability, so no path that creates a match can give one provider two visits at once
    reserved: dict[str, list[tuple[str, TimeWindow]]] = field(default_factory=dict)

    def provider_for(self, volunteer_id: str, need_id: str) -> Provider | None:
        """The provider as a match of this need sees them: the times of their other visits taken, the time
        this need's own match holds free again (a match is re-checked against everything but itself)."""
        p = self.providers.get(volunteer_id)
        own = [w for n, w in self.reserved.get(volunteer_id, ()) if n == need_id]
        if p is None or not own:
            return p
        offered = [w for w, _ in (self.free.get(volunteer_id) or projection.Availability()).windows]
        others = [w for n, w in self.reserved[volunteer_id] if n != need_id]
        return replace(p, availability=tuple(without(offered, others)))

    def active(self, need_id: str, statuses: tuple[str, ...] = ACTIVE) -> list[sa.RowMapping]:
        return [m for m in self.matches.get(need_id, []) if m["status"] in statuses]

    def domain_need(self, need_id: str, slots: int | None = None, keep: frozenset[str] = frozenset()) -> Need:
        """The need with its exclusions: who declined, timed out or was rejected, and who already serves it."""
        rows = self.matches.get(need_id, [])
        excluded = {m["volunteer_id"] for m in rows if m["status"] in EXCLUDING + COMMITTED} - keep
        row = self.needs[need_id]
        return projection.need_from_row(row, declined_by=frozenset(excluded),
                                        previous_providers=self.previous_providers(row))

    def previous_providers(self, need: sa.RowMapping) -> frozenset[str]:
        if not (need["series_id"] or (need["plan_ref"] and need["continuity"])):
            return frozenset()
        same = {nid for nid, n in self.needs.items()
                if nid != need["need_id"] and ((need["series_id"] and n["series_id"] == need["series_id"])
                                               or (need["continuity"] and n["plan_ref"] == need["plan_ref"]))}
        return frozenset(m["volunteer_id"] for nid in same for m in self.matches.get(nid, [])
                         if m["status"] in (ACCEPTED, COMPLETED))


def load_world(session: Session, now: datetime, settings: Settings, load: tuple[str, ...] = COMMITTED,
               only: list[str] | None = None) -> World:
    """The projection and matching's own rows; `load` says which match statuses book the provider's time
    (the incremental solve passes PROPOSED too: it places new needs next to the proposals it keeps).

    `only`: of the needs, load just these plus those with a match (load, continuity) and those whose
    window has ended (deficits) — not the whole backlog of open needs no solve will touch.
    """
    query = sa.select(open_needs)
    if only is not None:
        query = query.where(sa.or_(open_needs.c.need_id.in_(only), open_needs.c.window_end <= now,
                                   open_needs.c.need_id.in_(sa.select(proposals.c.need_id))))
    needs = {r["need_id"]: r for r in session.execute(query).mappings()}
    matches: dict[str, list[sa.RowMapping]] = defaultdict(list)
    hours: dict[str, float] = defaultdict(float)  # over the horizon: the load that fairness spreads
    weekly: dict[str, dict[Week, float]] = defaultdict(lambda: defaultdict(float))  # the weekly-hours limit
    tasks: dict[str, int] = defaultdict(int)
    reserved: dict[str, list[tuple[str, TimeWindow]]] = defaultdict(list)
    for m in session.execute(sa.select(proposals).order_by(proposals.c.created_at, proposals.c.id)).mappings():
        matches[m["need_id"]].append(m)
        need = needs.get(m["need_id"])
        if m["status"] in load and need is not None and need["window_end"] > now:
            hours[m["volunteer_id"]] += need["duration_minutes"] / 60
            weekly[m["volunteer_id"]][iso_week(need["window_start"])] += need["duration_minutes"] / 60
            tasks[m["volunteer_id"]] += 1
            reserved[m["volunteer_id"]].append((m["need_id"], visit_of(m, need)))
    free = projection.availability(session, now, settings.horizon_days)
    people = {}
    for r in session.execute(sa.select(providers).order_by(providers.c.volunteer_id)).mappings():
        p = projection.provider_from_row(r, free.get(r["volunteer_id"]), hours[r["volunteer_id"]],
                                         tasks[r["volunteer_id"]], weekly.get(r["volunteer_id"]))
        if reserved.get(p.id):
            p = replace(p, availability=tuple(without(p.availability, [w for _, w in reserved[p.id]])))
        people[p.id] = p
    return World(needs, people, free, matches, dict(reserved))


def visit_of(match: Any, need: Any) -> TimeWindow:
    """A match's visit time: the agreed one; on rows made before it was kept, the window's start for the
    need's duration (what the provider was told then)."""
    if match["agreed_start"] is not None and match["agreed_end"] is not None:
        return TimeWindow(match["agreed_start"], match["agreed_end"])
    start = match["window_start"]
    return TimeWindow(start, start + timedelta(minutes=need["duration_minutes"]))


def _visit_begun(match: Any, need: Any, now: datetime) -> bool:
    """An accepted visit whose agreed time has come: a later change in the world cannot undo it."""
    return bool(match["status"] == ACCEPTED and visit_of(match, need).start <= now)


def _solvable(world: World, need_id: str, now: datetime) -> int:
    """Slots the solver may (re)decide for this need: 0 while its cascade runs or when it is not open."""
    need = world.needs[need_id]
    if need["status"] != "open" or need["window_end"] <= now or world.active(need_id, (OFFERED,)):
        return 0
    return need["slots"] - len(world.active(need_id, COMMITTED))


# --- debounced re-solve -------------------------------------------------------------------------

def lock(session: Session) -> None:
    """Serialise matching's writers (consumer, scheduler, staff actions) on the solver_state row.

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); on PostgreSQL this row lock keeps two
    re-solves or cascades from deciding the same need at once.
    """
    _state(session)


def _state(session: Session) -> sa.RowMapping:
    row = session.execute(sa.select(solver_state).where(solver_state.c.id == 1).with_for_update()).mappings().first()
    if row is None:
        session.execute(sa.insert(solver_state).values(id=1, dirty=False, urgent=False, last_solved_at=None))
        row = session.execute(sa.select(solver_state).where(solver_state.c.id == 1)).mappings().one()
    return row


def mark_dirty(session: Session, urgent: bool = False) -> None:
    state = _state(session)
    session.execute(sa.update(solver_state).where(solver_state.c.id == 1)
                    .values(dirty=True, urgent=bool(state["urgent"] or urgent)))


def resolve_due(session: Session, now: datetime, settings: Settings) -> bool:
    """A full re-solve is due: something besides new needs changed (dirty) and the debounce allows it."""
    state = _state(session)
    if not state["dirty"]:
        return False
    last = state["last_solved_at"]
    return bool(state["urgent"]) or last is None or now - last >= settings.resolve_interval


def new_needs(session: Session, now: datetime) -> list[str]:
    """Open needs no solve has looked at yet: no active match and no `unmet_needs` verdict."""
    active = sa.select(proposals.c.need_id).where(proposals.c.status.in_(ACTIVE))
    return list(session.execute(sa.select(open_needs.c.need_id).where(
        open_needs.c.status == "open", open_needs.c.window_end > now,
        open_needs.c.need_id.not_in(active), open_needs.c.need_id.not_in(sa.select(unmet_needs.c.need_id)),
    ).order_by(open_needs.c.need_id)).scalars())


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
    expired = expire_offers(session, outbox, now, settings)
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
    for need_id in sorted(world.needs) if full else only or []:
        slots = _solvable(world, need_id, now) if need_id in world.needs else 0
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
              if any(m["status"] in (ACCEPTED, COMPLETED) for m in world.matches.get(n["need_id"], []))}
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
            _close(session, outbox, old, REPLACED, "replaced", now)
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
            candidates = _repriced(stored.get("candidates"), world, planned, settings)
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
            explanation = _explanation(need, a.provider_id, people, settings, terms=a.terms, km=a.km,
                                       runner_up=runner_up, planned=planned)
            session.execute(sa.update(proposals).where(proposals.c.id == current["id"])
                            .values(explanation=explanation, score=score, updated_at=now))
            continue
        explanation = _explanation(need, a.provider_id, people, settings, terms=a.terms, km=a.km,
                                   runner_up=runner_up, planned=planned)
        row = _create(session, outbox, world, need.id, a.provider_id, now, explanation, score, visit)
        made += 1
        if moderation_mode(session, world.needs[need.id]) == "auto":
            try:
                approve(session, outbox, row["id"], AUTO_REVIEWER, now, settings)
            except NotAllowed:
                pass  # the provider's time went to another visit meanwhile: staff decide (the plan avoids it)
    return made, replaced


def _explanation(need: Need, provider_id: str, people: list[Provider], settings: Settings, *,
                 terms: dict[str, int], km: float, runner_up: dict[str, Any] | None,
                 source: str = "solver", planned: dict[str, int] | None = None) -> dict[str, Any]:
    """Funnel, score terms, runner-up and the cheapest other candidates (whom staff may pick instead).

    A candidate's cost is its travel plus its next unit of load: after the tasks `planned` for it in this
    solve, like the runner-up's, so that one provider has one price on the page (none planned: its load now,
    as the cascade and a staff pick price it)."""
    own = funnel([need], people)
    options = feasible_options(need, people, distance_km, settings.weights, Funnel())
    planned = planned or {}
    priced = sorted(((_price(o, settings, planned.get(o.provider.id, 0)), o) for o in options),
                    key=lambda pair: (pair[0], pair[1].km))
    candidates = [{"volunteer_id": o.provider.id, "km": round(o.km, 2), "travel": o.cost, "cost": cost}
                  for cost, o in priced][: settings.candidates_shown]
    return {
        "source": source,
        "km": km,
        "terms": terms,
        "funnel": {"examined": own.examined, "passed": own.passed,
                   "removed": {rule: n for rule, n in own.as_rows() if n}},
        "runner_up": runner_up,
        "candidates": [c for c in candidates if c["volunteer_id"] != provider_id],
    }


def _price(o: Option, settings: Settings, unit: int = 0) -> int:
    """Travel (less continuity) plus the load cost of the provider's `unit`-th further task."""
    return o.cost + marginal_load_cost(o.provider, unit, settings.weights)


def _repriced(candidates: list[dict[str, Any]] | None, world: World, planned: dict[str, int],
              settings: Settings) -> list[dict[str, Any]] | None:
    """The stored candidates priced at this plan's load, cheapest first; None when they cannot be (written
    before their travel cost was kept, or a provider is gone): then the explanation is made anew."""
    if candidates is None or any("travel" not in c or c["volunteer_id"] not in world.providers for c in candidates):
        return None
    repriced = [{**c, "cost": c["travel"] + marginal_load_cost(world.providers[c["volunteer_id"]],
                                                                 planned.get(c["volunteer_id"], 0), settings.weights)}
                for c in candidates]
    return sorted(repriced, key=lambda c: (c["cost"], c["km"]))


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


def moderation_mode(session: Session, need: sa.RowMapping) -> str:
    """Automatic when the need asks for it or staff set its category to automatic; otherwise staff review."""
    category = session.execute(sa.select(moderation.c.mode).where(moderation.c.category == need["category"])).scalar()
    return "auto" if "auto" in (need["moderation"], category) else "review"


def set_moderation(session: Session, category: str, mode: str, actor: str = SYSTEM_ACTOR,
                   now: datetime | None = None) -> None:
    if category not in reference.categories() or mode not in ("review", "auto"):
        raise NotAllowed("Nieznana kategoria lub tryb moderacji.")
    before = session.execute(sa.select(moderation.c.mode).where(moderation.c.category == category)).scalar()
    session.execute(sa.delete(moderation).where(moderation.c.category == category))
    session.execute(sa.insert(moderation).values(category=category, mode=mode))
    audit(session, actor, "moderation", category, f"{before or 'review'} -> {mode}", now or datetime.now(UTC))


def audit(session: Session, actor: str, action: str, subject_id: str, detail: str, now: datetime) -> None:
    """Who decided what, when: the signed-in account (or the cascade / automatic approval), never typed text."""
    session.execute(sa.insert(audit_log).values(at=now, actor=actor[:200], action=action, subject_id=subject_id,
                                                detail=detail[:200]))


# --- creating and closing matches ------------------------------------------------------------------

def _reason_pl(need: sa.RowMapping, explanation: dict[str, Any]) -> str:
    category = reference.categories()[need["category"]]["name"]
    village = reference.villages()[need["village"]]["name"]
    km = f"{explanation['km']:.1f}".replace(".", ",")
    f = explanation["funnel"]
    return (f"Kategoria {category}, miejscowość {village}; dojazd {km} km; spełnia wszystkie warunki "
            f"(sprawdzono wykonawców: {f['examined']}, pasuje: {f['passed']}).")[:500]


def _create(session: Session, outbox: Outbox, world: World, need_id: str, volunteer_id: str, now: datetime,
            explanation: dict[str, Any], score: int | None, visit: TimeWindow | None = None) -> dict[str, Any]:
    """A proposal at `visit` (the solve's plan), else at the earliest time free in the provider's
    availability (reserved times already taken out) and the need's window."""
    need = world.needs[need_id]
    free = world.free.get(volunteer_id) or projection.Availability()
    offer_id = free.offer_for(projection.need_from_row(need)) or (free.windows[0][1] if free.windows else None)
    if offer_id is None:
        raise NotAllowed("Wykonawca nie ma opublikowanej oferty.")
    provider = world.providers.get(volunteer_id)
    visit = visit or (earliest_visit(projection.need_from_row(need), provider.availability) if provider else None)
    if visit is None:
        raise NotAllowed(BUSY)
    row = {"id": str(uuid.uuid4()), "need_id": need_id, "volunteer_id": volunteer_id, "offer_id": offer_id,
           "category": need["category"], "village": need["village"], "window_start": need["window_start"],
           "status": PROPOSED, "reason": _reason_pl(need, explanation), "created_at": now, "updated_at": now,
           "urgent": need["urgent"], "score": score, "explanation": explanation,
           "agreed_start": visit.start, "agreed_end": visit.end}
    session.execute(sa.insert(proposals).values(**row))
    outbox.add(session, schemas.TOPIC, "MatchProposed", need_id, {
        "match_id": row["id"], "need_id": need_id, "volunteer_id": volunteer_id, "offer_id": offer_id,
        "category": row["category"], "village": row["village"], "window_start": row["window_start"].isoformat(),
        "urgent": bool(row["urgent"]), "reason": row["reason"], "score": score, "explanation": explanation,
        **_visit_fields(row)})
    world.matches[need_id].append(row)  # type: ignore[arg-type]
    return row


BUSY = "Wykonawca nie ma wolnego terminu w oknie tej potrzeby (zajęty innymi wizytami)."


def _visit_fields(row: Any) -> dict[str, str]:
    """The visit's time on MatchProposed / MatchOffered (absent on rows made before it was kept)."""
    if row.get("agreed_start") is None:
        return {}
    return {"agreed_start": row["agreed_start"].isoformat(), "agreed_end": row["agreed_end"].isoformat()}


def _ids(row: Any) -> dict[str, str]:
    return {"match_id": row["id"], "need_id": row["need_id"], "volunteer_id": row["volunteer_id"]}


def _set(session: Session, row: Any, now: datetime, **values: Any) -> None:
    session.execute(sa.update(proposals).where(proposals.c.id == row["id"]).values(updated_at=now, **values))


def _close(session: Session, outbox: Outbox, row: Any, status: str, reason: str, now: datetime) -> None:
    """End a match for a reason of ours (replaced, covered, cancelled): one MatchCancelled."""
    _set(session, row, now, status=status, decision_reason=reason)
    outbox.add(session, schemas.TOPIC, "MatchCancelled", row["need_id"], {**_ids(row), "reason": reason})


def get_match(session: Session, match_id: str) -> sa.RowMapping:
    row = session.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().first()
    if row is None:
        raise MatchNotFound(match_id)
    return row


# --- review queue -------------------------------------------------------------------------------

def approve(session: Session, outbox: Outbox, match_id: str, reviewer: str | None, now: datetime,
            settings: Settings) -> None:
    row = get_match(session, match_id)
    if row["status"] != PROPOSED:
        raise NotAllowed("Tę propozycję już rozpatrzono.")
    visit = _free_visit(session, row, now, settings)
    times = {} if visit is None else {"agreed_start": visit.start, "agreed_end": visit.end}
    _set(session, row, now, status=APPROVED, reviewer=reviewer, **times)
    row = get_match(session, match_id)
    audit(session, reviewer or SYSTEM_ACTOR, "approve", match_id,
          f"need {row['need_id']}, volunteer {row['volunteer_id']}", now)
    outbox.add(session, schemas.TOPIC, "MatchApproved", row["need_id"], {**_ids(row), "reviewer": reviewer})
    _offer(session, outbox, row, now, settings)
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
    if row["status"] != PROPOSED:
        raise NotAllowed("Tę propozycję już rozpatrzono.")
    _set(session, row, now, status=REJECTED, reviewer=reviewer, decision_reason=reason)  # the typed reason stays here
    audit(session, reviewer or SYSTEM_ACTOR, "reject", match_id,  # the typed reason may name a resident: not here
          f"need {row['need_id']}, volunteer {row['volunteer_id']}", now)
    outbox.add(session, schemas.TOPIC, "MatchRejected", row["need_id"],
               {**_ids(row), "reason": schemas.REJECTED_BY_STAFF})
    mark_dirty(session)


def pick(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, reviewer: str | None,
         now: datetime, settings: Settings) -> dict[str, Any]:
    """Staff choose another candidate: checked against every hard rule, then approved and offered."""
    row = get_match(session, match_id)
    if row["status"] != PROPOSED:
        raise NotAllowed("Tę propozycję już rozpatrzono.")
    world = load_world(session, now, settings)
    provider = world.providers.get(volunteer_id)
    if provider is None:
        raise NotAllowed("Nieznany wykonawca.")
    need = world.domain_need(row["need_id"])
    rejection = first_rejection(Candidate(need, provider, distance_km(need, provider)))
    if rejection is not None:
        raise NotAllowed(f"Nie można wybrać tego wykonawcy: {rejection.reason}.")
    _close(session, outbox, row, REPLACED, "replaced", now)
    people = list(world.providers.values())
    option = feasible_options(need, [provider], distance_km, settings.weights, Funnel())[0]
    explanation = _explanation(need, volunteer_id, people, settings, source="staff", km=round(option.km, 2),
                               terms=_terms(option, need, settings), runner_up=None)
    new = _create(session, outbox, world, row["need_id"], volunteer_id, now, explanation, _price(option, settings))
    audit(session, reviewer or SYSTEM_ACTOR, "pick", match_id,
          f"need {row['need_id']}, volunteer {row['volunteer_id']} -> {volunteer_id}, match {new['id']}", now)
    approve(session, outbox, new["id"], reviewer, now, settings)
    return new


def _terms(o: Option, need: Need, settings: Settings) -> dict[str, int]:
    return {"distance": o.distance, "load": marginal_load_cost(o.provider, 0, settings.weights),
            "continuity": o.continuity, "urgency": settings.weights.unmet_penalty.get(need.urgency, 0), "deficit": 0}


# --- offer cascade ------------------------------------------------------------------------------

def _offer(session: Session, outbox: Outbox, row: Any, now: datetime, settings: Settings) -> None:
    deadline = now + (settings.urgent_offer_deadline if row["urgent"] else settings.offer_deadline)
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == row["need_id"])).mappings().first()
    if need is not None:  # an answer after the visit's agreed (or last possible) start is no use
        latest_start = row.get("agreed_start") or need["window_end"] - timedelta(minutes=need["duration_minutes"])
        deadline = max(min(deadline, latest_start), now + MIN_ANSWER_TIME)
    _set(session, row, now, status=OFFERED, deadline=deadline)
    outbox.add(session, schemas.TOPIC, "MatchOffered", row["need_id"], {
        **_ids(row), "deadline": deadline.isoformat(), "urgent": bool(row["urgent"]), "category": row["category"],
        "village": row["village"], "window_start": row["window_start"].isoformat(), **_visit_fields(row)})


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
            _close(session, outbox, row, CANCELLED, "covered", now)
        return
    missing = need["slots"] - accepted
    target = max(missing, settings.urgent_parallel) if need["urgent"] else missing
    waiting = len(world.active(need_id, (PROPOSED, APPROVED, OFFERED)))
    if target > waiting and need["window_end"] > now:
        for provider_id, option in next_candidates(world, need_id, target - waiting, settings):
            explanation = _explanation(world.domain_need(need_id), provider_id, list(world.providers.values()),
                                       settings, source="cascade", km=round(option.km, 2),
                                       terms=_terms(option, option.need, settings), runner_up=None)
            new = _create(session, outbox, world, need_id, provider_id, now, explanation, _price(option, settings))
            _set(session, new, now, status=APPROVED, reviewer=CASCADE_REVIEWER)
            outbox.add(session, schemas.TOPIC, "MatchApproved", need_id, {**_ids(new), "reviewer": CASCADE_REVIEWER})
            _offer(session, outbox, new, now, settings)
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
    ranked = sorted(options, key=lambda o: (_price(o, settings), o.km, o.provider.id))
    return [(o.provider.id, o) for o in ranked[:count]]


def respond(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, response: str, reason: str,
            now: datetime, settings: Settings) -> bool:
    """A provider's answer to an offer. An answer to an offer no longer open (expired and passed on, covered,
    cancelled) changes nothing; an acceptance among them publishes MatchAnswerTooLate, so the provider is
    told the truth and the organiser sees it."""
    row = session.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().first()
    if row is None or row["volunteer_id"] != volunteer_id:
        return False
    if row["status"] != OFFERED:
        too_late = TOO_LATE.get(row["status"])
        if response == "accept" and too_late is not None:
            code = row["decision_reason"] if row["status"] == CANCELLED else None
            outbox.add(session, schemas.TOPIC, "MatchAnswerTooLate", row["need_id"], {
                **_ids(row), "status": too_late, "reason": code if code in schemas.REASON_LABELS else None})
        return False
    if response == "accept":
        _set(session, row, now, status=ACCEPTED)
        outbox.add(session, schemas.TOPIC, "MatchAccepted", row["need_id"], _ids(row))
    else:
        _set(session, row, now, status=DECLINED, decision_reason=reason[:500])
        outbox.add(session, schemas.TOPIC, "MatchDeclined", row["need_id"], {**_ids(row), "reason": reason[:500]})
    refill(session, outbox, row["need_id"], now, settings)
    return True


def expire_offers(session: Session, outbox: Outbox, now: datetime, settings: Settings) -> int:
    rows = session.execute(sa.select(proposals).where(proposals.c.status == OFFERED, proposals.c.deadline <= now)
                           .order_by(proposals.c.deadline)).mappings().all()
    for row in rows:
        _set(session, row, now, status=EXPIRED)
        outbox.add(session, schemas.TOPIC, "MatchExpired", row["need_id"], _ids(row))
    for need_id in sorted({r["need_id"] for r in rows}):
        refill(session, outbox, need_id, now, settings)
    return len(rows)


# --- changes in the world that undo matches -------------------------------------------------------

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
            if _visit_begun(row, world.needs[need_id], now):
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
    broken = [row for row in world.active(need_id) if not _visit_begun(row, world.needs[need_id], now)
              if (p := world.provider_for(row["volunteer_id"], need_id)) is None
              or first_rejection(Candidate(need, p, distance_km(need, p)), RECHECK_RULES) is not None]
    return _cancel_and_rematch(session, outbox, broken, "need_updated", now, settings)


def _cancel_and_rematch(session: Session, outbox: Outbox, rows: list[Any], reason: str, now: datetime,
                        settings: Settings) -> int:
    in_cascade = set()
    for row in rows:
        if row["status"] in COMMITTED:
            in_cascade.add(row["need_id"])
        _close(session, outbox, row, CANCELLED, reason, now)
    for need_id in sorted(in_cascade):
        refill(session, outbox, need_id, now, settings)
    mark_dirty(session)
    return len(rows)


def cancel_need(session: Session, outbox: Outbox, need_id: str, now: datetime) -> None:
    for row in session.execute(sa.select(proposals).where(proposals.c.need_id == need_id,
                                                          proposals.c.status.in_(ACTIVE))).mappings().all():
        _close(session, outbox, row, CANCELLED, "need_cancelled", now)
    session.execute(sa.delete(unmet_needs).where(unmet_needs.c.need_id == need_id))


def complete_match(session: Session, outbox: Outbox, match_id: str, hours: float, now: datetime) -> None:
    """Staff confirm an accepted visit took place, with the hours spent."""
    row = get_match(session, match_id)
    if row["status"] != ACCEPTED:
        raise NotAllowed("Tylko przyjęte dopasowanie można oznaczyć jako wykonane.")
    _set(session, row, now, status=COMPLETED, hours=hours, completed_at=now)
    outbox.add(session, schemas.TOPIC, "MatchCompleted", row["need_id"], {**_ids(row), "hours": hours})


def complete_need(session: Session, outbox: Outbox, need_id: str, hours: float | None, now: datetime) -> None:
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == need_id)).mappings().first()
    for row in session.execute(sa.select(proposals).where(proposals.c.need_id == need_id,
                                                          proposals.c.status.in_(ACTIVE))).mappings().all():
        if row["status"] == ACCEPTED:
            spent = hours if hours else (need["duration_minutes"] / 60 if need else 0.0)  # 0: not reported
            _set(session, row, now, status=COMPLETED, hours=spent, completed_at=now)
            outbox.add(session, schemas.TOPIC, "MatchCompleted", need_id, {**_ids(row), "hours": spent})
        else:
            _close(session, outbox, row, CANCELLED, "need_completed", now)
    session.execute(sa.delete(unmet_needs).where(unmet_needs.c.need_id == need_id))
