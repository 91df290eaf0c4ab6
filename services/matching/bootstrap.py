"""The matching service assembled once: settings, database, outbox, handlers and its consumer loop.

`wspolnota consume matching` runs the batch-tick loop built here (services/matching/loop.py): one solve per
poll batch, and an idle tick so offers time out and deferred re-solves run. See wspolnota/service.py.
"""
from __future__ import annotations

from typing import Any

from services.matching import nudges, visit_checks
from services.matching.db import make_db
from services.matching.handlers import CONSUMES, PUBLISHES, SUBSCRIPTIONS, handlers
from services.matching.settings import Settings
from wspolnota.service import Clock, Parts, utc_now
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.outbox import Outbox


def bootstrap(db_url: str | None = None, *, settings: Settings | None = None,
              clock: Clock | None = None) -> Parts:
    given = settings
    settings = settings or Settings.from_config()
    clock = clock or utc_now
    db = make_db(db_url)
    outbox = Outbox(db, PUBLISHES)

    def batch_tick_loop(consumer: Any, dlq: Any) -> ConsumerLoop:
        from services.matching.loop import BatchTickLoop

        # This loop has the idle tick that runs deferred solves, so it can afford to debounce.
        loop_settings = given or settings.for_batch_loop()
        return BatchTickLoop("matching", consumer, dlq, db, CONSUMES,
                             handlers(outbox, clock, loop_settings, tick=False), settings=loop_settings,
                             idle_tick_s=loop_settings.tick_s, clock=clock)

    return Parts("matching", settings, db, outbox, clock, handlers=handlers(outbox, clock, settings),
                 consumes=CONSUMES, subscriptions=list(SUBSCRIPTIONS), loop_factory=batch_tick_loop,
                 periodic={**nudges.PERIODIC, **visit_checks.PERIODIC})
