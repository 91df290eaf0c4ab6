"""Helpers wanted at a community activity: its places offered to eligible providers one by one, with the
matcher's own legal gates (area, time, agreement, Kamilka for an activity with children)."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bench.matching.service_harness import TOMORROW_9
from services.matching.db import helper_offers

KAMILKA = {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-12-31",
           "credential_id": "00000000-0000-4000-8000-00000000ca11"}


def wanted(matching, count: int = 1, children: bool = False, **over: Any) -> str:  # type: ignore[no-untyped-def]
    data = {"activity_id": str(uuid.uuid4()), "count": count, "involves_children": children, "category": None,
            "village": "zagnansk", "starts_at": TOMORROW_9.isoformat(),
            "ends_at": (TOMORROW_9 + timedelta(hours=3)).isoformat(), "kind": "event", **over}
    matching.publish("community", "HelpersWanted", data["activity_id"], data)
    return str(data["activity_id"])


def offers(matching, **where: Any) -> list[sa.RowMapping]:  # type: ignore[no-untyped-def]
    query = sa.select(helper_offers).order_by(helper_offers.c.created_at, helper_offers.c.id)
    for name, value in where.items():
        query = query.where(helper_offers.c[name] == value)
    with matching.service.db.engine.connect() as conn:
        return list(conn.execute(query).mappings())


def answer(matching, offer: Any, response: str, reason: str = "") -> None:  # type: ignore[no-untyped-def]
    matching.publish("notifications", "ProviderResponded", offer["id"], {
        "match_id": offer["id"], "volunteer_id": offer["volunteer_id"], "response": response, "reason": reason,
        "activity_id": offer["activity_id"]})


def test_helper_places_are_offered_to_as_many_eligible_providers_as_are_missing(matching) -> None:  # type: ignore[no-untyped-def]
    near = [matching.volunteer(), matching.volunteer()]
    matching.volunteer(village="kajetanow", radius_km=15)
    activity = wanted(matching, count=2)
    sent = matching.events("HelperOffered")
    assert sorted(e["volunteer_id"] for e in sent) == sorted(near)
    assert {e["activity_id"] for e in sent} == {activity}
    assert all(e["deadline"] == (matching.now + matching.settings.offer_deadline).isoformat() for e in sent)
    assert matching.events("MatchProposed") == []  # an activity is not a need


def test_no_name_or_contact_goes_on_the_bus_with_an_offer(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    wanted(matching)
    [event] = matching.events("HelperOffered")
    assert set(event) <= {"type", "match_id", "activity_id", "volunteer_id", "deadline", "village", "starts_at",
                          "ends_at", "involves_children", "kind", "category"}
    assert "phone" not in json.dumps(event)


def test_an_activity_with_children_is_offered_only_to_kamilka_cleared_volunteers(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    cleared = matching.volunteer(credentials=[KAMILKA])
    wanted(matching, count=2, children=True)
    assert [e["volunteer_id"] for e in matching.events("HelperOffered")] == [cleared]


def test_a_check_that_ends_before_the_activity_does_not_count(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(credentials=[{**KAMILKA, "valid_until": "2026-11-26"}])
    wanted(matching, children=True)
    assert matching.events("HelperOffered") == []


def test_a_volunteer_without_an_agreement_out_of_the_area_paused_or_free_too_late_is_not_asked(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(agreement=False)
    matching.volunteer(village="kajetanow", radius_km=0)
    paused = matching.volunteer()
    matching.publish("volunteers", "VolunteerPaused", paused, {"volunteer_id": paused})
    later = matching.volunteer(offer=False)
    matching.offer(later, available_from=(TOMORROW_9 + timedelta(days=1)).isoformat())
    activity = wanted(matching, count=3)
    assert matching.events("HelperOffered") == []
    able = matching.volunteer()  # a newcomer is asked for the places still missing
    assert [(e["activity_id"], e["volunteer_id"]) for e in matching.events("HelperOffered")] == [(activity, able)]


def test_acceptance_fills_a_place_and_withdraws_no_one_else_while_places_remain(matching) -> None:  # type: ignore[no-untyped-def]
    first, second = matching.volunteer(), matching.volunteer()
    activity = wanted(matching, count=2)
    for offer in offers(matching):
        answer(matching, offer, "accept")
    accepted = matching.events("HelperAccepted")
    assert sorted(e["volunteer_id"] for e in accepted) == sorted([first, second])
    assert {e["activity_id"] for e in accepted} == {activity}
    assert matching.events("HelperCancelled") == []


def test_a_decline_offers_the_place_to_the_next_provider(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.volunteer(village="kajetanow", radius_km=15)
    wanted(matching)
    [first] = offers(matching)
    answer(matching, first, "decline", "Nie mam wtedy czasu")
    [declined] = matching.events("HelperDeclined")
    assert declined["reason"] == "Nie mam wtedy czasu"
    [nxt] = offers(matching, status="offered")
    assert nxt["volunteer_id"] != first["volunteer_id"]


def test_no_answer_by_the_deadline_expires_the_offer_and_asks_the_next(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.volunteer(village="kajetanow", radius_km=15)
    wanted(matching)
    [first] = offers(matching)
    matching.now += matching.settings.offer_deadline
    assert matching.tick()["expired"] == 1
    assert matching.events("HelperExpired")[0]["match_id"] == first["id"]
    [nxt] = offers(matching, status="offered")
    assert nxt["volunteer_id"] != first["volunteer_id"]
    answer(matching, first, "accept")  # too late: changes nothing, but the provider is told not to come
    assert matching.events("HelperAccepted") == []
    [late] = matching.events("HelperCancelled")
    assert (late["match_id"], late["reason"], late["accepted"]) == (first["id"], "answer_too_late", True)
    assert [r["status"] for r in offers(matching, id=first["id"])] == ["expired"]


def test_a_cancelled_activity_withdraws_its_offers_and_acceptances(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.volunteer()
    activity = wanted(matching, count=2)
    first, _ = offers(matching)
    answer(matching, first, "accept")
    matching.publish("community", "ActivityCancelled", activity, {"activity_id": activity})
    cancelled = matching.events("HelperCancelled")
    assert {e["reason"] for e in cancelled} == {"activity_cancelled"}
    assert sorted(e["accepted"] for e in cancelled) == [False, True]
    wanted(matching, activity_id=activity)  # a late repeat of the request does not reopen it
    assert len(matching.events("HelperOffered")) == 2


def test_a_revoked_kamilka_check_withdraws_the_helper_from_an_activity_with_children(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(credentials=[KAMILKA])
    wanted(matching, children=True)
    [offer] = offers(matching)
    answer(matching, offer, "accept")
    matching.publish("volunteers", "CredentialRevoked", volunteer, {
        "volunteer_id": volunteer, "kind": "kamilka_check", "credential_id": KAMILKA["credential_id"],
        "reason": "revoked_by_staff"})
    [cancelled] = matching.events("HelperCancelled")
    assert (cancelled["reason"], cancelled["accepted"]) == ("credential_revoked", True)


def test_a_lower_count_withdraws_the_offers_no_longer_needed(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.volunteer()
    activity = wanted(matching, count=2)
    first, _ = offers(matching)
    answer(matching, first, "accept")
    wanted(matching, count=1, activity_id=activity)
    [cancelled] = matching.events("HelperCancelled")
    assert cancelled["reason"] == "covered" and cancelled["match_id"] != first["id"]


def test_a_need_answer_still_reaches_the_need_cascade(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = matching.need()
    matching.approve(matching.match_of(need_id)["id"])
    matching.respond(matching.match_of(need_id, "offered")["id"], volunteer, "accept")
    assert matching.events("MatchAccepted")[0]["need_id"] == need_id


def test_a_helper_place_takes_the_provider_s_time_for_visits_and_other_activities(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    first = wanted(matching)
    [offer] = offers(matching)
    answer(matching, offer, "accept")
    wanted(matching, starts_at=(TOMORROW_9 + timedelta(hours=1)).isoformat())  # overlaps the first
    assert [e["activity_id"] for e in matching.events("HelperOffered")] == [first]
    need_id = matching.need(start=TOMORROW_9, window_end=(TOMORROW_9 + timedelta(hours=3)).isoformat(),
                            duration_minutes=60)
    assert matching.matches(need_id=need_id) == []  # the activity fills the whole window
    later = matching.need(start=TOMORROW_9 + timedelta(hours=3))
    assert matching.match_of(later)["volunteer_id"] == volunteer
