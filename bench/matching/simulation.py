"""Discrete-event simulation of one week of offers, answers and timeouts, in simulated hours.

A need arrives, a policy picks providers, each pick becomes an offer (one notification). The provider
answers after a delay (yes or no, drawn in advance in the World) or not at all, and the offer times out.
A need is covered when all of its slots are accepted before its deadline; otherwise it expires.
Offers hold the provider's hours and a task slot until they are answered.

Every offer carries a visit time, as the service's matches do: a start inside one of the need's windows
and inside the provider's free time, no earlier than the offer, for the need's duration. The offer reserves
that time (an accepted visit keeps it), so no policy can give one provider two visits at once: the
simulation, not each policy, enforces it (`Simulation.offer`), and a provider whose free time has no room
for the whole visit is not a candidate. Policies built on the solver pass the times it planned.
"""
from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from bench.matching.world import World, at
from services.matching.rules import Candidate, Need, Provider, TimeWindow, open_tasks_left, weekly_hours_left
from services.matching.solver import (
    Weights,
    earliest_visit,
    fits,
    marginal_load_cost,
    match,
    option,
    schedule,
    without,
)

OFFER_TIMEOUT_HOURS = 3.0


@dataclass
class NeedState:
    index: int
    arrived: bool = False
    closed: bool = False  # covered or expired
    accepted: list[int] = field(default_factory=list)
    pending: set[int] = field(default_factory=set)
    refused: set[int] = field(default_factory=set)  # declined or timed out
    covered_at: float | None = None

    def open_slots(self, need: Need) -> int:
        return need.slots - len(self.accepted) - len(self.pending)


@dataclass
class ProviderState:
    hours: dict[int, float] = field(default_factory=lambda: defaultdict(float))  # per week: accepted + held
    open_tasks: int = 0
    delivered_hours: float = 0.0
    delivered_km: float = 0.0
    visits: dict[int, TimeWindow] = field(default_factory=dict)  # need → the time its offer or visit holds


