"""The ledger's guarantees hold on both engines the service runs on (SQLite and PostgreSQL): the unique
(event, recipient, channel), the single claim of a row, and a failure that leaves a dead letter."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.notify.channels import Outgoing, TemporaryFailure
from services.notify.db import dead_letters, make_db, notifications
from services.notify.handlers import PUBLISHES
from services.notify.ledger import record
from services.notify.sender import Sender
from services.notify.settings import Settings
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration


class Refusing:
    name = "email"

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: Outgoing) -> None:
        self.calls += 1
        raise TemporaryFailure("SMTP: 421 spróbuj później")


class Addresses:
    def address(self, recipient: str, channel: str, urgent: bool = False, kind: str | None = None) -> str:
        return "osl@cus.example"


def test_the_ledger_holds_its_guarantees_on_this_engine(database_url: str) -> None:
    db = make_db(database_url)
    db.migrate()
    outbox = Outbox(db, PUBLISHES)
    cause = str(uuid.uuid4())
    with db.transaction() as session:
        first = record(session, outbox, cause, "need_unmatched", "organizator", "email", "Temat", "Treść")
        assert record(session, outbox, cause, "need_unmatched", "organizator", "email", "Temat", "Treść") is None
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(sa.insert(notifications).values(
            id=str(uuid.uuid4()), cause_event_id=cause, kind="x", channel="email", recipient="organizator",
            subject="", body="", status="pending", created_at=datetime.now(UTC)))

    now = [datetime.now(UTC) + timedelta(seconds=1)]
    channel = Refusing()
    sender = Sender(db, Settings.from_env({}, max_attempts=2), {"email": channel}, Addresses(),  # type: ignore[arg-type]
                    clock=lambda: now[0])
    assert sender.claim(first, now[0]) is True
    assert sender.claim(first, now[0]) is False  # a second worker cannot take the same row
    with db.engine.begin() as conn:
        conn.execute(sa.update(notifications).values(status="pending", attempts=0))
    for _ in range(2):
        sender.run_once()
        now[0] += timedelta(hours=2)
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(notifications).where(notifications.c.id == first)).mappings().one()
        letters = conn.execute(sa.select(dead_letters)).mappings().all()
    assert (row["status"], row["attempts"], channel.calls) == ("failed", 2, 2)
    assert [(d["notification_id"], d["reason"]) for d in letters] == [(first, "SMTP: 421 spróbuj później")]
    db.dispose()
