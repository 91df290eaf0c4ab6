"""Optimisation stage of the matcher: a min-cost flow over open needs × free provider capacity.

Network (one flow unit = one provider taking one slot of one need):

    need ──(cap 1, distance − continuity)──▶ provider ──(cap 1 each, convex load pieces)──▶ sink
      └─────────────────(cap slots, unmet penalty: urgency + deficit boost)──────────────────▶ sink

Every need node supplies its slots; the sink absorbs them all, so the "unmet" arc keeps the problem
feasible and its penalty says how much a need is worth serving. Pairs reach the network only after the
hard filters in ``rules.py`` passed, and only the k nearest feasible providers per need.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

from services.matching.rules import (
    DYNAMIC_RULES,
    RULES,
    Candidate,
    Funnel,
    Need,
    Provider,
    TimeWindow,
    distance_km,
    first_rejection,
    kamilka_gate,
)

# Checked on every re-solve even for cached candidates: load and history change, and the Kamilka gate
# must hold whatever a cache says.
RECHECKED_RULES = tuple(r for r in RULES if r in DYNAMIC_RULES or r is kamilka_gate)

CAPACITY_TAKEN = "capacity_taken"
NO_FEASIBLE_PROVIDER = "no_feasible_provider"
TOO_COSTLY = "too_costly"
HELD = "held"  # set by the service's scheduler (schedule.py): a need that can wait is proposed closer to its visit

UNMET_REASONS_PL = {
    CAPACITY_TAKEN: "Pasujący wykonawcy są już w pełni zajęci innymi potrzebami",
    TOO_COSTLY: "Dojazd pasujących wykonawców zbyt daleki względem pilności potrzeby",
    HELD: "Odłożona: wielu wykonawców może ją przyjąć, więc propozycja powstanie bliżej terminu wizyty",
}


@dataclass(frozen=True)
class Weights:
    km_cost: int = 10  # per km of travel
    unmet_penalty: Mapping[str, int] = field(
        default_factory=lambda: {"normal": 1000, "high": 2000, "urgent": 4000}
    )
    load_cost: int = 40  # the j-th extra unit on a provider already at load L costs load_cost·(2(L+j)+1)
    load_unit_hours: float = 2.0  # hours already booked this week that count as one unit of load
    continuity_bonus: int = 300  # same provider as before within a support package
    deficit_boost: int = 1000  # extra unmet penalty per unit of village + category deficit (0..1 each)
    village_deficit: Mapping[str, float] = field(default_factory=dict)
    category_deficit: Mapping[str, float] = field(default_factory=dict)
    k_nearest: int = 15  # feasible candidates kept per need
    max_units_per_provider: int = 6
    expected_weight: float = 1.0  # look-ahead: share of its unmet penalty an *expected* need carries


@dataclass(frozen=True)
class FlowProblem:
    """Integer arrays of the network; needs are 0..n-1, providers 0..m-1 (their own numbering)."""

    slots: np.ndarray  # per need
    unmet_cost: np.ndarray  # per need, ≥ 0
    arc_need: np.ndarray  # per candidate arc
    arc_provider: np.ndarray
    arc_cost: np.ndarray  # ≥ 0
    piece_provider: np.ndarray  # per load piece (capacity 1 each)
    piece_cost: np.ndarray


@dataclass(frozen=True)
class FlowSolution:
    arc_flow: np.ndarray  # 0/1 per candidate arc
    unmet: np.ndarray  # unserved slots per need
    total_cost: int


def solve_flow(problem: FlowProblem) -> FlowSolution:
    """Solve each connected part of the network on its own: same optimum, less work at scale."""
    n = len(problem.slots)
    m = int(max(problem.piece_provider.max(initial=-1), problem.arc_provider.max(initial=-1))) + 1
    label = connected_parts(n, m, problem.arc_need, problem.arc_provider)
    need_part, arc_part, piece_part = label[:n], label[problem.arc_need], label[n + problem.piece_provider]
    arc_flow = np.zeros(len(problem.arc_need), dtype=np.int64)
    unmet = np.zeros(n, dtype=np.int64)
    total = 0
    arcs_of, pieces_of = group_by(arc_part), group_by(piece_part)
    for part, needs in group_by(need_part).items():
        arcs, pieces = arcs_of.get(part, EMPTY), pieces_of.get(part, EMPTY)
        solution = solve_part(problem, needs, arcs, pieces, m)
        arc_flow[arcs], unmet[needs] = solution.arc_flow, solution.unmet
        total += solution.total_cost
    return FlowSolution(arc_flow, unmet, total)


EMPTY = np.zeros(0, dtype=np.int64)


def connected_parts(n: int, m: int, arc_need: np.ndarray, arc_provider: np.ndarray) -> np.ndarray:
    """Label of the connected part of every node (needs 0..n-1, providers n..n+m-1): min-label propagation."""
    label = np.arange(n + m)
    tails, heads = arc_need, n + arc_provider
    while True:
        low = np.minimum(label[tails], label[heads])
        new = label.copy()
        np.minimum.at(new, tails, low)
        np.minimum.at(new, heads, low)
        new = new[new]  # pointer jumping: follow labels of labels
        if np.array_equal(new, label):
            return label
        label = new


def group_by(labels: np.ndarray) -> dict[int, np.ndarray]:
    if len(labels) == 0:
        return {}
    order = np.argsort(labels, kind="stable")
    keys, starts = np.unique(labels[order], return_index=True)
    return dict(zip(keys.tolist(), np.split(order, starts[1:]), strict=True))


def solve_part(problem: FlowProblem, needs: np.ndarray, arcs: np.ndarray, pieces: np.ndarray, m: int) -> FlowSolution:
    n = len(needs)
    need_at = np.full(len(problem.slots), -1)
    need_at[needs] = np.arange(n)
    providers = np.unique(np.concatenate([problem.arc_provider[arcs], problem.piece_provider[pieces]]))
    provider_at = np.full(m, -1)
    provider_at[providers] = np.arange(len(providers))
    sink = n + len(providers)
    arc_tail, arc_head = need_at[problem.arc_need[arcs]], n + provider_at[problem.arc_provider[arcs]]
    piece_tail = n + provider_at[problem.piece_provider[pieces]]
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([arc_tail, np.arange(n), piece_tail]).astype(np.int64)
    heads = np.concatenate([arc_head, np.full(n + len(pieces), sink)]).astype(np.int64)
    caps = np.concatenate([np.ones(len(arcs)), problem.slots[needs], np.ones(len(pieces))]).astype(np.int64)
    costs = np.concatenate(
        [problem.arc_cost[arcs], problem.unmet_cost[needs], problem.piece_cost[pieces]]
    ).astype(np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n] = problem.slots[needs]
    supplies[sink] = -int(supplies[:n].sum())
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = flow.flows(np.arange(len(tails), dtype=np.int64))
    return FlowSolution(flows[: len(arcs)], flows[len(arcs) : len(arcs) + n], int(flow.optimal_cost()))


# --- from the domain to the network and back -----------------------------------------------------


@dataclass(frozen=True)
class Option:
    """A feasible need × provider pair and its cost terms (integers, lower is better)."""

    need: Need
    provider: Provider
    km: float
    distance: int
    continuity: int  # bonus, subtracted

    @property
    def cost(self) -> int:
        return self.distance - self.continuity


@dataclass(frozen=True)
class RunnerUp:
    provider_id: str
    km: float
    cost: int
    why_not: str


@dataclass(frozen=True)
class Assignment:
    need_id: str
    provider_id: str
    km: float
    terms: dict[str, int]  # distance, load, continuity (bonus), urgency, deficit (unmet penalty avoided)


@dataclass(frozen=True)
class Unmet:
    need_id: str
    missing_slots: int
    code: str
    reason: str
    funnel: dict[str, int] = field(default_factory=dict)


@dataclass
class MatchResult:
    assignments: list[Assignment]
    unmet: list[Unmet]
    runner_up: dict[str, RunnerUp]
    funnel: Funnel
    # (need id, provider id) → the visit's planned time (start .. start + duration), when the caller asked
    visits: dict[tuple[str, str], TimeWindow] = field(default_factory=dict)


Distance = Callable[[Need, Provider], float]
# Statically feasible providers per need (cached by the caller between re-solves), as (provider id, km).
CandidateCache = Mapping[str, Sequence[tuple[str, float]]]


def unmet_penalty(need: Need, weights: Weights) -> tuple[int, int]:
    urgency = weights.unmet_penalty.get(need.urgency, weights.unmet_penalty["normal"])
    deficit = weights.village_deficit.get(need.village, 0.0) + weights.category_deficit.get(need.category, 0.0)
    return urgency, round(weights.deficit_boost * deficit)


def load_units(provider: Provider, weights: Weights) -> int:
    return round(provider.hours_booked / weights.load_unit_hours)


def marginal_load_cost(provider: Provider, unit: int, weights: Weights) -> int:
    return weights.load_cost * (2 * (load_units(provider, weights) + unit) + 1)


def option(need: Need, provider: Provider, km: float, weights: Weights) -> Option:
    continuity = weights.continuity_bonus if provider.id in need.previous_providers else 0
    return Option(need, provider, km, round(weights.km_cost * km), continuity)


def feasible_options(
    need: Need,
    providers: Sequence[Provider],
    km: Distance,
    weights: Weights,
    funnel: Funnel,
) -> list[Option]:
    """The k nearest providers that pass every hard filter; the funnel counts the pairs examined."""
    by_distance = sorted(((km(need, p), p) for p in providers), key=lambda pair: pair[0])
    found: list[Option] = []
    for d, provider in by_distance:
        rejection = first_rejection(Candidate(need, provider, d), RULES)
        funnel.record(rejection)
        if rejection is None:
            found.append(option(need, provider, d, weights))
            if len(found) == weights.k_nearest:
                break
    return found


def cached_options(
    need: Need,
    cached: Sequence[tuple[str, float]],
    providers_by_id: Mapping[str, Provider],
    weights: Weights,
    funnel: Funnel,
) -> list[Option]:
    """Like feasible_options, but the static rules already passed: load, history and Kamilka are rechecked."""
    found: list[Option] = []
    for provider_id, d in sorted(cached, key=lambda pair: pair[1]):
        provider = providers_by_id[provider_id]
        rejection = first_rejection(Candidate(need, provider, d), RECHECKED_RULES)
        funnel.record(rejection)
        if rejection is None:
            found.append(option(need, provider, d, weights))
            if len(found) == weights.k_nearest:
                break
    return found


def provider_capacity(provider: Provider, options: Sequence[Option], weights: Weights) -> int:
    """Units the provider can still take: open-task room, and weekly hours at the shortest candidate need."""
    shortest: dict[Any, float] = {}
    for o in options:  # per calendar week of the visits: each week has its own hours
        week = o.need.week
        shortest[week] = min(shortest.get(week, o.need.duration_hours), o.need.duration_hours)
    hours_room = sum(int((provider.hours_per_week - provider.hours_in_week(week) + 1e-9) // hours)
                     for week, hours in shortest.items())
    task_room = provider.max_open_tasks - provider.open_tasks
    return max(0, min(hours_room, task_room, weights.max_units_per_provider))


def build_problem(
    needs: Sequence[Need],
    options: Sequence[Option],
    provider_index: Mapping[str, int],
    capacity: Mapping[str, int],
    weights: Weights,
    expected: int = 0,
) -> FlowProblem:
    need_index = {n.id: i for i, n in enumerate(needs)}
    offset = weights.continuity_bonus  # keeps every cost ≥ 0; each unit pays it exactly once
    penalties = [sum(unmet_penalty(n, weights)) for n in needs]
    for i in range(len(needs) - expected, len(needs)):  # look-ahead needs count for a share of their penalty
        penalties[i] = round(penalties[i] * weights.expected_weight)
    providers = {o.provider.id: o.provider for o in options}
    piece_provider, piece_cost = [], []
    for pid, provider in providers.items():
        for unit in range(capacity[pid]):
            piece_provider.append(provider_index[pid])
            piece_cost.append(marginal_load_cost(provider, unit, weights))
    return FlowProblem(
        slots=np.array([n.slots for n in needs], dtype=np.int64),
        unmet_cost=np.array(penalties, dtype=np.int64) + offset,
        arc_need=np.array([need_index[o.need.id] for o in options], dtype=np.int64),
        arc_provider=np.array([provider_index[o.provider.id] for o in options], dtype=np.int64),
        arc_cost=np.array([o.cost for o in options], dtype=np.int64) + offset,
        piece_provider=np.array(piece_provider, dtype=np.int64),
        piece_cost=np.array(piece_cost, dtype=np.int64),
    )


def hours_overflow(chosen: Sequence[Option]) -> dict[str, int]:
    """Providers whose chosen needs exceed their weekly hours, with how many of them still fit."""
    per_week: dict[tuple[str, Any], list[Option]] = defaultdict(list)
    for o in chosen:
        per_week[(o.provider.id, o.need.week)].append(o)
    fitting: dict[str, int] = defaultdict(int)
    over: set[str] = set()
    for (pid, week), taken in per_week.items():
        provider = taken[0].provider
        room = provider.hours_per_week - provider.hours_in_week(week) + 1e-9
        fitting[pid] += count_fitting(sorted(o.need.duration_hours for o in taken), room)
        if sum(o.need.duration_hours for o in taken) > room:
            over.add(pid)
    return {pid: fitting[pid] for pid in over}


def count_fitting(durations: Sequence[float], room: float) -> int:
    used, count = 0.0, 0
    for hours in durations:
        if used + hours > room:
            break
        used, count = used + hours, count + 1
    return count


def match(
    needs: Sequence[Need],
    providers: Sequence[Provider],
    weights: Weights | None = None,
    km: Distance = distance_km,
    cached: CandidateCache | None = None,
    expected: Sequence[Need] = (),
) -> MatchResult:
    """Filter, then solve; returns assignments with score terms, runner-ups and explained unmet needs.

    ``expected`` needs (look-ahead: needs a demand forecast says will be reported soon, e.g. last weeks'
    reports of the coming hours) take part in the flow with ``expected_weight`` × their unmet penalty, so a
    provider who is the only one able to serve the coming demand is not spent on a need others can serve;
    they pass the same hard filters, and are never assigned, reported unmet or given a runner-up.
    """
    weights = weights or Weights()
    funnel = Funnel()
    by_id = {p.id: p for p in providers}

    def options_of(need: Need, count: Funnel) -> list[Option]:
        if cached is not None:
            return cached_options(need, cached.get(need.id, ()), by_id, weights, count)
        return feasible_options(need, providers, km, weights, count)

    options_per_need = {need.id: options_of(need, funnel) for need in needs}
    real = {need.id for need in needs}
    ahead = [need for need in expected if need.id not in real]
    options = [o for need in needs for o in options_per_need[need.id]]
    options += [o for need in ahead for o in options_of(need, Funnel())]
    chosen, capacity = solve_with_hours_repair([*needs, *ahead], options, weights, expected=len(ahead))
    chosen = [o for o in chosen if o.need.id in real]
    return MatchResult(
        assignments=[assignment(o, rank, weights) for o, rank in rank_at_provider(chosen)],
        unmet=unmet_needs(needs, options_per_need, chosen, capacity, providers, km),
        runner_up=runner_ups(needs, options_per_need, chosen, capacity, weights),
        funnel=funnel,
    )


def solve_with_hours_repair(
    needs: Sequence[Need], options: Sequence[Option], weights: Weights, rounds: int = 5, expected: int = 0
) -> tuple[list[Option], dict[str, int]]:
    """Solve, then make the plan fit each provider's week and day: hours, and visits that do not overlap.

    Flow units count tasks, not hours or clock time. The hours are repaired by tighter capacity; the times
    by `schedule`: a pair that cannot get its own time beside the provider's other visits of this plan is
    taken out of the network and the plan is solved again (its need may go to someone else), up to
    ``rounds`` times; what still clashes then is dropped (the need is reported unmet).

    The last ``expected`` needs are look-ahead needs: their unmet penalty is scaled by ``expected_weight``,
    and in the time repair they give way to the real needs."""
    ahead = frozenset(n.id for n in needs[len(needs) - expected:]) if expected else frozenset()
    current = list(options)
    chosen: list[Option] = []
    # a provider whose every pair was taken out for want of time has no room left: capacity 0
    capacity: dict[str, int] = dict.fromkeys((o.provider.id for o in options), 0)
    for _ in range(rounds):
        chosen, room = _solve_within_hours(needs, current, weights, rounds, expected)
        capacity = {**dict.fromkeys(capacity, 0), **room}
        clashes = schedule(chosen, ahead).clashes
        if not clashes:
            return chosen, capacity
        dropped = {(o.need.id, o.provider.id) for o in clashes}
        current = [o for o in current if (o.need.id, o.provider.id) not in dropped]
    clashing = {(o.need.id, o.provider.id) for o in schedule(chosen, ahead).clashes}
    return [o for o in chosen if (o.need.id, o.provider.id) not in clashing], capacity


def _solve_within_hours(
    needs: Sequence[Need], options: Sequence[Option], weights: Weights, rounds: int, expected: int
) -> tuple[list[Option], dict[str, int]]:
    """Flow units count tasks, not hours: re-solve with tighter capacity until the hours fit."""
    per_provider: dict[str, list[Option]] = defaultdict(list)
    for o in options:
        per_provider[o.provider.id].append(o)
    capacity = {pid: provider_capacity(opts[0].provider, opts, weights) for pid, opts in per_provider.items()}
    provider_index = {pid: i for i, pid in enumerate(per_provider)}
    chosen: list[Option] = []
    for _ in range(rounds):
        if not options:
            break
        solution = solve_flow(build_problem(needs, options, provider_index, capacity, weights, expected))
        chosen = [o for o, f in zip(options, solution.arc_flow, strict=True) if f > 0]
        overflow = hours_overflow(chosen)
        if not overflow:
            return chosen, capacity
        capacity.update(overflow)
    return drop_overflow(chosen), capacity


# --- visit times: no provider gets two visits at once ----------------------------------------------


def duration(need: Need) -> timedelta:
    return timedelta(seconds=round(need.duration_hours * 3600))


def without(free: Iterable[TimeWindow], taken: Iterable[TimeWindow]) -> list[TimeWindow]:
    """The free windows with the taken times cut out."""
    windows = [w for w in free if w.end > w.start]
    for busy in taken:
        kept = []
        for w in windows:
            if busy.end <= w.start or busy.start >= w.end:
                kept.append(w)
                continue
            if w.start < busy.start:
                kept.append(TimeWindow(w.start, busy.start))
            if busy.end < w.end:
                kept.append(TimeWindow(busy.end, w.end))
        windows = kept
    return windows


def earliest_visit(need: Need, free: Iterable[TimeWindow]) -> TimeWindow | None:
    """The earliest start at which the whole visit fits inside one of the need's windows and one free window."""
    length = duration(need)
    best: datetime | None = None
    for window in need.windows:
        for f in free:
            start = max(window.start, f.start)
            if start + length <= min(window.end, f.end) and (best is None or start < best):
                best = start
    return None if best is None else TimeWindow(best, best + length)


