"""All services on the in-memory bus: a visit accepted through notify's offer link ends; two hours later matching's
job asks "did it happen?", notify books one question for the volunteer, the volunteer answers the link with 90
minutes, and the match is completed in matching and needs with the hours in the volunteer's ledger at once.
The job run again asks nothing more."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem, ManualClock, utc_now

START = (utc_now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(utc_now())


@pytest.fixture
def system(tmp_path: Path, clock: ManualClock) -> Iterator[InMemorySystem]:
    s = InMemorySystem(tmp_path, clock=clock)
    yield s
    s.close()


def ledger(system: InMemorySystem, kind: str) -> list[sa.RowMapping]:
    from services.notify.db import notifications

    with system["notify"].db.engine.connect() as conn:
        return list(conn.execute(sa.select(notifications).where(notifications.c.kind == kind)).mappings())


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_visit_confirmed_through_the_did_it_happen_link_counts_its_hours(system, clock) -> None:  # type: ignore[no-untyped-def]
    from services.matching import visit_checks
    from services.matching.app import create_app as matching_app
    from services.needs.app import create_app as needs_app
    from services.needs.bootstrap import bootstrap as needs_bootstrap
    from services.notify import responses
    from services.notify.app import create_app as notify_app
    from services.notify.bootstrap import bootstrap as notify_bootstrap
    from services.volunteers.app import create_app as volunteers_app

    def config(name: str) -> dict[str, Any]:
        return {"DATABASE_URL": system[name].db.url, "TESTING": True, "AUTH_DISABLED": True}
    needs = needs_app(config("needs"), parts=needs_bootstrap(system["needs"].db.url, clock=clock)).test_client()
    volunteers = volunteers_app(config("volunteers")).test_client()
    matching = matching_app({**config("matching"), "MATCHING_CLOCK": clock}).test_client()
    notify_parts = notify_bootstrap(system["notify"].db.url, clock=clock)
    links = notify_app(config("notify"), parts=notify_parts).test_client()

    volunteer_id = volunteers.post("/api/volunteers", json={
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
        "villages": ["belno"]}).json["id"]
    volunteers.post(f"/api/volunteers/{volunteer_id}/credentials", json=WRITTEN_AGREEMENT)
    volunteers.post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["ZAK"], "available_from": START.isoformat(),
        "available_to": (START + timedelta(hours=8)).isoformat()})
    need_id = needs.post("/api/needs", json={
        "resident_ref": "M-TEST01", "category": "ZAK", "village": "belno", "description": "Zakupy",
        "window_start": START.isoformat(), "window_end": (START + timedelta(hours=4)).isoformat(),
        "duration_minutes": 60}).json["id"]
    system.pump()
    [proposal] = [p for p in matching.get("/api/proposals").json if p["need_id"] == need_id]
    assert matching.post(f"/api/matches/{proposal['id']}/approve", json={}).status_code == 200
    system.pump()
    [offered] = ledger(system, "match_offered")[:1]
    offer = responses.find_offer(system["notify"].db, offered["cause_event_id"])
    assert offer is not None
    responses.respond(system["notify"].db, system["notify"].outbox, offer, "accept")
    system.pump()
    assert needs.get(f"/api/needs/{need_id}").json["status"] == "accepted"

    clock.advance(START + timedelta(hours=7) - clock())  # the visit is over (it lay within 9:00–13:00)
    assert [c.match_id for c in visit_checks.ask_visit_checks(system["matching"].db, clock())] == [proposal["id"]]
    assert visit_checks.ask_visit_checks(system["matching"].db, clock()) == []
    system.pump()
    asked = ledger(system, "visit_check")
    assert sorted(r["channel"] for r in asked) == ["email", "sms"]
    link = "/w/" + re.search(r"/w/([A-Za-z0-9_\-.]+)", asked[0]["body"]).group(1)  # type: ignore[union-attr]
    page = links.get(link).get_data(as_text=True)
    assert links.post(link, data={"csrf_token": csrf(page), "minutes": "90", "happened": "1"}).status_code == 302
    system.pump()

    assert matching.get(f"/api/matches/{proposal['id']}").json["status"] == "completed"
    assert needs.get(f"/api/needs/{need_id}").json["status"] == "completed"
    hours = volunteers.get(f"/api/volunteers/{volunteer_id}/hours").json
    assert hours["visits"]["total"] == 1.5 and hours["visits"]["count"] == 1
    assert all(system[name].loop.stats["dead_lettered"] == 0 for name in ("matching", "needs", "notify", "volunteers"))
