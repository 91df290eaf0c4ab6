"""Closing the loop over the real broker, on PostgreSQL: an accepted visit that ended hours ago → matching's job
publishes VisitCheckDue → the notify consumer (its own process) books one message → the sender mails it to the
address the volunteers service holds (the SMTP sink) → the volunteer answers the signed link → VisitOutcomeGiven →
the matching consumer (its own process) completes the match with the hours exactly once, even when the answer is
delivered again. And "is it still needed?" answered "już niepotrzebna" cancels the need in the needs consumer."""
from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.matching import visit_checks
from services.matching.db import make_db as matching_db
from services.matching.db import open_needs, proposals
from services.needs import need_checks
from services.needs.app import create_app as needs_app
from services.needs.db import make_db as needs_db
from services.notify.app import create_app as notify_app
from services.notify.db import make_db as notify_db
from services.notify.db import notifications, sink_messages
from services.notify.handlers import PUBLISHES as NOTIFY_PUBLISHES
from services.notify.sender import Sender
from services.notify.settings import Settings
from services.notify.sink import Inbox, smtp_controller
from services.volunteers.app import create_app as volunteers_app
from services.volunteers.db import make_db as volunteers_db
from wspolnota import config
from wspolnota.broker import free_port
from wspolnota.testing import WorkerProcess, wait_until
from wspolnota.transport import encode, new_event
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
# the sender's clock: tomorrow at 11:00 Warsaw time, so no quiet hours hold the message whatever time the suite runs
DAYTIME = (NOW + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
LINK_SECRET = "follow-up-link-secret"
TOKEN = "shared-internal-token"


@pytest.fixture
def volunteers(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    url = f"sqlite:///{tmp_path / 'volunteers.db'}"
    db = volunteers_db(url)
    db.migrate()
    app = volunteers_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True,
                          "INTERNAL_SERVICE_TOKEN": TOKEN})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app.test_client(), f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    db.dispose()


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def count(db: Any, table: sa.Table, *where: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())


