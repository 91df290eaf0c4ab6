"""Concerns on PostgreSQL and SQLite alike: the needs service stores a volunteer's report once however often it
is sent, publishes ConcernReported without the text, and notify's sender finds the resident's social worker
through the real internal API (served over HTTP) at send time, the organiser when none is assigned."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.needs.app import create_app
from services.needs.db import concerns, make_db, need_matches, needs
from services.notify.db import make_db as notify_db
from services.notify.db import notifications
from services.notify.handlers import CONSUMES, PUBLISHES, handlers
from services.notify.sender import Sender
from services.notify.settings import Settings
from wspolnota import localtime
from wspolnota.transport import decode
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

TOKEN = "shared-token"
VOLUNTEER = "11111111-2222-4333-8444-555555555555"
MATCH = "33333333-4444-4555-8666-777777777777"
TEXT = "Pani Leokadia nie odbiera telefonu od trzech dni."


@dataclass
class Channel:
    name: str
    sent: list[Any] = field(default_factory=list)

    def send(self, message: Any) -> None:
        self.sent.append(message)


@pytest.fixture
def needs_over_http(new_database: Callable[[], str]) -> Iterator[tuple[Any, Any, str]]:
    url = new_database()
    db = make_db(url)
    db.migrate()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True, "INTERNAL_SERVICE_TOKEN": TOKEN})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app.test_client(), db, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["db"].dispose()
    db.dispose()


def test_a_concern_is_stored_once_and_reaches_the_social_worker_found_at_send_time(
        needs_over_http, new_database: Callable[[], str]) -> None:  # type: ignore[no-untyped-def]
    http, db, base = needs_over_http
    resident = http.post("/api/residents", json={
        "name": "Leokadia Zmyślona", "address": "ul. Nieistniejąca 4", "village": "jasiow", "phone": "+48500000111",
        "preferred_channel": "sms", "legal_basis": "consent", "consent_date": localtime.today().isoformat()}).json
    need_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        conn.execute(sa.insert(needs).values(
            id=need_id, resident_ref=resident["ref"], category="ZAK", village="jasiow", description="",
            window_start=now, window_end=now, duration_minutes=60, urgent=False, slots=1, status="matched",
            created_at=now, updated_at=now))
        conn.execute(sa.insert(need_matches).values(match_id=MATCH, need_id=need_id, volunteer_id=VOLUNTEER,
                                                    status="accepted", was_accepted=True, updated_at=now))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {"id": str(uuid.uuid4()), "text": TEXT, "volunteer_id": VOLUNTEER, "match_id": MATCH}
    assert http.post("/internal/concerns", json=body, headers=headers).status_code == 201
    assert http.post("/internal/concerns", json=body, headers=headers).status_code == 200
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(concerns)).scalar_one() == 1
        raw = [r.body for r in conn.execute(sa.text("SELECT type, body FROM outbox")) if r.type == "ConcernReported"]
    assert len(raw) == 1 and TEXT.encode() not in bytes(raw[0])
    reported = decode(bytes(raw[0]), CONSUMES)

    ndb = notify_db(new_database())
    ndb.migrate()
    settings = Settings.from_env({}, needs_internal_url=base, internal_service_token=TOKEN,
                                 organiser_email="osl@cus.example.pl", public_url="https://cus.example/notify")
    with ndb.transaction() as session:
        handlers(Outbox(ndb, PUBLISHES), settings)["ConcernReported"](session, reported)
    channels = {name: Channel(name) for name in ("email", "sms", "webhook")}
    sender = Sender(ndb, settings, channels, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]

    sender.run_once()  # no social worker assigned yet: the organiser
    assert [m.address for m in channels["email"].sent] == ["osl@cus.example.pl"]
    assert f"https://cus.example/needs/zgloszenia/{body['id']}" in channels["email"].sent[0].text
    assert TEXT not in channels["email"].sent[0].text

    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE residents SET social_worker_email = 'a.nowak@cus.example.pl'"))
    with ndb.engine.begin() as conn:  # the same notification due again (as a retry would be)
        conn.execute(sa.update(notifications).values(status="pending", next_attempt_at=datetime.now(UTC)))
    sender.run_once()
    assert [m.address for m in channels["email"].sent][-1] == "a.nowak@cus.example.pl"
    ndb.dispose()
