"""Contract with a case system, played by a fake HTTP server written from docs/notify.md alone: it checks
the HMAC signature and the timestamp window, acts once per Idempotency-Key, and answers as documented.
Also: the embedded sink's webhook receiver refuses malformed, forged and replayed requests clearly."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from services.notify.channels import default_channels, signed_headers
from services.notify.contacts import AddressBook, VolunteerContacts
from services.notify.db import dead_letters, make_db, notifications, sink_messages
from services.notify.handlers import CONSUMES, PUBLISHES, handlers
from services.notify.sender import Sender
from services.notify.settings import Settings
from services.notify.sink import Inbox, http_server
from wspolnota.transport import new_event
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

SECRET = "case-system-shared-secret"
WINDOW = 300
MATCH = {"match_id": "22222222-2222-4222-8222-222222222222", "need_id": "11111111-1111-4111-8111-111111111111",
         "volunteer_id": "33333333-3333-4333-8333-333333333333"}


class FakeCaseSystem:
    """What a case-system vendor would build from docs/notify.md ("Case-system webhooks")."""

    def __init__(self, fail_first_after_acting: bool = False):
        self.acted: dict[str, dict[str, Any]] = {}
        self.answers: list[int] = []
        self.fail_first = fail_first_after_acting
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, reply = outer.receive(dict(self.headers.items()), body)
                outer.answers.append(status)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wspolnota"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        ts, sig, key = (headers.get("X-Wspolnota-Timestamp"), headers.get("X-Wspolnota-Signature"),
                        headers.get("Idempotency-Key"))
        if not (ts and sig and key):
            return 400, {"error": "missing_header"}
        expected = "sha256=" + hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            return 401, {"error": "bad_signature"}
        if abs(time.time() - int(ts)) > WINDOW:
            return 401, {"error": "stale_timestamp"}
        if key in self.acted:
            return 200, {"status": "duplicate"}
        self.acted[key] = json.loads(body)
        if self.fail_first:
            self.fail_first = False
            return 503, {"error": "acted, but the answer is lost"}
        return 200, {"status": "accepted"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = make_db(f"sqlite:///{tmp_path / 'notify.db'}")
    database.migrate()
    yield database
    database.dispose()


def accept_a_match(db, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    table = handlers(Outbox(db, PUBLISHES), settings)
    offered = {**MATCH, "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "urgent": False,
               "category": "TRN", "village": "belno",
               "window_start": (datetime.now(UTC) + timedelta(days=3)).isoformat()}
    for event_type, data in (("MatchOffered", offered), ("MatchAccepted", MATCH)):
        with db.transaction() as session:
            table[event_type](session, new_event(CONSUMES, "matching", event_type, MATCH["need_id"], data))


def send_webhooks(db, settings: Settings, rounds: int = 1) -> Sender:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:  # only the webhook channel matters here
        conn.execute(sa.update(notifications).where(notifications.c.channel != "webhook").values(status="cancelled"))
    clock = [datetime.now(UTC)]
    sender = Sender(db, settings, default_channels(settings),
                    AddressBook(settings, VolunteerContacts("http://127.0.0.1:9", "unused")), clock=lambda: clock[0])
    for _ in range(rounds):
        sender.run_once()
        clock[0] += timedelta(hours=1)
    return sender


def webhook_rows(db) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(notifications).where(notifications.c.channel == "webhook"))
                .mappings()]


def test_the_case_system_receives_a_verified_acceptance_once(db) -> None:
    case_system = FakeCaseSystem()
    try:
        settings = Settings.from_env({}, case_webhook_url=case_system.url, case_webhook_secret=SECRET)
        accept_a_match(db, settings)
        send_webhooks(db, settings, rounds=2)
    finally:
        case_system.close()
    [row] = webhook_rows(db)
    assert row["status"] == "sent" and case_system.answers == [200]
    body = case_system.acted[row["id"]]
    assert (body["event"], body["match_id"], body["need_id"], body["provider_ref"]) == (
        "match.accepted", MATCH["match_id"], MATCH["need_id"], MATCH["volunteer_id"])
    assert (body["status"], body["notification_id"], body["category"], body["village"]) == (
        "accepted", row["id"], "TRN", "belno")
    assert "resident_ref" not in body and "name" not in body


def test_a_lost_answer_is_retried_and_the_case_system_acts_only_once(db) -> None:
    case_system = FakeCaseSystem(fail_first_after_acting=True)
    try:
        settings = Settings.from_env({}, case_webhook_url=case_system.url, case_webhook_secret=SECRET)
        accept_a_match(db, settings)
        send_webhooks(db, settings, rounds=3)
    finally:
        case_system.close()
    [row] = webhook_rows(db)
    assert row["status"] == "sent" and row["attempts"] == 2
    assert case_system.answers == [503, 200] and len(case_system.acted) == 1


def test_a_wrong_secret_is_refused_and_shows_up_as_a_failed_notification(db) -> None:
    case_system = FakeCaseSystem()
    try:
        settings = Settings.from_env({}, case_webhook_url=case_system.url, case_webhook_secret="not-the-secret")
        accept_a_match(db, settings)
        send_webhooks(db, settings)
    finally:
        case_system.close()
    [row] = webhook_rows(db)
    assert row["status"] == "failed" and case_system.acted == {}
    with db.engine.connect() as conn:
        [letter] = conn.execute(sa.select(dead_letters)).mappings().all()
    assert "401" in letter["reason"] and "bad_signature" in letter["reason"]


@pytest.fixture
def sink_url(db):  # type: ignore[no-untyped-def]
    settings = Settings.from_env({}, case_webhook_secret=SECRET)
    server = http_server(Inbox(db), settings, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


BODY = json.dumps({"event": "match.accepted", "match_id": MATCH["match_id"]}).encode()


@pytest.mark.parametrize("make_headers, body, status, error", [
    (lambda: {}, BODY, 400, "missing_header"),
    (lambda: signed_headers("forged", BODY, "k1", "match.accepted"), BODY, 401, "bad_signature"),
    (lambda: signed_headers(SECRET, BODY, "k2", "match.accepted", now=time.time() - 3600), BODY, 401,
     "stale_timestamp"),
    (lambda: signed_headers(SECRET, b"not json", "k3", "x"), b"not json", 400, "malformed_body"),
], ids=["missing-headers", "forged", "replayed-an-hour-later", "not-json"])
def test_the_sink_refuses_bad_webhooks_with_a_clear_error(db, sink_url, make_headers, body, status, error) -> None:  # type: ignore[no-untyped-def]
    headers = make_headers()  # signed now, not when the tests were collected
    response = requests.post(f"{sink_url}/webhook", data=body, headers=headers, timeout=10)
    assert response.status_code == status and response.json()["error"] == error
    assert response.json()["message"]
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sink_messages)).scalar_one() == 0


def test_the_sink_stores_a_webhook_once_per_idempotency_key(db, sink_url) -> None:
    key = str(uuid.uuid4())
    for _ in range(2):  # a resend after a crash: new timestamp and signature, same key
        response = requests.post(f"{sink_url}/webhook", data=BODY, timeout=10,
                                 headers=signed_headers(SECRET, BODY, key, "match.accepted"))
        assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    with db.engine.connect() as conn:
        [stored] = conn.execute(sa.select(sink_messages)).mappings().all()
    assert (stored["channel"], stored["message_id"], stored["deliveries"]) == ("webhook", key, 2)


def test_the_sink_takes_sms_in_the_documented_format(db, sink_url) -> None:
    ok = requests.post(f"{sink_url}/sms", json={"to": "+48601202303", "text": "Zażółć", "sender": "CUS",
                                                "reference": "r-1"}, timeout=10)
    bad = requests.post(f"{sink_url}/sms", json={"to": "+48601202303"}, timeout=10)
    assert ok.status_code == 200 and bad.status_code == 400 and "text" in bad.json()["message"]
