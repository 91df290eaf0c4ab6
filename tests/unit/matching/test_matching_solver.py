from dataclasses import replace
from datetime import date

import numpy as np
from matching_builders import SAMSONOW, ZAGNANSK, a_need, a_provider, credential, window

from services.matching.rules import KAMILKA_CHECK, Candidate, Point, weekly_hours_left
from services.matching.solver import (
    CAPACITY_TAKEN,
    NO_FEASIBLE_PROVIDER,
    FlowProblem,
    Weights,
    match,
    solve_flow,
    solve_part,
)

NEAR_ZAGNANSK = Point(50.9800, 20.6610)  # about 150 m away


def assigned(result):
    return {(a.need_id, a.provider_id) for a in result.assignments}


def test_flow_core_sends_each_slot_to_a_provider_or_to_unmet():
    problem = FlowProblem(
        slots=np.array([2, 1]),
        unmet_cost=np.array([1000, 1000]),
        arc_need=np.array([0, 0, 1]),
        arc_provider=np.array([0, 1, 1]),
        arc_cost=np.array([10, 20, 10]),
        piece_provider=np.array([0, 1]),
        piece_cost=np.array([5, 5]),
    )
    solution = solve_flow(problem)
    assert solution.arc_flow.sum() + solution.unmet.sum() == 3
    assert list(solution.unmet) == [0, 1] or list(solution.unmet) == [1, 0]


def test_multi_volunteer_need_gets_distinct_volunteers():
    providers = [a_provider(id=f"W-{i}") for i in range(3)]
    result = match([a_need(slots=2, category="OGR")], providers)
    people = [a.provider_id for a in result.assignments]
    assert len(people) == 2 and len(set(people)) == 2


def test_multi_volunteer_need_with_one_volunteer_reports_the_missing_slot():
    result = match([a_need(slots=2)], [a_provider()])
    assert len(result.assignments) == 1
    assert result.unmet[0].missing_slots == 1


def test_convex_load_cost_spreads_two_needs_over_two_volunteers():
    needs = [a_need(id="N-1"), a_need(id="N-2")]
    providers = [a_provider(id="W-1"), a_provider(id="W-2", point=NEAR_ZAGNANSK)]
    assert {a.provider_id for a in match(needs, providers).assignments} == {"W-1", "W-2"}


def test_urgent_need_wins_the_only_volunteer_over_a_normal_one():
    needs = [a_need(id="N-normal"), a_need(id="N-urgent", urgency="urgent")]
    result = match(needs, [a_provider(max_open_tasks=1)])
    assert assigned(result) == {("N-urgent", "W-1")}
    assert result.unmet[0].need_id == "N-normal"
    assert result.unmet[0].code == CAPACITY_TAKEN


def test_need_without_any_feasible_provider_is_explained_by_its_funnel():
    result = match([a_need(category="URZ")], [a_provider(), a_provider(id="W-2")])
    (unmet,) = result.unmet
    assert unmet.code == NO_FEASIBLE_PROVIDER
    assert unmet.funnel == {"confidentiality_authorisation_for_paperwork": 2}
    assert "upoważnienia" in unmet.reason


def test_continuity_bonus_keeps_the_volunteer_of_the_support_package():
    near, further = a_provider(id="W-near"), a_provider(id="W-before", point=NEAR_ZAGNANSK)
    need = a_need(category="TOW", previous_providers=frozenset({"W-before"}), plan_ref="IPUS/2026/17")
    result = match([need], [near, further])
    assert assigned(result) == {("N-1", "W-before")}
    assert result.assignments[0].terms["continuity"] == Weights().continuity_bonus


def test_deficit_boost_gives_the_village_falling_behind_the_scarce_volunteer():
    provider = a_provider(max_open_tasks=1, villages=frozenset({"Zagnańsk", "Samsonów"}))
    needs = [a_need(id="N-zag"), a_need(id="N-sam", village="Samsonów", point=SAMSONOW)]
    without = match(needs, [provider])
    boosted = match(needs, [provider], Weights(village_deficit={"Samsonów": 0.5}))
    assert assigned(without) == {("N-zag", "W-1")}
    assert assigned(boosted) == {("N-sam", "W-1")}
    assert boosted.assignments[0].terms["deficit"] == 500


def test_assignment_carries_score_terms_and_the_runner_up():
    providers = [a_provider(id="W-1"), a_provider(id="W-2", point=SAMSONOW, radius_km=10)]
    result = match([a_need()], providers)
    (only,) = result.assignments
    assert only.provider_id == "W-1"
    assert set(only.terms) == {"distance", "load", "continuity", "urgency", "deficit"}
    runner_up = result.runner_up["N-1"]
    assert runner_up.provider_id == "W-2" and runner_up.km > 4


def test_weekly_hours_hold_even_when_open_task_room_would_allow_more():
    needs = [a_need(id=f"N-{i}", duration_hours=d) for i, d in enumerate([1, 3, 3])]
    result = match(needs, [a_provider(hours_per_week=4, max_open_tasks=3)])
    hours = {n.id: n.duration_hours for n in needs}
    assert sum(hours[a.need_id] for a in result.assignments) <= 4


