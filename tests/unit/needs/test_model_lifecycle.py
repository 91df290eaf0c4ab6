"""The need's lifecycle (docs/needs.md) as a state machine."""
from __future__ import annotations

import pytest

from services.needs import model
from services.needs.model import MatchState


@pytest.mark.parametrize("path", [
    ["open", "proposed", "approved", "offered", "accepted", "in_progress", "completed"],
    ["open", "proposed", "open", "cancelled"],
    ["open", "expired", "needs_follow_up", "cancelled"],
    ["open", "proposed", "approved", "offered", "approved", "offered", "accepted", "completed"],
])
def test_the_paths_a_need_really_takes_are_allowed(path: list[str]) -> None:
    for current, target in zip(path, path[1:], strict=False):
        model.check_transition(current, target)


@pytest.mark.parametrize("current, target", [
    ("completed", "open"), ("cancelled", "open"), ("cancelled", "completed"), ("open", "completed"),
    ("open", "accepted"), ("in_progress", "open"), ("expired", "completed"),
])
def test_a_transition_the_lifecycle_does_not_know_is_refused_with_a_polish_message(current: str, target: str) -> None:
    with pytest.raises(model.InvalidTransition) as err:
        model.check_transition(current, target)
    assert "Nie można zmienić statusu" in err.value.message


def test_completed_and_cancelled_are_final() -> None:
    assert model.TRANSITIONS["completed"] == frozenset() == model.TRANSITIONS["cancelled"]


def test_staff_cannot_set_a_status_that_only_the_matching_service_gives() -> None:
    with pytest.raises(model.InvalidTransition) as err:
        model.check_transition("open", "proposed", by_staff=True)
    assert "serwis dopasowań" in err.value.message


def test_every_status_has_a_polish_name_and_a_row_in_the_table() -> None:
    assert set(model.STATUS_PL) == set(model.STATUSES) == set(model.TRANSITIONS)
    assert all(t in model.STATUSES for targets in model.TRANSITIONS.values() for t in targets)


def test_an_edit_is_refused_once_a_volunteer_has_been_offered_the_need() -> None:
    model.check_editable("open")
    with pytest.raises(model.InvalidTransition):
        model.check_editable("offered")


@pytest.mark.parametrize("matches, slots, expected", [
    ([], 1, "open"),
    ([MatchState("proposed")], 1, "proposed"),
    ([MatchState("declined"), MatchState("offered")], 1, "offered"),
    ([MatchState("declined")], 1, "open"),
    ([MatchState("rejected")], 1, "open"),
    ([MatchState("cancelled", was_accepted=True)], 1, "needs_follow_up"),
    ([MatchState("completed")], 1, "completed"),
    ([MatchState("completed"), MatchState("accepted")], 2, "in_progress"),
    ([MatchState("completed"), MatchState("completed")], 2, "completed"),
])
def test_the_status_follows_the_furthest_live_match_and_completions_fill_the_slots(matches, slots, expected) -> None:  # type: ignore[no-untyped-def]
    assert model.status_from_matches(matches, slots) == expected


def test_match_events_may_skip_steps_forward_but_never_revive_a_closed_need() -> None:
    assert model.may_follow_matching("open", "completed")
    assert model.may_follow_matching("offered", "open")  # a decline
    assert not model.may_follow_matching("cancelled", "accepted")
    assert not model.may_follow_matching("completed", "open")
    assert not model.may_follow_matching("in_progress", "accepted")
