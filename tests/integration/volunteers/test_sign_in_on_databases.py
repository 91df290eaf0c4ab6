"""A volunteer's sign-in on SQLite and PostgreSQL: the request reaches notify's ledger exactly once (also when the
bus delivers it twice), its link signs the person in, a second use and an expired link are refused, and "sign out
everywhere" ends every session; two racing uses of one link sign in once. And the request through the real broker
to notify's consumer process."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.volunteers import sign_in_token
from services.notify.db import make_db as make_notify_db
from services.notify.db import notifications
from services.volunteers import sign_in
from services.volunteers.db import sign_in_tokens
from wspolnota import config
from wspolnota.service import load
from wspolnota.testing import ManualClock, WorkerProcess
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration
NOW = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found
    return found.group(1)


class Stack:
    """The volunteers web app and notify's consumer on two databases of one engine, one in-memory bus."""

    def __init__(self, new_database: Callable[[], str]):
        from services.volunteers.app import create_app

        self.clock = ManualClock(NOW)
        self.volunteers = load("volunteers", new_database(), clock=self.clock)
        self.notify = load("notify", new_database(), clock=self.clock)
        for parts in (self.volunteers, self.notify):
            parts.db.migrate()
        self.broker = MemoryBroker()
        self.relay = Relay(self.volunteers.db, self.broker.producer())
        assert self.notify.consumes is not None
        self.loop = ConsumerLoop("notify", self.broker.consumer("notify", [config.topic("volunteers")]),
                                 self.broker.producer(), self.notify.db, self.notify.consumes, self.notify.handlers)
        self.app = create_app({"DATABASE_URL": self.volunteers.db.url, "TESTING": True, "AUTH_DISABLED": True},
                              parts=self.volunteers)

    def pump(self) -> None:
        while self.relay.run_once() + self.loop.run_once(0):
            pass

    def ask(self, identifier: str) -> None:
        client = self.app.test_client()
        page = client.get("/wolontariusz/logowanie")
        assert client.post("/wolontariusz/logowanie", data={
            "csrf_token": csrf(page.get_data(as_text=True)), "identifier": identifier}).status_code == 302

    def messages(self) -> list[dict[str, Any]]:
        with self.notify.db.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(notifications).where(
                notifications.c.kind == "volunteer_sign_in").order_by(notifications.c.created_at)).mappings()]

    def use(self, client: Any, path: str) -> Any:
        page = client.get(path)
        if page.status_code != 200:
            return page
        return client.post(path, data={"csrf_token": csrf(page.get_data(as_text=True))})

    def close(self) -> None:
        self.volunteers.db.dispose()
        self.notify.db.dispose()


def ask(app: Any, identifier: str = "zofia@example.pl") -> None:
    client = app.test_client()
    page = client.get("/wolontariusz/logowanie")
    assert client.post("/wolontariusz/logowanie", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                                        "identifier": identifier}).status_code == 302


def link_path(body: str) -> str:
    found = re.search(r"/volunteers(/wolontariusz/wejscie/[A-Za-z0-9_\-.]+)", body)
    assert found, body
    return found.group(1)


def test_sign_in_by_link_end_to_end_on_each_database(new_database: Callable[[], str]) -> None:
    stack = Stack(new_database)
    try:
        staff = stack.app.test_client()
        volunteer_id = staff.post("/api/volunteers", json={
            "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
            "villages": ["belno"]}).json["id"]
        stack.ask("zofia@example.pl")
        stack.ask("nikt@example.pl")  # unknown: no message, same answer
        stack.pump()
        [request] = [m for m in stack.broker.messages(config.topic("volunteers"))
                     if b'"SignInLinkRequested"' in m.value]
        producer = stack.broker.producer()  # the bus delivers the request again
        producer.send(config.topic("volunteers"), request.key, request.value, [])
        producer.flush()
        stack.pump()
        [message] = stack.messages()
        assert (message["recipient"], message["channel"]) == (f"wolontariusz:{volunteer_id}", "email")

        path = link_path(message["body"])
        phone = stack.app.test_client()
        assert stack.use(phone, path).status_code == 302
        assert phone.get("/wolontariusz/").status_code == 200
        assert stack.use(stack.app.test_client(), path).status_code == 410  # reused

        stack.ask("601 202 303")
        stack.pump()
        sms = [m for m in stack.messages() if m["channel"] == "sms"]
        assert len(sms) == 1
        stack.clock.advance(timedelta(minutes=16))
        late = stack.use(stack.app.test_client(), link_path(sms[0]["body"]))
        assert late.status_code == 410 and "wygasł" in late.get_data(as_text=True)

        laptop = stack.app.test_client()
        stack.ask("zofia@example.pl")
        stack.pump()
        assert stack.use(laptop, link_path(stack.messages()[-1]["body"])).status_code == 302
        home = phone.get("/wolontariusz/")
        assert phone.post("/wolontariusz/wyloguj-wszedzie",
                          data={"csrf_token": csrf(home.get_data(as_text=True))}).status_code == 302
        assert laptop.get("/wolontariusz/").status_code == 302
        assert phone.get("/wolontariusz/").status_code == 302
    finally:
        stack.close()


