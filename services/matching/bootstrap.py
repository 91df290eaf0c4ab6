"""The matching service assembled once: settings, database, outbox, handlers and its consumer loop.

`wspolnota consume matching` runs the batch-tick loop built here (services/matching/worker.py): one solve per
poll batch, and an idle tick so offers time out and deferred re-solves run. See wspolnota/service.py.
"""
from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from typing import Any

from services.matching import engine
from services.matching.db import make_db
from services.matching.handlers import CONSUMES, PUBLISHES, SUBSCRIPTIONS, handlers
from wspolnota.service import Clock, Parts, utc_now
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.outbox import Outbox


def bootstrap(db_url: str | None = None, *, settings: engine.Settings | None = None,
              clock: Clock | None = None) -> Parts:
    given = settings
    settings = settings or engine.Settings.from_env()
    clock = clock or utc_now
    db = make_db(db_url)
    outbox = Outbox(db, PUBLISHES)

    def batch_tick_loop(consumer: Any, dlq: Any) -> ConsumerLoop:
        from services.matching.worker import BatchTickLoop

        loop_settings = given or settings
        if given is None and not os.environ.get("MATCHING_RESOLVE_INTERVAL_S"):
            # This loop has the idle tick that runs deferred solves, so it can afford to debounce.
            loop_settings = replace(settings, resolve_interval=timedelta(seconds=engine.DEBOUNCED_INTERVAL_S))
        return BatchTickLoop("matching", consumer, dlq, db, CONSUMES,
                             handlers(outbox, clock, loop_settings, tick=False), settings=loop_settings,
                             idle_tick_s=float(os.environ.get("MATCHING_TICK_S") or 1.0), clock=clock)

    return Parts("matching", settings, db, outbox, clock, handlers=handlers(outbox, clock, settings),
                 consumes=CONSUMES, subscriptions=list(SUBSCRIPTIONS), loop_factory=batch_tick_loop)
