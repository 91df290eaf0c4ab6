"""The consumer loop: validate, dedupe, handle in one DB transaction, then commit the offset.

- Each message is handled in its own transaction together with its `processed_events` row, so a
  redelivered event is recognised and skipped.
- Offsets are committed only after those transactions commit.
- A message that cannot be decoded or validated, or whose handler keeps failing, goes to
  `<topic>.dlq` with the reason in headers, and the loop carries on with the next one.
- If the database is unreachable the loop does not dead-letter: it rewinds and retries later.
- On any failure (the DLQ cannot be written either, a bug, an interrupt) every partition is rewound to its
  first unhandled message and nothing past it is committed, so no event is skipped.
"""
from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from wspolnota import config
from wspolnota.db import Database
from wspolnota.transport.base import Consumer, Message, Producer, TopicPartition
from wspolnota.transport.envelope import Catalog, Event, InvalidEvent, decode

log = logging.getLogger("wspolnota.consumer")

Handler = Callable[[Session, Event], None]


class DatabaseUnavailable(RuntimeError):
    pass


EVENT_OUTCOMES = ("handled", "duplicates", "ignored", "dead_lettered")


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class ConsumerLoop:
    def __init__(self, name: str, consumer: Consumer, dlq: Producer, db: Database, catalog: Catalog,
                 handlers: dict[str, Handler], max_attempts: int | None = None):
        unknown = set(handlers) - catalog.types()
        if unknown:
            raise ValueError(f"handlers without a payload schema: {sorted(unknown)}")
        self.name, self.consumer, self.dlq, self.db = name, consumer, dlq, db
        self.catalog, self.handlers = catalog, handlers
        self.max_attempts = max_attempts or config.get_int("CONSUMER_MAX_ATTEMPTS")
        self.stats = dict.fromkeys(EVENT_OUTCOMES, 0)

    # -- one step, driven by tests without threads or sleeps ------------------------------------
    def run_once(self, timeout_ms: int | None = None) -> int:
        """Handle one polled batch; commit only what was handled, and rewind what was not.

        Whatever goes wrong (the database is down, the DLQ cannot be written, a bug, an interrupt), each
        partition of the batch is sought back to its first unhandled message and no offset past it is
        committed: the consumer's position has already moved to the end of the batch, so without the
        rewind the next commit would skip the rest of it silently.
        """
        timeout = config.get_int("KAFKA_POLL_TIMEOUT_MS") if timeout_ms is None else timeout_ms
        messages = self.consumer.poll(timeout)
        done: dict[TopicPartition, int] = {}
        unhandled: dict[TopicPartition, int] = {}  # the first message of each partition not handled yet
        last: dict[TopicPartition, int] = {}
        for msg in messages:
            unhandled.setdefault((msg.topic, msg.partition), msg.offset)
            last[(msg.topic, msg.partition)] = msg.offset
        stalled: set[TopicPartition] = set()
        try:
            for msg in messages:
                tp = (msg.topic, msg.partition)
                if tp in stalled:
                    continue
                try:
                    self._process(msg)
                except DatabaseUnavailable:
                    stalled.add(tp)
                    continue
                done[tp] = msg.offset + 1
                if msg.offset < last[tp]:
                    unhandled[tp] = msg.offset + 1
                else:
                    del unhandled[tp]
        finally:
            self._commit(done)
            self._rewind(unhandled)
        if stalled:
            raise DatabaseUnavailable(f"database unavailable; {len(stalled)} partition(s) rewound")
        return sum(1 for _ in messages)

    def _rewind(self, positions: dict[TopicPartition, int]) -> None:
        """Seek every partition back; a partition the member no longer owns (a rebalance) cannot be sought,
        and needs no rewind: its next owner starts from the committed offset, which is not past it."""
        failed: Exception | None = None
        for (topic, partition), offset in positions.items():
            try:
                self.consumer.seek(topic, partition, offset)
            except Exception as err:  # noqa: BLE001 - try every partition, then report
                log.warning("%s: could not rewind %s:%d to %d (%s: %s)", self.name, topic, partition, offset,
                            type(err).__name__, err)
                failed = failed or err
        if failed is not None:
            raise failed

    def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """A failed commit (rebalance, broker restart) is harmless: the events come again and are deduplicated."""
        try:
            self.consumer.commit(offsets)
        except Exception as err:  # noqa: BLE001 - any broker-side failure; the work itself is durable
            log.warning("%s: offset commit failed (%s: %s); those events will be redelivered and skipped",
                        self.name, type(err).__name__, err)

    def run(self, stop: threading.Event, heartbeat: Callable[[], None] = lambda: None) -> None:
        backoff = 0.5
        while not stop.is_set():
            heartbeat()
            try:
                self.run_once()
                backoff = 0.5
            except DatabaseUnavailable as err:
                log.warning("%s: %s; retrying in %.1fs", self.name, err, backoff)
            except Exception as err:  # noqa: BLE001 - broker or DLQ unreachable or similar: wait, never exit
                log.warning("%s: polling or handling failed (%s: %s); the batch was rewound, retrying in %.1fs",
                            self.name, type(err).__name__, err, backoff)
            else:
                continue
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)

    # -- one message ------------------------------------------------------------------------------
    def _process(self, msg: Message) -> None:
        try:
            event = decode(msg.value, self.catalog)
        except InvalidEvent as err:
            self._dead_letter(msg, "invalid", err.reason)
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            self.stats["ignored"] += 1
            return
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                outcome = self._handle(handler, event)
            except OperationalError as err:
                raise DatabaseUnavailable(str(err.orig)) from err
            except Exception as err:  # a handler bug or a bad event: retry, then dead-letter
                last_error = f"{type(err).__name__}: {err}"
                log.warning("%s: %s %s failed (attempt %d/%d): %s", self.name, event.type, event.key,
                            attempt, self.max_attempts, last_error)
                log.debug("%s", traceback.format_exc())
                continue
            self.stats[outcome] += 1
            if outcome == "handled":
                log.info("%s handled %s key=%s", self.name, event.type, event.key)
            return
        self._dead_letter(msg, "handler-failed", last_error)

    def _handle(self, handler: Handler, event: Event) -> str:
        table = self.db.processed
        try:
            with self.db.transaction() as session:
                seen = session.execute(sa.select(table.c.event_id).where(
                    table.c.consumer == self.name, table.c.event_id == str(event.id))).first()
                if seen:
                    return "duplicates"
                handler(session, event)
                session.execute(sa.insert(table).values(
                    consumer=self.name, event_id=str(event.id), event_type=event.type,
                    processed_at=datetime.now(UTC)))
        except IntegrityError:
            # Another member of the group recorded the same event first (rebalance race).
            with self.db.transaction() as session:
                if session.execute(sa.select(table.c.event_id).where(
                        table.c.consumer == self.name, table.c.event_id == str(event.id))).first():
                    return "duplicates"
            raise
        return "handled"

    def _dead_letter(self, msg: Message, kind: str, reason: str) -> None:
        headers = [h for h in msg.headers if not h[0].startswith("dlq.")] + [
            ("dlq.kind", kind.encode()),
            ("dlq.reason", reason[:2000].encode("utf-8", "replace")),
            ("dlq.consumer", self.name.encode()),
            ("dlq.source.topic", msg.topic.encode()),
            ("dlq.source.partition", str(msg.partition).encode()),
            ("dlq.source.offset", str(msg.offset).encode()),
            ("dlq.time", datetime.now(UTC).isoformat().encode()),
        ]
        self.dlq.send(dlq_topic(msg.topic), msg.key, msg.value, headers)
        self.dlq.flush()
        self.stats["dead_lettered"] += 1
        log.warning("%s: %s@%d:%d sent to DLQ (%s): %s", self.name, msg.topic, msg.partition, msg.offset,
                    kind, reason[:200])
