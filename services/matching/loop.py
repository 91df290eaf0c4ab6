"""Matching's consumer loop with its scheduler step: what ``wspolnota consume matching`` runs (bootstrap.py).

Events are applied one per transaction as usual, but the solve is not run per event: after each poll batch
the loop runs ``schedule.tick`` once (new needs are placed at once, a full re-solve runs when it is due), and
between batches — when the bus is quiet — at least every MATCHING_TICK_S seconds, so offers time out and
debounced re-solves happen. A burst thus becomes one solve per batch, and batches grow by themselves while a
solve runs (coalescing under load only).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from services.matching import schedule, store
from services.matching.handlers import PUBLISHES
from services.matching.settings import Settings
from wspolnota.db import Database
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("wspolnota.matching.scheduler")


def scheduler_step(db: Database, outbox: Outbox, settings: Settings,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, int]:
    """One tick in its own transaction: expire overdue offers, place new needs, re-solve if due."""
    cpu = time.process_time()
    with db.transaction() as session:
        store.lock(session)
        done = schedule.tick(session, outbox, clock(), settings)
    if any(done.values()):
        log.info("tick: %s cpu_ms=%d", done, round((time.process_time() - cpu) * 1000))
    return done


class BatchTickLoop(ConsumerLoop):
    """The consumer loop with one `schedule.tick` after every poll batch instead of one per event.

    An empty poll ticks too, at most every `idle_tick_s` (offer deadlines, deferred re-solves). The
    handlers must be built with ``tick=False``.
    """

    def __init__(self, *args: object, settings: Settings, idle_tick_s: float = 1.0,
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
