"""The organising plan, activities, groups and partners on PostgreSQL and SQLite alike (migrations, not
metadata.create_all): the whole year of one action, and the last place of an activity taken once under contention."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from contracts import community as contract
from services.community import plan_handlers as h
from services.community.app import create_app
from services.community.db import make_db
from services.community.handlers import on_provider
from wspolnota.errors import DomainError, Refused
from wspolnota.transport import Catalog, Event, decode
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = "0f0f0f0f-1111-4222-8333-444444444444"
HELPER = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    database = make_db(database_url)
    database.migrate()
    yield database
    database.dispose()


def published(db, event_type: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(db.outbox.c.body).order_by(db.outbox.c.id)).all()
    return [e.data for e in map(decode, (r.body for r in rows)) if e.type == event_type]


def test_a_plan_year_with_an_activity_a_group_and_a_partner_works_on_this_database(db) -> None:  # type: ignore[no-untyped-def]
    outbox = Outbox(db, Catalog(contract.EVENTS))
    with db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", ORG, {"volunteer_id": ORG, "provider_type": "partner_organisation",
                                                          "villages": ["belno"]}, "volunteers"))
        on_provider(s, Event("VolunteerRegistered", HELPER, {"volunteer_id": HELPER, "provider_type": "volunteer",
                                                             "villages": ["belno"]}, "volunteers"))
        plan_id = h.create_plan(s, "Plan 2026", date(2026, 1, 1), date(2026, 12, 31), NOW)
        goal_id = h.add_goal(s, plan_id, "Seniorzy aktywni", NOW)
        action_id = h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Warsztaty", "villages": ["belno"],
                                              "partners": [ORG]}, NOW)
        h.add_indicator(s, plan_id, {"goal_id": goal_id, "title": "Godziny wolontariuszy", "source": "volunteer_hours",
                                     "baseline": 0, "target": 20}, NOW)
        h.approve_plan(s, outbox, plan_id, "dyrektor", NOW)
        start = NOW + timedelta(days=2)
        [activity_id] = h.schedule_activity(s, outbox, {
            "kind": "workshop", "title": "Warsztaty", "village": "belno", "starts_at": start,
            "ends_at": start + timedelta(hours=2), "capacity": 10, "helpers_wanted": 1, "action_id": action_id}, NOW)
        present = h.register(s, activity_id, "Anna Nowak", "", "staff", NOW)
        h.record_attendance(s, outbox, activity_id, [present], {HELPER: 2.5}, start + timedelta(hours=2))
        group_id = h.create_group(s, {"name": "Grupa", "village": "belno", "facilitator": "Maria",
                                      "schedule": "wtorki", "action_id": action_id}, NOW)
        member = h.add_member(s, group_id, "Jan Kowalski", "", date(2026, 3, 1))
        h.record_group_meeting(s, group_id, date(2026, 3, 1), [member], "", NOW)
        h.log_cooperation(s, ORG, date(2026, 3, 1), "joint_action", "warsztaty", "osl", NOW, action_id)
    with db.transaction() as s:
        report = h.yearly_report(s, plan_id, 2026)
        assert h.yearly_report(s, plan_id, 2025)["goals"][0]["figures"]["activities_held"] == 0
    [goal] = report["goals"]
    assert goal["figures"] == {"activities_held": 1, "participants": 1, "volunteer_hours": 2.5, "group_meetings": 1,
                               "partners": 1}
    assert goal["indicators"][0]["value"] == 2.5
    assert published(db, "ParticipationRecorded") == [
        {"activity_id": activity_id, "provider_id": HELPER, "hours": 2.5, "held_on": "2026-03-04", "kind": "workshop"}]
    assert [e["version"] for e in published(db, "PlanApproved")] == [1]


def test_the_last_place_goes_to_one_resident_when_several_register_at_once(db) -> None:  # type: ignore[no-untyped-def]
    outbox = Outbox(db, Catalog(contract.EVENTS))
    start = NOW + timedelta(days=2)
    with db.transaction() as s:
        [activity_id] = h.schedule_activity(s, outbox, {
            "kind": "meeting", "title": "Spotkanie", "village": "belno", "starts_at": start,
            "ends_at": start + timedelta(hours=1), "capacity": 1}, NOW)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def register(n: int) -> None:
        barrier.wait()
        try:
            with db.transaction() as s:
                h.register(s, activity_id, f"Osoba {n}", "", "public", NOW)
            outcomes.append("registered")
        except Refused as err:
            outcomes.append(err.message)
        except DomainError as err:  # pragma: no cover - would be a wrong answer, shown by the assertion
            outcomes.append(repr(err))

    threads = [threading.Thread(target=register, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["Brak wolnych miejsc."] * 3 + ["registered"]
    with db.transaction() as s:
        assert h.registered_count(s, activity_id) == 1


def test_the_app_starts_on_this_database_and_answers_the_plan_api(database_url: str, db) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "AUTH_DISABLED": True})
    client = app.test_client()
    created = client.post("/api/plans", json={"title": "Plan", "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    assert created.status_code == 201
    assert client.get(f"/api/plans/{created.json['id']}").json["status"] == "draft"
    app.extensions["db"].dispose()
