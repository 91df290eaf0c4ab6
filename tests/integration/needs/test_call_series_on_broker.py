"""A well-being call series on PostgreSQL and the real broker: the series' calls are matched (MatchAccepted through
the broker to the needs consumer process), the volunteer's outcomes arrive over the internal API (each twice, as a
retry would), `needs_something` creates one need, and the second unanswered call in a row becomes one
`CallSeriesEscalated`; notify's consumer process turns it into one e-mail even when the event is delivered again, and
the sender puts exactly one message to the social worker (found at send time from needs) in the SMTP sink."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.needs import calls, concerns, handlers, schemas
from services.needs import clock as needs_clock
from services.needs.app import create_app
from services.needs.bootstrap import bootstrap
from services.needs.db import make_db, need_matches
from services.needs.db import needs as needs_table
from services.notify.channels import EmailChannel
from services.notify.db import make_db as notify_db
from services.notify.db import notifications, sink_messages
from services.notify.sender import Sender
from services.notify.settings import Settings
from services.notify.sink import Inbox, smtp_controller
from wspolnota import config
from wspolnota.broker import free_port
from wspolnota.testing import WorkerProcess
from wspolnota.transport import Event, encode
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration

TOKEN = "shared-token"
VOLUNTEER = "11111111-2222-4333-8444-555555555555"
SOCIAL_WORKER = "ola.socjalna@cus.example.pl"
FIRST_DAY = date(2027, 3, 1)
SET_UP_AT = datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
AFTER_THE_CALLS = datetime(2027, 4, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def needs_over_http(new_database: Callable[[], str]) -> Iterator[tuple[Any, str, str]]:
    url = new_database()
    db = make_db(url)
    db.migrate()
    parts = bootstrap(url, clock=lambda: AFTER_THE_CALLS)
    app = create_app({"TESTING": True, "AUTH_DISABLED": True, "INTERNAL_SERVICE_TOKEN": TOKEN}, parts=parts)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield db, url, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    parts.dispose()
    db.dispose()


def a_series(db: Any) -> tuple[str, list[dict[str, Any]]]:
    outbox = bootstrap(db.url).outbox
    with needs_clock.using(lambda: SET_UP_AT), db.transaction() as session:
        resident = handlers.create_resident(session, schemas.ResidentCreate().load({
            "name": "Leokadia Zmyślona", "address": "ul. Nieistniejąca 4", "village": "jasiow",
            "phone": "+48500000111", "preferred_channel": "phone", "legal_basis": "art6_1_e"}), actor="t")
        concerns.set_social_worker(session, resident["id"], SOCIAL_WORKER, "t")
        handlers.open_package(session, outbox, schemas.PackageCreate().load({
            "plan_ref": "IPUS/3/2027", "resident_ref": resident["ref"], "village": "jasiow",
            "start_date": "2027-02-20", "end_date": "2027-12-31"}), actor="t")
        series_id, rows = calls.set_up(
            session, outbox, resident_ref=resident["ref"], plan_ref="IPUS/3/2027", weekdays=[1, 4],
            time_from=time(10), time_to=time(12), starts_on=FIRST_DAY, until=FIRST_DAY + timedelta(days=13),
            review_on=FIRST_DAY + timedelta(days=7), purpose="Rozmowa po wyjściu ze szpitala.", actor="ola.socjalna")
    return series_id, sorted(rows, key=lambda r: r["window_start"])


def outbox_rows(db: Any, kind: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(db.outbox.c.id, db.outbox.c.body).where(db.outbox.c.type == kind)))


@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
def test_outcomes_escalate_once_and_one_mail_reaches_the_social_worker(
        needs_over_http: tuple[Any, str, str], new_database: Callable[[], str], kafka_bootstrap: str,
        topic_prefix: str, start_consumer: Callable[..., WorkerProcess]) -> None:
    import requests

    db, url, base = needs_over_http
    series_id, rows = a_series(db)
    ensure_topics([config.topic(t) for t in ("needs", "needs.dlq", "matches", "matches.dlq")], kafka_bootstrap)
    needs_consumer = start_consumer("needs", url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    try:
        # matched: the volunteer accepted the first three calls (matching's events, through the broker)
        matches = []
        for row in rows[:3]:
            match_id = str(uuid.uuid4())
            matches.append(match_id)
            event = Event(type="MatchAccepted", key=row["id"], source="matching",
                          data={"match_id": match_id, "need_id": row["id"], "volunteer_id": VOLUNTEER})
            producer.send(config.topic("matches"), row["id"].encode(), encode(event))
        producer.flush()

        def accepted() -> int:
            with db.engine.connect() as conn:
                return int(conn.execute(sa.select(sa.func.count()).select_from(need_matches)).scalar_one())
        needs_consumer.wait_until(lambda: accepted() == 3, 90, message="the three calls accepted")

        headers = {"Authorization": f"Bearer {TOKEN}", "X-Service-Name": "volunteers"}

        def outcome(match_id: str, code: str, **extra: Any) -> int:
            body = {"match_id": match_id, "volunteer_id": VOLUNTEER, "outcome": code, **extra}
            return requests.post(f"{base}/internal/call-outcomes", json=body, headers=headers, timeout=10).status_code

        shopping = {"minutes": 15, "category": "ZAK", "text": "Potrzebne zakupy: chleb i leki."}
        assert [outcome(matches[0], "needs_something", **shopping) for _ in range(2)] == [201, 200]
        assert [outcome(matches[1], "no_answer") for _ in range(2)] == [201, 200]
        assert [outcome(matches[2], "no_answer") for _ in range(2)] == [201, 200]
        with db.engine.connect() as conn:
            created = conn.execute(sa.select(needs_table.c.id).where(needs_table.c.category == "ZAK")).all()
        assert len(created) == 1
        assert len(outbox_rows(db, "CallOutcomeRecorded")) == 3
        [escalated] = outbox_rows(db, "CallSeriesEscalated")
        assert b"chleb" not in bytes(escalated.body) and all(
            b"chleb" not in bytes(r.body) for r in outbox_rows(db, "CallOutcomeRecorded"))

        # notify's consumer process on its own PostgreSQL database; the escalation delivered twice
        ndb = notify_db(new_database())
        ndb.migrate()
        notify_env = {"NEEDS_INTERNAL_URL": base, "INTERNAL_SERVICE_TOKEN": TOKEN,
                      "NOTIFY_ORGANISER_EMAIL": "osl@cus.example.pl"}
        notify_consumer = start_consumer("notify", ndb.url, **notify_env)
        relay = Relay(db, producer)
        while relay.run_once():
            pass
        with db.engine.connect() as conn:
            raw = conn.execute(sa.select(db.outbox.c.body).where(db.outbox.c.id == escalated.id)).scalar_one()
        producer.send(config.topic("needs"), series_id.encode(), bytes(raw))  # the same event again
        other = str(uuid.uuid4())  # then, on the same partition, another series' escalation: a marker
        marker = Event(type="CallSeriesEscalated", key=series_id, source="needs",
                       data={"escalation_id": str(uuid.uuid4()), "series_id": other})
        producer.send(config.topic("needs"), series_id.encode(), encode(marker))
        producer.flush()

        def ledger(recipient: str) -> list[Any]:
            with ndb.engine.connect() as conn:
                return list(conn.execute(sa.select(notifications).where(
                    notifications.c.kind == "call_series_escalated", notifications.c.recipient == recipient)))
        notify_consumer.wait_until(lambda: len(ledger(f"pracownik_socjalny_rozmowy:{other}")) == 1, 120,
                                   message="the marker after the redelivered escalation")
        [row] = ledger(f"pracownik_socjalny_rozmowy:{series_id}")
        assert row.channel == "email" and "Leokadia" not in (row.subject + row.body)

        # the sender: the social worker's address from needs at send time, into the SMTP sink
        port = free_port()
        inbox_db = notify_db(new_database())
        inbox_db.migrate()
        controller = smtp_controller(Inbox(inbox_db), port)
        controller.start()
        try:
            settings = Settings.from_env({}, needs_internal_url=base, internal_service_token=TOKEN,
                                         organiser_email="osl@cus.example.pl", smtp_port=port)
            sender = Sender(ndb, settings, {"email": EmailChannel(settings)}, clock=lambda: datetime.now(UTC))
            sender.run_once()
            sender.run_once()
        finally:
            controller.stop()
        with inbox_db.engine.connect() as conn:
            mails = list(conn.execute(sa.select(sink_messages)))
        to_worker = [m for m in mails if m.recipient == SOCIAL_WORKER]
        assert len(to_worker) == 1 and to_worker[0].deliveries == 1
        assert f"/needs/rozmowy/{series_id}" in to_worker[0].body and "Leokadia" not in to_worker[0].body
        ndb.dispose()
        inbox_db.dispose()
    finally:
        producer.close()
