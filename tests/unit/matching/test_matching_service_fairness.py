"""Fairness and continuity through the service: villages left behind get a boost; a series keeps its volunteer."""
from __future__ import annotations

from datetime import timedelta

from bench.matching.service_harness import NOW, TOMORROW_9
from services.matching import schedule, world


def past_needs(matching, unserved_in: str, served_in: str) -> None:  # type: ignore[no-untyped-def]
    """Two days ago: one need nobody could take, one need a volunteer took."""
    matching.now = NOW - timedelta(days=3)
    matching.need(village=unserved_in, start=NOW - timedelta(days=2))
    volunteer = matching.volunteer(village=served_in, offer=False)
    matching.offer(volunteer, village=served_in, available_from=(NOW - timedelta(days=5)).isoformat())
    served = matching.need(village=served_in, start=NOW - timedelta(days=2))
    matching.approve(matching.match_of(served)["id"])
    matching.respond(matching.match_of(served, "offered")["id"], volunteer, "accept")
    matching.now = NOW


def test_a_village_whose_past_needs_went_unserved_is_behind(matching) -> None:  # type: ignore[no-untyped-def]
    past_needs(matching, unserved_in="umer", served_in="zagnansk")
    with matching.service.db.transaction() as session:
        villages, categories = schedule.deficits(world.load_world(session, NOW, matching.settings), NOW)
    assert villages == {"umer": 0.5}
    assert categories == {}


def test_the_deficit_boost_shows_in_the_explanation_of_a_proposal_in_that_village(matching) -> None:  # type: ignore[no-untyped-def]
    past_needs(matching, unserved_in="umer", served_in="zagnansk")
    matching.volunteer(village="umer")
    behind = matching.need(village="umer")
    ahead = matching.need(village="zagnansk")
    boost = matching.settings.weights.deficit_boost
    assert matching.match_of(behind)["explanation"]["terms"]["deficit"] == boost // 2
    assert matching.match_of(ahead)["explanation"]["terms"]["deficit"] == 0


def test_the_next_need_of_a_series_goes_to_the_volunteer_who_served_the_last(matching) -> None:  # type: ignore[no-untyped-def]
    regular = matching.volunteer(village="kajetanow", radius_km=10)
    first = matching.need(series_id="S-1", continuity=True, category="ZAK")
    matching.approve(matching.match_of(first)["id"])
    matching.respond(matching.match_of(first, "offered")["id"], regular, "accept")
    matching.volunteer()  # nearer, but new to this resident
    following = matching.need(series_id="S-1", continuity=True, start=TOMORROW_9 + timedelta(days=7))
    proposal = matching.match_of(following)
    assert proposal["volunteer_id"] == regular
    assert proposal["explanation"]["terms"]["continuity"] == matching.settings.weights.continuity_bonus
