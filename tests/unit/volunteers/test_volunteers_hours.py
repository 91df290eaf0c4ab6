"""The hours ledger: hours from community activities (ParticipationRecorded) and visits (MatchCompleted), counted
once however often an event arrives, corrected by a later event, and shown on the profile page and API."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import community as community_contract
from contracts import matching as match_contract
from services.volunteers import handlers, hours
from services.volunteers.db import hours_ledger
from tests.unit.volunteers.conftest import NOW, TODAY, count, make_app, register
from wspolnota import config
from wspolnota.db import Database
from wspolnota.testing import signed_in
from wspolnota.transport import Event, encode
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.memory import MemoryBroker

ACTIVITY = "aaaaaaaa-1111-4222-8333-444444444444"
OTHER_ACTIVITY = "bbbbbbbb-1111-4222-8333-444444444444"
MATCH = "cccccccc-1111-4222-8333-444444444444"
NEED = "dddddddd-1111-4222-8333-444444444444"


def participation(provider_id: str, hours_given: float, activity_id: str = ACTIVITY, held_on: str = "2031-01-10",
                  at: datetime = NOW) -> Event:
    return Event("ParticipationRecorded", provider_id, {"activity_id": activity_id, "provider_id": provider_id,
                                                         "hours": hours_given, "held_on": held_on},
                 "community", time=at)


def completed(provider_id: str, hours_given: float, match_id: str = MATCH, at: datetime = NOW) -> Event:
    return Event("MatchCompleted", NEED, {"match_id": match_id, "need_id": NEED, "volunteer_id": provider_id,
                                          "hours": hours_given}, "matching", time=at)


def handle(db: Database, *events: Event) -> None:
    """Each event through the service's own consumer handler, each in its own transaction."""
    table = handlers.handlers(None)  # type: ignore[arg-type]  # the consumed events write no outbox rows
    for event in events:
        with db.transaction() as session:
            table[event.type](session, event)


def summary(db: Database, provider_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        return hours.summary(session, provider_id, TODAY)


def test_the_volunteers_consumer_listens_to_community_and_handles_both_sources_of_hours() -> None:
    assert community_contract.TOPIC in handlers.SUBSCRIPTIONS and match_contract.TOPIC in handlers.SUBSCRIPTIONS
    assert {"ParticipationRecorded", "MatchCompleted"} <= set(handlers.handlers(None))  # type: ignore[arg-type]


def test_hours_from_activities_and_visits_add_up_per_source(db, client) -> None:
    volunteer = register(client)
    handle(db, participation(volunteer, 3.5), participation(volunteer, 2, activity_id=OTHER_ACTIVITY),
           completed(volunteer, 1.25))
    assert summary(db, volunteer) == {
        "provider_id": volunteer, "year": 2031, "total": 6.75, "this_year": 6.75, "count": 3,
        "visits": {"total": 1.25, "this_year": 1.25, "count": 1},
        "activities": {"total": 5.5, "this_year": 5.5, "count": 2}}


def test_the_same_event_handled_twice_is_counted_once(db, client) -> None:
    volunteer = register(client)
    event = participation(volunteer, 3)
    visit = completed(volunteer, 1)
    handle(db, event, visit, event, visit)
    assert count(db, "hours_ledger") == 2
    assert summary(db, volunteer)["total"] == 4


def test_a_later_record_of_the_same_activity_corrects_the_hours(db, client) -> None:
    volunteer = register(client)
    first = participation(volunteer, 3, at=NOW)
    correction = participation(volunteer, 2.5, at=NOW + timedelta(hours=1))
    handle(db, first, correction)
    assert summary(db, volunteer)["activities"] == {"total": 2.5, "this_year": 2.5, "count": 1}


def test_an_older_record_arriving_after_its_correction_changes_nothing(db, client) -> None:
    volunteer = register(client)
    first = participation(volunteer, 3, at=NOW)
    correction = participation(volunteer, 2.5, at=NOW + timedelta(hours=1))
    handle(db, correction, first)
    assert summary(db, volunteer)["activities"]["total"] == 2.5


def test_this_year_is_the_warsaw_calendar_year(db, client) -> None:
    volunteer = register(client)
    last_year = participation(volunteer, 4, held_on="2030-12-31")
    # 23:30 UTC on New Year's Eve is already 1 January in Warsaw: the visit counts for the new year
    new_year_night = completed(volunteer, 1.5, at=datetime(2030, 12, 31, 23, 30, tzinfo=UTC))
    handle(db, last_year, new_year_night)
    figures = summary(db, volunteer)
    assert (figures["total"], figures["this_year"]) == (5.5, 1.5)
    assert figures["activities"] == {"total": 4, "this_year": 0, "count": 1}


def test_a_replayed_message_on_the_bus_is_counted_once(db, client) -> None:
    volunteer = register(client)
    broker = MemoryBroker()
    topic = config.topic(community_contract.TOPIC)
    loop = ConsumerLoop("volunteers", broker.consumer("volunteers", [topic]), broker.producer(), db,
                        handlers.CONSUMES, handlers.handlers(None))  # type: ignore[arg-type]
    message = encode(participation(volunteer, 3))
    producer = broker.producer()
    for _ in range(2):  # the relay published it, and a replay published it again
        producer.send(topic, volunteer.encode(), message)
    producer.flush()
    loop.run_once(0)
    assert loop.stats["handled"] == 1 and loop.stats["duplicates"] == 1
    assert summary(db, volunteer)["total"] == 3


def test_the_hours_api_shows_totals_sources_and_entries(db, client) -> None:
    volunteer = register(client)
    handle(db, participation(volunteer, 3.5), completed(volunteer, 1))
    response = client.get(f"/api/volunteers/{volunteer}/hours")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["total"], body["this_year"], body["year"]) == (4.5, 4.5, 2031)
    assert body["visits"]["total"] == 1 and body["activities"]["total"] == 3.5
    assert sorted((e["source"], e["source_id"], e["hours"]) for e in body["entries"]) == [
        ("activity", ACTIVITY, 3.5), ("visit", MATCH, 1)]


