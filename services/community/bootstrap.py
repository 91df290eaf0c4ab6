"""The community service assembled once: database, outbox and handlers (see wspolnota/service.py)."""
from __future__ import annotations

from services.community import handlers
from services.community.db import make_db
from wspolnota.service import Clock, Parts, utc_now
from wspolnota.transport.outbox import Outbox


def bootstrap(db_url: str | None = None, *, settings: object | None = None, clock: Clock | None = None) -> Parts:
    db = make_db(db_url)
    outbox = Outbox(db, handlers.PUBLISHES)
    return Parts("community", settings, db, outbox, clock or utc_now, handlers=handlers.handlers(outbox),
                 consumes=handlers.CONSUMES, subscriptions=list(handlers.SUBSCRIPTIONS))
