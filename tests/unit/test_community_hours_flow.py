"""Hours count wherever hours count: attendance recorded in the community service reaches the volunteer's profile
in the volunteers service over the in-memory bus, once, and a corrected attendance corrects the hours."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.volunteers.bootstrap import bootstrap as volunteers_bootstrap
from wspolnota.testing import InMemorySystem, ManualClock

NOW = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def system(tmp_path: Path, clock: ManualClock) -> Iterator[InMemorySystem]:
    s = InMemorySystem(tmp_path, services=("volunteers", "community"), clock=clock)
    yield s
    s.close()


@pytest.fixture
def clients(system: InMemorySystem, clock: ManualClock) -> dict[str, Any]:
    from services.community.app import create_app as community_app
    from services.volunteers.app import create_app as volunteers_app

    def config(name: str) -> dict[str, Any]:
        return {"DATABASE_URL": system[name].db.url, "TESTING": True, "AUTH_DISABLED": True}

    volunteers = volunteers_app(config("volunteers"),
                                parts=volunteers_bootstrap(system["volunteers"].db.url, clock=clock))
    return {"volunteers": volunteers.test_client(),
            "community": community_app(config("community"), clock=clock).test_client()}


def a_workshop_with_a_helper(system: InMemorySystem, clients: dict[str, Any]) -> tuple[str, str]:
    volunteer = clients["volunteers"].post("/api/volunteers", json={
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
        "villages": ["belno"]})
    assert volunteer.status_code == 201, volunteer.json
    volunteer_id = volunteer.json["id"]
    system.pump()  # the community service learns of the volunteer (VolunteerRegistered)
    start = NOW + timedelta(days=5)
    created = clients["community"].post("/api/activities", json={
        "kind": "workshop", "title": "Warsztaty rękodzieła", "village": "belno", "venue": "Świetlica w Belnie",
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat(), "capacity": 10,
        "helpers_wanted": 1})
    assert created.status_code == 201, created.json
    [activity_id] = created.json["ids"]
    helper = clients["community"].post(f"/api/activities/{activity_id}/helpers", json={"provider_id": volunteer_id})
    assert helper.status_code == 201, helper.json
    return activity_id, volunteer_id


def attendance(clients: dict[str, Any], activity_id: str, volunteer_id: str, hours: float) -> None:
    response = clients["community"].post(f"/api/activities/{activity_id}/attendance",
                                         json={"present": [], "helpers": {volunteer_id: hours}})
    assert response.status_code == 200, response.json


def test_attendance_recorded_in_community_shows_as_hours_on_the_volunteers_profile(system, clients, clock) -> None:
    activity_id, volunteer_id = a_workshop_with_a_helper(system, clients)
    clock.advance(timedelta(days=6))
    attendance(clients, activity_id, volunteer_id, 3.5)
    system.pump()
    hours = clients["volunteers"].get(f"/api/volunteers/{volunteer_id}/hours").json
    assert (hours["total"], hours["this_year"], hours["year"]) == (3.5, 3.5, 2031)
    assert hours["activities"] == {"total": 3.5, "this_year": 3.5, "count": 1}
    assert hours["visits"] == {"total": 0, "this_year": 0, "count": 0}
    assert hours["entries"] == [{"source": "activity", "source_id": activity_id, "hours": 3.5,
                                 "on_date": "2031-03-07", "category": "workshop"}]
    page = clients["volunteers"].get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    assert "Przepracowane godziny" in page and "<td>3,5</td><td>3,5</td><td>1</td>" in page


def test_a_corrected_attendance_replaces_the_hours_and_a_replay_adds_nothing(system, clients, clock) -> None:
    activity_id, volunteer_id = a_workshop_with_a_helper(system, clients)
    clock.advance(timedelta(days=6))
    attendance(clients, activity_id, volunteer_id, 3.5)
    system.pump()
    clock.advance(timedelta(hours=1))
    attendance(clients, activity_id, volunteer_id, 2)  # staff corrected the record
    system.pump()
    assert clients["volunteers"].get(f"/api/volunteers/{volunteer_id}/hours").json["total"] == 2
    assert system["community"].relay.replay() > 0  # `wspolnota replay`: every kept outbox row published again
    system.pump()
    hours = clients["volunteers"].get(f"/api/volunteers/{volunteer_id}/hours").json
    assert hours["total"] == 2 and hours["activities"]["count"] == 1
