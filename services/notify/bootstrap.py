"""The notify service assembled once: settings, database, outbox and handlers (see wspolnota/service.py)."""
from __future__ import annotations

from services.notify import handlers
from services.notify.db import make_db
from services.notify.settings import Settings
from wspolnota.service import Clock, Parts, utc_now
from wspolnota.transport.outbox import Outbox


def bootstrap(db_url: str | None = None, *, settings: Settings | None = None, clock: Clock | None = None) -> Parts:
    settings = settings or Settings.from_env()
    clock = clock or utc_now
    db = make_db(db_url)
    outbox = Outbox(db, handlers.PUBLISHES)
    return Parts("notify", settings, db, outbox, clock, handlers=handlers.handlers(outbox, settings, clock),
                 consumes=handlers.CONSUMES, subscriptions=list(handlers.SUBSCRIPTIONS))
