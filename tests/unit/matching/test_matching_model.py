"""The match lifecycle (services/matching/model.py) as a state machine, without a database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import matching as match_contract
from services.matching import model

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("path", [
    ["proposed", "approved", "offered", "accepted", "completed"],  # staff approve, the provider takes it
    ["proposed", "approved", "offered", "declined"],
    ["proposed", "approved", "offered", "expired"],
    ["proposed", "rejected"],
    ["proposed", "replaced"],  # a cheaper provider in the re-solve, or a staff pick
    ["proposed", "cancelled"],  # covered by someone else, the need cancelled, a re-check failed
    ["proposed", "approved", "cancelled"],
    ["proposed", "approved", "offered", "cancelled"],
    ["proposed", "approved", "offered", "accepted", "cancelled"],  # an agreed visit falls through
])
def test_the_paths_a_match_really_takes_are_allowed(path: list[str]) -> None:
    assert path[0] == model.INITIAL
    for current, target in zip(path, path[1:], strict=False):
        model.check_transition(current, target)


@pytest.mark.parametrize("current, target", [
    ("proposed", "offered"), ("proposed", "accepted"), ("approved", "accepted"), ("offered", "completed"),
    ("accepted", "declined"), ("rejected", "approved"), ("cancelled", "offered"), ("expired", "accepted"),
    ("completed", "cancelled"), ("declined", "accepted"), ("replaced", "proposed"), ("offered", "proposed"),
])
def test_a_transition_the_lifecycle_does_not_know_is_refused_with_a_polish_message(current: str, target: str) -> None:
    with pytest.raises(model.NotAllowed) as err:
        model.check_transition(current, target)
    assert "Nie można zmienić statusu dopasowania" in str(err.value)
    assert model.STATUS_PL[current] in str(err.value) and model.STATUS_PL[target] in str(err.value)


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(model.NotAllowed, match="Nieznany status"):
        model.check_transition("proposed", "lost")


def test_every_status_has_a_polish_name_and_a_row_of_transitions() -> None:
    assert set(model.STATUS_PL) == set(model.STATUSES) == set(model.TRANSITIONS)


def test_closed_matches_are_final_and_the_active_ones_are_not() -> None:
    assert all(model.TRANSITIONS[s] == frozenset() for s in model.TERMINAL)
    assert set(model.ACTIVE) == set(model.STATUSES) - model.TERMINAL
    assert all(model.can_transition(s, model.CANCELLED) for s in model.ACTIVE)


def test_only_an_undecided_proposal_can_be_reviewed() -> None:
    model.check_reviewable(model.PROPOSED)
    for status in set(model.STATUSES) - {model.PROPOSED}:
        with pytest.raises(model.NotAllowed, match="już rozpatrzono"):
            model.check_reviewable(status)


def test_only_an_accepted_visit_can_be_recorded_as_done() -> None:
    model.check_completable(model.ACCEPTED)
    for status in set(model.STATUSES) - {model.ACCEPTED}:
        with pytest.raises(model.NotAllowed, match="Tylko przyjęte"):
            model.check_completable(status)


def test_a_late_acceptance_tells_the_provider_why_the_offer_is_gone() -> None:
    assert model.too_late(model.EXPIRED) == match_contract.TOO_LATE_PASSED_ON
    assert model.too_late(model.CANCELLED) == model.too_late(model.REPLACED) == match_contract.TOO_LATE_NOT_NEEDED
    assert model.too_late(model.DECLINED) == match_contract.TOO_LATE_ALREADY_DECLINED
    assert set(model.TOO_LATE.values()) == set(match_contract.TOO_LATE_STATUSES)
    for status in (model.PROPOSED, model.APPROVED, model.OFFERED, model.ACCEPTED, model.COMPLETED):
        assert model.too_late(status) is None
    assert [s for s in model.STATUSES if model.awaits_answer(s)] == [model.OFFERED]


def test_only_an_accepted_visit_whose_time_has_come_has_begun() -> None:
    assert model.visit_begun(model.ACCEPTED, NOW, NOW)
    assert not model.visit_begun(model.ACCEPTED, NOW + timedelta(minutes=1), NOW)
    assert not model.visit_begun(model.OFFERED, NOW - timedelta(hours=1), NOW)


@given(st.lists(st.sampled_from(model.STATUSES), max_size=12))
def test_any_sequence_of_changes_follows_the_lifecycle_or_is_refused_leaving_the_match_as_it_was(
        wanted: list[str]) -> None:
    """Every change is either allowed (and the match moves) or refused with a Polish reason (and it stays);
    a match never leaves a closed state, never comes back to a proposal, and every path it takes is one the
    statuses' order allows (proposed → approved → offered → accepted → completed, or closed on the way)."""
    order = {model.PROPOSED: 0, model.APPROVED: 1, model.OFFERED: 2, model.ACCEPTED: 3}
    status, visited = model.INITIAL, [model.INITIAL]
    for target in wanted:
        try:
            model.check_transition(status, target)
        except model.NotAllowed as err:
            assert str(err).startswith("Nie można zmienić statusu dopasowania")
            assert not model.can_transition(status, target)
            continue
        assert status not in model.TERMINAL
        assert target != model.PROPOSED
        if target in order:
            assert order[target] == order[status] + 1  # one step forward at a time
        status = target
        visited.append(status)
    assert visited.count(model.PROPOSED) == 1
    assert all(s not in model.TERMINAL for s in visited[:-1])
    if model.COMPLETED in visited:
        assert visited[-2] == model.ACCEPTED