def fits(visit: TimeWindow, need: Need, free: Iterable[TimeWindow]) -> bool:
    """The visit lies inside one of the need's windows and inside the provider's free time."""
    return (any(w.start <= visit.start and visit.end <= w.end for w in need.windows)
            and any(f.start <= visit.start and visit.end <= f.end for f in free))


@dataclass(frozen=True)
class Schedule:
    visits: dict[tuple[str, str], TimeWindow]  # (need id, provider id) → planned time
    clashes: list[Option]  # chosen pairs that found no time beside the provider's other visits


def schedule(chosen: Sequence[Option], last: frozenset[str] = frozenset()) -> Schedule:
    """Give each provider's chosen needs times that do not overlap, inside their availability.

    Per provider, the needs whose windows close first are placed first, each at its earliest free start
    (needs in ``last`` — the look-ahead — after every real one). Deterministic: the same plan gets the
    same times, so the service stores what the repair checked."""
    per_provider: dict[str, list[Option]] = defaultdict(list)
    for o in chosen:
        per_provider[o.provider.id].append(o)
    visits: dict[tuple[str, str], TimeWindow] = {}
    clashes: list[Option] = []
    for pid, taken in per_provider.items():
        free = list(taken[0].provider.availability)
        for o in sorted(taken, key=lambda o: (o.need.id in last, max(w.end for w in o.need.windows),
                                              min(w.start for w in o.need.windows), o.need.id)):
            visit = earliest_visit(o.need, free)
            if visit is None:
                clashes.append(o)
                continue
            visits[(o.need.id, pid)] = visit
            free = without(free, [visit])
    return Schedule(visits, clashes)


