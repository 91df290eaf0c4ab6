"""The shared Idempotency-Key helper: one change per key, the first answer replayed, another body refused."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from wspolnota import errors
from wspolnota.db import Database, transport_tables
from wspolnota.idempotency import (
    KEY_REUSED,
    IdempotencyStore,
    KeyReused,
    Outcome,
    fingerprint,
    forget_older_than,
    keys_table,
    respond,
)

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class MovableClock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


class Service:
    """A service of its own: a table of changes and the stored answers, on SQLite."""

    def __init__(self, path: Path):
        metadata = sa.MetaData()
        outbox, processed = transport_tables(metadata)
        self.changes = sa.Table("changes", metadata, sa.Column("id", sa.Integer, primary_key=True),
                                sa.Column("what", sa.String(50), nullable=False))
        self.keys = keys_table(metadata, "answers", scope_column="caller")
        self.db = Database("example", f"sqlite:///{path / 'example.db'}", metadata, outbox, processed)
        metadata.create_all(self.db.engine)
        self.clock = MovableClock()
        self.store = IdempotencyStore(self.db, self.keys, keep_days=30, clock=self.clock)
        self.runs = 0

    def change(self, what: str) -> Any:
        def action(session: Session) -> Outcome:
            self.runs += 1
            session.execute(sa.insert(self.changes).values(what=what))
            return 201, {"done": what, "run": self.runs}
        return action

    def count(self) -> int:
        with self.db.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self.changes)).scalar_one()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    made = Service(tmp_path)
    yield made
    made.db.dispose()


def test_the_same_key_and_request_again_replays_the_first_answer_and_changes_nothing(service: Service) -> None:
    first = service.store.run("client-a", "k1", "hash-1", service.change("zakupy"))
    again = service.store.run("client-a", "k1", "hash-1", service.change("zakupy"))
    assert (first.status, first.replayed) == (201, False)
    assert (again.status, again.body, again.replayed) == (201, first.body, True)
    assert service.runs == 1 and service.count() == 1


def test_the_same_key_with_another_request_is_refused_as_a_conflict(service: Service) -> None:
    service.store.run("client-a", "k1", "hash-1", service.change("zakupy"))
    with pytest.raises(KeyReused) as refused:
        service.store.run("client-a", "k1", "hash-2", service.change("apteka"))
    assert refused.value.status == 409 and refused.value.message == KEY_REUSED
    assert isinstance(refused.value, errors.Refused)
    assert service.count() == 1


def test_keys_belong_to_their_scope(service: Service) -> None:
    service.store.run("client-a", "k1", "hash-1", service.change("zakupy"))
    other = service.store.run("client-b", "k1", "hash-2", service.change("apteka"))
    assert not other.replayed and service.count() == 2


def test_a_failed_action_stores_neither_its_change_nor_the_key(service: Service) -> None:
    def failing(session: Session) -> Outcome:
        session.execute(sa.insert(service.changes).values(what="half"))
        raise errors.Invalid({"what": "Błąd."})

    with pytest.raises(errors.Invalid):
        service.store.run("client-a", "k1", "hash-1", failing)
    assert service.count() == 0
    assert not service.store.run("client-a", "k1", "hash-2", service.change("zakupy")).replayed


def test_answers_are_forgotten_after_the_replay_window(service: Service) -> None:
    service.store.run("client-a", "old", "hash-1", service.change("zakupy"))
    service.clock.at = START + timedelta(days=29)
    assert service.store.run("client-a", "old", "hash-1", service.change("zakupy")).replayed
    service.clock.at = START + timedelta(days=31)
    assert service.store.stored("client-a", "old") is None
    later = service.store.run("client-a", "old", "hash-2", service.change("apteka"))  # the key is free again
    assert not later.replayed and service.count() == 2


def test_a_job_forgets_old_answers_of_every_scope(service: Service) -> None:
    service.store.run("client-a", "k1", "h", service.change("a"))
    service.store.run("client-b", "k1", "h", service.change("b"))
    service.clock.at = START + timedelta(days=10)
    service.store.run("client-b", "k2", "h", service.change("c"))
    with service.db.transaction() as session:
        assert forget_older_than(session, service.keys, START + timedelta(days=1)) == 2
    with service.db.engine.connect() as conn:
        assert conn.execute(sa.select(service.keys.c.key)).scalars().all() == ["k2"]


def test_a_concurrent_duplicate_that_committed_first_is_replayed(service: Service,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    service.store.run("client-a", "k1", "hash-1", service.change("zakupy"))
    real, looks = service.store.stored, []

    def first_look_finds_nothing(scope: str, key: str) -> Any:  # the first request had not committed yet
        looks.append(key)
        return None if len(looks) == 1 else real(scope, key)

    monkeypatch.setattr(service.store, "stored", first_look_finds_nothing)
    again = service.store.run("client-a", "k1", "hash-1", service.change("zakupy"))
    assert again.replayed and len(looks) == 2 and service.count() == 1


def test_a_json_body_is_compared_by_content_and_the_path_counts() -> None:
    assert fingerprint("POST", "/api/x", b'{"a": 1, "b": [2]}') == fingerprint("POST", "/api/x", b'{"b":[2],"a":1}')
    assert fingerprint("POST", "/api/x", b'{"a": 1}') != fingerprint("POST", "/api/y", b'{"a": 1}')
    assert fingerprint("POST", "/api/x", b"a;b") != fingerprint("PUT", "/api/x", b"a;b")


def test_a_route_answers_through_the_store(service: Service) -> None:
    app = Flask(__name__)
    errors.install(app)

    @app.post("/api/changes")
    def add():  # type: ignore[no-untyped-def]
        return respond(service.store, "client-a", service.change("zakupy"))

    client = app.test_client()
    assert client.post("/api/changes", json={"a": 1}).status_code == 400  # no Idempotency-Key
    first = client.post("/api/changes", json={"a": 1}, headers={"Idempotency-Key": "k1"})
    again = client.post("/api/changes", json={"a": 1}, headers={"Idempotency-Key": "k1"})
    other = client.post("/api/changes", json={"a": 2}, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, first.json, "Idempotent-Replayed" in first.headers) == (
        201, {"done": "zakupy", "run": 1}, False)
    assert (again.status_code, again.json, again.headers["Idempotent-Replayed"]) == (201, first.json, "true")
    assert other.status_code == 409
    assert service.count() == 1
