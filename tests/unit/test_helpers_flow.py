"""Helpers wanted at a community activity, across the services on the in-memory bus: community asks, matching
offers the place to an eligible volunteer, notify sends the offer with signed links, the volunteer accepts by link,
matching records it and community adds the helper — never a name on the bus."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.community import plan_handlers
from services.notify.db import notifications
from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem

START = (datetime.now(UTC) + timedelta(days=3)).replace(hour=13, minute=0, second=0, microsecond=0)
TODAY = datetime.now(UTC).date()
PERSON = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303", "villages": ["belno"]}
KAMILKA = {"kind": "kamilka_check", "register_checked_on": TODAY.isoformat(), "register_result": "not_listed",
           "krk_seen_on": TODAY.isoformat(), "countries_last_20_years": ["PL"]}


@pytest.fixture
def system(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = InMemorySystem(tmp_path)
    yield s
    s.close()


@pytest.fixture
def clients(system):  # type: ignore[no-untyped-def]
    from services.community.app import create_app as community_app
    from services.notify.app import create_app as notify_app
    from services.volunteers.app import create_app as volunteers_app

    factories = {"volunteers": volunteers_app, "notify": notify_app, "community": community_app}
    return {name: f({"DATABASE_URL": system[name].db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
            for name, f in factories.items()}


def volunteer(clients, kamilka: bool = True, n: int = 0) -> str:  # type: ignore[no-untyped-def]
    api = clients["volunteers"]
    created = api.post("/api/volunteers", json={**PERSON, "email": f"zofia{n}@example.pl", "phone": f"+48 601 202 30{n}"})
    assert created.status_code == 201, created.json
    vid = created.json["id"]
    api.post(f"/api/volunteers/{vid}/credentials", json=WRITTEN_AGREEMENT)
    if kamilka:
        assert api.post(f"/api/volunteers/{vid}/credentials", json=KAMILKA).status_code == 201
    offered = api.post(f"/api/volunteers/{vid}/offers", json={
        "categories": ["TOW"], "available_from": (START - timedelta(hours=2)).isoformat(),
        "available_to": (START + timedelta(hours=6)).isoformat()})
    assert offered.status_code == 201, offered.json
    return str(vid)


def schedule(system, children: bool = True) -> str:  # type: ignore[no-untyped-def]
    community = system["community"]
    with community.db.transaction() as session:
        [activity_id] = plan_handlers.schedule_activity(session, community.outbox, {
            "kind": "event", "title": "Piknik rodzinny", "village": "belno", "venue": "Remiza OSP",
            "starts_at": START, "ends_at": START + timedelta(hours=3), "capacity": None, "helpers_wanted": 1,
            "involves_children": children}, datetime.now(UTC))
    system.pump()
    return str(activity_id)


def helper_offers(system) -> list[sa.RowMapping]:  # type: ignore[no-untyped-def]
    with system["notify"].db.engine.connect() as conn:
        return list(conn.execute(sa.select(notifications).where(notifications.c.kind == "helper_offered")
                                 .order_by(notifications.c.created_at)).mappings())


def accept_by_link(clients, email_body: str) -> None:  # type: ignore[no-untyped-def]
    path = re.search(r"Pomogę: \S*?(/o/\S+)", email_body).group(1)  # type: ignore[union-attr]
    page = clients["notify"].get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert clients["notify"].post(path, data={"csrf_token": token, "accept": "1"}).status_code == 302


def test_a_volunteer_accepts_a_helper_place_by_link_and_becomes_the_activity_s_helper(system, clients) -> None:  # type: ignore[no-untyped-def]
    uncleared = volunteer(clients, kamilka=False, n=1)
    cleared = volunteer(clients, n=2)
    system.pump()
    activity_id = schedule(system)
    offers = helper_offers(system)
    assert {o["recipient"].split(":")[-1] for o in offers} == {cleared}  # children: only a Kamilka-cleared one
    email = next(o for o in offers if o["channel"] == "email")
    assert "wydarzenie integracyjne" in email["subject"] and "Belno" in email["subject"]
    accept_by_link(clients, email["body"])
    system.pump()
    with system["community"].db.transaction() as session:
        detail = plan_handlers.activity_view(session, activity_id)
    assert [h["provider_id"] for h in detail["helpers"]] == [cleared] and detail["helpers_missing"] == 0
    assert uncleared not in {h["provider_id"] for h in detail["helpers"]}
    page = clients["community"].get(f"/activities/{activity_id}").get_data(as_text=True)
    assert cleared in page and "Brakuje pomocników: 0" in page
    everything = b"".join(m.value or b"" for topic in list(system.broker.logs)
                          for m in system.broker.messages(topic)).decode()
    for secret in ("Wiśniewska", "zofia2@example.pl", "601 202 302"):
        assert secret not in everything


def test_a_decline_passes_the_place_to_the_next_volunteer(system, clients) -> None:  # type: ignore[no-untyped-def]
    volunteer(clients, n=1)
    volunteer(clients, n=2)
    system.pump()
    schedule(system, children=False)
    [first] = [o for o in helper_offers(system) if o["channel"] == "email"]
    path = re.search(r"\(z podaniem powodu\): \S*?(/o/\S+)", first["body"]).group(1)  # type: ignore[union-attr]
    page = clients["notify"].get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    clients["notify"].post(path, data={"csrf_token": token, "decline": "1", "reason": "busy"})
    system.pump()
    emails = [o for o in helper_offers(system) if o["channel"] == "email"]
    assert len(emails) == 2 and emails[1]["recipient"] != first["recipient"]
