"""Transactional outbox and its relay.

A service calls `Outbox.add(session, ...)` inside the unit of work that changes its data, so the
event row commits with the change or not at all. The relay (its own process) publishes unpublished
rows in id order with the idempotent, acks=all producer, then marks them published. A crash between
publish and mark republishes those rows; consumers dedupe by event id.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wspolnota import config
from wspolnota.db import Database
from wspolnota.transport.base import Producer
from wspolnota.transport.envelope import Catalog, Event, encode, new_event

log = logging.getLogger("wspolnota.relay")


def event_headers(event_type: str, event_id: str) -> list[tuple[str, bytes]]:
    return [("event-type", event_type.encode()), ("event-id", event_id.encode())]


class Outbox:
    """Writes a service's events into its outbox table, validated against its own schemas."""

    def __init__(self, db: Database, catalog: Catalog, source: str | None = None):
        self.db, self.catalog, self.source = db, catalog, source or db.service

    def add(self, session: Session, topic: str, event_type: str, key: str, data: dict[str, Any],
            version: int = 1) -> Event:
        event = new_event(self.catalog, self.source, event_type, key, data, version)
        session.execute(sa.insert(self.db.outbox).values(
            event_id=str(event.id), topic=config.topic(topic), key=event.key, type=event.type,
            body=encode(event), created_at=event.time,
        ))
        return event


class Relay:
    def __init__(self, db: Database, producer: Producer, batch_size: int | None = None,
                 retention: timedelta | None = None, producer_factory: Callable[[], Producer] | None = None):
        self.db, self.producer, self.producer_factory = db, producer, producer_factory
        self.batch_size = batch_size or config.get_int("OUTBOX_BATCH_SIZE")
        self.retention = retention or timedelta(hours=config.get_float("OUTBOX_RETENTION_HOURS"))
        self.published_total = 0

    def _publish(self, rows: Sequence[Any]) -> None:
        for row in rows:
            self.producer.send(row.topic, row.key.encode(), row.body, event_headers(row.type, row.event_id))
        # Bounded: an embedded broker that restarted has forgotten the idempotent producer, whose records then
        # wait for the whole delivery timeout; a failed round renews the producer (see run) and resends.
        self.producer.flush(config.get_float("RELAY_FLUSH_TIMEOUT_S"))

    def run_once(self) -> int:
        """Publish one batch of unpublished rows; return how many."""
        t = self.db.outbox
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.id, t.c.event_id, t.c.topic, t.c.key, t.c.type, t.c.body)
                .where(t.c.published_at.is_(None)).order_by(t.c.id).limit(self.batch_size)
            ).all()
            conn.rollback()
        if not rows:
            return 0
        config.failpoint("relay.before_publish")
        self._publish(rows)
        config.failpoint("relay.after_publish")
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.id.in_([r.id for r in rows]))
                         .values(published_at=datetime.now(UTC)))
        for row in rows:
            log.info("published %s key=%s topic=%s", row.type, row.key, row.topic)
        self.published_total += len(rows)
        return len(rows)

    def _renew_producer(self) -> None:
        """After a failed round start a new producer: an idempotent producer whose broker lost its state
        (embedded tansu restart) cannot recover its sequence numbers."""
        if self.producer_factory is None:
            return
        try:
            self.producer.close()
        except Exception:  # noqa: BLE001 - the old one is being discarded anyway
            pass
        self.producer = self.producer_factory()

    def purge(self, now: datetime | None = None) -> int:
        """Delete published rows older than the retention; unpublished rows are never purged."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        t = self.db.outbox
        with self.db.engine.begin() as conn:
            result = conn.execute(sa.delete(t).where(t.c.published_at.is_not(None), t.c.created_at < cutoff))
        return result.rowcount or 0

    def replay(self, since: datetime | None = None) -> int:
        """Republish every kept row (published or not) created at or after `since`, in order."""
        t = self.db.outbox
        query = sa.select(t.c.id, t.c.event_id, t.c.topic, t.c.key, t.c.type, t.c.body).order_by(t.c.id)
        if since is not None:
            query = query.where(t.c.created_at >= since)
        count, last_id = 0, 0
        while True:
            with self.db.engine.connect() as conn:
                rows = conn.execute(query.where(t.c.id > last_id).limit(self.batch_size)).all()
                conn.rollback()
            if not rows:
                return count
            self._publish(rows)
            with self.db.engine.begin() as conn:
                conn.execute(sa.update(t).where(t.c.id.in_([r.id for r in rows]), t.c.published_at.is_(None))
                             .values(published_at=datetime.now(UTC)))
            count += len(rows)
            last_id = rows[-1].id

    def replay_until_done(self, stop: threading.Event, retry_s: float = 1.0) -> int | None:
        """`replay()` all kept rows, retrying a failed attempt from the start with a new producer (a row sent
        twice is dropped by its consumers); None if stopped first."""
        while not stop.is_set():
            try:
                return self.replay()
            except Exception as err:  # noqa: BLE001 - the broker may still be coming up; try again
                log.warning("replay failed (%s: %s); trying again", type(err).__name__, err)
                self._renew_producer()
                stop.wait(retry_s)
        return None

    def run(self, stop: threading.Event, idle_wait_s: float | None = None,
            purge_every_s: float = 3600.0, heartbeat=lambda: None) -> None:  # type: ignore[no-untyped-def]
        idle = idle_wait_s if idle_wait_s is not None else config.get_float("OUTBOX_POLL_INTERVAL_S")
        next_purge = 0.0
        while not stop.is_set():
            heartbeat()
            if time.monotonic() >= next_purge:
                purged = self.purge()
                if purged:
                    log.info("purged %d published outbox rows older than %s", purged, self.retention)
                next_purge = time.monotonic() + purge_every_s
            try:
                sent = self.run_once()
            except Exception as err:  # noqa: BLE001 - broker or database trouble: the rows wait, nothing is lost
                log.warning("relay round failed (%s: %s); retrying", type(err).__name__, err)
                self._renew_producer()
                stop.wait(1.0)
                continue
            if sent < self.batch_size:
                stop.wait(idle)