def test_two_racing_uses_of_one_link_sign_in_once(new_database: Callable[[], str]) -> None:
    stack = Stack(new_database)
    try:
        stack.app.test_client().post("/api/volunteers", json={
            "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
            "villages": ["belno"]})
        stack.ask("zofia@example.pl")
        with stack.volunteers.db.engine.connect() as conn:
            token_id = conn.execute(sa.select(sign_in_tokens.c.id)).scalar_one()
        token = sign_in_token(stack.app.config["SECRET_KEY"], token_id)
        results: list[str] = []
        gate = threading.Barrier(4)

        def use() -> None:
            gate.wait()
            try:
                with stack.volunteers.db.transaction() as session:
                    results.append(sign_in.redeem(session, stack.app.config["SECRET_KEY"], token, NOW)["id"])
            except sign_in.LinkUnusable as err:
                results.append(err.reason)
            except sa.exc.OperationalError:  # SQLite: the file is locked by the winner
                results.append("locked")

        threads = [threading.Thread(target=use) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len([r for r in results if r not in ("used", "locked")]) == 1
    finally:
        stack.close()


def test_a_sign_in_request_reaches_notify_through_the_real_broker_once(
        kafka_bootstrap: str, topic_prefix: str, tmp_path: Path,
        start_consumer: Callable[..., WorkerProcess]) -> None:
    """The volunteers relay publishes on the real broker, `wspolnota consume notify` in its own process records one
    message (the request published twice counts once), and its link signs the volunteer in."""
    from services.volunteers.app import create_app

    volunteers = load("volunteers", f"sqlite:///{tmp_path / 'volunteers.db'}")
    notify_db = make_notify_db(f"sqlite:///{tmp_path / 'notify.db'}")
    volunteers.db.migrate()
    notify_db.migrate()
    ensure_topics([config.topic(t) for t in ("volunteers", "volunteers.dlq", "matches", "matches.dlq", "needs",
                                             "needs.dlq")], kafka_bootstrap)
    consumer = start_consumer("notify", notify_db.url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    try:
        app = create_app({"DATABASE_URL": volunteers.db.url, "TESTING": True, "AUTH_DISABLED": True},
                         parts=volunteers)
        app.test_client().post("/api/volunteers", json={
            "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
            "villages": ["belno"]})
        ask(app)
        Relay(volunteers.db, producer).run_once()
        with volunteers.db.engine.connect() as conn:  # a replay: the same request published again
            first = conn.execute(sa.select(volunteers.db.outbox.c.body, volunteers.db.outbox.c.key).where(
                volunteers.db.outbox.c.type == "SignInLinkRequested")).one()
        producer.send(config.topic("volunteers"), first.key.encode(), first.body)
        producer.flush()
        ask(app)  # a later request by the same person: same key, so it comes after the replay on its partition
        Relay(volunteers.db, producer).run_once()

        def recorded() -> list[dict[str, Any]]:
            with notify_db.engine.connect() as conn:
                return [dict(r) for r in conn.execute(sa.select(notifications).where(
                    notifications.c.kind == "volunteer_sign_in").order_by(notifications.c.created_at)).mappings()]

        consumer.wait_until(lambda: len(recorded()) >= 2, 120, message="notify recorded the sign-in messages")
        assert len(recorded()) == 2  # the replay sent nothing
        message = recorded()[0]
        assert message["channel"] == "email"
        phone = app.test_client()
        path = link_path(message["body"])
        page = phone.get(path)
        assert phone.post(path, data={"csrf_token": csrf(page.get_data(as_text=True))}).status_code == 302
        assert phone.get("/wolontariusz/").status_code == 200
    finally:
        consumer.stop()
        producer.close()
        volunteers.db.dispose()
        notify_db.dispose()
