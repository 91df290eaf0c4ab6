"""The case-system API on PostgreSQL and SQLite (migrations, real locks): concurrent duplicates, shared
rate-limit counters, an all-or-nothing CSV import and the export."""
from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.needs import apikeys
from services.needs.app import create_app
from services.needs.db import make_db
from services.needs.model import WARSAW
from wspolnota import localtime

pytestmark = pytest.mark.integration
START = (datetime.now(UTC) + timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)


@pytest.fixture
def service(database_url: str) -> Iterator[tuple[Any, Any, str]]:
    db = make_db(database_url)
    db.migrate()
    with db.transaction() as session:
        token = apikeys.add_client(session, "pomost", list(apikeys.SCOPES), rate_limit=1000)[1]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "AUTH_DISABLED": True})
    client = app.test_client()
    assert client.post("/api/packages", json={
        "plan_ref": "IPUS/PG/1", "resident_ref": "M-PG0001", "village": "zagnansk",
        "start_date": localtime.today().isoformat(), "end_date": (localtime.today() + timedelta(days=60)).isoformat()}
    ).status_code == 201
    yield app, db, token
    app.extensions["db"].dispose()
    db.dispose()


def count(db, table: str, where: str = "") -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} {where}")).scalar_one()


def all_at_once(n: int, call: Callable[[Any], Any]) -> list[Any]:
    barrier, answers = threading.Barrier(n), []

    def run() -> None:
        barrier.wait()
        answers.append(call(None))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def test_concurrent_duplicates_of_one_request_create_one_need_and_one_event(service) -> None:  # type: ignore[no-untyped-def]
    app, db, token = service
    body = {"plan_ref": "IPUS/PG/1", "category": "ZAK", "window_start": START.isoformat(),
            "window_end": (START + timedelta(hours=3)).isoformat(), "duration_minutes": 60, "external_id": "PG-1"}

    def send(_: Any) -> tuple[int, bytes]:
        response = app.test_client().post("/api/case-system/needs", json=body, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": "jeden-raz"})
        return response.status_code, response.get_data()

    answers = all_at_once(6, send)
    assert len(answers) == 6 and len(set(answers)) == 1 and answers[0][0] == 201
    assert count(db, "needs") == 1 and count(db, "outbox", "WHERE type = 'NeedRegistered'") == 1


def test_workers_share_one_rate_limit_counter(service) -> None:  # type: ignore[no-untyped-def]
    app, db, _ = service
    with db.transaction() as session:
        token = apikeys.add_client(session, "limitowany", [apikeys.EXPORTS_READ], rate_limit=3)[1]
    app.config["CASE_SYSTEM_CLOCK"] = lambda: 1_800_000_005.0

    def fetch(_: Any) -> int:
        return app.test_client().get("/api/case-system/delivered?plan_ref=IPUS/PG/1",
                                     headers={"Authorization": f"Bearer {token}"}).status_code

    assert sorted(all_at_once(6, fetch)) == [200, 200, 200, 429, 429, 429]


def test_a_csv_import_is_all_or_nothing_and_the_export_reads_back_delivered_hours(service) -> None:  # type: ignore[no-untyped-def]
    app, db, token = service
    client, auth = app.test_client(), {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    day = START.astimezone(WARSAW).strftime("%d.%m.%Y")
    header = "external_id;plan_ref;category;village;date;time_from;time_to;duration_minutes;description"
    good = f"PG-2;IPUS/PG/1;ZAK;Zagnańsk;{day};09:00;12:00;60;Kołomań, sklep"
    bad = f"PG-3;IPUS/PG/1;ZAK;Zagnańsk;{day};09:00;12:00;sześćdziesiąt;"
    refused = client.post("/api/case-system/imports", data=f"{header}\n{good}\n{bad}\n".encode("cp1250"),
                          headers={**auth, "Idempotency-Key": "plik-a"})
    assert refused.status_code == 422 and refused.json["errors"]["rows"] == [
        {"row": 3, "column": "duration_minutes", "message": "Wpisz liczbę całkowitą."}]
    assert count(db, "needs") == 0 and count(db, "case_system_needs") == 0

    done = client.post("/api/case-system/imports", data=f"{header}\n{good}\n".encode("cp1250"),
                       headers={**auth, "Idempotency-Key": "plik-b"})
    assert done.status_code == 201 and done.json["imported"] == 1
    [need_id] = done.json["need_ids"]
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT description FROM needs")).scalar_one() == "Kołomań, sklep"
    with db.transaction() as session:  # what MatchCompleted leaves behind (handlers.on_match_event)
        session.execute(sa.text("INSERT INTO need_matches (match_id, need_id, volunteer_id, status, was_accepted, "
                                "hours, updated_at) VALUES ('m-1', :n, 'v-1', 'completed', true, 2.5, :t)"),
                        {"n": need_id, "t": datetime.now(UTC)})
    export = client.get("/api/case-system/delivered?plan_ref=IPUS/PG/1", headers={"Authorization": f"Bearer {token}"})
    [row] = list(csv.DictReader(io.StringIO(export.get_data().decode("utf-8-sig")), delimiter=";"))
    assert (row["need_id"], row["hours"], row["visits"]) == (need_id, "2.5", "1")
    assert row["provider"].startswith("W-") and "v-1" not in export.get_data(as_text=True)