class Simulation:
    def __init__(self, world: World, policy: Policy):
        self.world = world
        self.policy = policy
        self.needs = [NeedState(i) for i in range(len(world.arrivals))]
        self.providers = [ProviderState() for _ in world.providers]
        self.provider_index = {p.id: j for j, p in enumerate(world.providers)}
        self.events: list[tuple[float, int, str, tuple]] = []
        self.sequence = itertools.count()
        self.notifications = 0
        self.now = 0.0
        for i, arrival in enumerate(world.arrivals):
            self.schedule(arrival.time, "arrive", (i,))
            self.schedule(arrival.deadline, "expire", (i,))

    # --- event loop ---

    def schedule(self, time: float, kind: str, payload: tuple) -> None:
        heapq.heappush(self.events, (time, next(self.sequence), kind, payload))

    def run(self) -> Simulation:
        while self.events:
            self.now, _, kind, payload = heapq.heappop(self.events)
            getattr(self, f"on_{kind}")(*payload)
        return self

    def on_arrive(self, i: int) -> None:
        self.needs[i].arrived = True
        self.policy.arrived(self, i)
        self.policy.triggered(self, urgent=self.world.arrivals[i].need.urgency == "urgent")

    def on_due(self, i: int) -> None:
        if not self.needs[i].closed:
            self.policy.triggered(self, urgent=False)

    def on_expire(self, i: int) -> None:
        state = self.needs[i]
        if state.closed:
            return
        state.closed = True
        for j in list(state.pending):
            self.withdraw(i, j)

    def on_answer(self, i: int, j: int) -> None:
        state = self.needs[i]
        if j not in state.pending:
            return  # withdrawn meanwhile
        if not self.world.accepts[i, j] or state.closed or len(state.accepted) >= self.need(i).slots:
            self.refuse(i, j)
            return
        state.pending.discard(j)
        state.accepted.append(j)
        self.providers[j].delivered_hours += self.need(i).duration_hours
        self.providers[j].delivered_km += float(self.world.km[i, j])
        self.schedule(max(self.world.arrivals[i].release, self.now), "release", (j,))
        if len(state.accepted) == self.need(i).slots:
            state.closed, state.covered_at = True, self.now
            for other in list(state.pending):
                self.withdraw(i, other)  # parallel offers for an urgent need that are no longer needed

    def on_timeout(self, i: int, j: int) -> None:
        if j in self.needs[i].pending:
            self.refuse(i, j)

    def on_release(self, j: int) -> None:
        self.providers[j].open_tasks -= 1
        self.policy.triggered(self, urgent=False)

    def on_solve(self) -> None:
        self.policy.solve_now(self)

    # --- offers ---

    def offer(self, i: int, j: int, visit: TimeWindow | None = None) -> None:
        """Offer need `i` to provider `j` for `visit` (default: the earliest time that fits); the time is
        reserved until the offer is declined, times out or is withdrawn. Every policy offers through here."""
        need = self.need(i)
        visit = visit or self.visit_for(i, j)
        if visit is None or not fits(visit, need, self.free(j)):
            raise ValueError(f"{self.policy.name}: {self.world.providers[j].id} has no free time for {need.id} "
                             f"at {visit}")
        self.providers[j].visits[i] = visit
        self.needs[i].pending.add(j)
        self.providers[j].hours[self.week(i)] += need.duration_hours
        self.providers[j].open_tasks += 1
        self.notifications += 1
        if self.world.answers_in_time[i, j] and self.world.answer_delay[i, j] < OFFER_TIMEOUT_HOURS:
            self.schedule(self.now + self.world.answer_delay[i, j], "answer", (i, j))
        else:
            self.schedule(self.now + OFFER_TIMEOUT_HOURS, "timeout", (i, j))

    def release_hold(self, i: int, j: int) -> None:
        self.needs[i].pending.discard(j)
        del self.providers[j].visits[i]
        self.providers[j].hours[self.week(i)] -= self.need(i).duration_hours
        self.providers[j].open_tasks -= 1

    def refuse(self, i: int, j: int) -> None:
        self.release_hold(i, j)
        self.needs[i].refused.add(j)
        self.policy.triggered(self, urgent=self.need(i).urgency == "urgent")

    def withdraw(self, i: int, j: int) -> None:
        self.release_hold(i, j)
        self.policy.triggered(self, urgent=False)

    # --- views for policies ---

    def need(self, i: int) -> Need:
        return self.world.arrivals[i].need

    def waiting(self) -> list[int]:
        """Arrived, not closed needs with slots that no offer covers yet, oldest first."""
        return [s.index for s in self.needs if s.arrived and not s.closed and s.open_slots(self.need(s.index)) > 0]

    def week(self, i: int) -> int:
        return self.world.arrivals[i].week

    def free(self, j: int) -> list[TimeWindow]:
        """Provider `j`'s free time from now on: availability without the times their offers and visits hold."""
        now = at(self.now)
        return [TimeWindow(max(w.start, now), w.end) for w in without(self.world.providers[j].availability,
                                                                       self.providers[j].visits.values())
                if w.end > now]

    def visit_for(self, i: int, j: int) -> TimeWindow | None:
        """The earliest time from now on inside need `i`'s windows at which provider `j` is free for all of it."""
        return earliest_visit(self.need(i), self.free(j))

    def provider_now(self, j: int, week: int) -> Provider:
        """The provider as the matcher sees it for a visit in `week`: hours booked that week, open tasks, and
        free time with the reserved visits taken out (as the service's `load_world` does)."""
        state = self.providers[j]
        return replace(self.world.providers[j], hours_booked=state.hours[week], open_tasks=state.open_tasks,
                       availability=tuple(self.free(j)))

    def excluded(self, i: int) -> set[int]:
        state = self.needs[i]
        return state.refused | state.pending | set(state.accepted)

    def candidates(self, i: int) -> list[tuple[int, float]]:
        """Statically feasible providers with room now (hours, task slots and free time for the whole visit),
        not yet asked for this need, nearest first."""
        excluded = self.excluded(i)
        need = self.need(i)
        result = []
        for provider_id, km in self.world.feasible[i]:
            j = self.provider_index[provider_id]
            if j in excluded:
                continue
            pair = Candidate(need, self.provider_now(j, self.week(i)), km)
            if weekly_hours_left(pair).passed and open_tasks_left(pair).passed and self.visit_for(i, j):
                result.append((j, km))
        return result


