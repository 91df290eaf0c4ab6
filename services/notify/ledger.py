"""The notification ledger: record rows (consumer side) and move them through their states (sender side).

States: pending → sending → sent; pending → failed (after N attempts, with a dead letter);
pending → cancelled (no longer needed: a reminder for a cancelled visit); pending → skipped (the
recipient has no address on that channel); "recorded" for panel rows, which are never sent.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import notify as notify_contract
from services.notify.db import dead_letters, notifications
from services.notify.messages import Rendered, sms_length, sms_text
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox

PROVIDER_CHANNELS = ("sms", "email")  # rural volunteers read SMS first; e-mail carries the full text
UNSENT_CHANNELS = ("panel", "call")  # recorded, never sent: the staff panel, and residents' notices staff phone


def derived_id(cause_id: str, purpose: str) -> str:
    """A stable cause id for a second notification from one event (the reminder of an acceptance)."""
    return str(uuid.uuid5(uuid.UUID(cause_id), purpose))


def record(session: Session, outbox: Outbox, cause_id: str, kind: str, recipient: str, channel: str,
           subject: str, body: str, *, need_id: str | None = None, match_id: str | None = None,
           urgent: bool = False, due: datetime | None = None, payload: dict[str, Any] | None = None,
           now: datetime | None = None, activity_id: str | None = None) -> str | None:
    """Add one ledger row unless (cause, recipient, channel) already has one; return its id if added."""
    t = notifications
    exists = session.execute(sa.select(t.c.id).where(
        t.c.cause_event_id == cause_id, t.c.recipient == recipient, t.c.channel == channel)).first()
    if exists:
        return None
    now = now or datetime.now(UTC)
    notification_id = str(uuid.uuid4())
    segments = None
    if channel == "sms":
        body = sms_text(body)
        segments = sms_length(body).segments
    if payload is not None:
        payload = {**payload, "notification_id": notification_id}
    session.execute(sa.insert(t).values(
        id=notification_id, cause_event_id=cause_id, need_id=need_id, match_id=match_id, kind=kind,
        activity_id=activity_id,
        channel=channel, recipient=recipient, subject=subject[:200], body=body,
        status="recorded" if channel in UNSENT_CHANNELS else "pending", created_at=now, urgent=urgent,
        next_attempt_at=None if channel in UNSENT_CHANNELS else (due or now), segments=segments,
        payload=json.dumps(payload, ensure_ascii=False, sort_keys=True) if payload is not None else None))
    outbox.add(session, notify_contract.TOPIC, "NotificationRecorded", notification_id, {
        "notification_id": notification_id, "cause_event_id": cause_id, "kind": kind, "channel": channel,
        "recipient_role": recipient.split(":")[0]})
    return notification_id


def record_rendered(session: Session, outbox: Outbox, cause_id: str, kind: str, recipient: str,
                    channels: tuple[str, ...], text: Rendered, **kw: Any) -> list[str]:
    ids = []
    for channel in channels:
        body = text.sms if channel == "sms" else text.email
        added = record(session, outbox, cause_id, kind, recipient, channel, text.subject, body, **kw)
        if added:
            ids.append(added)
    return ids


def cancel_pending(session: Session, *conditions: Any, reason: str) -> int:
    """Stop rows that have not been sent yet (the visit was cancelled, the need got a provider)."""
    t = notifications
    result = session.execute(sa.update(t).where(t.c.status == "pending", *conditions)
                             .values(status="cancelled", last_error=reason[:500]))
    return result.rowcount or 0  # type: ignore[attr-defined]


# -- what staff see and do (the page and the API) -----------------------------------------------------------
def latest(db: Database, limit: int) -> list[sa.RowMapping]:
    """The newest ledger rows, newest first."""
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(notifications).order_by(notifications.c.created_at.desc())
                                 .limit(limit)).mappings())


def open_alerts(db: Database) -> list[sa.RowMapping]:
    """Notifications the sender gave up on and nobody has handled yet, newest first."""
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(dead_letters).where(dead_letters.c.resolved_at.is_(None))
                                 .order_by(dead_letters.c.failed_at.desc())).mappings())


def retry_failed(db: Database, notification_id: str, now: datetime) -> bool:
    """Put a failed notification back in the sending queue and close its alert; False if it had not failed."""
    with db.transaction() as session:
        retried = session.execute(sa.update(notifications).where(
            notifications.c.id == notification_id, notifications.c.status == "failed").values(
            status="pending", attempts=0, next_attempt_at=now, last_error=None))
        session.execute(sa.update(dead_letters).where(dead_letters.c.notification_id == notification_id)
                        .values(resolved_at=now))
    return bool(retried.rowcount)  # type: ignore[attr-defined]


def resolve_failed(db: Database, notification_id: str, now: datetime) -> None:
    """Close a failed notification's alert (staff handled it another way)."""
    with db.transaction() as session:
        session.execute(sa.update(dead_letters).where(dead_letters.c.notification_id == notification_id)
                        .values(resolved_at=now))
