"""Incidents and feedback across services, on PostgreSQL and the real broker.

- An incident nobody acknowledges escalates once: the needs job publishes ConcernEscalated once however often it
  runs; the relay publishes it again (a replay) and a second escalation event for the same concern arrives; notify's
  consumer (its own process) books one e-mail and the sender delivers exactly one to the director's inbox in the
  SMTP sink.
- A resident's SMS reply becomes FeedbackGiven once: notify asks the resident after a completed visit (phone and
  consent read from the needs service's internal API over HTTP), the gateway posts the reply twice, notify's relay
  publishes one FeedbackGiven, matching's consumer (its own process) keeps it and the report "oceny" counts it.
"""
from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.matching.db import feedback as matching_feedback
from services.matching.db import make_db as matching_db
from services.matching.db import proposals
from services.needs import concerns, jobs
from services.needs.app import create_app as needs_app
from services.needs.db import make_db as needs_db
from services.needs.db import need_matches, needs, residents
from services.needs.handlers import PUBLISHES as NEEDS_PUBLISHES
from services.notify import feedback as notify_feedback
from services.notify.db import make_db as notify_db
from services.notify.db import notifications, sink_messages
from services.notify.handlers import CONSUMES as NOTIFY_CONSUMES
from services.notify.handlers import PUBLISHES as NOTIFY_PUBLISHES
from services.notify.handlers import SUBSCRIPTIONS as NOTIFY_SUBSCRIPTIONS
from services.notify.handlers import handlers as notify_handlers
from services.notify.sender import Sender
from services.notify.settings import Settings
from services.notify.sink import Inbox, smtp_controller
from wspolnota import config
from wspolnota.broker import free_port
from wspolnota.testing import WorkerProcess
from wspolnota.transport import encode, new_event
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Outbox, Relay

pytestmark = pytest.mark.integration
DIRECTOR = "dyrektor@cus.example.pl"
TOKEN = "shared-token"


def topics(*names: str) -> list[str]:
    return [config.topic(t) for name in names for t in (name, f"{name}.dlq")]


@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
def test_an_unacknowledged_incident_reaches_the_directors_inbox_once(
        kafka_bootstrap: str, topic_prefix: str, new_database: Callable[[], str],
        start_consumer: Callable[..., WorkerProcess]) -> None:
    ndb, tdb = needs_db(new_database()), notify_db(new_database())
    ndb.migrate()
    tdb.migrate()
    ensure_topics(topics(*NOTIFY_SUBSCRIPTIONS), kafka_bootstrap)
    consumer = start_consumer("notify", tdb.url, NOTIFY_DIRECTOR_EMAIL=DIRECTOR,
                              NOTIFY_PUBLIC_URL="https://cus.example/notify")
    producer = KafkaProducerAdapter(kafka_bootstrap)
    relay = Relay(ndb, producer)
    smtp_port = free_port()
    sink = smtp_controller(Inbox(tdb), smtp_port)
    sink.start()
    try:
        outbox = Outbox(ndb, NEEDS_PUBLISHES)
        concern_id = str(uuid.uuid4())
        with ndb.transaction() as session:
            concerns.report(session, outbox, concern_id=concern_id, text="Upadek podczas wizyty, rana głowy.",
                            reported_by="as.nowak", channel="staff", urgent=True, kind="incident")
        with ndb.engine.connect() as conn:
            due = conn.execute(sa.select(concerns.concerns.c.due_at)).scalar_one()
        later = due + timedelta(minutes=5)
        assert jobs.escalate_concerns(ndb, later) == 1
        assert jobs.escalate_concerns(ndb, later + timedelta(hours=1)) == 0  # the hourly job again
        assert relay.run_once() == 2  # ConcernReported, ConcernEscalated
        with ndb.engine.begin() as conn:  # a replay of the outbox: the same events again (redelivery)
            conn.execute(sa.update(ndb.outbox).values(published_at=None))
        assert relay.run_once() == 2
        again = new_event(NEEDS_PUBLISHES, "needs", "ConcernEscalated", concern_id,  # a second escalation event
                          {"concern_id": concern_id, "kind": "incident", "urgent": True})
        producer.send(config.topic("needs"), concern_id.encode(), encode(again))
        producer.flush()

        def handled() -> bool:
            with tdb.engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(tdb.processed).where(
                    tdb.processed.c.event_id == str(again.id))).scalar_one() == 1

        consumer.wait_until(handled, 120, message="notify's consumer handled every escalation event")
        with tdb.engine.connect() as conn:
            rows = conn.execute(sa.select(notifications.c.recipient, notifications.c.body)
                                .where(notifications.c.kind == "concern_escalated")).all()
        assert [r.recipient for r in rows] == ["dyrektor"]
        assert "Upadek" not in rows[0].body and f"/needs/zgloszenia/{concern_id}" in rows[0].body
        settings = Settings.from_env({}, smtp_port=smtp_port, director_email=DIRECTOR)
        sender = Sender(tdb, settings, clock=lambda: datetime.now(UTC))
        sender.run_once()
        sender.run_once()
        with tdb.engine.connect() as conn:
            inbox = conn.execute(sa.select(sink_messages.c.recipient, sink_messages.c.deliveries,
                                           sink_messages.c.subject)).all()
        assert [(m.recipient, m.deliveries) for m in inbox] == [(DIRECTOR, 1)]
        assert "PILNE" in inbox[0].subject
    finally:
        sink.stop()
        consumer.stop()
        producer.close()
        ndb.dispose()
        tdb.dispose()


