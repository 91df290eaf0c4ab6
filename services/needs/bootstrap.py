"""The needs service assembled once: database, outbox, handlers and periodic jobs (see wspolnota/service.py)."""
from __future__ import annotations

from services.needs import handlers, jobs, need_checks
from services.needs.db import make_db
from wspolnota.service import Clock, Parts, utc_now
from wspolnota.transport.outbox import Outbox


def bootstrap(db_url: str | None = None, *, settings: object | None = None, clock: Clock | None = None) -> Parts:
    db = make_db(db_url)
    outbox = Outbox(db, handlers.PUBLISHES)
    clock = clock or utc_now
    return Parts("needs", settings, db, outbox, clock,
                 handlers={**handlers.handlers(outbox, clock), **need_checks.consumer_handlers(outbox, clock)},
                 consumes=handlers.CONSUMES, subscriptions=list(handlers.SUBSCRIPTIONS),
                 periodic={**jobs.PERIODIC, **need_checks.PERIODIC})
