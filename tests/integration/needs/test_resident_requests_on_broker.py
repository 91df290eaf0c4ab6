"""A resident's request on PostgreSQL and the real broker: the public form stores it and publishes RequestReceived
(ids and codes only), notify's consumer (its own process) books the acknowledgement, the sender asks the needs
service's internal API for the address at send time and the e-mail reaches the SMTP sink once; closing the request
sends the reason once, even when the events are replayed and a second RequestClosed for it arrives."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from contracts import needs as need_contract
from services.needs.app import create_app
from services.needs.db import make_db
from services.needs.handlers import PUBLISHES
from services.notify.channels import default_channels
from services.notify.contacts import AddressBook
from services.notify.db import make_db as notify_db
from services.notify.db import notifications, sink_messages
from services.notify.handlers import SUBSCRIPTIONS
from services.notify.sender import Sender
from services.notify.settings import Settings
from services.notify.sink import Inbox, smtp_controller
from tests.conftest import create_pg_database, drop_pg_database
from wspolnota import config
from wspolnota.broker import free_port
from wspolnota.testing import WorkerProcess
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Outbox, Relay

pytestmark = pytest.mark.integration
TOKEN = "shared-internal-token"
GOOD = {"for_whom": "self", "requester_name": "Zofia Zmyślona", "village": "jasiow", "help_kinds": ["shopping"],
        "urgency": "week", "phone": "601202303", "email": "zofia@example.pl", "reply_channel": "email",
        "details": "Zakupy raz w tygodniu, mieszkam sama.", "consent": "y"}


@pytest.fixture
def postgres(pg_available: bool) -> Iterator[Callable[[], str]]:
    if not pg_available:
        pytest.skip("PostgreSQL is not available on 127.0.0.1:5432")
    made: list[str] = []

    def new() -> str:
        made.append(create_pg_database())
        return made[-1]

    yield new
    for url in made:
        drop_pg_database(url)


def hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*name="(csrf_token|submission)"[^>]*value="([^"]*)"', html))


def test_a_request_is_acknowledged_once_and_its_closing_reason_sent_once_even_when_redelivered(
        postgres: Callable[[], str], kafka_bootstrap: str, topic_prefix: str, tmp_path: Path,
        start_consumer: Callable[..., WorkerProcess]) -> None:
    needs_url, notify_url = postgres(), postgres()
    ndb, mdb = make_db(needs_url), notify_db(notify_url)
    ndb.migrate()
    mdb.migrate()
    app = create_app({"DATABASE_URL": needs_url, "TESTING": True, "AUTH_DISABLED": True,
                      "INTERNAL_SERVICE_TOKEN": TOKEN})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    smtp_port = free_port()
    smtp = smtp_controller(Inbox(mdb), smtp_port)
    smtp.start()
    ensure_topics([config.topic(t) for name in SUBSCRIPTIONS for t in (name, f"{name}.dlq")], kafka_bootstrap)
    consumer = start_consumer("notify", notify_url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    relay = Relay(ndb, producer)
    settings = Settings.from_env({}, needs_internal_url=f"http://127.0.0.1:{server.server_port}",
                                 internal_service_token=TOKEN, smtp_port=smtp_port)
    sender = Sender(mdb, settings, default_channels(settings), AddressBook(settings, None),  # type: ignore[arg-type]
                    clock=lambda: datetime.now(UTC))

    def rows(kind: str) -> list[Any]:
        with mdb.engine.connect() as conn:
            return list(conn.execute(sa.select(notifications.c.channel, notifications.c.status,
                                               notifications.c.recipient).where(notifications.c.kind == kind)))

    def mails() -> list[Any]:
        with mdb.engine.connect() as conn:
            return list(conn.execute(sa.select(sink_messages.c.recipient, sink_messages.c.subject,
                                               sink_messages.c.body, sink_messages.c.deliveries)
                                     .where(sink_messages.c.channel == "email").order_by(sink_messages.c.id)))

    try:
        client = app.test_client()
        form = hidden(client.get("/prosba").get_data(as_text=True))
        assert client.post("/prosba", data={**form, **GOOD}).status_code == 302
        assert client.post("/prosba", data={**form, **GOOD}).status_code == 302  # a double submit
        with ndb.engine.connect() as conn:
            [request_id] = conn.execute(sa.text("SELECT id FROM resident_requests")).scalars().all()
            bodies = b" ".join(bytes(b) for b in conn.execute(sa.text("SELECT body FROM outbox")).scalars())
        assert b"Zofia" not in bodies and b"601202303" not in bodies and b"example.pl" not in bodies
        assert relay.run_once() == 1

        booked = consumer.wait_until(lambda: len(rows("request_received")) == 2 and rows("request_received"), 120,
                                     message="the acknowledgement booked by notify's consumer")
        assert {r.recipient for r in booked} == {f"wnioskodawca:{request_id}"}
        sender.run_once()
        [ack] = mails()
        assert (ack.recipient, ack.subject, ack.deliveries) == (
            "zofia@example.pl", "Twoja prośba o pomoc dotarła do CUS", 1)
        statuses = {r.channel: r.status for r in rows("request_received")}
        # the SMS row is skipped at send time (e-mail was chosen), or still waits for the end of the quiet hours
        assert statuses["email"] == "sent" and statuses["sms"] in ("skipped", "pending")

        page = client.get(f"/prosby/{request_id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
        closed = client.post(f"/prosby/{request_id}/zamknij", data={
            "csrf_token": token, "reason": "outside_area", "note": "Mieszka w Kielcach."})
        assert closed.status_code == 302
        assert relay.run_once() == 1
        consumer.wait_until(lambda: len(rows("request_closed")) == 2, 120, message="the closing message booked")

        assert relay.replay() == 2  # both events delivered again
        with ndb.transaction() as session:  # and a second RequestClosed of the same request (a new event id)
            Outbox(ndb, PUBLISHES).add(
                session, need_contract.TOPIC, "RequestClosed", request_id,
                {"request_id": request_id, "reason": "outside_area"})
        assert relay.run_once() == 1
        key = f"handled RequestClosed key={request_id}"
        consumer.wait_until(lambda: consumer.log().count(key) == 2, 120,
                            message="the second RequestClosed handled (after the redelivered ones: same key)")
        assert len(rows("request_received")) == 2 and len(rows("request_closed")) == 2

        sender.run_once()
        sender.run_once()
        sent = mails()
        assert len(sent) == 2 and all(m.deliveries == 1 for m in sent)
        assert sent[1].subject == "Odpowiedź na Twoją prośbę o pomoc"
        assert "osoba mieszka poza gminą Zagnańsk" in sent[1].body and "Kielcach" not in sent[1].body
    finally:
        consumer.stop()
        producer.close()
        smtp.stop()
        server.shutdown()
        app.extensions["db"].dispose()
        ndb.dispose()
        mdb.dispose()
