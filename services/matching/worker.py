"""Matching's consumer with its scheduler step: ``python -m services.matching.worker [--scheduler-only]``.

The plain ``wspolnota consume matching`` handles events (and runs the tick after each one); this worker
also runs ``engine.tick`` between polls, so offers time out and debounced re-solves happen when the bus is
quiet. ``--scheduler-only`` runs just the tick every MATCHING_TICK_S seconds next to a plain consumer.
"""
from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from services.matching import engine
from services.matching.db import make_db
from services.matching.handlers import PUBLISHES
from wspolnota.db import Database
from wspolnota.logs import setup_logging
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("wspolnota.matching.scheduler")


def scheduler_step(db: Database, outbox: Outbox, settings: engine.Settings,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, int]:
    """One tick in its own transaction: expire overdue offers, re-solve if due."""
    with db.transaction() as session:
        engine.lock(session)
        done = engine.tick(session, outbox, clock(), settings)
    if any(done.values()):
        log.info("tick: %s", done)
    return done


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
    from wspolnota import worker

    stop = threading.Event()
    thread = threading.Thread(target=run_scheduler, args=(stop, interval), name="matching-scheduler", daemon=True)
    thread.start()
    try:
        worker.run_consumer("matching")
    finally:
        stop.set()
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
