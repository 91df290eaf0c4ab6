"""The volunteers service assembled once: database, outbox, handlers and periodic jobs (see wspolnota/service.py)."""
from __future__ import annotations

from services.volunteers import handlers, jobs
from services.volunteers.db import make_db
from services.volunteers.settings import Settings
from wspolnota.service import Clock, Parts, utc_now
from wspolnota.transport.outbox import Outbox


def bootstrap(db_url: str | None = None, *, settings: Settings | None = None, clock: Clock | None = None) -> Parts:
    db = make_db(db_url)
    outbox = Outbox(db, handlers.PUBLISHES)
    return Parts("volunteers", settings or Settings.from_config(), db, outbox, clock or utc_now, handlers=handlers.handlers(outbox),
                 consumes=handlers.CONSUMES, subscriptions=list(handlers.SUBSCRIPTIONS),
                 periodic=dict(getattr(jobs, "PERIODIC", {})))
