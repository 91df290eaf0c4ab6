"""Fixtures for the volunteers service: a migrated SQLite database, the app, its outbox as events."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from services.volunteers.app import create_app
from services.volunteers.bootstrap import bootstrap
from services.volunteers.db import make_db
from services.volunteers.settings import Settings
from wspolnota import localtime
from wspolnota.db import Database

TOKEN = "test-internal-token"
# The service's clock in these tests: a fixed moment far from the real date, just after midnight in Warsaw (still
# the 15th in UTC), so a date the service judged on the machine's clock or on the UTC day would fail a test.
NOW = datetime(2031, 1, 15, 23, 30, tzinfo=UTC)
TODAY = localtime.local_day(NOW)  # 16 January 2031


def make_app(db: Database, **config: Any) -> Flask:
    """The web app on `db` with the clock stopped at NOW; `config` as a test app's config (settings by name)."""
    config = {"DATABASE_URL": db.url, "TESTING": True, **config}
    parts = bootstrap(db.url, settings=Settings.from_config(config), clock=lambda: NOW)
    return create_app(config, parts=parts)


def person(**over: Any) -> dict[str, Any]:
    body = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
            "villages": ["belno"]}
    return {**body, **over}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = make_db(f"sqlite:///{tmp_path / 'volunteers.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def app(db: Database) -> Flask:
    return make_app(db, AUTH_DISABLED=True, INTERNAL_SERVICE_TOKEN=TOKEN, SMTP_HOST="127.0.0.1", SMTP_PORT=9)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Outbox:
    """The service's outbox read back as (type, key, data) — what the relay would publish."""

    def __init__(self, db: Database):
        self.db = db

    def all(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(sa.select(self.db.outbox.c.type, self.db.outbox.c.key, self.db.outbox.c.body)
                                .order_by(self.db.outbox.c.id)).all()
        return [(r.type, r.key, json.loads(r.body)["data"]) for r in rows]

    def types(self) -> list[str]:
        return [t for t, _, _ in self.all()]

    def raw(self) -> str:
        with self.db.engine.connect() as conn:
            return " ".join(b.decode() for b in conn.execute(sa.select(self.db.outbox.c.body)).scalars())


@pytest.fixture
def outbox(db: Database) -> Outbox:
    return Outbox(db)


def count(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    assert match, f"no hidden field {name} on the page"
    return match.group(1)


def register(client: FlaskClient, **over: Any) -> str:
    response = client.post("/api/volunteers", json=person(**over))
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def record(client: FlaskClient, volunteer_id: str, **body: Any) -> Any:
    response = client.post(f"/api/volunteers/{volunteer_id}/credentials", json=body)
    assert response.status_code == 201, response.json
    return response.json


def clean_kamilka_check(on: date, **over: Any) -> dict[str, Any]:
    """A clean check as staff send it; who checked is the signed-in account, never a field of the body."""
    body = {"kind": "kamilka_check", "register_checked_on": on.isoformat(), "register_result": "not_listed",
            "krk_seen_on": on.isoformat(), "countries_last_20_years": ["PL"]}
    return {**body, **over}