# --- policies ---------------------------------------------------------------------------------------


class Policy:
    name = "policy"

    def arrived(self, sim: Simulation, i: int) -> None:
        """A new need was reported (before `triggered`)."""

    def triggered(self, sim: Simulation, urgent: bool) -> None:
        self.solve_now(sim)

    def solve_now(self, sim: Simulation) -> None:
        raise NotImplementedError


class GreedyNearest(Policy):
    """Offer each waiting slot, oldest need first, to the nearest feasible provider with room."""

    name = "greedy-nearest"

    def score(self, sim: Simulation, i: int, j: int, km: float) -> float:
        return km

    def solve_now(self, sim: Simulation) -> None:
        for i in sim.waiting():
            for _ in range(sim.needs[i].open_slots(sim.need(i))):
                options = sim.candidates(i)
                if not options:
                    break
                j, _ = min(options, key=lambda o: (self.score(sim, i, *o), o[0]))
                sim.offer(i, j)


class GreedyScore(GreedyNearest):
    """Like greedy-nearest, but the pick minimises distance cost plus the convex load cost."""

    name = "greedy-score"

    def __init__(self, weights: Weights):
        self.weights = weights

    def score(self, sim: Simulation, i: int, j: int, km: float) -> float:
        return self.weights.km_cost * km + marginal_load_cost(sim.provider_now(j, sim.week(i)), 0, self.weights)


