"""After a well-being call the volunteer records its outcome in their space: the answer goes to the needs service
(served here over HTTP) and the call counts here as a visit that happened with its minutes; bad input gets Polish
messages next to the fields and sends nothing; a retry is one outcome; someone else's visit is 404."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.volunteers.db import audit_log, visits
from tests.unit.needs.conftest import NeedsHarness
from tests.unit.needs.test_call_series import AFTER_ALL_CALLS, a_series
from tests.unit.volunteers.test_volunteers_sign_in import Volunteers, text
from wspolnota.db import Database


@pytest.fixture
def needs(tmp_path: Path) -> Iterator[tuple[NeedsHarness, str]]:
    from services.needs.app import create_app
    from services.needs.bootstrap import bootstrap

    harness = NeedsHarness(tmp_path / "needs")
    parts = bootstrap(harness.db.url, clock=lambda: AFTER_ALL_CALLS)  # every call of the series is past
    app = create_app({"TESTING": True, "AUTH_DISABLED": True}, parts=parts)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield harness, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    parts.dispose()
    harness.system.close()


def their_call(db: Database, harness: NeedsHarness, volunteer_id: str) -> str:
    series = a_series(harness, volunteer=volunteer_id)
    match_id, row = series["matches"][0], min(series["rows"], key=lambda r: r["window_start"])
    with db.engine.begin() as conn:
        conn.execute(sa.insert(visits).values(
            match_id=match_id, volunteer_id=volunteer_id, need_id=row["id"], status="accepted",
            status_time=AFTER_ALL_CALLS, category="TEL", village="lekomin", starts_at=row["window_start"],
            series_id=series["series_id"], updated_at=AFTER_ALL_CALLS))
    return str(match_id)


def csrf(client: Any, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.findall(r'name="csrf_token"[^>]*value="([^"]*)"', html)[0]


def test_an_outcome_reaches_needs_once_and_counts_here_as_a_call_with_its_minutes(db, needs) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    v = Volunteers(db, NEEDS_INTERNAL_URL=url, CENTRE_PHONE="41 300 12 34")
    volunteer_id = v.register()
    client = v.signed_in_client(volunteer_id)
    match_id = their_call(db, harness, volunteer_id)
    assert "Zapisz wynik rozmowy" in text(client.get("/wolontariusz/wizyty"))
    page = f"/wolontariusz/wizyty/{match_id}/rozmowa"
    fields = {"csrf_token": csrf(client, page), "wynik": "needs_something", "kategoria": "ZAK",
              "opis": "Potrzebne zakupy: chleb i leki.", "minuty": "20"}
    first = client.post(page, data=fields)
    assert first.status_code == 302, text(first)
    again = client.post(page, data=fields)  # the same form sent again: already recorded, nothing more
    assert again.status_code == 409 and "już zapisany" in text(again)
    [outcome] = harness.rows("call_outcomes")
    assert (outcome["outcome"], outcome["minutes"], outcome["category"]) == ("needs_something", 20, "ZAK")
    assert len(harness.published("CallOutcomeRecorded")) == 1
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(visits).where(visits.c.match_id == match_id)).mappings().one()
        details = [r.detail for r in conn.execute(sa.select(audit_log.c.detail))]
    assert (row["confirmed"], row["confirmed_minutes"]) == ("happened", 20)
    assert all("chleb" not in d for d in details)


def test_bad_input_gets_polish_messages_and_sends_nothing(db, needs) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    v = Volunteers(db, NEEDS_INTERNAL_URL=url)
    volunteer_id = v.register()
    client = v.signed_in_client(volunteer_id)
    match_id = their_call(db, harness, volunteer_id)
    page = f"/wolontariusz/wizyty/{match_id}/rozmowa"
    token = csrf(client, page)
    nothing = client.post(page, data={"csrf_token": token})
    assert nothing.status_code == 422 and "Wybierz, jak poszła rozmowa." in text(nothing)
    worried = client.post(page, data={"csrf_token": token, "wynik": "worrying", "minuty": "abc"})
    assert worried.status_code == 422
    assert "Napisz, co Cię zaniepokoiło." in text(worried) and "Podaj czas rozmowy w minutach" in text(worried)
    needing = client.post(page, data={"csrf_token": token, "wynik": "needs_something", "opis": "x", "minuty": "9"})
    assert needing.status_code == 422 and "Wybierz, w czym trzeba pomóc." in text(needing)
    assert client.post(page, data={"wynik": "all_well", "minuty": "10"}).status_code == 400  # no CSRF token
    assert harness.count("call_outcomes") == 0
    assert client.get("/wolontariusz/wizyty/00000000-0000-4000-8000-000000000000/rozmowa").status_code == 404


def test_an_unanswered_call_counts_five_minutes_of_trying(db, needs) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    v = Volunteers(db, NEEDS_INTERNAL_URL=url)
    volunteer_id = v.register()
    client = v.signed_in_client(volunteer_id)
    match_id = their_call(db, harness, volunteer_id)
    page = f"/wolontariusz/wizyty/{match_id}/rozmowa"
    assert client.post(page, data={"csrf_token": csrf(client, page), "wynik": "no_answer"}).status_code == 302
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(visits).where(visits.c.match_id == match_id)).mappings().one()
    assert row["confirmed_minutes"] == 5
    [outcome] = harness.rows("call_outcomes")
    assert outcome["outcome"] == "no_answer" and outcome["minutes"] == 5
