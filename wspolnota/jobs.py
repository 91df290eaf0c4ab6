"""Periodic jobs of a service (`wspolnota jobs SERVICE`): idempotent housekeeping run on a fixed interval.

A service lists its jobs in `services/<svc>/jobs.py` as PERIODIC = {name: fn(db, now)} and its bootstrap hands them
over (`Parts.periodic`, wspolnota/service.py); each run commits its own transaction (events through the outbox), so
running one twice is harmless and a killed process simply runs it again at the next start.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wspolnota.db import Database

log = logging.getLogger("wspolnota.jobs")

Job = Callable[[Database, datetime], Any]


def run_due(db: Database, jobs: dict[str, Job], now: datetime) -> dict[str, Any]:
    """Run every job once; a failing job is logged and does not stop the others."""
    results: dict[str, Any] = {}
    for name, job in jobs.items():
        try:
            results[name] = job(db, now)
            log.info("job %s: %s", name, results[name])
        except Exception:  # noqa: BLE001 - reported, retried at the next interval
            log.exception("job %s failed; it runs again at the next interval", name)
    return results


def run_forever(db: Database, jobs: dict[str, Job], stop: threading.Event, interval_s: float,
                heartbeat: Callable[[], None] = lambda: None) -> None:
    while not stop.is_set():
        heartbeat()
        started = time.monotonic()
        run_due(db, jobs, datetime.now(UTC))
        stop.wait(max(1.0, interval_s - (time.monotonic() - started)))
