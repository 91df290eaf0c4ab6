"""All four services on the in-memory bus: a volunteer accepts a support package's weekly series once through
notify's link, the later weeks reach needs and notify as accepted visits, and stepping back from the series
through the same link cancels them everywhere and tells the organiser once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
WEEKS = 3


@pytest.fixture
def system(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = InMemorySystem(tmp_path)
    yield s
    s.close()


@pytest.fixture
def clients(system):  # type: ignore[no-untyped-def]
    from services.matching.app import create_app as matching_app
    from services.needs.app import create_app as needs_app
    from services.volunteers.app import create_app as volunteers_app

    factories = {"needs": needs_app, "volunteers": volunteers_app, "matching": matching_app}
    return {name: f({"DATABASE_URL": system[name].db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
            for name, f in factories.items()}


def ledger(system, kind: str) -> list[sa.RowMapping]:  # type: ignore[no-untyped-def]
    from services.notify.db import notifications

    with system["notify"].db.engine.connect() as conn:
        return list(conn.execute(sa.select(notifications).where(notifications.c.kind == kind)).mappings())


def test_one_yes_for_the_series_and_stepping_back_from_it_across_the_services(system, clients) -> None:  # type: ignore[no-untyped-def]
    from services.notify import responses

    volunteer = clients["volunteers"].post("/api/volunteers", json={
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303", "villages": ["belno"]})
    assert volunteer.status_code == 201, volunteer.json
    volunteer_id = volunteer.json["id"]
    clients["volunteers"].post(f"/api/volunteers/{volunteer_id}/credentials", json=WRITTEN_AGREEMENT)
    offered = clients["volunteers"].post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["ZAK"], "available_from": TOMORROW.isoformat(),
        "available_to": (TOMORROW + timedelta(days=7 * WEEKS)).isoformat()})
    assert offered.status_code == 201, offered.json
    package = clients["needs"].post("/api/packages", json={
        "plan_ref": "IPUS/12/2026", "resident_ref": "R-017", "village": "belno",
        "start_date": TOMORROW.date().isoformat(), "end_date": (TOMORROW + timedelta(days=60)).date().isoformat()})
    assert package.status_code == 201, package.json
    series = clients["needs"].post("/api/needs/recurring", json={
        "resident_ref": "R-017", "category": "ZAK", "village": "belno", "description": "Zakupy co tydzień",
        "duration_minutes": 60, "plan_ref": "IPUS/12/2026", "recurrence": {
            "weekdays": [TOMORROW.weekday()], "time_from": "10:00", "time_to": "14:00",
            "starts_on": TOMORROW.date().isoformat(),
            "until": (TOMORROW + timedelta(days=7 * (WEEKS - 1))).date().isoformat()}})
    assert series.status_code == 201, series.json
    need_ids = [n["id"] for n in series.json["needs"]]
    assert len(need_ids) == WEEKS
    system.pump()

    first = [p for p in clients["matching"].get("/api/proposals").json if p["need_id"] == need_ids[0]]
    assert first and first[0]["volunteer_id"] == volunteer_id
    assert clients["matching"].post(f"/api/matches/{first[0]['id']}/approve", json={}).status_code == 200
    system.pump()
    [offer_row] = ledger(system, "match_offered")[:1]
    offer = responses.find_offer(system["notify"].db, offer_row["cause_event_id"])
    assert offer is not None and offer.series_id
    responses.respond(system["notify"].db, system["notify"].outbox, offer, "accept", scope="series")
    system.pump()

    for need_id in need_ids:
        assert clients["needs"].get(f"/api/needs/{need_id}").json["status"] == "accepted"
    assert {r["need_id"] for r in ledger(system, "match_accepted") if r["channel"] == "email"} == set(need_ids)
    assert len({r["cause_event_id"] for r in ledger(system, "match_offered")}) == 1  # one offer, three visits

    offer = responses.find_offer(system["notify"].db, offer_row["cause_event_id"])
    assert offer is not None and offer.may_leave_series()
    responses.step_back(system["notify"].db, system["notify"].outbox, offer, "series", "family")
    system.pump()
    for need_id in need_ids:
        assert clients["needs"].get(f"/api/needs/{need_id}").json["status"] != "accepted"
    [told] = ledger(system, "match_stepped_back")
    assert told["recipient"] == "organizator" and "Rezygnacja z cyklu wizyt" in told["subject"]
    assert "3 wizyty" in told["body"]
    assert [r for r in ledger(system, "match_cancelled") if r["recipient"] == "organizator"] == []
    assert all(system[name].loop.stats["dead_lettered"] == 0 for name in ("matching", "needs", "notify"))
