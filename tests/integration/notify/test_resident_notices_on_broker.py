"""Residents' notices end to end on PostgreSQL and the real broker: the needs service (served over HTTP) records a
resident's consent to SMS and publishes the need; matching's events (a relay) accept a visit; notify's consumer (its
own process) books the resident's notices; the sender asks needs for the phone and volunteers for the first name at
send time and the SMS sink (its own process) receives the resident's SMS once — also after the acceptance is
delivered and handled again — and the reminder the day before once. A resident without a mobile phone gets call
tasks instead."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from contracts import matching as match_contract
from services.matching.db import make_db as matching_db
from services.needs.app import create_app as needs_app
from services.needs.db import make_db as needs_db
from services.notify.channels import SmsChannel
from services.notify.db import call_tasks, notifications, sink_messages
from services.notify.db import make_db as notify_db
from services.notify.handlers import SUBSCRIPTIONS
from services.notify.sender import Sender
from services.notify.settings import Settings
from wspolnota import config, localtime
from wspolnota.broker import free_port, wait_for_port
from wspolnota.config import ROOT
from wspolnota.testing import WorkerProcess
from wspolnota.transport import Catalog
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Outbox, Relay

pytestmark = pytest.mark.integration

TOKEN = "shared-internal-token"
VOLUNTEER = "11111111-2222-4333-8444-555555555555"
PHONE = "+48 600 700 800"


class Channel:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> None:
        self.sent.append(message)


def serve(app: Any) -> tuple[str, Any]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@Request.application
def volunteers_api(request: Request) -> Response:
    """The volunteers service's internal contact API, as notify's sender calls it."""
    if request.headers.get("Authorization") != f"Bearer {TOKEN}" or VOLUNTEER not in request.path:
        return Response('{"message": "nie"}', status=404, content_type="application/json")
    return Response('{"name": "Zofia Wiśniewska", "email": "", "phone": "", "preferred_channel": "sms"}',
                    content_type="application/json")


@pytest.fixture
def sink(new_database: Callable[[], str]) -> Iterator[tuple[Any, int]]:
    """notify's database and the SMS sink (`python -m services.notify.sink`) writing into it."""
    ndb = notify_db(new_database())
    ndb.migrate()
    smtp_port, http_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": ndb.url, "NOTIFY_SINK_SMTP_PORT": str(smtp_port),
           "NOTIFY_SINK_HTTP_PORT": str(http_port), "NOTIFY_CASE_WEBHOOK_SECRET": "s3cret"}
    process = subprocess.Popen([sys.executable, "-m", "services.notify.sink"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(http_port)
        yield ndb, http_port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        ndb.dispose()


@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
def test_an_accepted_visit_reaches_the_resident_once_by_sms_and_a_landline_resident_as_a_call_task(
        new_database: Callable[[], str], sink: tuple[Any, int], kafka_bootstrap: str, topic_prefix: str,
        tmp_path: Path, start_consumer: Callable[..., WorkerProcess]) -> None:
    ndb, sink_port = sink
    nurl = new_database()
    needs = needs_db(nurl)
    needs.migrate()
    needs_base, needs_server = serve(needs_app({"DATABASE_URL": nurl, "TESTING": True, "AUTH_DISABLED": True,
                                                "INTERNAL_SERVICE_TOKEN": TOKEN}))
    volunteers_base, volunteers_server = serve(volunteers_api)
    mdb = matching_db(f"sqlite:///{tmp_path / 'matching.db'}")
    mdb.migrate()
    matches = Outbox(mdb, Catalog(match_contract.EVENTS))
    ensure_topics([config.topic(t) for name in SUBSCRIPTIONS for t in (name, f"{name}.dlq")], kafka_bootstrap)
    consumer = start_consumer("notify", ndb.url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    needs_relay, matches_relay = Relay(needs, producer), Relay(mdb, producer)

    visit = (datetime.now(UTC) + timedelta(hours=26)).replace(second=0, microsecond=0)
    today = localtime.today().isoformat()

    def resident_with_need(phone: str, channel: str) -> tuple[str, str]:
        person = {"name": "Leokadia Zmyślona", "address": "ul. Nieistniejąca 4", "village": "jasiow", "phone": phone,
                  "preferred_channel": "phone", "legal_basis": "art6_1_e", "notice_channel": channel,
                  "notice_consent_date": today}
        resident = requests.post(f"{needs_base}/api/residents", json=person, timeout=10)
        assert resident.status_code == 201, resident.text
        ref = resident.json()["ref"]
        need = requests.post(f"{needs_base}/api/needs", json={
            "resident_ref": ref, "category": "ZAK", "village": "jasiow", "description": "zakupy",
            "window_start": (visit - timedelta(hours=1)).isoformat(), "window_end": (visit + timedelta(hours=3)).isoformat(),
            "duration_minutes": 120}, timeout=10)
        assert need.status_code == 201, need.text
        return ref, need.json()["id"]

    def accept(need_id: str) -> str:
        match_id = str(uuid.uuid4())
        where = {"match_id": match_id, "need_id": need_id, "volunteer_id": VOLUNTEER}
        with mdb.transaction() as s:
            matches.add(s, match_contract.TOPIC, "MatchOffered", need_id, {
                **where, "deadline": (visit - timedelta(hours=2)).isoformat(), "urgent": False, "category": "ZAK",
                "village": "jasiow", "window_start": (visit - timedelta(hours=1)).isoformat(),
                "agreed_start": visit.isoformat()})
            accepted = matches.add(s, match_contract.TOPIC, "MatchAccepted", need_id, where)
        return str(accepted.id)

    def resident_rows(ref: str) -> list[Any]:
        with ndb.engine.connect() as conn:
            return list(conn.execute(sa.select(notifications.c.kind, notifications.c.channel, notifications.c.status)
                                     .where(notifications.c.recipient == f"mieszkaniec:{ref}")
                                     .order_by(notifications.c.kind)))

    def handled(event_id: str) -> bool:
        with ndb.engine.connect() as conn:
            return conn.execute(sa.select(ndb.processed.c.event_id).where(
                ndb.processed.c.event_id == event_id)).first() is not None

    def inbox() -> list[Any]:
        with ndb.engine.connect() as conn:
            return list(conn.execute(sa.select(sink_messages.c.body, sink_messages.c.deliveries).where(
                sink_messages.c.channel == "sms", sink_messages.c.recipient == PHONE).order_by(sink_messages.c.id)))

    try:
        sms_ref, sms_need = resident_with_need(PHONE, "sms")
        call_ref, call_need = resident_with_need("+48 41 311 22 33", "call")
        assert needs_relay.run_once() == 4  # two ResidentNoticesChanged, two NeedRegistered
        accepted = accept(sms_need)
        accept(call_need)
        assert matches_relay.run_once() == 4
        consumer.wait_until(lambda: len(resident_rows(sms_ref)) == 2 and len(resident_rows(call_ref)) == 2, 120,
                            message="the residents' notices booked by notify's consumer")
        assert [tuple(r) for r in resident_rows(sms_ref)] == [("resident_arranged", "sms", "pending"),
                                                               ("resident_reminder", "sms", "pending")]
        assert [tuple(r) for r in resident_rows(call_ref)] == [("resident_arranged", "call", "recorded"),
                                                                ("resident_reminder", "call", "recorded")]
        with ndb.engine.connect() as conn:
            assert {(t.kind, t.status) for t in conn.execute(sa.select(call_tasks))} == {
                ("resident_arranged", "open"), ("resident_reminder", "open")}

        settings = Settings.from_env({}, sms_gateway_url=f"http://127.0.0.1:{sink_port}/sms",
                                     needs_internal_url=needs_base, volunteers_internal_url=volunteers_base,
                                     internal_service_token=TOKEN, quiet_hours="00:00-00:00",
                                     resident_quiet_hours="00:00-00:00")  # no quiet hours: any time of day
        others = {"email": Channel(), "webhook": Channel()}

        def send(shift: timedelta = timedelta()) -> None:
            clock = lambda: datetime.now(UTC) + shift  # noqa: E731
            Sender(ndb, settings, {"sms": SmsChannel(settings), **others}, clock=clock).run_once()

        send()
        [(body, deliveries)] = inbox()
        assert "Przyjdzie Zofia." in body and "Wiśniewska" not in body and deliveries == 1
        with ndb.engine.connect() as conn:
            stored = " ".join(conn.execute(sa.select(notifications.c.body)).scalars())
        assert "Zofia" not in stored  # the ledger never keeps the volunteer's name

        # the acceptance delivered and handled again (its dedupe row lost): the ledger adds nothing, nothing is sent
        with ndb.engine.begin() as conn:
            conn.execute(sa.delete(ndb.processed).where(ndb.processed.c.event_id == accepted))
        with mdb.engine.begin() as conn:
            conn.execute(sa.update(mdb.outbox).where(mdb.outbox.c.event_id == accepted).values(published_at=None))
        assert matches_relay.run_once() == 1
        consumer.wait_until(lambda: handled(accepted), 120, message="the acceptance handled again")
        assert len(resident_rows(sms_ref)) == 2
        send()
        assert len(inbox()) == 1

        # the day before the visit: the reminder goes once
        send(timedelta(hours=3))
        send(timedelta(hours=3))
        bodies = [b for b, _ in inbox()]
        assert len(bodies) == 2 and "przypomina" in bodies[1] and "Przyjdzie Zofia." in bodies[1]
        assert all(d == 1 for _, d in inbox())
        assert {tuple(r) for r in resident_rows(sms_ref)} == {("resident_arranged", "sms", "sent"),
                                                             ("resident_reminder", "sms", "sent")}
    finally:
        consumer.stop()
        producer.close()
        needs_server.shutdown()
        volunteers_server.shutdown()
        needs.dispose()
        mdb.dispose()
