"""Resident erasure on SQLite and PostgreSQL alike: the needs service's transaction, and matching's and notify's
folds of what it published (their handlers on their own databases, fed the needs outbox in order)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.matching import handlers as matching
from services.matching.db import applied_events, open_needs
from services.matching.db import make_db as matching_db
from services.needs.app import create_app
from services.needs.db import make_db as needs_db
from services.notify import handlers as notify
from services.notify.db import make_db as notify_db
from services.notify.db import needs_watched
from tests.unit.needs.conftest import need_body, resident_body
from wspolnota.transport import decode
from wspolnota.transport.outbox import Outbox

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def test_erasure_and_its_folds_work_on_this_database(new_database: Callable[[], str]) -> None:
    needs = needs_db(new_database())
    needs.migrate()
    app = create_app({"DATABASE_URL": needs.url, "TESTING": True, "AUTH_DISABLED": True})
    http = app.test_client()
    resident = http.post("/api/residents", json=resident_body()).json
    need = http.post("/api/needs", json=need_body(resident_ref=resident["ref"])).json
    erased = http.post(f"/api/residents/{resident['id']}/erase", json={"reason": "wniosek 9/2026"})
    assert erased.status_code == 200, erased.json
    with needs.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT name, address, phone, erased_at FROM residents")).one()
        description, status = conn.execute(sa.text("SELECT description, status FROM needs")).one()
        bodies = conn.execute(sa.text("SELECT body FROM outbox ORDER BY id")).scalars().all()
    assert (row.name, row.address, row.phone) == ("(usunięto — RODO)", "", "") and row.erased_at is not None
    assert (description, status) == ("", "cancelled")
    events = [decode(b) for b in bodies]
    assert [e.type for e in events] == ["NeedRegistered", "NeedCancelled", "ResidentErased"]

    for make_db, service in ((matching_db, matching), (notify_db, notify)):
        db = make_db(new_database())
        db.migrate()
        handle = service.handlers(Outbox(db, service.PUBLISHES))
        for body in bodies:  # validated with the consumer's own catalog, as its consumer loop does
            event = decode(body, service.CONSUMES)
            with db.transaction() as session:
                handle[event.type](session, event)
        with db.engine.connect() as conn:
            if service is matching:
                assert conn.execute(sa.select(open_needs.c.resident_ref, open_needs.c.status)).one() == (
                    None, "cancelled")
                kept = conn.execute(sa.select(applied_events.c.data).where(
                    applied_events.c.type == "NeedRegistered")).scalar_one()
                assert kept["resident_ref"] is None and kept["need_id"] == need["id"]
            else:
                assert conn.execute(sa.select(needs_watched.c.plan_ref, needs_watched.c.status)).one() == (
                    None, "closed")
        db.dispose()
    app.extensions["db"].dispose()
    needs.dispose()
