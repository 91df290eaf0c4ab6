"""Periodic jobs of the needs service, run by `wspolnota jobs needs`."""
from __future__ import annotations

from datetime import datetime, timedelta

from services.needs import caseneeds, clock, concerns, handlers, resident_requests
from services.needs.db import idempotency_keys
from wspolnota.db import Database
from wspolnota.idempotency import forget_older_than
from wspolnota.transport.outbox import Outbox


def expire_overdue(db: Database, now: datetime) -> int:
    """Needs whose time has passed without a provider become expired (NeedCancelled, reason "expired")."""
    with clock.using(lambda: now), db.transaction() as session:
        return len(handlers.expire_overdue(session, Outbox(db, handlers.PUBLISHES), now))


def forget_idempotency_keys(db: Database, now: datetime, days: int | None = None) -> int:
    """Case-system answers older than the replay window are deleted, for every client (also revoked ones,
    which never call again to trigger the per-client clean-up)."""
    cutoff = now - timedelta(days=caseneeds.keep_keys_days() if days is None else days)
    with db.transaction() as session:
        return forget_older_than(session, idempotency_keys, cutoff)


def erase_old_requests(db: Database, now: datetime) -> int:
    """Closed and converted requests lose their personal data after NEEDS_REQUEST_RETENTION_DAYS."""
    with clock.using(lambda: now), db.transaction() as session:
        return resident_requests.erase_expired(session, now)


def escalate_concerns(db: Database, now: datetime) -> int:
    """Concerns nobody acknowledged by their deadline: ConcernEscalated once each (notify tells the director)."""
    with clock.using(lambda: now), db.transaction() as session:
        return len(concerns.escalate_overdue(session, Outbox(db, handlers.PUBLISHES), now))


PERIODIC = {"expire-overdue": expire_overdue, "forget-idempotency-keys": forget_idempotency_keys,
            "erase-old-requests": erase_old_requests, "escalate-concerns": escalate_concerns}
