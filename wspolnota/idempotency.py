"""Idempotency-Key for any service's HTTP API: a change happens once, however often a client sends it.

The first successful answer to a (scope, key) is stored in the same transaction as the change it made; the same
key with the same request (method, path and body, JSON compared by content) replays that answer, the same key
with another request is refused (409), and answers older than the replay window are forgotten. A service
defines the table on its own MetaData (`keys_table`), keeps one `IdempotencyStore` per request or job, and a
route answers with `respond(store, scope, action)`. The scope is whoever owns the keys (an API client's id):
two clients may use the same key.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wspolnota.db import Database, UtcDateTime
from wspolnota.errors import Refused, api_error
from wspolnota.service import Clock

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
KEY_MISSING = "Wymagany nagłówek Idempotency-Key (1–200 znaków)."
KEY_REUSED = "Ten Idempotency-Key został już użyty z inną treścią żądania; nowa zmiana wymaga nowego klucza."
RACE_LOST = "Równoległe żądanie zmieniło te same dane; sprawdź stan i spróbuj ponownie."

Outcome = tuple[int, Any]  # an action's status and JSON-able body


def keys_table(metadata: sa.MetaData, name: str = "idempotency_keys", *, scope_column: str = "client_id",
               scope_length: int = 36) -> sa.Table:
    """The stored answers, defined on a service's MetaData (its own migration creates the table)."""
    return sa.Table(
        name, metadata,
        sa.Column(scope_column, sa.String(scope_length), primary_key=True),
        sa.Column("key", sa.String(MAX_KEY_LENGTH), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),  # method, path and canonical body
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response_body", sa.Text, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


class KeyReused(Refused):
    """The key was used before with another request (409)."""

    def __init__(self) -> None:
        super().__init__(KEY_REUSED)


class RaceLost(Refused):
    """A concurrent request with the same key failed to leave an answer to replay (409)."""

    def __init__(self) -> None:
        super().__init__(RACE_LOST)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Method, path and body; a JSON body is compared by content (key order and spacing do not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str
    replayed: bool


def forget_older_than(session: Session, table: sa.Table, cutoff: datetime, scope: str | None = None) -> int:
    """Delete answers stored before `cutoff` (of one scope, or of all: a job's clean-up)."""
    query = sa.delete(table).where(table.c.created_at < cutoff)
    if scope is not None:
        query = query.where(_scope_column(table) == scope)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def _scope_column(table: sa.Table) -> sa.Column[Any]:
    return next(c for c in table.primary_key.columns if c.name != "key")


class IdempotencyStore:
    """One service's stored answers: `keep_days` is the replay window, `clock` the service's clock."""

    def __init__(self, db: Database, table: sa.Table, *, keep_days: int, clock: Clock):
        self.db, self.table, self.keep_days, self.clock = db, table, keep_days, clock
        self.scope = _scope_column(table)

    def kept_since(self) -> datetime:
        """Answers stored before this moment are no longer replayed."""
        return self.clock() - timedelta(days=self.keep_days)

    def stored(self, scope: str, key: str) -> sa.RowMapping | None:
        with self.db.engine.connect() as conn:
            return conn.execute(sa.select(self.table).where(
                self.scope == scope, self.table.c.key == key,
                self.table.c.created_at >= self.kept_since())).mappings().first()

    def _replay(self, stored: sa.RowMapping, request_hash: str) -> Answer:
        if stored["request_hash"] != request_hash:
            raise KeyReused()
        return Answer(stored["status_code"], stored["response_body"], stored["content_type"], replayed=True)

    def run(self, scope: str, key: str, request_hash: str, action: Callable[[Session], Outcome]) -> Answer:
        """Run `action` once per (scope, key): its answer is stored in the same transaction as its change, so a
        retry, a double click or a concurrent duplicate changes nothing again. An exception from `action`
        rolls everything back and stores nothing."""
        stored = self.stored(scope, key)
        if stored is not None:
            return self._replay(stored, request_hash)
        where = (self.scope == scope, self.table.c.key == key)
        try:
            with self.db.transaction() as session:
                forget_older_than(session, self.table, self.kept_since(), scope)
                # Claim the key first: a concurrent duplicate waits on this row and then replays our answer.
                session.execute(sa.insert(self.table).values(
                    {self.scope.name: scope, "key": key, "request_hash": request_hash, "status_code": 0,
                     "response_body": "", "content_type": "application/json", "created_at": self.clock()}))
                status, payload = action(session)
                body = json.dumps(payload, ensure_ascii=False)
                session.execute(sa.update(self.table).where(*where).values(status_code=status, response_body=body))
        except IntegrityError:
            stored = self.stored(scope, key)  # a concurrent duplicate committed first
            if stored is None:
                raise RaceLost() from None
            return self._replay(stored, request_hash)
        return Answer(status, body, "application/json", replayed=False)


def respond(store: IdempotencyStore, scope: str, action: Callable[[Session], Outcome]) -> Response:
    """The Flask answer to the current request, run through `store` under its Idempotency-Key header
    (400 without one; a replay carries `Idempotent-Replayed: true`)."""
    key = request.headers.get(HEADER, "").strip()
    if not valid_key(key):
        api_error(400, KEY_MISSING)
    answer = store.run(scope, key, fingerprint(request.method, request.path, request.get_data()), action)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return Response(answer.body, answer.status, content_type=answer.content_type, headers=headers)
