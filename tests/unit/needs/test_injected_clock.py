"""The service decides by its bootstrap's clock, never by the wall clock: in requests, in the consumer, in jobs."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from services.needs.app import create_app
from services.needs.bootstrap import bootstrap
from services.needs.db import need_matches, timeline
from services.needs.db import needs as needs_table
from services.needs.jobs import expire_overdue
from tests.unit.needs.conftest import MATCH_EXTRAS, TOMORROW, VOLUNTEER, NeedsHarness, need_body
from wspolnota.transport import Event

LATER = TOMORROW + timedelta(days=10)  # the service's "now", ten days after tomorrow


@pytest.fixture
def later(needs: NeedsHarness) -> Iterator[FlaskClient]:
    """The same database, served by an app whose bootstrap clock reads LATER."""
    parts = bootstrap(needs.db.url, clock=lambda: LATER)
    yield create_app({"TESTING": True, "AUTH_DISABLED": True}, parts=parts).test_client()
    parts.dispose()


def test_a_window_in_the_future_by_the_wall_clock_has_passed_by_the_services_clock(needs, later) -> None:  # type: ignore[no-untyped-def]
    response = later.post("/api/needs", json=need_body())
    assert response.status_code == 422
    assert response.json["errors"]["json"]["window_end"] == ["Okno czasowe już minęło."]
    assert needs.count("needs") == 0


def test_a_registered_need_is_stamped_with_the_services_clock(needs, later) -> None:  # type: ignore[no-untyped-def]
    start = LATER + timedelta(days=1)
    response = later.post("/api/needs", json=need_body(window_start=start.isoformat(),
                                                       window_end=(start + timedelta(hours=4)).isoformat()))
    assert response.status_code == 201, response.json
    with needs.db.engine.connect() as conn:
        assert conn.execute(sa.select(needs_table.c.created_at)).scalar_one() == LATER
        assert conn.execute(sa.select(timeline.c.at)).scalar_one() == LATER


def test_expiring_overdue_needs_asks_the_services_clock(needs, later) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    assert needs.client.post("/api/needs/expire-overdue").json == {"expired": []}  # today: still ahead
    assert later.post("/api/needs/expire-overdue").json == {"expired": [need["id"]]}  # ten days on: passed
    assert needs.status(need["id"]) == "expired"


def test_the_expiry_job_decides_by_the_moment_it_is_given(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    assert expire_overdue(needs.db, TOMORROW) == 0
    assert expire_overdue(needs.db, LATER) == 1
    with needs.db.engine.connect() as conn:
        assert conn.execute(sa.select(needs_table.c.updated_at).where(needs_table.c.id == need["id"])).scalar_one() == LATER


def test_the_consumer_records_match_events_by_the_bootstrap_clock(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    parts = bootstrap(needs.db.url, clock=lambda: LATER)
    event = Event(type="MatchProposed", key=need["id"], source="matching", data={
        "match_id": "m-1", "need_id": need["id"], "volunteer_id": VOLUNTEER, **MATCH_EXTRAS["MatchProposed"]})
    with parts.db.transaction() as session:
        parts.handlers["MatchProposed"](session, event)
    parts.dispose()
    with needs.db.engine.connect() as conn:
        assert conn.execute(sa.select(need_matches.c.updated_at)).scalar_one() == LATER
        assert conn.execute(sa.select(needs_table.c.status)).scalar_one() == "proposed"
