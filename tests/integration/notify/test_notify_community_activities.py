"""Community activities in notify on PostgreSQL and SQLite alike: a reminder recorded once, rebooked on a new
date, cancelled on unregistering and on cancellation; and the sender reads a resident's address from the community
service's real internal contact API (served over HTTP) at the moment it sends, with the audited read there."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.community import plan_handlers as community
from services.community.app import create_app as community_app
from services.community.db import audit_log
from services.community.db import make_db as community_db
from services.notify.channels import Outgoing
from services.notify.db import make_db, notifications
from services.notify.handlers import CONSUMES, PUBLISHES, handlers
from services.notify.sender import Sender
from services.notify.settings import Settings
from wspolnota.transport import Event, decode, new_event
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

ACTIVITY = "44444444-4444-4444-8444-444444444444"
RESIDENT = "66666666-6666-4666-8666-666666666666"
# Tomorrow at 11:00 Warsaw time: the sender's clock, so no SMS is held back by the quiet hours.
DAYTIME = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
STARTS = DAYTIME + timedelta(days=3)


def ev(event_type: str, data: dict) -> Event:  # type: ignore[type-arg]
    return new_event(CONSUMES, "community", event_type, data.get("activity_id") or "k", data)


def scheduled(starts: datetime) -> dict:  # type: ignore[type-arg]
    return {"activity_id": ACTIVITY, "kind": "meeting", "village": "belno", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity": None}


def statuses(db, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return sorted(conn.execute(sa.select(notifications.c.status).where(notifications.c.kind == kind)).scalars())


def test_reminders_are_booked_once_rebooked_and_cancelled_on_this_engine(database_url: str) -> None:
    db = make_db(database_url)
    db.migrate()
    table = handlers(Outbox(db, PUBLISHES), Settings.from_env({}))

    def deliver(e: Event) -> None:
        with db.transaction() as session:
            table[e.type](session, e)

    added = ev("ParticipantAdded", {"activity_id": ACTIVITY, "participant_id": RESIDENT, "role": "resident",
                                    "reminders": True})
    deliver(added)  # before the activity is known: booked when it is
    deliver(ev("ActivityScheduled", scheduled(STARTS)))
    deliver(added)
    assert statuses(db, "activity_reminder") == ["pending", "pending"]
    deliver(ev("ActivityScheduled", scheduled(STARTS + timedelta(days=1))))
    assert statuses(db, "activity_reminder") == ["cancelled", "cancelled", "pending", "pending"]
    deliver(ev("ParticipantRemoved", {"activity_id": ACTIVITY, "participant_id": RESIDENT, "role": "resident",
                                      "reason": "erased"}))
    assert statuses(db, "activity_reminder") == ["cancelled"] * 4
    deliver(ev("ActivityCancelled", {"activity_id": ACTIVITY, "reason": "cancelled_by_staff"}))
    assert statuses(db, "activity_cancelled") == []  # nobody left to tell
    db.dispose()


class Sent:
    name = "sms"

    def __init__(self) -> None:
        self.messages: list[Outgoing] = []

    def send(self, message: Outgoing) -> None:
        self.messages.append(message)


def test_the_reminder_reaches_the_phone_the_community_service_holds(tmp_path: Path, database_url: str) -> None:
    url = f"sqlite:///{tmp_path / 'community.db'}"
    cdb = community_db(url)
    cdb.migrate()
    app = community_app({"DATABASE_URL": url, "TESTING": True, "INTERNAL_SERVICE_TOKEN": "shared-token"},
                        clock=lambda: DAYTIME)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cparts = app.extensions["wspolnota.parts"]
    with cdb.transaction() as s:
        [activity_id] = community.schedule_activity(s, cparts.outbox, {
            "kind": "meeting", "title": "Spotkanie mieszkańców", "village": "belno", "starts_at": STARTS,
            "ends_at": STARTS + timedelta(hours=2)}, DAYTIME)
        registration = community.register(s, activity_id, "Anna Nowak", "600 100 200", "public", DAYTIME,
                                          consent=True, outbox=cparts.outbox)
    with cdb.engine.connect() as conn:  # community's events, as notify's consumer receives them
        events = [decode(b) for b in conn.execute(sa.select(cdb.outbox.c.body).order_by(cdb.outbox.c.id)).scalars()]

    db = make_db(database_url)
    db.migrate()
    settings = Settings.from_env({}, community_internal_url=f"http://127.0.0.1:{server.server_port}",
                                 internal_service_token="shared-token")
    table = handlers(Outbox(db, PUBLISHES), settings)
    for e in events:
        if e.type in table:
            with db.transaction() as session:
                table[e.type](session, e)
    sms, email = Sent(), Sent()
    email.name = "email"
    the_day_before = STARTS - timedelta(days=1)
    try:
        Sender(db, settings, channels={"sms": sms, "email": email}, clock=lambda: the_day_before).run_once()
    finally:
        server.shutdown()
    [message] = sms.messages
    assert message.address == "600 100 200" and message.kind == "activity_reminder"
    assert "Nowak" not in message.text and email.messages == []
    with db.engine.connect() as conn:
        rows = {r.channel: r for r in conn.execute(sa.select(notifications))}
    assert rows["sms"].status == "sent" and rows["sms"].recipient == f"uczestnik:{registration}"
    assert (rows["email"].status, rows["email"].last_error) == ("skipped", "uczestnik dostaje SMS")
    with cdb.engine.connect() as conn:
        reads = conn.execute(sa.select(audit_log.c.actor).where(audit_log.c.action == "read",
                                                                audit_log.c.subject_id == registration)).all()
    assert [r.actor for r in reads] == ["service:notify", "service:notify"]  # one read per channel tried
    db.dispose()
    cdb.dispose()
