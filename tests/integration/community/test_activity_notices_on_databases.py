"""Registration contact and consent, editing, unregistering and announcements on PostgreSQL and SQLite alike
(migrations, not metadata.create_all)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from contracts import community as contract
from services.community import plan_handlers as h
from services.community.db import audit_log, make_db
from services.community.db_plan import registrations
from wspolnota.errors import Invalid
from wspolnota.transport import Catalog, decode
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=5)


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    database = make_db(database_url)
    database.migrate()
    yield database
    database.dispose()


def published(db) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def,type-arg]
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(db.outbox.c.body).order_by(db.outbox.c.id)).all()
    return [(e.type, e.data) for e in map(decode, (r.body for r in rows))]


def test_the_contact_the_consent_an_edit_an_announcement_and_unregistering_on_this_database(db) -> None:  # type: ignore[no-untyped-def]
    outbox = Outbox(db, Catalog(contract.EVENTS))
    with db.transaction() as s:
        [activity_id] = h.schedule_activity(s, outbox, {
            "kind": "workshop", "title": "Warsztaty kulinarne", "village": "belno", "starts_at": START,
            "ends_at": START + timedelta(hours=2), "capacity": 3}, NOW)
        anna = h.register(s, activity_id, "Anna Nowak", "600100200", "staff", NOW, email="anna@example.pl",
                          consent=True, outbox=outbox)
        h.register(s, activity_id, "Jan Kowalski", "", "public", NOW, outbox=outbox)
    with pytest.raises(Invalid), db.transaction() as s:
        h.update_activity(s, outbox, activity_id, {"capacity": 1}, NOW)
    with db.transaction() as s:
        assert h.update_activity(s, outbox, activity_id, {"capacity": 2, "starts_at": START + timedelta(hours=1),
                                                          "ends_at": START + timedelta(hours=3)}, NOW) == [
            "time", "capacity"]
        h.post_announcement(s, outbox, activity_id, "Zabierzcie fartuchy", "osl.nowak", NOW)
        contact = h.registration_contact(s, anna, "service:notify", NOW)
        view = h.activity_view(s, activity_id)
    assert (contact["phone"], contact["email"], contact["consent"]) == ("600100200", "anna@example.pl", True)
    assert [r["name"] for r in view["call_list"]] == ["Jan Kowalski"]
    assert view["starts_at"] == START + timedelta(hours=1) and view["capacity"] == 2
    with db.transaction() as s:
        h.remove_registration(s, outbox, activity_id, anna, "osl.nowak", NOW)
        assert s.execute(sa.select(registrations.c.id).where(registrations.c.id == anna)).first() is None
        assert sorted(s.execute(sa.select(audit_log.c.action).where(audit_log.c.subject_id == anna)).scalars()) == [
            "erase", "read"]
    types = [t for t, _ in published(db)]
    assert types == ["ActivityScheduled", "ParticipantAdded", "ParticipantAdded", "ActivityScheduled",
                     "ActivityChanged", "AnnouncementPosted", "ParticipantRemoved"]
    assert "Nowak" not in str(published(db)) and "600100200" not in str(published(db))
