"""Activities and self-help groups: capacity, registration, attendance, helpers, members."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.community import animation
from services.community.animation import AnimationRuleError

T0 = datetime(2026, 6, 13, 15, 0, tzinfo=UTC)


def test_an_activity_ending_before_it_starts_and_with_no_places_is_refused():
    errors = animation.check_activity("workshop", T0, T0 - timedelta(hours=1), 0, -1)
    assert errors == {"ends_at": "Koniec musi być później niż początek.",
                      "capacity": "Liczba miejsc to co najmniej 1 (puste pole: bez limitu).",
                      "helpers_wanted": "Liczba potrzebnych pomocników nie może być ujemna."}


def test_a_recurring_series_repeats_at_the_same_hour():
    meetings = animation.occurrences(T0, T0 + timedelta(hours=2), 7, 3)
    assert [start for start, _ in meetings] == [T0, T0 + timedelta(days=7), T0 + timedelta(days=14)]


def test_a_series_of_more_than_a_year_of_weekly_meetings_is_refused():
    with pytest.raises(AnimationRuleError) as err:
        animation.occurrences(T0, T0 + timedelta(hours=1), 7, 53)
    assert err.value.errors == {"count": "Cykl ma od 1 do 52 spotkań."}


def test_a_full_activity_takes_no_more_registrations():
    with pytest.raises(AnimationRuleError, match="Brak wolnych miejsc"):
        animation.check_registration(animation.SCHEDULED, T0, T0 - timedelta(days=1), 20, 20)
    animation.check_registration(animation.SCHEDULED, T0, T0 - timedelta(days=1), 20, 19)
    animation.check_registration(animation.SCHEDULED, T0, T0 - timedelta(days=1), None, 500)


def test_registration_closes_when_the_activity_starts_or_is_cancelled():
    with pytest.raises(AnimationRuleError, match="rozpoczęły"):
        animation.check_registration(animation.SCHEDULED, T0, T0, None, 0)
    with pytest.raises(AnimationRuleError, match="odwołane"):
        animation.check_registration(animation.CANCELLED, T0, T0 - timedelta(days=1), None, 0)


def test_attendance_is_recorded_only_after_the_activity_started():
    with pytest.raises(AnimationRuleError, match="po rozpoczęciu"):
        animation.check_attendance(animation.SCHEDULED, T0, T0 - timedelta(minutes=1))
    animation.check_attendance(animation.SCHEDULED, T0, T0 + timedelta(hours=3))


def test_helper_hours_are_positive_and_no_longer_than_the_activity_plus_an_hour():
    errors = animation.check_helper_hours({"a": 0, "b": 3.5, "c": 4.5}, duration_hours=3)
    assert errors == {"helpers.a": "Liczba godzin musi być większa od zera.",
                      "helpers.c": "Najwyżej 4 godz. (czas zajęć i godzina na przygotowanie)."}
    assert animation.check_helper_hours({"b": 4}, duration_hours=3) == {}


@pytest.mark.parametrize(("n", "text"), [(1, "1 wolne miejsce"), (3, "3 wolne miejsca"), (5, "5 wolnych miejsc"),
                                         (12, "12 wolnych miejsc"), (22, "22 wolne miejsca"), (0, "0 wolnych miejsc")])
def test_free_places_speak_polish_plurals(n, text):
    assert animation.places_pl(n) == text


def test_a_member_joins_a_group_once_and_not_beyond_its_size():
    with pytest.raises(AnimationRuleError, match="już należy"):
        animation.check_member(True, ["Anna Nowak"], " anna nowak ", None)
    with pytest.raises(AnimationRuleError, match="komplet"):
        animation.check_member(True, ["A", "B"], "C", 2)
    with pytest.raises(AnimationRuleError, match="zakończyła"):
        animation.check_member(False, [], "C", None)
    animation.check_member(True, ["A"], "B", 2)
