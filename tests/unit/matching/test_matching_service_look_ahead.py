"""The look-ahead: what was reported in the coming hours of past weeks takes part in the solve, so the one
provider who can serve the demand that usually comes is not spent on a need someone else can serve."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bench.matching.service_harness import NOW, TOMORROW_9, MatchingService
from services.matching.settings import Settings

WEEK = timedelta(days=7)
KAMILKA = {"kind": "kamilka_check", "valid_from": date(2026, 1, 1).isoformat(), "valid_until": None}


def play_last_weeks_tutoring_and_todays_shopping(matching: MatchingService) -> tuple[str, str, str]:
    # Last Thursday morning an urgent tutoring need (minors: Kamilka check needed) came in for Friday 9:00.
    matching.need(category="KOR", urgent=True, start=TOMORROW_9 - WEEK, reported_at=NOW - WEEK + timedelta(hours=1))
    checked = matching.volunteer(categories=("ZAK", "KOR"), credentials=[KAMILKA], capacity_hours_per_week=1)
    other = matching.volunteer(village="kajetanow", radius_km=15, categories=("ZAK",), capacity_hours_per_week=1)
    shopping = matching.need(category="ZAK", start=TOMORROW_9)  # one hour, both can do it; `checked` is nearer
    return checked, other, shopping


def test_the_only_checked_provider_is_kept_for_the_tutoring_that_usually_comes(matching) -> None:  # type: ignore[no-untyped-def]
    checked, other, shopping = play_last_weeks_tutoring_and_todays_shopping(matching)
    assert matching.match_of(shopping)["volunteer_id"] == other
    # the expected need itself (id "F1-<last week's need>") is never proposed, offered or reported
    assert not [m for m in matching.matches() if m["need_id"].startswith("F1-")]
    assert not [e for e in matching.events() if e["need_id"].startswith("F1-")]


def test_without_the_look_ahead_the_nearest_provider_gets_the_shopping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    matching = MatchingService(tmp_path, replace(Settings(resolve_interval=timedelta(0)), forecast_hours=0))
    try:
        checked, _, shopping = play_last_weeks_tutoring_and_todays_shopping(matching)
        assert matching.match_of(shopping)["volunteer_id"] == checked
    finally:
        matching.close()