class FlowPolicy(Policy):
    """Solve a min-cost flow over every waiting slot; offer each assignment."""

    def __init__(self, name: str, weights: Weights, debounce_hours: float = 0.0, urgent_parallel: int = 1,
                 use_deficit: bool = False, hold_hours: float | None = None, plan_held: bool = False,
                 forecast_hours: float = 0.0, history_weeks: int = 1, forecast_max_feasible: int | None = None,
                 forecast_urgencies: tuple[str, ...] = ("normal", "high", "urgent"), hold_min_feasible: int = 0,
                 held_parallel: int = 1):
        self.hold_min_feasible = hold_min_feasible  # hold only needs with at least this many feasible providers
        self.held_parallel = held_parallel  # providers asked at once per slot of a held need once it is due
        self.forecast_urgencies = forecast_urgencies
        self.name = name
        self.forecast_hours = forecast_hours  # expected needs of the next hours take part in the solve
        self.history_weeks = history_weeks  # past weeks the forecast replays (each at 1/history_weeks)
        self.forecast_max_feasible = forecast_max_feasible  # only expected needs few providers can serve
        self._forecast: tuple[int, list] | None = None
        self.hold_hours = hold_hours  # offer non-urgent needs only from this long before the visit
        self.plan_held = plan_held  # held needs still take part in the solve (their picks are not offered)
        self.weights = weights
        self.debounce_hours = debounce_hours
        self.urgent_parallel = urgent_parallel
        self.use_deficit = use_deficit
        self.solve_pending = False

    def arrived(self, sim: Simulation, i: int) -> None:
        if not self.due(sim, i):
            sim.schedule(self.offer_from(sim, i), "due", (i,))

    def visit(self, sim: Simulation, i: int) -> float:
        return sim.world.arrivals[i].start

    def offer_from(self, sim: Simulation, i: int) -> float:
        """When need `i` may be offered: at once, or `hold_hours` before its visit if it is of the kind held."""
        need = sim.need(i)
        if self.hold_hours is None or need.urgency == "urgent" or len(sim.world.feasible[i]) < self.hold_min_feasible:
            return float("-inf")
        return self.visit(sim, i) - self.hold_hours

    def due(self, sim: Simulation, i: int) -> bool:
        return sim.now >= self.offer_from(sim, i) - 1e-9

    def was_held(self, sim: Simulation, i: int) -> bool:
        return sim.world.arrivals[i].time < self.offer_from(sim, i) - 1e-9

    def triggered(self, sim: Simulation, urgent: bool) -> None:
        if urgent or self.debounce_hours == 0:
            self.solve_now(sim)
        elif not self.solve_pending:
            self.solve_pending = True
            sim.schedule(sim.now + self.debounce_hours, "solve", ())

    def solve_now(self, sim: Simulation) -> None:
        self.solve_pending = False
        # The weekly hour limit is per calendar week and a Provider carries one week's bookings, so the needs
        # of each visit week are solved in turn (earliest first); open tasks carry over through the offers.
        for week in sorted({sim.week(i) for i in sim.waiting()}):
            options = {i: sim.candidates(i) for i in sim.waiting() if sim.week(i) == week}
            batch = {i: found for i, found in options.items()  # the rest wait for capacity
                     if found and (self.plan_held or self.due(sim, i))}
            if batch:
                self.solve_batch(sim, batch, week)

    def solve_batch(self, sim: Simulation, options: dict[int, list[tuple[int, float]]], week: int) -> None:
        waiting = list(options)
        needs = [self.open_part(sim, i) for i in waiting]
        cache = {sim.need(i).id: [(sim.world.providers[j].id, km) for j, km in options[i]] for i in waiting}
        expected = []
        for need, feasible in self.forecast(sim, week):
            expected.append(need)
            cache[need.id] = feasible
        providers = [sim.provider_now(j, week) for j in range(len(sim.world.providers))]
        weights = self.weights_now(sim)
        result = match(needs, providers, weights, cached=cache, expected=expected)
        index = {sim.need(i).id: i for i in waiting}
        visits = planned_visits(result.assignments, needs, providers, weights)
        for a in result.assignments:
            if self.due(sim, index[a.need_id]):  # held needs are planned, not offered yet
                i, j = index[a.need_id], sim.provider_index[a.provider_id]
                visit = visits.get((a.need_id, a.provider_id)) or sim.visit_for(i, j)
                if visit is not None:
                    sim.offer(i, j, visit)

    def forecast(self, sim: Simulation, week: int) -> list[tuple[Need, list[tuple[str, float]]]]:
        """Needs expected in the next `forecast_hours`: the reports of the same hours in `history_weeks` past
        weeks (the history a service keeps; here other weeks drawn by the same generator), with the providers
        of this world that would be statically feasible for them. Never offered: `match(expected=...)`."""
        if not self.forecast_hours:
            return []
        if self._forecast is None or self._forecast[0] != id(sim.world):
            from bench.matching.world import history_week
            self._forecast = (id(sim.world), [row for week in range(1, self.history_weeks + 1)
                                              for row in history_week(sim.world, week)])
        return [(need, feasible) for time, need_week, need, feasible in self._forecast[1]
                if sim.now < time <= sim.now + self.forecast_hours and need_week == week
                and need.urgency in self.forecast_urgencies
                and (self.forecast_max_feasible is None or len(feasible) <= self.forecast_max_feasible)]

    def open_part(self, sim: Simulation, i: int) -> Need:
        need = sim.need(i)
        slots = need.slots - len(sim.needs[i].accepted)  # pending offers count as a parallel try
        if need.urgency == "urgent":
            slots *= self.urgent_parallel
        elif self.held_parallel > 1 and self.was_held(sim, i) and self.due(sim, i):
            slots *= self.held_parallel
        return replace(need, slots=max(0, slots - len(sim.needs[i].pending)))

    def weights_now(self, sim: Simulation) -> Weights:
        weights = replace(self.weights, expected_weight=self.weights.expected_weight / self.history_weeks)
        if not self.use_deficit:
            return weights
        villages, categories = deficits(sim)
        return replace(weights, village_deficit=villages, category_deficit=categories)


