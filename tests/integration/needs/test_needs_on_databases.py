"""The needs service's use cases on PostgreSQL and SQLite alike (migrations, not metadata.create_all)."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.needs.app import create_app
from services.needs.db import make_db
from services.needs.seed import seed_demo
from wspolnota import localtime

pytestmark = pytest.mark.integration


@pytest.fixture
def client(database_url: str):  # type: ignore[no-untyped-def]
    db = make_db(database_url)
    db.migrate()
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "AUTH_DISABLED": True})
    yield app.test_client(), db
    app.extensions["db"].dispose()
    db.dispose()


def count(db, table: str) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_residents_packages_recurring_needs_and_the_audit_log_work_on_this_database(client) -> None:  # type: ignore[no-untyped-def]
    http, db = client
    resident = http.post("/api/residents", json={
        "name": "Leokadia Zmyślona", "address": "ul. Nieistniejąca 4", "village": "jasiow", "phone": "+48500000111",
        "preferred_channel": "sms", "legal_basis": "consent", "consent_date": localtime.today().isoformat()}).json
    assert http.get(f"/api/residents/{resident['id']}").status_code == 200
    start = localtime.today() + timedelta(days=1)
    assert http.post("/api/packages", json={
        "plan_ref": "IPUS/DB/1", "resident_ref": resident["ref"], "village": "jasiow",
        "start_date": start.isoformat(), "end_date": (start + timedelta(days=30)).isoformat()}).status_code == 201
    series = http.post("/api/needs/recurring", json={
        "resident_ref": resident["ref"], "category": "ZAK", "village": "jasiow", "duration_minutes": 60,
        "plan_ref": "IPUS/DB/1", "recurrence": {"weekdays": [2], "time_from": "10:00", "time_to": "12:00",
                                                "starts_on": start.isoformat(),
                                                "until": (start + timedelta(days=27)).isoformat()}})
    assert series.status_code == 201 and len(series.json["needs"]) == 4
    assert len(http.get("/api/needs?plan_ref=IPUS/DB/1&status=open").json) == 4
    first = series.json["needs"][0]["id"]
    assert http.post(f"/api/needs/{first}/status", json={"status": "completed"}).status_code == 409
    assert http.post(f"/api/needs/{first}/cancel", json={"reason": "szpital"}).status_code == 200
    closed = http.post("/api/packages/IPUS/DB/1/close", json={"reason": "koniec"}).json
    assert closed["needs_open"] == 0 and closed["status"] == "closed"
    assert count(db, "audit_log") == 2  # create + one read
    assert count(db, "outbox") == 1 + 4 + 4 + 1  # opened, registered ×4, cancelled ×4, closed


def test_a_bad_need_leaves_no_trace_on_this_database(client) -> None:  # type: ignore[no-untyped-def]
    http, db = client
    response = http.post("/api/needs", json={"resident_ref": "M-X", "category": "'; DROP TABLE needs; --",
                                             "village": "umer", "duration_minutes": 60})
    assert response.status_code == 422 and count(db, "needs") == 0 and count(db, "outbox") == 0


def test_the_same_idempotency_key_from_two_requests_stores_one_need(client) -> None:  # type: ignore[no-untyped-def]
    http, db = client
    start = localtime.today() + timedelta(days=3)
    body = {"resident_ref": "M-X", "category": "ZAK", "village": "umer", "duration_minutes": 60,
            "window_start": f"{start.isoformat()}T09:00:00+01:00", "window_end": f"{start.isoformat()}T12:00:00+01:00"}
    key = str(uuid.uuid4())
    ids = {http.post("/api/needs", json=body, headers={"Idempotency-Key": key}).json["id"] for _ in range(3)}
    assert len(ids) == 1 and count(db, "needs") == 1


def test_the_demo_seed_fills_this_database_once(database_url: str) -> None:
    db = make_db(database_url)
    db.migrate()
    try:
        first = seed_demo(db, residents_count=6, one_off_count=10)
        assert first["residents"] == 6 and first["packages"] == 6 and first["needs"] > 10
        assert seed_demo(db, residents_count=6, one_off_count=10) == {"residents": 0, "packages": 0, "needs": 0}
    finally:
        db.dispose()