def drop_overflow(chosen: Sequence[Option]) -> list[Option]:
    kept: list[Option] = []
    used: dict[tuple[str, Any], float] = defaultdict(float)
    for o in sorted(chosen, key=lambda o: o.need.duration_hours):
        key = (o.provider.id, o.need.week)
        if used[key] + o.need.duration_hours <= o.provider.hours_left(o.need) + 1e-9:
            used[key] += o.need.duration_hours
            kept.append(o)
    return kept


def rank_at_provider(chosen: Sequence[Option]) -> list[tuple[Option, int]]:
    """Order each provider's units by cost so the cheapest assignment carries the cheapest load piece."""
    seen: dict[str, int] = defaultdict(int)
    ranked = []
    for o in sorted(chosen, key=lambda o: (o.provider.id, o.cost, o.need.id)):
        ranked.append((o, seen[o.provider.id]))
        seen[o.provider.id] += 1
    return ranked


def assignment(o: Option, rank: int, weights: Weights) -> Assignment:
    urgency, deficit = unmet_penalty(o.need, weights)
    terms = {
        "distance": o.distance,
        "load": marginal_load_cost(o.provider, rank, weights),
        "continuity": o.continuity,
        "urgency": urgency,
        "deficit": deficit,
    }
    return Assignment(o.need.id, o.provider.id, round(o.km, 2), terms)


