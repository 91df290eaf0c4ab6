"""Matching's consumer with its scheduler step: ``python -m services.matching.worker [--scheduler-only]``.

This is what ``wspolnota consume matching`` runs. Events are applied one per transaction as usual, but
the solve is not run per event: after each poll batch the loop runs ``engine.tick`` once (new needs are
placed at once, a full re-solve runs when it is due), and between batches — when the bus is quiet — at
least every MATCHING_TICK_S seconds, so offers time out and debounced re-solves happen. A burst thus
becomes one solve per batch, and batches grow by themselves while a solve runs (coalescing under load
only). ``--scheduler-only`` runs just the tick every MATCHING_TICK_S seconds next to a plain consumer.
"""
from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from services.matching import engine
from services.matching.db import make_db
from services.matching.handlers import CONSUMES, PUBLISHES, SUBSCRIPTIONS, handlers
from wspolnota import config
from wspolnota.db import Database
from wspolnota.logs import setup_logging
from wspolnota.metrics import WorkerMetrics
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("wspolnota.matching.scheduler")


def scheduler_step(db: Database, outbox: Outbox, settings: engine.Settings,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, int]:
    """One tick in its own transaction: expire overdue offers, place new needs, re-solve if due."""
    cpu = time.process_time()
    with db.transaction() as session:
        engine.lock(session)
        done = engine.tick(session, outbox, clock(), settings)
    if any(done.values()):
        log.info("tick: %s cpu_ms=%d", done, round((time.process_time() - cpu) * 1000))
    return done


class BatchTickLoop(ConsumerLoop):
    """The consumer loop with one `engine.tick` after every poll batch instead of one per event.

    An empty poll ticks too, at most every `idle_tick_s` (offer deadlines, deferred re-solves). The
    handlers must be built with ``tick=False``.
    """

    def __init__(self, *args: object, settings: engine.Settings, idle_tick_s: float = 1.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.settings, self.idle_tick_s, self.clock, self.monotonic = settings, idle_tick_s, clock, monotonic
        self.outbox = Outbox(self.db, PUBLISHES)
        self.last_tick = float("-inf")
        self.stats.update({"solves": 0, "proposed": 0, "replaced": 0, "expired": 0})

    def run_once(self, timeout_ms: int | None = None) -> int:
        try:
            handled = super().run_once(timeout_ms)
        except Exception:
            self.tick(quiet=True)  # the broker may be away: offers still time out
            raise
        if handled or self.monotonic() - self.last_tick >= self.idle_tick_s:
            self.tick()
        return handled

    def tick(self, quiet: bool = False) -> dict[str, int]:
        self.last_tick = self.monotonic()
        try:
            done = scheduler_step(self.db, self.outbox, self.settings, self.clock)
        except Exception as err:
            if not quiet:
                raise
            log.warning("tick failed (%s: %s)", type(err).__name__, err)
            return {}
        for key in ("solves", "proposed", "replaced", "expired"):
            self.stats[key] += done.get(key, 0)
        return done


def run_consumer(idle_tick_s: float) -> None:
    """`wspolnota.worker.run_consumer("matching")` with the batch tick."""
    from wspolnota import worker
    from wspolnota.transport.kafka import KafkaConsumerAdapter, KafkaProducerAdapter, ensure_topics

    setup_logging("matching", "consumer")
    db = make_db()
    ensure_topics(worker.all_topics())
    topics = [config.topic(t) for t in SUBSCRIPTIONS]
    consumer = KafkaConsumerAdapter(group_id=f"{config.get('WSPOLNOTA_TOPIC_PREFIX')}matching", topics=topics)
    dlq = KafkaProducerAdapter(client_id="matching-dlq")
    settings = engine.Settings.from_env()
    loop = BatchTickLoop("matching", consumer, dlq, db, CONSUMES,
                         handlers(Outbox(db, PUBLISHES), settings=settings, tick=False),
                         settings=settings, idle_tick_s=idle_tick_s)
    metrics = WorkerMetrics("matching", "consumer").consumer(loop, consumer)
    metrics.serve()
    stop = worker.stop_on_signals()
    log.info("consumer for matching started on %s (one solve per poll batch)", ", ".join(topics))
    try:
        loop.run(stop, heartbeat=metrics.beat(worker.heartbeat))
    finally:
        consumer.close()
        dlq.close()
        db.dispose()
        log.info("consumer for matching stopped (%s)", loop.stats)


def run_scheduler(stop: threading.Event, interval_s: float) -> None:
    db = make_db()
    outbox, settings = Outbox(db, PUBLISHES), engine.Settings.from_env()
    try:
        while not stop.is_set():
            scheduler_step(db, outbox, settings)
            stop.wait(interval_s)
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scheduler-only", action="store_true")
    args = parser.parse_args(argv)
    # This process has the idle tick that runs deferred solves, so it can afford to debounce.
    os.environ.setdefault("MATCHING_RESOLVE_INTERVAL_S", str(engine.DEBOUNCED_INTERVAL_S))
    interval = float(os.environ.get("MATCHING_TICK_S") or 1.0)
    if args.scheduler_only:
        from wspolnota.worker import stop_on_signals

        setup_logging("matching", "scheduler")
        run_scheduler(stop_on_signals(), interval)
        return
    run_consumer(interval)


if __name__ == "__main__":
    main()
