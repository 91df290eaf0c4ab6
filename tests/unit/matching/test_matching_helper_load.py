"""A helper place at a community activity is load like a committed match: offered or accepted, it counts in the
provider's weekly hours (in the activity's week) and open tasks until the activity is over — for needs and for
further helper places alike."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.matching.service_harness import TOMORROW_9
from services.matching import world as world_module
from services.matching.db import helper_offers
from services.matching.helpers import activity_need
from services.matching.rules import (
    Candidate,
    Need,
    Provider,
    TimeWindow,
    iso_week,
    open_tasks_left,
    weekly_hours_left,
)
from tests.unit.matching.test_matching_service_helpers import answer, offers, wanted

MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def provider(**over: Any) -> Provider:
    return Provider(id="p", type="volunteer", villages=frozenset({"zagnansk"}), radius_km=0,
                    availability=(TimeWindow(MONDAY - timedelta(days=1), MONDAY + timedelta(days=7)),),
                    hours_per_week=5, max_open_tasks=2, **over)


def visit(hours: float, start: datetime = MONDAY) -> Need:
    return Need(id="n", category="ZAK", village="zagnansk", windows=(TimeWindow(start, start + timedelta(hours=4)),),
                duration_hours=hours)


def test_a_three_hour_helper_place_leaves_two_of_five_weekly_hours_for_a_visit_that_week() -> None:
    helping = provider(hours_by_week=((iso_week(MONDAY), 3.0),), open_tasks=1)
    assert weekly_hours_left(Candidate(visit(3), helping, 0.0)).reason == "Wyczerpany tygodniowy limit godzin wykonawcy"
    assert weekly_hours_left(Candidate(visit(2), helping, 0.0)).passed
    assert weekly_hours_left(Candidate(visit(3, MONDAY + timedelta(days=7)), helping, 0.0)).passed  # next week


def test_a_further_helper_place_is_judged_on_the_hours_left_in_its_own_week() -> None:
    helping = provider(hours_by_week=((iso_week(MONDAY), 3.0),), open_tasks=1)
    activity = {"activity_id": "a", "category": None, "village": "zagnansk", "starts_at": MONDAY + timedelta(days=2),
                "ends_at": MONDAY + timedelta(days=2, hours=3), "count": 1, "involves_children": False}
    assert not weekly_hours_left(Candidate(activity_need(activity), helping, 0.0)).passed
    shorter = {**activity, "ends_at": MONDAY + timedelta(days=2, hours=2)}
    assert weekly_hours_left(Candidate(activity_need(shorter), helping, 0.0)).passed


def test_a_helper_place_fills_the_last_open_task() -> None:
    assert not open_tasks_left(Candidate(visit(1), provider(open_tasks=2), 0.0)).passed
    assert open_tasks_left(Candidate(visit(1), provider(open_tasks=1), 0.0)).passed


def test_an_offered_and_an_accepted_helper_place_count_in_the_world_until_the_activity_is_over(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    wanted(matching)  # 3 hours from tomorrow 9:00
    [offer] = offers(matching)
    with matching.service.db.transaction() as session:
        offered = world_module.load_world(session, matching.now, matching.settings).providers[volunteer]
    assert offered.open_tasks == 1 and offered.hours_in_week(iso_week(TOMORROW_9)) == 3.0
    answer(matching, offer, "accept")
    with matching.service.db.transaction() as session:
        accepted = world_module.load_world(session, matching.now, matching.settings).providers[volunteer]
        over = world_module.load_world(session, TOMORROW_9 + timedelta(hours=4), matching.settings).providers[volunteer]
    assert accepted.open_tasks == 1 and accepted.hours_in_week(iso_week(TOMORROW_9)) == 3.0
    assert over.open_tasks == 0 and over.hours_in_week(iso_week(TOMORROW_9)) == 0.0


def test_a_declined_helper_place_no_longer_counts(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    wanted(matching)
    [offer] = offers(matching)
    answer(matching, offer, "decline", "no_time")
    with matching.service.db.transaction() as session:
        p = world_module.load_world(session, matching.now, matching.settings).providers[volunteer]
    assert p.open_tasks == 0 and p.hours_in_week(iso_week(TOMORROW_9)) == 0.0


def test_a_provider_at_their_open_task_limit_through_helper_places_gets_no_visit_and_no_further_place(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(max_open_tasks=1)
    wanted(matching)
    [offer] = offers(matching)
    answer(matching, offer, "accept")
    need_id = matching.need(start=TOMORROW_9 + timedelta(hours=4))  # free then, but the one task is taken
    assert matching.matches(need_id=need_id) == []
    wanted(matching, starts_at=(TOMORROW_9 + timedelta(days=1)).isoformat(),
           ends_at=(TOMORROW_9 + timedelta(days=1, hours=2)).isoformat())
    assert [o["volunteer_id"] for o in offers(matching)] == [volunteer]  # only the first place


def test_helper_places_use_up_the_weekly_hours_for_visits_in_the_activity_s_week(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(capacity_hours_per_week=4)
    wanted(matching)  # 3 hours
    [offer] = offers(matching)
    answer(matching, offer, "accept")
    two_hours = matching.need(start=TOMORROW_9 + timedelta(hours=4), duration_minutes=120)
    assert matching.matches(need_id=two_hours) == []
    one_hour = matching.need(start=TOMORROW_9 + timedelta(hours=4), duration_minutes=60)
    assert matching.match_of(one_hour)["volunteer_id"] == volunteer


def test_a_cancelled_helper_place_frees_the_load(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(max_open_tasks=1)
    activity = wanted(matching)
    matching.publish("community", "ActivityCancelled", activity, {"activity_id": activity})
    with matching.service.db.engine.connect() as conn:
        assert conn.execute(sa.select(helper_offers.c.status)).scalars().all() == ["cancelled"]
    need_id = matching.need(start=TOMORROW_9 + timedelta(hours=4))
    assert matching.match_of(need_id)["volunteer_id"] == volunteer