def runner_ups(
    needs: Sequence[Need],
    options_per_need: Mapping[str, Sequence[Option]],
    chosen: Sequence[Option],
    capacity: Mapping[str, int],
    weights: Weights,
) -> dict[str, RunnerUp]:
    """Per need, the cheapest feasible provider not assigned to it, priced at its next unit of load."""
    taken = {(o.need.id, o.provider.id) for o in chosen}
    units_used: dict[str, int] = defaultdict(int)
    for o in chosen:
        units_used[o.provider.id] += 1

    def price(o: Option) -> int:
        return o.cost + marginal_load_cost(o.provider, units_used[o.provider.id], weights)

    result = {}
    for need in needs:
        spare = [o for o in options_per_need[need.id] if (need.id, o.provider.id) not in taken]
        if not spare:
            continue
        best = min(spare, key=lambda o: (price(o), o.km))
        full = units_used[best.provider.id] >= capacity.get(best.provider.id, 0)
        why = "zajęty innymi potrzebami" if full else "wyższy łączny koszt (dojazd, obciążenie)"
        result[need.id] = RunnerUp(best.provider.id, round(best.km, 2), price(best), why)
    return result


def unmet_needs(
    needs: Sequence[Need],
    options_per_need: Mapping[str, Sequence[Option]],
    chosen: Sequence[Option],
    capacity: Mapping[str, int],
    providers: Sequence[Provider],
    km: Distance,
) -> list[Unmet]:
    served: dict[str, int] = defaultdict(int)
    units_used: dict[str, int] = defaultdict(int)
    for o in chosen:
        served[o.need.id] += 1
        units_used[o.provider.id] += 1
    result = []
    for need in needs:
        missing = need.slots - served[need.id]
        if missing <= 0:
            continue
        options = options_per_need[need.id]
        if len(options) == 0:
            result.append(no_feasible_provider(need, missing, providers, km))
            continue
        free = [o for o in options if units_used[o.provider.id] < capacity[o.provider.id]]
        code = CAPACITY_TAKEN if not free else TOO_COSTLY
        result.append(Unmet(need.id, missing, code, UNMET_REASONS_PL[code]))
    return result


def no_feasible_provider(need: Need, missing: int, providers: Sequence[Provider], km: Distance) -> Unmet:
    """Explain with the full funnel of this one need, so every rule's count is exact."""
    own = Funnel()
    for provider in providers:
        own.record(first_rejection(Candidate(need, provider, km(need, provider))))
    counts = {rule: n for rule, n in own.as_rows() if n}
    return Unmet(need.id, missing, NO_FEASIBLE_PROVIDER, own.explain_pl(), counts)
