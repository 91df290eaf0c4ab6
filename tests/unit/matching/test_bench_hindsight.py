"""The benchmark's hindsight programme and the ceiling diagnostics on one simulated week (scarce, seed 0)."""
from __future__ import annotations

from collections import defaultdict

import pytest

from bench.matching.ceiling import FollowBound, KnowsAnswers
from bench.matching.run import policies
from bench.matching.simulation import (
    FlowPolicy,
    Simulation,
    hindsight_covered,
    hindsight_plan,
    hindsight_visits,
    outcome,
    says_yes_in_time,
)
from bench.matching.world import SCENARIOS, make_world
from services.matching.solver import Weights

pytestmark = pytest.mark.bench  # the benchmark's own simulation: minutes of CPU, not `make test-fast`


@pytest.fixture(scope="module")
def world():
    return make_world(SCENARIOS["scarce"], 0)


@pytest.fixture(scope="module")
def plan(world):
    return hindsight_visits(world, time_limit_s=20)  # plan, its size, the bound, the visit times


def test_plan_keeps_every_provider_limit(world, plan):
    chosen, value, bound, _ = plan
    assert value == len(chosen) <= bound
    hours = defaultdict(float)
    for i, providers in chosen.items():
        arrival = world.arrivals[i]
        assert len(providers) == arrival.need.slots
        for j in providers:
            assert says_yes_in_time(world, i, j)
            assert world.providers[j].id in {pid for pid, _ in world.feasible[i]}
            hours[(j, arrival.week)] += arrival.need.duration_hours
    for (j, _), used in hours.items():
        assert used <= world.providers[j].hours_per_week + 1e-9
    for j in {j for providers in chosen.values() for j in providers}:
        holds = [(world.arrivals[i].deadline, world.arrivals[i].release) for i, ps in chosen.items() if j in ps]
        for moment, _ in holds:
            assert sum(start <= moment < end for start, end in holds) <= world.providers[j].max_open_tasks


def test_covered_set_is_the_plan(world, plan):
    covered, bound = hindsight_covered(world, time_limit_s=20)
    assert covered == set(plan[0]) and bound == plan[2]


def test_no_policy_covers_more_than_the_bound(world, plan):
    for policy in policies():
        covered = outcome(Simulation(world, policy).run()).metrics["coverage"] * len(world.arrivals)
        assert covered <= plan[2] + 1e-9, policy.name


def test_median_constrained_plan_is_no_larger(world, plan):
    chosen, value, _ = hindsight_plan(world, time_limit_s=5, quick_hours=3.0)
    assert value == len(chosen) <= plan[2]


def test_the_plan_offered_just_in_time_is_what_it_covers(world, plan):
    sim = Simulation(world, FollowBound("jit", plan[0], just_in_time=True, times=plan[3])).run()
    covered = {s.index for s in sim.needs if s.covered_at is not None}
    assert covered <= set(plan[0])
    assert len(covered) >= len(plan[0]) - 2  # offers sent 3 min before the deadline (or visit) hold a slot that long
    assert sim.notifications <= sum(len(ps) for ps in plan[0].values())  # only the plan's pairs are asked
    assert all(not s.refused for s in sim.needs)  # and every one of them says yes in time


def test_knowing_answers_means_no_offer_is_refused(world):
    ours = policies()[-1]
    told = KnowsAnswers("told", ours.weights, forecast_hours=ours.forecast_hours,
                        history_weeks=ours.history_weeks, use_deficit=True)
    sim = Simulation(world, told).run()
    assert sim.notifications > 0
    assert all(not s.refused for s in sim.needs)


class RecordingSimulation(Simulation):
    def __init__(self, world, policy):
        super().__init__(world, policy)
        self.sent: dict[int, list[float]] = defaultdict(list)  # need → times of its offers

    def offer(self, i: int, j: int, visit=None) -> None:
        self.sent[i].append(self.now)
        super().offer(i, j, visit)


@pytest.mark.parametrize("parallel", [1, 2])
def test_a_held_need_is_offered_from_its_time_on_to_as_many_providers_at_once_as_set(world, parallel):
    policy = FlowPolicy("late", Weights(), hold_hours=12.0, plan_held=True, held_parallel=parallel)
    sim = RecordingSimulation(world, policy).run()
    held = [i for i in range(len(world.arrivals)) if policy.was_held(sim, i) and sim.sent[i]]
    assert len(held) > 10
    for i in held:
        assert min(sim.sent[i]) >= world.arrivals[i].start - 12.0 - 1e-9
    single = [i for i in held if world.arrivals[i].need.slots == 1]
    at_once = [sim.sent[i].count(min(sim.sent[i])) for i in single]
    assert max(at_once) == parallel