def planned_visits(assignments, needs: list[Need], providers: list[Provider],
                   weights: Weights) -> dict[tuple[str, str], TimeWindow]:
    """The visit times the solver's repair checked for its plan (`solver.schedule`, deterministic: the
    engine stores these as the agreed times). `match` does not return them, so they are recomputed from the
    assignments; look-ahead needs are placed after every real one, so leaving them out changes no real time."""
    by_need = {n.id: n for n in needs}
    by_provider = {p.id: p for p in providers}
    chosen = [option(by_need[a.need_id], by_provider[a.provider_id], a.km, weights) for a in assignments]
    return schedule(chosen).visits


def deficits(sim: Simulation) -> tuple[dict[str, float], dict[str, float]]:
    """How far each village's and category's expiry rate so far lags the whole gmina's."""
    done = [s for s in sim.needs if s.closed]
    if len(done) < 10:
        return {}, {}
    expired = [s for s in done if s.covered_at is None]
    overall = len(expired) / len(done)

    def lag(key) -> dict[str, float]:
        total, lost = Counter(key(s) for s in done), Counter(key(s) for s in expired)
        return {k: min(1.0, max(0.0, lost[k] / n - overall)) for k, n in total.items() if n >= 3}

    return lag(lambda s: sim.need(s.index).village), lag(lambda s: sim.need(s.index).category)


# --- hindsight ------------------------------------------------------------------------------------------


def hindsight_covered(world: World, time_limit_s: float = 20.0) -> tuple[set[int], float]:
    """All arrivals and all answers known in advance: the most needs that can be fully covered.

    An integer programme (CP-SAT) over the pairs whose provider would say yes in time, with each
    provider's hours per week and open tasks: an accepted task is open at least from the need's deadline
    (it must be accepted before) to its release, so at no such moment may a provider hold more than
    `max_open_tasks` of them; each pair gets a visit time, and no provider two visits at once. Offer order
    and answer times are relaxed (a visit may start before the moment a policy could have offered it), so
    no policy can cover more.
    Returns the covered needs and the proven upper bound on their number.
    """
    plan, _, bound = hindsight_plan(world, time_limit_s)
    return set(plan), bound


def hindsight_plan(world: World, time_limit_s: float = 20.0,
                   quick_hours: float | None = None) -> tuple[dict[int, list[int]], int, float]:
    """The hindsight programme of `hindsight_covered`; returns its plan (covered need → the providers
    who take it), the plan's number of covered needs and the proven upper bound on that number.

    Like every policy, the plan gives each pair a visit time inside the need's windows and the provider's
    availability, and no provider two visits at once (`hindsight_visits` returns those times).

    With `quick_hours`, a need may also be covered *quickly*: all its slots accepted within `quick_hours`
    of its report, so its tasks are open at least from then (not only from its deadline) to its release.
    More than half of the covered needs must be quick, so the plan's median time to match is within
    `quick_hours`.
    """
    plan, value, bound, _ = hindsight_visits(world, time_limit_s, quick_hours)
    return plan, value, bound


def hindsight_visits(world: World, time_limit_s: float = 20.0, quick_hours: float | None = None
                     ) -> tuple[dict[int, list[int]], int, float, dict[tuple[int, int], TimeWindow]]:
    """`hindsight_plan`, and the visit time of each (need, provider) pair of the plan.

    The programme is solved twice, each within `time_limit_s`: first without visit times (a relaxation,
    which CP-SAT usually proves optimal quickly), then with them, capped at the relaxation's proven bound so
    that a plan reaching it is proven optimal at once. The bound returned is the smaller of the two proven
    bounds (both are valid: the relaxation can only cover more)."""
    _, _, relaxed, _ = _hindsight(world, time_limit_s, quick_hours, with_times=False)
    plan, value, bound, times = _hindsight(world, time_limit_s, quick_hours, with_times=True, cap=int(relaxed + 1e-6))
    return plan, value, min(bound, relaxed), times


