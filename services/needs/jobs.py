"""Periodic jobs of the needs service, run by `wspolnota jobs needs`."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from services.needs import handlers
from services.needs.db import idempotency_keys
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox


def expire_overdue(db: Database, now: datetime) -> int:
    """Needs whose time has passed without a provider become expired (NeedCancelled, reason "expired")."""
    with db.transaction() as session:
        return len(handlers.expire_overdue(session, Outbox(db, handlers.PUBLISHES), now))


def forget_idempotency_keys(db: Database, now: datetime, days: int | None = None) -> int:
    """Case-system answers older than the replay window are deleted, for every client (also revoked ones,
    which never call again to trigger the per-client clean-up)."""
    from services.needs.casesystem import keep_keys_days

    cutoff = now - timedelta(days=keep_keys_days() if days is None else days)
    with db.transaction() as session:
        return int(session.execute(sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff))
                   .rowcount)  # type: ignore[attr-defined]


PERIODIC = {"expire-overdue": expire_overdue, "forget-idempotency-keys": forget_idempotency_keys}
