"""The organising plan's pure rules: versions, approval, action progress, indicators."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.community import plan
from services.community.plan import ActionFigures, PlanRuleError


def test_editing_an_approved_plan_opens_the_next_version_as_a_draft():
    assert plan.version_after_edit(plan.APPROVED, 1) == (plan.DRAFT, 2)


def test_editing_a_draft_keeps_its_version():
    assert plan.version_after_edit(plan.DRAFT, 3) == (plan.DRAFT, 3)


def test_a_plan_without_goals_cannot_be_approved():
    assert plan.approval_problems([], [], []) == ["Plan nie ma żadnego celu."]


def test_every_goal_needs_an_action_and_an_indicator_before_approval():
    goals = [{"id": "g1", "title": "Seniorzy aktywni"}, {"id": "g2", "title": "Młodzież"}]
    actions = [{"goal_id": "g1"}]
    indicators = [{"goal_id": "g2"}]
    problems = plan.approval_problems(goals, actions, indicators)
    assert problems == ["Cel „Młodzież” nie ma żadnego działania.",
                        "Cel „Seniorzy aktywni” nie ma wskaźnika (wartość bazowa i docelowa)."]


def test_an_approved_version_cannot_be_approved_again():
    with pytest.raises(PlanRuleError, match="już zatwierdzona"):
        plan.check_approval(plan.APPROVED, [])


def test_a_period_ending_before_it_starts_is_refused_in_polish():
    assert plan.check_period(date(2027, 1, 1), date(2026, 1, 1)) == {
        "ends_on": "Koniec okresu nie może być wcześniejszy niż jego początek."}


def test_action_dates_outside_the_plan_period_are_refused():
    errors = plan.check_action_dates(date(2025, 12, 1), date(2026, 3, 1), date(2026, 1, 1), date(2026, 12, 31))
    assert errors == {"starts_on": "Data poza okresem planu (01.01.2026–31.12.2026)."}


def test_an_action_reaching_100_percent_is_done_and_done_means_100_percent():
    assert plan.action_progress(plan.IN_PROGRESS, 100, 40) == (plan.DONE, 100)
    assert plan.action_progress(plan.DONE, None, 40) == (plan.DONE, 100)


def test_a_planned_action_with_work_started_is_in_progress():
    assert plan.action_progress(plan.PLANNED, 30, 0) == (plan.IN_PROGRESS, 30)


def test_progress_outside_0_to_100_is_refused():
    with pytest.raises(PlanRuleError) as err:
        plan.action_progress(plan.PLANNED, 120, 0)
    assert err.value.errors == {"percent_done": "Od 0 do 100."}


def test_a_cancelled_action_cannot_become_done_without_being_planned_again():
    with pytest.raises(PlanRuleError, match="z „odwołane” na „zrealizowane”"):
        plan.check_action_transition(plan.CANCELLED, plan.DONE)
    plan.check_action_transition(plan.CANCELLED, plan.PLANNED)


def test_a_computed_indicator_adds_what_really_happened_to_its_baseline():
    figures = ActionFigures(activities_held=3, participants=41, volunteer_hours=12.5)
    assert plan.indicator_value(plan.PARTICIPANTS, 10, None, figures) == 51
    assert plan.indicator_value(plan.VOLUNTEER_HOURS, 0, 99, figures) == 12.5


def test_a_manual_indicator_shows_the_typed_value_or_its_baseline():
    assert plan.indicator_value(plan.MANUAL, 4, None, ActionFigures()) == 4
    assert plan.indicator_value(plan.MANUAL, 4, 7, ActionFigures()) == 7


def test_an_indicator_whose_target_equals_its_baseline_is_refused():
    assert plan.check_indicator(plan.MANUAL, 5, 5) == {"target": "Wartość docelowa musi różnić się od bazowej."}


def test_a_falling_target_counts_a_fall_as_progress():
    assert plan.indicator_progress(baseline=20, target=10, value=15) == 50


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(-1e6, 1e6))
def test_indicator_progress_is_always_between_0_and_100(baseline, target, value):
    assert 0 <= plan.indicator_progress(baseline, target, value) <= 100


def test_the_plan_progress_leaves_cancelled_actions_out():
    rows = [{"status": plan.DONE, "percent_done": 100}, {"status": plan.IN_PROGRESS, "percent_done": 50},
            {"status": plan.CANCELLED, "percent_done": 0}]
    assert plan.plan_progress(rows) == 75
    assert plan.plan_progress([]) == 0