def _hindsight(world: World, time_limit_s: float, quick_hours: float | None, with_times: bool,
               cap: int | None = None) -> tuple[dict[int, list[int]], int, float, dict[tuple[int, int], TimeWindow]]:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    taken: dict[tuple[int, int], list] = defaultdict(list)
    held: dict[int, list] = defaultdict(list)  # per provider: (x, from, to) of the shortest possible hold
    covered, quick = [], []
    choices: dict[tuple[int, int], list] = defaultdict(list)
    for i, arrival in enumerate(world.arrivals):
        need = arrival.need
        pairs = [int(pid.split("-")[1]) for pid, _ in world.feasible[i] if accepts_in_time(world, i, pid)]
        kinds = [(arrival.deadline, False)]
        if quick_hours is not None:
            kinds.append((min(arrival.time + quick_hours, arrival.deadline), True))
        for opens, is_quick in kinds:
            y = model.new_bool_var(f"covered_{i}_{int(is_quick)}")
            covered.append(y)
            if is_quick:
                quick.append(y)
            xs = [model.new_bool_var(f"x_{i}_{j}_{int(is_quick)}") for j in pairs]
            model.add(sum(xs) == need.slots * y)
            for j, x in zip(pairs, xs, strict=True):
                choices[(i, j)].append(x)
                taken[(j, arrival.week)].append((x, need.duration_hours))
                held[j].append((x, opens, arrival.release))
        if quick_hours is not None:
            model.add(sum(covered[-2:]) <= 1)
    intervals: dict[int, list] = defaultdict(list)  # per provider: the optional visit of each pair
    starts: dict[tuple[int, int], cp_model.IntVar] = {}
    for (i, j), xs in choices.items():
        if len(xs) > 1:
            model.add(sum(xs) <= 1)
        if not with_times:
            continue
        use = xs[0] if len(xs) == 1 else model.new_bool_var(f"use_{i}_{j}")
        if len(xs) > 1:
            model.add(use == sum(xs))
        length = visit_minutes(world.arrivals[i].need.duration_hours)
        ranges = start_ranges(world.arrivals[i].need, world.providers[j], length)
        if not ranges:  # statically feasible pairs always have one; kept safe all the same
            model.add(use == 0)
            continue
        start = model.new_int_var_from_domain(cp_model.Domain.from_intervals(ranges), f"start_{i}_{j}")
        starts[(i, j)] = start
        intervals[j].append(model.new_optional_fixed_size_interval_var(start, length, use, f"visit_{i}_{j}"))
    for visits in intervals.values():
        if len(visits) > 1:
            model.add_no_overlap(visits)
    for (j, _), uses in taken.items():
        model.add(sum(round(h * 10) * x for x, h in uses) <= round(world.providers[j].hours_per_week * 10))
    for j, holds in held.items():
        limit = world.providers[j].max_open_tasks
        for moment in sorted({start for _, start, _ in holds}):
            open_then = [x for x, start, end in holds if start <= moment < end]
            if len(open_then) > limit:
                model.add(sum(open_then) <= limit)
    if quick_hours is not None:
        model.add(2 * sum(quick) >= sum(covered) + 1)
    if cap is not None:
        model.add(sum(covered) <= cap)
    model.maximize(sum(covered))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    solver.solve(model)
    plan: dict[int, list[int]] = defaultdict(list)
    times: dict[tuple[int, int], TimeWindow] = {}
    for (i, j), xs in choices.items():
        if any(solver.value(x) for x in xs):
            plan[i].append(j)
            if (i, j) not in starts:
                continue
            begin = solver.value(starts[(i, j)])
            times[(i, j)] = TimeWindow(at(begin / 60), at((begin + visit_minutes(world.arrivals[i].need.duration_hours)) / 60))
    return dict(plan), round(solver.objective_value), solver.best_objective_bound, times


def visit_minutes(hours: float) -> int:
    return round(hours * 60)


def minutes(when) -> int:
    """Minutes since the simulated week's start (`world.at` of 0)."""
    return round((when - at(0)).total_seconds() / 60)


