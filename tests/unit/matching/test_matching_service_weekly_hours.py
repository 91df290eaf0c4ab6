"""A provider's weekly hours are a limit per calendar week (Warsaw) of the visits, not over the horizon."""
from __future__ import annotations

from datetime import timedelta

from bench.matching.service_harness import TOMORROW_9


def accepted(matching, volunteer: str, **need) -> str:  # type: ignore[no-untyped-def]
    need_id = matching.need(**need)
    matching.approve(matching.match_of(need_id)["id"])
    matching.respond(matching.match_of(need_id, "offered")["id"], volunteer, "accept")
    return need_id


def test_a_visit_accepted_for_next_week_leaves_this_weeks_hours_free(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(capacity_hours_per_week=2)
    accepted(matching, volunteer, start=TOMORROW_9 + timedelta(days=7), duration_minutes=120)
    this_week = matching.need(start=TOMORROW_9, duration_minutes=120)
    assert matching.match_of(this_week)["volunteer_id"] == volunteer


def test_a_visit_accepted_for_this_week_uses_up_this_weeks_hours(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(capacity_hours_per_week=2)
    accepted(matching, volunteer, start=TOMORROW_9, duration_minutes=120)
    same_week = matching.need(start=TOMORROW_9 + timedelta(hours=5), duration_minutes=120)
    assert matching.matches(need_id=same_week) == []
