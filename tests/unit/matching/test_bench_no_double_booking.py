"""The benchmark's simulation gives no provider two visits at once, whatever the policy (scarce, seed 0)."""
from __future__ import annotations

from collections import defaultdict

import pytest

from bench.matching.ceiling import policies as ceiling_policies
from bench.matching.run import policies
from bench.matching.simulation import Simulation, hindsight_visits
from bench.matching.world import SCENARIOS, make_world
from services.matching.rules import TimeWindow
from services.matching.solver import fits

pytestmark = pytest.mark.bench  # the benchmark's own simulation: minutes of CPU, not `make test-fast`


@pytest.fixture(scope="module")
def world():
    return make_world(SCENARIOS["scarce"], 0)


@pytest.fixture(scope="module")
def bound(world):
    return hindsight_visits(world, time_limit_s=10)


def assert_no_two_visits_at_once(visits: dict[int, list[TimeWindow]]) -> None:
    for j, times in visits.items():
        ordered = sorted(times, key=lambda w: w.start)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            assert earlier.end <= later.start, f"provider {j}: {earlier} overlaps {later}"


def served_visits(sim: Simulation) -> dict[int, list[TimeWindow]]:
    """Every accepted visit, checked to lie in its need's window and its provider's availability."""
    visits: dict[int, list[TimeWindow]] = defaultdict(list)
    for j, state in enumerate(sim.providers):
        for i, visit in state.visits.items():
            assert j in sim.needs[i].accepted  # after the run only accepted visits still hold a time
            assert fits(visit, sim.need(i), sim.world.providers[j].availability)
            visits[j].append(visit)
    for need in sim.needs:
        for j in need.accepted:
            assert need.index in sim.providers[j].visits  # a need is served only with a visit time
    return visits


@pytest.mark.parametrize("name", [p.name for p in policies()])
def test_no_policy_gives_a_provider_two_visits_at_once(world, name):
    policy = next(p for p in policies() if p.name == name)
    sim = Simulation(world, policy).run()
    visits = served_visits(sim)
    assert sum(len(v) for v in visits.values()) > 50
    assert_no_two_visits_at_once(visits)


def test_nor_does_any_ceiling_diagnostic(world, bound):
    plan, _, _, times = bound
    for policy in ceiling_policies(plan, times):
        assert_no_two_visits_at_once(served_visits(Simulation(world, policy).run()))


def test_nor_the_hindsight_plan(world, bound):
    plan, _, _, times = bound
    visits: dict[int, list[TimeWindow]] = defaultdict(list)
    for i, providers in plan.items():
        for j in providers:
            assert fits(times[(i, j)], world.arrivals[i].need, world.providers[j].availability)
            visits[j].append(times[(i, j)])
    assert_no_two_visits_at_once(visits)


def test_an_offer_into_reserved_time_is_refused(world):
    sim = Simulation(world, policies()[0])
    sim.now = world.arrivals[0].time
    i, (provider_id, _) = next((i, f[0]) for i, f in enumerate(world.feasible) if f)
    j = sim.provider_index[provider_id]
    visit = sim.visit_for(i, j)
    assert visit is not None
    sim.offer(i, j, visit)
    other = next(k for k, f in enumerate(world.feasible) if k != i and any(p == provider_id for p, _ in f)
                 and world.arrivals[k].need.windows[0].start <= visit.start < world.arrivals[k].need.windows[0].end)
    with pytest.raises(ValueError, match="no free time"):
        sim.offer(other, j, TimeWindow(visit.start, visit.end))
