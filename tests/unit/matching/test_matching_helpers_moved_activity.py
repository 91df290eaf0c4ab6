"""An activity moved to a new time (community republishes HelpersWanted): an accepted helper stays only if they
are free for the whole new time; their own place at this activity does not count as busy."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bench.matching.service_harness import TOMORROW_9
from services.matching.db import helper_offers


def wanted(matching, activity_id: str, start, hours: int = 3) -> None:  # type: ignore[no-untyped-def]
    data = {"activity_id": activity_id, "count": 1, "involves_children": False, "category": None,
            "village": "zagnansk", "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat(),
            "kind": "event"}
    matching.publish("community", "HelpersWanted", activity_id, data)


def accept_all(matching) -> None:  # type: ignore[no-untyped-def]
    with matching.service.db.engine.connect() as conn:
        rows = list(conn.execute(sa.select(helper_offers).where(helper_offers.c.status == "offered")).mappings())
    for offer in rows:
        matching.publish("notifications", "ProviderResponded", offer["id"], {
            "match_id": offer["id"], "volunteer_id": offer["volunteer_id"], "response": "accept", "reason": "",
            "activity_id": offer["activity_id"]})


def cancelled(matching) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return list(matching.events("HelperCancelled"))


def test_a_helper_free_at_the_new_time_keeps_the_place(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(offer=False)
    matching.offer(volunteer, available_to=(TOMORROW_9 + timedelta(hours=6)).isoformat())
    activity = str(uuid.uuid4())
    wanted(matching, activity, TOMORROW_9)
    accept_all(matching)
    assert [e["volunteer_id"] for e in matching.events("HelperAccepted")] == [volunteer]
    wanted(matching, activity, TOMORROW_9 + timedelta(hours=1))  # overlaps its own old time: still free
    assert cancelled(matching) == []


def test_a_helper_no_longer_free_at_the_new_time_is_withdrawn_and_the_place_offered_again(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer(offer=False)
    matching.offer(volunteer, available_to=(TOMORROW_9 + timedelta(hours=6)).isoformat())
    activity = str(uuid.uuid4())
    wanted(matching, activity, TOMORROW_9)
    accept_all(matching)
    later = matching.volunteer()  # free the whole fortnight
    wanted(matching, activity, TOMORROW_9 + timedelta(days=1))  # the first one's offer ends before it
    [withdrawn] = cancelled(matching)
    assert (withdrawn["volunteer_id"], withdrawn["reason"], withdrawn["accepted"]) == (volunteer, "activity_updated",
                                                                                      True)
    assert matching.events("HelperOffered")[-1]["volunteer_id"] == later


def test_a_helper_busy_at_another_activity_at_the_new_time_is_withdrawn(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    wanted(matching, first, TOMORROW_9)
    accept_all(matching)
    wanted(matching, second, TOMORROW_9 + timedelta(hours=5))
    accept_all(matching)
    assert sorted(e["activity_id"] for e in matching.events("HelperAccepted")) == sorted([first, second])
    wanted(matching, first, TOMORROW_9 + timedelta(hours=4))  # now overlaps the second
    [withdrawn] = cancelled(matching)
    assert (withdrawn["activity_id"], withdrawn["volunteer_id"]) == (first, volunteer)