def test_the_hours_of_an_unknown_provider_are_not_found(client) -> None:
    assert client.get(f"/api/volunteers/{uuid.uuid4()}/hours").status_code == 404


def test_a_provider_without_hours_has_zeros(db, client) -> None:
    volunteer = register(client)
    assert client.get(f"/api/volunteers/{volunteer}/hours").json["total"] == 0


def test_the_profile_page_shows_the_hours_per_source(db, client) -> None:
    volunteer = register(client)
    handle(db, participation(volunteer, 3.5), completed(volunteer, 0.75),
           participation(volunteer, 2, activity_id=OTHER_ACTIVITY, held_on="2030-11-20"))
    page = client.get(f"/wykonawcy/{volunteer}").get_data(as_text=True)
    assert "Przepracowane godziny" in page and "W roku 2031" in page
    assert "<td>3,5</td><td>5,5</td><td>2</td>" in page  # activities: this year, in total, how many
    assert "<td>0,75</td><td>0,75</td><td>1</td>" in page  # visits: a 45-minute visit is not rounded away
    assert "<td>4,25</td><td>6,25</td><td>3</td>" in page  # altogether
    english = client.get(f"/wykonawcy/{volunteer}?lang=en").get_data(as_text=True)
    assert "Hours worked" in english and "<td>4.25</td><td>6.25</td><td>3</td>" in english


@pytest.mark.parametrize("role", ["social_worker", "auditor"])
def test_every_staff_role_may_read_the_hours_and_nobody_signed_out(db, client, role) -> None:
    volunteer = register(client)
    guarded = make_app(db, SECRET_KEY="hours")
    assert signed_in(guarded.test_client(), role).get(f"/api/volunteers/{volunteer}/hours").status_code == 200
    assert guarded.test_client().get(f"/api/volunteers/{volunteer}/hours").status_code == 401


def test_the_ledger_keeps_no_personal_data() -> None:
    assert set(hours_ledger.c.keys()) == {"provider_id", "source", "source_id", "hours", "on_date", "event_id",
                                          "event_time", "recorded_at", "category"}