def start_ranges(need: Need, provider: Provider, length: int) -> list[list[int]]:
    """The visit starts, in minutes, that put a visit of `length` minutes inside one of the need's windows and
    inside one of the provider's free windows (as [first, last] ranges, sorted and disjoint)."""
    ranges = []
    for w in need.windows:
        for f in provider.availability:
            first, last = max(minutes(w.start), minutes(f.start)), min(minutes(w.end), minutes(f.end)) - length
            if first <= last:
                ranges.append([first, last])
    merged: list[list[int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def accepts_in_time(world: World, i: int, provider_id: str) -> bool:
    return says_yes_in_time(world, i, int(provider_id.split("-")[1]))


def says_yes_in_time(world: World, i: int, j: int) -> bool:
    """Would provider `j` (its index) say yes to need `i`, before the offer times out?"""
    return bool(world.accepts[i, j] and world.answers_in_time[i, j] and world.answer_delay[i, j] < OFFER_TIMEOUT_HOURS)


# --- metrics --------------------------------------------------------------------------------------------


def gini(values: np.ndarray) -> float:
    if len(values) == 0 or values.sum() == 0:
        return 0.0
    v = np.sort(values)
    n = len(v)
    return float((2 * np.arange(1, n + 1) - n - 1).dot(v) / (n * v.sum()))


@dataclass
class Outcome:
    metrics: dict[str, float]
    unmet_by_village: dict[str, tuple[int, int]]  # village → (unmet, total)
    unmet_by_category: dict[str, tuple[int, int]]


def share(part: float, whole: float) -> float:
    return part / whole if whole else float("nan")


def outcome(sim: Simulation) -> Outcome:
    world = sim.world
    arrivals = world.arrivals
    covered = [s.covered_at is not None for s in sim.needs]
    feasible = [bool(f) for f in world.feasible]
    urgent = [a.need.urgency == "urgent" for a in arrivals]
    waits = [s.covered_at - a.time for s, a in zip(sim.needs, arrivals, strict=True) if s.covered_at is not None]
    eligible = sorted({sim.provider_index[pid] for f in world.feasible for pid, _ in f})
    hours = np.array([sim.providers[j].delivered_hours for j in eligible])
    assignments = sum(len(s.accepted) for s in sim.needs)
    km = sum(p.delivered_km for p in sim.providers)
    metrics = {
        "coverage": share(sum(covered), len(covered)),
        "coverage_feasible": share(sum(c for c, f in zip(covered, feasible, strict=True) if f), sum(feasible)),
        "urgent_coverage": share(sum(c for c, u in zip(covered, urgent, strict=True) if u), sum(urgent)),
        "median_hours_to_match": float(np.median(waits)) if waits else float("nan"),
        "km_per_assignment": share(km, assignments),
        "km_total": km,
        "load_gini": gini(hours),
        "active_share": share(int((hours > 0).sum()), len(eligible)),
        "notifications_per_need": share(sim.notifications, len(arrivals)),
    }
    return Outcome(metrics, tally(sim, lambda n: n.village), tally(sim, lambda n: n.category))


def tally(sim: Simulation, key) -> dict[str, tuple[int, int]]:
    total: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for state, arrival in zip(sim.needs, sim.world.arrivals, strict=True):
        cell = total[key(arrival.need)]
        cell[0] += state.covered_at is None
        cell[1] += 1
    return {k: (v[0], v[1]) for k, v in total.items()}


def hindsight_outcome(world: World) -> dict[str, float]:
    covered, bound = hindsight_covered(world)
    n = len(world.arrivals)
    feasible = [i for i in range(n) if world.feasible[i]]
    urgent = [i for i in range(n) if world.arrivals[i].need.urgency == "urgent"]
    return {
        "coverage": share(int(bound), n),
        "coverage_feasible": share(len(covered & set(feasible)), len(feasible)),
        "urgent_coverage": share(len(covered & set(urgent)), len(urgent)),
    }
