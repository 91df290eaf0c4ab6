"""Periodic jobs of the needs service, run by `wspolnota jobs needs`."""
from __future__ import annotations

from datetime import datetime

from services.needs import handlers
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox


def expire_overdue(db: Database, now: datetime) -> int:
    """Needs whose time has passed without a provider become expired (NeedCancelled, reason "expired")."""
    with db.transaction() as session:
        return len(handlers.expire_overdue(session, Outbox(db, handlers.PUBLISHES), now))


PERIODIC = {"expire-overdue": expire_overdue}