@dataclass
class Channel:
    name: str
    sent: list[Any] = field(default_factory=list)

    def send(self, message: Any) -> None:
        self.sent.append(message)


@pytest.fixture
def needs_over_http(new_database: Callable[[], str]) -> Iterator[tuple[Any, str]]:
    url = new_database()
    db = needs_db(url)
    db.migrate()
    app = needs_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True, "INTERNAL_SERVICE_TOKEN": TOKEN})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield db, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["db"].dispose()
    db.dispose()


@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
def test_a_residents_sms_reply_becomes_feedback_once_and_shows_in_the_report(
        kafka_bootstrap: str, topic_prefix: str, new_database: Callable[[], str], needs_over_http: Any,
        start_consumer: Callable[..., WorkerProcess]) -> None:
    ndb, base = needs_over_http
    tdb, mdb = notify_db(new_database()), matching_db(new_database())
    tdb.migrate()
    mdb.migrate()
    ensure_topics(topics("needs", "volunteers", "notifications", "community"), kafka_bootstrap)
    consumer = start_consumer("matching", mdb.url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    now = datetime.now(UTC).replace(microsecond=0)
    need_id, match_id, volunteer_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    try:
        with ndb.engine.begin() as conn:
            conn.execute(sa.insert(residents).values(
                id=str(uuid.uuid4()), ref="M-SMS001", name="Leokadia Zmyślona", address="ul. Nieistniejąca 4",
                village="jasiow", phone="+48 600 100 200", email="", preferred_channel="sms", notes="",
                legal_basis="consent", consent_date=now.date(), created_at=now, updated_at=now))
            conn.execute(sa.insert(needs).values(
                id=need_id, resident_ref="M-SMS001", category="ZAK", village="jasiow", description="",
                window_start=now, window_end=now, duration_minutes=60, urgent=False, slots=1, status="completed",
                created_at=now, updated_at=now))
            conn.execute(sa.insert(need_matches).values(match_id=match_id, need_id=need_id, volunteer_id=volunteer_id,
                                                        status="completed", was_accepted=True, updated_at=now))
        with mdb.engine.begin() as conn:
            conn.execute(sa.insert(proposals).values(
                id=match_id, need_id=need_id, volunteer_id=volunteer_id, offer_id=str(uuid.uuid4()), category="ZAK",
                village="jasiow", window_start=now, status="completed", reason="test", created_at=now,
                updated_at=now))
        settings = Settings.from_env({}, needs_internal_url=base, internal_service_token=TOKEN,
                                     quiet_hours="00:00-00:00", secret_key="integration-secret")
        completed = new_event(NOTIFY_CONSUMES, "matching", "MatchCompleted", need_id, {
            "match_id": match_id, "need_id": need_id, "volunteer_id": volunteer_id, "hours": 1.0})
        with tdb.transaction() as session:
            notify_handlers(Outbox(tdb, NOTIFY_PUBLISHES), settings)["MatchCompleted"](session, completed)
        with tdb.engine.begin() as conn:
            conn.execute(sa.update(notifications).values(next_attempt_at=now))
        sms = Channel("sms")
        Sender(tdb, settings, {"sms": sms, "email": Channel("email"), "webhook": Channel("webhook")},
               clock=lambda: now + timedelta(minutes=1)).run_once()  # type: ignore[arg-type]
        assert [m.address for m in sms.sent if m.kind == "feedback_request"] == ["+48 600 100 200"]

        from services.notify.app import create_app as notify_app
        from services.notify.bootstrap import bootstrap

        parts = bootstrap(tdb.url, settings=settings, clock=lambda: now + timedelta(hours=1))
        gateway = notify_app({"TESTING": True, "NOTIFY_SMS_INBOUND_TOKEN": "gw"}, parts=parts).test_client()
        body = {"from": "600100200", "text": "1.", "received_at": (now + timedelta(minutes=30)).isoformat()}
        first = gateway.post("/api/sms/inbound", json=body, headers={"Authorization": "Bearer gw"})
        retry = gateway.post("/api/sms/inbound", json=body, headers={"Authorization": "Bearer gw"})
        assert (first.json["status"], retry.json["status"]) == ("matched", "answered_before")
        with tdb.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(tdb.outbox).where(
                tdb.outbox.c.type == "FeedbackGiven")).scalar_one() == 1
        assert Relay(tdb, producer).run_once() >= 1  # with the ledger's NotificationRecorded events
        assert notify_feedback.reply_code(body["text"]) == 1

        def kept() -> list[Any]:
            with mdb.engine.connect() as conn:
                return list(conn.execute(sa.select(matching_feedback)))

        rows = consumer.wait_until(lambda: kept(), 120, message="matching kept the resident's feedback")
        assert [(r.match_id, r.source, r.score, r.category) for r in rows] == [(match_id, "resident_sms", 1, "ZAK")]
        from services.matching.app import create_app as matching_app

        reports = matching_app({"DATABASE_URL": mdb.url, "TESTING": True, "AUTH_DISABLED": True,
                                "SECRET_KEY": "test"}).test_client()
        exported = reports.get("/raporty/oceny/eksport.csv").get_data(as_text=True)
        table = {r[0]: r[1:] for r in csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";") if r}
        assert sum(int(v[0]) for k, v in table.items() if k.startswith("Kategoria:")) == 1
    finally:
        consumer.stop()
        producer.close()
        tdb.dispose()
        mdb.dispose()
