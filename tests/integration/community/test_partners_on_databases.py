"""The partner register across the two services on PostgreSQL and SQLite alike (migrations, not create_all): the
volunteers register takes an organisation's KRS (and refuses a bad one, leaving nothing), its events carry the
organisation's identity and never a person's name, community follows them into the partner pages; a plan action
follows its held activities through the store."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from contracts import community as community_contract
from contracts import volunteers as volunteer_contract
from services.community import plan_handlers as h
from services.community.db import make_db as community_db
from services.community.handlers import handlers as community_handlers
from services.volunteers.app import create_app as volunteers_app
from services.volunteers.db import make_db as volunteers_db
from wspolnota.transport import Catalog, decode
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = {"name": "Koło Gospodyń Wiejskich w Belnie", "provider_type": "partner_organisation",
       "organisation_kind": "kgw", "contact_person": "Maria Kowalska", "email": "kgw@example.pl",
       "phone": "+48 601 202 303", "villages": ["belno"]}
PERSON = {"name": "Bożydar Zawistowski", "email": "bozydar@example.pl", "phone": "+48 602 303 404",
          "villages": ["belno"]}


def test_an_organisations_krs_reaches_the_partner_pages_and_a_persons_name_goes_nowhere(
        new_database: Callable[[], str]) -> None:
    vdb, cdb = volunteers_db(new_database()), community_db(new_database())
    vdb.migrate()
    cdb.migrate()
    client = volunteers_app({"DATABASE_URL": vdb.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
    try:
        bad = client.post("/api/volunteers", json={**ORG, "krs": "12345"})
        assert bad.status_code == 422 and bad.json["errors"]["json"]["krs"] == ["Numer KRS ma 10 cyfr."]
        org_id = client.post("/api/volunteers", json={**ORG, "krs": "0000123456"}).json["id"]
        person_id = client.post("/api/volunteers", json=PERSON).json["id"]
        assert client.patch(f"/api/volunteers/{org_id}", json={"name": "KGW Belnianki"}).status_code == 200
        assert client.patch(f"/api/volunteers/{person_id}", json={"krs": "0000123456"}).status_code == 422
        with vdb.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM volunteers")).scalar_one()
            bodies = conn.execute(sa.select(vdb.outbox.c.body).order_by(vdb.outbox.c.id)).scalars().all()
        assert stored == 2
        events = [decode(b) for b in bodies]
        raw = " ".join(b.decode() if isinstance(b, bytes) else str(b) for b in bodies)
        assert "Bożydar" not in raw and "Bo\\u017cydar" not in raw and "Kowalska" not in raw
        follow = community_handlers(Outbox(cdb, Catalog(community_contract.EVENTS)))
        with cdb.transaction() as s:
            for event in events:  # as the consumer hands them over: validated with the contract first
                loaded = volunteer_contract.EVENTS[event.type]().load(event.data)
                follow[event.type](s, dataclasses.replace(event, data=loaded))
            network = h.partner_network(s)
            only_osp = h.partner_network(s, "osp")
        [partner] = network
        assert (partner["org_id"], partner["name"], partner["kind"], partner["krs"]) == (
            org_id, "KGW Belnianki", "kgw", "0000123456")
        assert only_osp == []
    finally:
        vdb.dispose()
        cdb.dispose()


def test_a_plan_action_follows_its_held_activities_on_this_database(database_url: str) -> None:
    db = community_db(database_url)
    db.migrate()
    outbox = Outbox(db, Catalog(community_contract.EVENTS))
    try:
        with db.transaction() as s:
            plan_id = h.create_plan(s, "Plan 2026", date(2026, 1, 1), date(2026, 12, 31), NOW)
            goal_id = h.add_goal(s, plan_id, "Seniorzy aktywni", NOW)
            action_id = h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Warsztaty"}, NOW)
            start = NOW + timedelta(days=1)
            first, second, third = h.schedule_activity(s, outbox, {
                "kind": "series", "title": "Warsztaty", "village": "belno", "starts_at": start,
                "ends_at": start + timedelta(hours=2), "every_days": 7, "count": 3, "action_id": action_id}, NOW)
        later = NOW + timedelta(days=30)
        with db.transaction() as s:
            h.record_attendance(s, outbox, first, [], {}, later)
        with db.transaction() as s:
            action = h.get_action(s, action_id)
            assert (action["status"], action["percent_done"], action["progress_by_hand"]) == ("in_progress", 33, False)
            h.cancel_activity(s, outbox, third, later)
            h.record_attendance(s, outbox, second, [], {}, later)
        with db.transaction() as s:
            action = h.get_action(s, action_id)
            assert (action["status"], action["percent_done"]) == ("done", 100)
            h.set_action_progress(s, action_id, "in_progress", 80, later)  # staff reopen it by hand
            [fourth] = h.schedule_activity(s, outbox, {
                "kind": "workshop", "title": "Warsztaty", "village": "belno", "starts_at": later,
                "ends_at": later + timedelta(hours=2), "action_id": action_id}, later)
            h.record_attendance(s, outbox, fourth, [], {}, later + timedelta(hours=3))
        with db.transaction() as s:
            action = h.get_action(s, action_id)
        assert (action["status"], action["percent_done"], action["progress_by_hand"]) == ("in_progress", 80, True)
    finally:
        db.dispose()