@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
def test_did_it_happen_and_is_it_still_needed_close_the_loop_over_the_broker(
        kafka_bootstrap: str, topic_prefix: str, new_database: Callable[[], str],
        start_consumer: Callable[..., WorkerProcess], volunteers: tuple[Any, str]) -> None:
    client, volunteers_url = volunteers
    volunteer = client.post("/api/volunteers", json={"name": "Zofia Wiśniewska", "email": "zofia@example.pl",
                                                     "phone": "+48 601 202 303", "villages": ["belno"]})
    assert volunteer.status_code == 201, volunteer.json
    volunteer_id = volunteer.json["id"]
    matching, notify, needs = matching_db(new_database()), notify_db(new_database()), needs_db(new_database())
    for db in (matching, notify, needs):
        db.migrate()
    ensure_topics([config.topic(t) for t in ("needs", "volunteers", "matches", "notifications", "community")],
                  kafka_bootstrap)
    consumers = {
        "notify": start_consumer("notify", notify.url, NOTIFY_LINK_SECRET=LINK_SECRET),
        "matching": start_consumer("matching", matching.url),
        "needs": start_consumer("needs", needs.url),
    }
    producer = KafkaProducerAdapter(kafka_bootstrap)

    # an accepted visit that ended three hours ago (matching's own rows), and a need nobody took for 15 days
    match_id, need_id, start = str(uuid.uuid4()), str(uuid.uuid4()), NOW - timedelta(hours=4)
    with matching.engine.begin() as conn:
        conn.execute(sa.insert(open_needs).values(
            need_id=need_id, category="ZAK", village="belno", window_start=start - timedelta(hours=1),
            window_end=start + timedelta(hours=3), duration_minutes=60, urgent=False, slots=1, status="open",
            resident_ref="R-1"))
        conn.execute(sa.insert(proposals).values(
            id=match_id, need_id=need_id, volunteer_id=volunteer_id, offer_id=str(uuid.uuid4()), category="ZAK",
            village="belno", window_start=start - timedelta(hours=1), status="accepted", reason="",
            created_at=start - timedelta(days=2), agreed_start=start, agreed_end=start + timedelta(hours=1)))
    waiting = needs_app({"DATABASE_URL": needs.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
    registered = waiting.post("/api/needs", json={
        "resident_ref": "M-TEST01", "category": "ZAK", "village": "belno", "description": "Zakupy",
        "window_start": (NOW + timedelta(days=20)).isoformat(),
        "window_end": (NOW + timedelta(days=20, hours=4)).isoformat(), "duration_minutes": 60})
    assert registered.status_code == 201, registered.json
    waiting_need = registered.json["id"]

    assert [c.match_id for c in visit_checks.ask_visit_checks(matching, NOW, timedelta(hours=2))] == [match_id]
    assert visit_checks.ask_visit_checks(matching, NOW, timedelta(hours=2)) == []  # asked once
    assert need_checks.ask_need_checks(needs, NOW + timedelta(days=15), timedelta(days=14)) == [waiting_need]
    Relay(matching, producer).run_once()
    Relay(needs, producer).run_once()

    # 120 s: the consumer processes start and join their groups (15–50 s on tansu under load)
    consumers["notify"].wait_until(lambda: count(notify, notifications, notifications.c.kind == "visit_check") == 2,
                                   120, message="the question booked on both channels")
    consumers["notify"].wait_until(lambda: count(notify, notifications, notifications.c.kind == "need_check") == 1,
                                   60, message="the need check booked")

    port = free_port()
    sink = smtp_controller(Inbox(notify), port)
    sink.start()
    settings = Settings.from_env({}, volunteers_internal_url=volunteers_url, internal_service_token=TOKEN,
                                 smtp_port=port, sms_gateway_url=f"http://127.0.0.1:{free_port()}/sms",
                                 link_secret=LINK_SECRET)
    try:
        sender = Sender(notify, settings, clock=lambda: DAYTIME)
        sender.run_once()
        [mail] = wait_until(lambda: [m for m in _inbox(notify) if "Czy wizyta" in m["subject"]], 10,
                            message="the question in the sink")
        sender.run_once()
    finally:
        sink.stop()
    assert mail["recipient"] == "zofia@example.pl"
    assert len([m for m in _inbox(notify) if "Czy wizyta" in m["subject"]]) == 1  # one message, on her channel

    # the volunteer answers the link: 90 minutes
    pages = notify_app({"DATABASE_URL": notify.url, "TESTING": True, "AUTH_DISABLED": True,
                        "NOTIFY_SETTINGS": settings}).test_client()
    link = "/w/" + re.search(r"/w/([A-Za-z0-9_\-.]+)", mail["body"]).group(1)  # type: ignore[union-attr]
    page = pages.get(link).get_data(as_text=True)
    assert pages.post(link, data={"csrf_token": csrf(page), "minutes": "90", "happened": "1"}).status_code == 302
    assert pages.post(link, data={"csrf_token": csrf(page), "not_happened": "1"}).status_code == 410
    # the worker's answer: no longer needed
    with notify.engine.connect() as conn:
        body = conn.execute(sa.select(notifications.c.body).where(notifications.c.kind == "need_check")).scalar_one()
    need_link = "/p/" + re.search(r"/p/([A-Za-z0-9_\-.]+)", body).group(1)  # type: ignore[union-attr]
    page = pages.get(need_link).get_data(as_text=True)
    assert pages.post(need_link, data={"csrf_token": csrf(page), "gone": "1"}).status_code == 302
    assert Relay(notify, producer).run_once() >= 2
    # delivered again: the same outbox rows published once more (a relay that died before marking them)
    with notify.engine.begin() as conn:
        conn.execute(sa.update(notify.outbox).where(notify.outbox.c.type.in_(["VisitOutcomeGiven",
                                                                              "NeedCheckAnswered"]))
                     .values(published_at=None))
    assert Relay(notify, producer).run_once() >= 2
    # and published again as new events with the same answers (a second notify, a replay): still one change each
    again = {
        "matching": new_event(NOTIFY_PUBLISHES, "notify", "VisitOutcomeGiven", match_id, {
            "match_id": match_id, "volunteer_id": volunteer_id, "happened": True, "minutes": 90}),
        "needs": new_event(NOTIFY_PUBLISHES, "notify", "NeedCheckAnswered", waiting_need, {
            "need_id": waiting_need, "check_id": str(uuid.UUID(need_link_check(notify))), "still_needed": False}),
    }
    for event in again.values():
        producer.send(config.topic("notifications"), event.key.encode(), encode(event), [])
    producer.flush()

    def completed() -> tuple[str, float | None]:
        with matching.engine.connect() as conn:
            row = conn.execute(sa.select(proposals.c.status, proposals.c.hours).where(proposals.c.id == match_id)
                               ).one()
        return row.status, row.hours

    consumers["matching"].wait_until(lambda: completed() == ("completed", 1.5), 120, message="the visit completed")
    consumers["needs"].wait_until(lambda: waiting.get(f"/api/needs/{waiting_need}").json["status"] == "cancelled",
                                  120, message="the need cancelled")
    for service, db in (("matching", matching), ("needs", needs)):
        consumers[service].wait_until(lambda db=db, service=service: count(
            db, db.processed, db.processed.c.consumer == service,
            db.processed.c.event_id == str(again[service].id)) == 1, 120, message="the answer handled again")
    with matching.engine.connect() as conn:
        kinds = [r.type for r in conn.execute(sa.select(matching.outbox.c.type))]
    assert kinds.count("MatchCompleted") == 1
    with needs.engine.connect() as conn:
        cancelled = [r for r in conn.execute(sa.select(needs.outbox.c.type, needs.outbox.c.body))
                     if r.type == "NeedCancelled"]
    assert len(cancelled) == 1 and "no_longer_needed" in str(cancelled[0].body)
    producer.close()
    for db in (matching, notify, needs):
        db.dispose()


def need_link_check(notify: Any) -> str:
    with notify.engine.connect() as conn:
        return str(conn.execute(sa.select(notifications.c.cause_event_id).where(
            notifications.c.kind == "need_check")).scalar_one())


def _inbox(db: Any) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(sink_messages)).mappings()]
