"""Notify test helpers: event builders, a migrated notify database, fake channels and a tiny HTTP server."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.notify.channels import Outgoing, PermanentFailure, TemporaryFailure
from services.notify.db import make_db, notifications
from services.notify.handlers import CONSUMES, PUBLISHES, handlers
from services.notify.settings import Settings
from wspolnota.db import Database
from wspolnota.transport import Event, new_event
from wspolnota.transport.outbox import Outbox

NEED = "11111111-1111-4111-8111-111111111111"
MATCH = "22222222-2222-4222-8222-222222222222"
VOLUNTEER = "33333333-3333-4333-8333-333333333333"
IN_THREE_DAYS = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)


def match_data(**over: Any) -> dict[str, Any]:
    return {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER, **over}


def offered(**over: Any) -> dict[str, Any]:
    return match_data(**{"deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "urgent": False,
                         "category": "ZAK", "village": "belno", "window_start": IN_THREE_DAYS.isoformat(), **over})


def event(event_type: str, data: dict[str, Any], key: str | None = None) -> Event:
    return new_event(CONSUMES, "test", event_type, key or data.get("need_id") or "k", data)


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env({}, link_secret="test-link-secret", case_webhook_secret="test-webhook-secret",
                             retry_base_s=10.0, retry_max_s=600.0, max_attempts=3, sending_lease_s=60.0,
                             quiet_hours="20:00-08:00", public_url="http://test/notify")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = make_db(f"sqlite:///{tmp_path / 'notify.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def outbox(db: Database) -> Outbox:
    return Outbox(db, PUBLISHES)


@pytest.fixture
def deliver(db: Database, outbox: Outbox, settings: Settings) -> Callable[[Event], None]:
    """Hand an event to notify's handler as the consumer loop would (one transaction)."""
    table = handlers(outbox, settings)

    def run(e: Event) -> None:
        with db.transaction() as session:
            table[e.type](session, e)

    return run


def ledger(db: Database, **where: Any) -> list[dict[str, Any]]:
    t = notifications
    with db.engine.connect() as conn:
        query = sa.select(t).order_by(t.c.created_at, t.c.channel)
        for column, value in where.items():
            query = query.where(t.c[column] == value)
        return [dict(r) for r in conn.execute(query).mappings()]


def outbox_events(db: Database, event_type: str) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(db.outbox.c.body).where(db.outbox.c.type == event_type)
                            .order_by(db.outbox.c.id)).scalars().all()
    return [json.loads(r) for r in rows]


@dataclass
class FakeChannel:
    """A channel that remembers what it sent; `failures` scripts what the next sends raise."""

    name: str
    sent: list[Outgoing] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def send(self, message: Outgoing) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class FakeAddressBook:
    def __init__(self, addresses: dict[tuple[str, str], str | None] | None = None):
        self.addresses = addresses or {}

    def address(self, recipient: str, channel: str, urgent: bool = False, kind: str | None = None) -> str | None:
        default = {"email": "ktos@example.pl", "sms": "+48600100200", "webhook": "http://case.test/hook"}[channel]
        return self.addresses.get((recipient, channel), default)


__all__ = ["FakeAddressBook", "FakeChannel", "PermanentFailure", "TemporaryFailure"]


class FakeHttpServer:
    """A real HTTP server on 127.0.0.1 whose answers a test scripts: handler(method, path, headers, body)."""

    def __init__(self, handler: Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, Any]]]):
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                outer.requests.append((self.command, self.path, headers, body))
                status, reply = handler(self.command, self.path, headers, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> FakeHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