def test_only_the_k_nearest_feasible_providers_become_candidates():
    providers = [a_provider(id=f"W-{i}", point=Point(50.9790 + i * 0.002, 20.66)) for i in range(6)]
    result = match([a_need()], providers, Weights(k_nearest=2))
    assert result.funnel.examined == 2


def test_cached_candidates_give_the_same_answer_as_a_full_scan():
    providers = [a_provider(id="W-1"), a_provider(id="W-2", point=NEAR_ZAGNANSK, max_open_tasks=1)]
    needs = [a_need(id="N-1"), a_need(id="N-2", urgency="high")]
    cache = {"N-1": [("W-1", 0.0), ("W-2", 0.15)], "N-2": [("W-1", 0.0), ("W-2", 0.15)]}
    assert assigned(match(needs, providers, cached=cache)) == assigned(match(needs, providers))


def test_declined_volunteer_is_not_proposed_again_from_the_cache():
    need = a_need(declined_by=frozenset({"W-1"}))
    result = match([need], [a_provider()], cached={"N-1": [("W-1", 0.0)]})
    assert result.assignments == []


def test_time_window_choice_uses_any_of_the_needs_windows():
    need = a_need(windows=(window(6, 7), window(15, 18)))
    assert len(match([need], [a_provider()]).assignments) == 1


def test_no_providers_at_all_leaves_every_need_unmet_with_a_reason():
    result = match([a_need()], [])
    assert result.unmet[0].reason == "Brak wykonawców w rejestrze"


def test_zagnansk_builder_point_is_where_the_tests_expect_it():
    assert ZAGNANSK.lat > 50.9


def test_solving_connected_parts_separately_gives_the_single_network_optimum():
    rng = np.random.default_rng(7)
    needs, providers, arcs = 40, 30, 90
    problem = FlowProblem(
        slots=rng.integers(1, 3, needs),
        unmet_cost=rng.integers(500, 2000, needs),
        arc_need=rng.integers(0, needs, arcs),
        arc_provider=rng.integers(0, providers, arcs),
        arc_cost=rng.integers(0, 400, arcs),
        piece_provider=np.repeat(np.arange(providers), 2),
        piece_cost=np.tile([40, 120], providers),
    )
    whole = solve_part(problem, np.arange(needs), np.arange(arcs), np.arange(2 * providers), providers)
    assert solve_flow(problem).total_cost == whole.total_cost


def only_checked_tutor_and_a_neighbour():
    checked = a_provider(id="W-checked", max_open_tasks=1, credentials=(credential(KAMILKA_CHECK),))
    neighbour = a_provider(id="W-neighbour", point=NEAR_ZAGNANSK, max_open_tasks=1)
    tutoring_tomorrow = a_need(id="F-KOR", category="KOR")
    return [checked, neighbour], tutoring_tomorrow


def test_expected_need_keeps_the_only_provider_who_can_serve_it_free():
    providers, tutoring_tomorrow = only_checked_tutor_and_a_neighbour()
    shopping = [a_need(id="N-shopping")]
    assert assigned(match(shopping, providers)) == {("N-shopping", "W-checked")}
    looking_ahead = match(shopping, providers, expected=[tutoring_tomorrow])
    assert assigned(looking_ahead) == {("N-shopping", "W-neighbour")}
    assert looking_ahead.unmet == [] and set(looking_ahead.runner_up) <= {"N-shopping"}


def test_expected_need_is_never_assigned_and_can_be_weighted_to_nothing():
    providers, tutoring_tomorrow = only_checked_tutor_and_a_neighbour()
    alone = match([], providers, expected=[tutoring_tomorrow])
    assert alone.assignments == [] and alone.unmet == []
    ignored = match([a_need(id="N-shopping")], providers, Weights(expected_weight=0), expected=[tutoring_tomorrow])
    assert assigned(ignored) == {("N-shopping", "W-checked")}


# --- weekly hours are a limit per calendar week of the visit -----------------------------------------------
NEXT_THURSDAY = date(2026, 12, 3)


def test_visits_in_two_different_weeks_each_use_that_weeks_hours():
    needs = [a_need(id="N-this-week"), a_need(id="N-next-week", windows=(window(10, 14, NEXT_THURSDAY),))]
    provider = a_provider(hours_per_week=2, availability=(window(8, 18), window(8, 18, NEXT_THURSDAY)))
    assert assigned(match(needs, [provider])) == {("N-this-week", "W-1"), ("N-next-week", "W-1")}


def test_two_visits_in_one_week_beyond_the_weekly_hours_go_to_one_provider_only():
    needs = [a_need(id="N-1"), a_need(id="N-2", windows=(window(15, 18),))]
    result = match(needs, [a_provider(hours_per_week=2)])
    assert len(result.assignments) == 1 and result.unmet[0].code == CAPACITY_TAKEN


def test_hours_booked_next_week_do_not_block_this_weeks_visit():
    booked_next_week = a_provider(hours_per_week=2, hours_booked=2,
                                  hours_by_week=((NEXT_THURSDAY.isocalendar()[:2], 2.0),))
    assert weekly_hours_left(Candidate(a_need(), booked_next_week, 0.0)).passed
    full_this_week = replace(booked_next_week, hours_by_week=((date(2026, 11, 26).isocalendar()[:2], 2.0),))
    assert not weekly_hours_left(Candidate(a_need(), full_this_week, 0.0)).passed
