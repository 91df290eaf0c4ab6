"""A volunteer reports a concern from their space: the text goes to the needs service (served here over HTTP) and
nowhere else, about their own accepted visit or in general; a retry is one concern; if needs is down the volunteer
sees the organiser's phone and keeps their text; bad input and a missing CSRF token change nothing."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.volunteers.db import audit_log
from tests.unit.needs.conftest import NeedsHarness, resident_body
from tests.unit.volunteers.test_volunteers_sign_in import Volunteers, text
from wspolnota.broker import free_port
from wspolnota.db import Database

MATCH = "33333333-4444-4555-8666-777777777777"
TEXT = "Pan Tadeusz miał siniaki na rękach i mówił, że nikt do niego nie zagląda."


@pytest.fixture
def needs(tmp_path: Path) -> Iterator[tuple[NeedsHarness, str]]:
    harness = NeedsHarness(tmp_path)
    server = make_server("127.0.0.1", 0, harness.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield harness, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    harness.system.close()


def space(db: Database, needs_url: str, **config: Any) -> tuple[Volunteers, str, Any]:
    v = Volunteers(db, NEEDS_INTERNAL_URL=needs_url, CENTRE_PHONE="41 300 12 34", **config)
    volunteer_id = v.register()
    return v, volunteer_id, v.signed_in_client(volunteer_id)


def their_visit(needs: NeedsHarness, volunteer_id: str) -> None:
    resident = needs.client.post("/api/residents", json=resident_body()).json
    need = needs.register(resident_ref=resident["ref"])
    needs.match_event("MatchProposed", need["id"], MATCH, volunteer_id=volunteer_id)
    needs.match_event("MatchAccepted", need["id"], MATCH, volunteer_id=volunteer_id)


def form_of(client: Any, url: str) -> dict[str, str]:
    html = client.get(url).get_data(as_text=True)
    return dict(re.findall(r'<input[^>]*name="(csrf_token|concern_id)"[^>]*value="([^"]*)"', html))


def actions(db: Database, volunteer_id: str) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [(r.action, r.detail) for r in conn.execute(
            sa.select(audit_log.c.action, audit_log.c.detail).where(audit_log.c.volunteer_id == volunteer_id))]


def test_a_concern_about_their_visit_reaches_needs_once_and_only_the_fact_is_kept_here(db, needs) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    v, volunteer_id, client = space(db, url)
    their_visit(harness, volunteer_id)
    page = f"/wolontariusz/wizyty/{MATCH}/niepokoj"
    fields = {**form_of(client, page), "text": TEXT, "urgent": "y"}
    first = client.post(page, data=fields)
    assert first.status_code == 302 and first.location.endswith("/wolontariusz/")
    assert client.post(page, data=fields).status_code == 302  # the same form sent again
    [row] = harness.rows("concerns")
    assert row["text"] == TEXT and row["match_id"] == MATCH and row["id"] == fields["concern_id"]
    assert len(harness.published("ConcernReported")) == 1
    kept = actions(v.db, volunteer_id)
    assert ("concern_reported", f"zgłoszenie niepokoju {row['id']} (wizyta {MATCH})") in kept
    assert all("siniaki" not in detail for _, detail in kept)
    assert "Zgłoszenie trafiło do pracownika socjalnego" in text(client.get("/wolontariusz/"))


def test_someone_elses_visit_is_refused_with_a_polish_message_and_the_text_stays(db, needs) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    _, volunteer_id, client = space(db, url)
    their_visit(harness, "99999999-2222-4333-8444-555555555555")
    page = f"/wolontariusz/wizyty/{MATCH}/niepokoj"
    answer = client.post(page, data={**form_of(client, page), "text": TEXT})
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "To nie jest Twoja wizyta" in html and "siniaki na rękach" in html
    assert harness.count("concerns") == 0


def test_a_general_concern_needs_no_visit(db, needs) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    _, _, client = space(db, url)
    assert "Zgłoś niepokój" in text(client.get("/wolontariusz/"))
    answer = client.post("/wolontariusz/niepokoj", data={**form_of(client, "/wolontariusz/niepokoj"), "text": TEXT})
    assert answer.status_code == 302
    [row] = harness.rows("concerns")
    assert row["resident_ref"] is None and row["match_id"] is None


def test_when_needs_is_down_the_volunteer_gets_the_organisers_phone_and_keeps_the_text(db) -> None:  # type: ignore[no-untyped-def]
    v, volunteer_id, client = space(db, f"http://127.0.0.1:{free_port()}")
    answer = client.post("/wolontariusz/niepokoj", data={**form_of(client, "/wolontariusz/niepokoj"), "text": TEXT})
    assert answer.status_code == 503
    html = answer.get_data(as_text=True)
    assert "Nie udało się teraz wysłać zgłoszenia" in html and "41 300 12 34" in html
    assert "siniaki na rękach" in html
    assert all(action != "concern_reported" for action, _ in actions(v.db, volunteer_id))


@pytest.mark.parametrize("typed, message", [("", "Opisz, co Cię niepokoi."), ("   ", "Opisz, co Cię niepokoi."),
                                            ("x" * 4001, "najwyżej 4000 znaków")])
def test_bad_input_gets_a_polish_error_and_nothing_is_sent(db, needs, typed: str, message: str) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    _, _, client = space(db, url)
    answer = client.post("/wolontariusz/niepokoj", data={**form_of(client, "/wolontariusz/niepokoj"), "text": typed})
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert harness.count("concerns") == 0


def test_a_concern_needs_the_csrf_token_and_a_signed_in_volunteer(db, needs) -> None:  # type: ignore[no-untyped-def]
    harness, url = needs
    v, _, client = space(db, url)
    assert client.post("/wolontariusz/niepokoj", data={"text": TEXT}).status_code == 400
    anonymous = v.app.test_client()
    assert anonymous.get("/wolontariusz/niepokoj").status_code == 302
    assert harness.count("concerns") == 0
