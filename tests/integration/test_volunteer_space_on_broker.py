"""The volunteer's own space on the real broker, end to end through every process boundary it crosses.

- A concern: the volunteer's concern page (volunteers) posts the text to the needs service's internal API (over
  HTTP) → needs stores it and its relay publishes ConcernReported (ids only) → notify's consumer (its own process)
  books one urgent e-mail → notify's sender asks needs for the resident's social worker at send time and the mail
  reaches the real SMTP sink once, with a link and without the text, even when the event is delivered again.
- Engagement: MatchCompleted and IdleVolunteerNudged on the matching topic → the same consumer books the thank-you
  and the nudge → the sender reads the volunteer's address from volunteers' internal API → one mail each in the
  sink, again once however often the events arrive; a volunteer who switched such messages off gets none.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from contracts import matching as match_contract
from contracts import needs as need_contract
from services.needs.app import create_app as needs_app
from services.needs.db import concerns, need_matches, needs
from services.needs.db import make_db as needs_db
from services.notify.db import make_db as notify_db
from services.notify.db import notifications, sink_messages
from services.notify.handlers import CONSUMES, SUBSCRIPTIONS
from services.notify.sender import Sender
from services.notify.settings import Settings
from services.notify.sink import Inbox, smtp_controller
from services.volunteers import sign_in
from services.volunteers.app import create_app as volunteers_app
from services.volunteers.db import make_db as volunteers_db
from wspolnota import config, localtime
from wspolnota.broker import free_port
from wspolnota.testing import WRITTEN_AGREEMENT, WorkerProcess, wait_until
from wspolnota.transport import Catalog, decode, encode, new_event
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration

MATCHING = Catalog(match_contract.EVENTS)
TOKEN = "shared-token"
SECRET = "space-on-broker-secret"
SOCIAL_WORKER = "a.nowak@cus.example.pl"
TEXT = "Pani Leokadia od tygodnia nie wychodzi z domu i mówi, że nikt jej nie pomaga."
# The sender's clock: tomorrow at 11:00 Warsaw time, outside every quiet hour whatever time the suite runs.
DAYTIME = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def serve(app: Any) -> tuple[str, Any]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


class World:
    """needs and volunteers served over HTTP, notify's database, the SMTP sink and notify's consumer process."""

    def __init__(self, tmp_path: Path, kafka_bootstrap: str, start_consumer: Callable[..., WorkerProcess]):
        for service, make in (("needs", needs_db), ("volunteers", volunteers_db)):
            made = make(f"sqlite:///{tmp_path / (service + '.db')}")
            made.migrate()
            made.dispose()
        self.needs = needs_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'needs.db'}", "TESTING": True,
                                "AUTH_DISABLED": True, "INTERNAL_SERVICE_TOKEN": TOKEN})
        self.needs_url, self.needs_server = serve(self.needs)
        self.volunteers = volunteers_app({
            "DATABASE_URL": f"sqlite:///{tmp_path / 'volunteers.db'}", "TESTING": True, "AUTH_DISABLED": True,
            "INTERNAL_SERVICE_TOKEN": TOKEN, "SECRET_KEY": SECRET, "WTF_CSRF_ENABLED": False,
            "NEEDS_INTERNAL_URL": self.needs_url})
        self.volunteers_url, self.volunteers_server = serve(self.volunteers)
        self.notify = notify_db(f"sqlite:///{tmp_path / 'notify.db'}")
        self.notify.migrate()
        ensure_topics([config.topic(t) for name in SUBSCRIPTIONS for t in (name, f"{name}.dlq")], kafka_bootstrap)
        self.consumer = start_consumer("notify", self.notify.url, NOTIFY_PUBLIC_URL="https://cus.example/notify")
        self.producer = KafkaProducerAdapter(kafka_bootstrap)
        self.smtp_port = free_port()
        self.sink = smtp_controller(Inbox(self.notify), self.smtp_port)
        self.sink.start()
        self.settings = Settings.from_env(
            {}, needs_internal_url=self.needs_url, volunteers_internal_url=self.volunteers_url,
            internal_service_token=TOKEN, organiser_email="osl@cus.example.pl", smtp_port=self.smtp_port,
            public_url="https://cus.example/notify", sms_gateway_url=f"http://127.0.0.1:{free_port()}/sms")
        self.sender = Sender(self.notify, self.settings, clock=lambda: DAYTIME)

    def close(self) -> None:
        self.consumer.stop()
        self.producer.close()
        self.sink.stop()
        for server in (self.needs_server, self.volunteers_server):
            server.shutdown()
        for app in (self.needs, self.volunteers):
            app.extensions["wspolnota.parts"].db.dispose()
        self.notify.dispose()

    def a_volunteer(self, **extra: Any) -> str:
        client = self.volunteers.test_client()
        made = client.post("/api/volunteers", json={"name": "Jan Sąsiad", "email": "jan.sasiad@example.pl",
                                                     "phone": "+48 600 000 018", "villages": ["belno"], **extra})
        assert made.status_code == 201, made.json
        assert client.post(f"/api/volunteers/{made.json['id']}/credentials",
                           json=WRITTEN_AGREEMENT).status_code == 201
        return str(made.json["id"])

    def signed_in(self, volunteer_id: str) -> Any:
        """The volunteer's browser, as redeeming their sign-in link leaves it."""
        client = self.volunteers.test_client()
        client.set_cookie(sign_in.COOKIE, sign_in.session_value(
            SECRET, {"id": volunteer_id, "session_version": 0}, datetime.now(UTC)))
        return client

    def mails(self) -> list[dict[str, Any]]:
        with self.notify.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(sink_messages)).mappings()]

    def ledger(self, kind: str) -> list[dict[str, Any]]:
        with self.notify.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(notifications).where(
                notifications.c.kind == kind)).mappings()]

    def publish(self, topic: str, event: Any) -> None:
        """Put an event on the broker as a relay would; twice is a redelivery."""
        self.producer.send(config.topic(topic), event.key.encode(), encode(event))
        self.producer.flush()


@pytest.fixture
def world(tmp_path: Path, kafka_bootstrap: str, topic_prefix: str,
          start_consumer: Callable[..., WorkerProcess]) -> Iterator[World]:
    w = World(tmp_path, kafka_bootstrap, start_consumer)
    yield w
    w.close()


def test_a_volunteers_concern_reaches_the_residents_social_worker_once_through_the_broker(world: World) -> None:
    volunteer_id = world.a_volunteer()
    resident = world.needs.test_client().post("/api/residents", json={
        "name": "Leokadia Zmyślona", "address": "ul. Nieistniejąca 4", "village": "belno", "phone": "+48500000111",
        "preferred_channel": "sms", "legal_basis": "consent", "consent_date": localtime.today().isoformat()})
    assert resident.status_code == 201, resident.json
    need_id, match_id, now = str(uuid.uuid4()), str(uuid.uuid4()), datetime.now(UTC)
    needs_db = world.needs.extensions["wspolnota.parts"].db
    with needs_db.engine.begin() as conn:  # the social worker (set on the staff form), and the visit as needs
        conn.execute(sa.text("UPDATE residents SET social_worker_email = :e"), {"e": SOCIAL_WORKER})  # knows it
        conn.execute(sa.insert(needs).values(
            id=need_id, resident_ref=resident.json["ref"], category="ZAK", village="belno", description="",
            window_start=now, window_end=now + timedelta(hours=2), duration_minutes=60, urgent=False, slots=1,
            status="matched", created_at=now, updated_at=now))
        conn.execute(sa.insert(need_matches).values(match_id=match_id, need_id=need_id, volunteer_id=volunteer_id,
                                                    status="accepted", was_accepted=True, updated_at=now))

    browser = world.signed_in(volunteer_id)
    form = browser.get(f"/wolontariusz/wizyty/{match_id}/niepokoj")
    assert form.status_code == 200
    concern_id = str(uuid.uuid4())
    body = {"concern_id": concern_id, "text": TEXT, "urgent": "y"}
    sent = browser.post(f"/wolontariusz/wizyty/{match_id}/niepokoj", data=body)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    again = browser.post(f"/wolontariusz/wizyty/{match_id}/niepokoj", data=body)  # a double-clicked submit
    assert again.status_code == 302
    with needs_db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(concerns)).scalar_one() == 1

    relay = Relay(needs_db, world.producer)
    assert relay.run_once() >= 1  # the resident's and the need's events, ConcernReported among them
    world.consumer.wait_until(lambda: world.ledger("concern_reported"), 120,
                              message="the concern booked by notify's consumer\n" + world.consumer.log()[-3000:])
    world.sender.run_once()
    [mail] = wait_until(world.mails, 10, message="the concern e-mail in the SMTP sink")
    assert mail["recipient"] == SOCIAL_WORKER
    assert f"https://cus.example/needs/zgloszenia/{concern_id}" in mail["body"]
    assert TEXT not in mail["body"] and "Zmyślona" not in mail["body"]

    with needs_db.engine.connect() as conn:  # the same ConcernReported delivered again
        [raw] = [bytes(r.body) for r in conn.execute(sa.text("SELECT type, body FROM outbox"))
                 if r.type == "ConcernReported"]
    assert TEXT.encode() not in raw
    world.publish(need_contract.TOPIC, decode(raw, CONSUMES))
    world.publish(match_contract.TOPIC, new_event(MATCHING, "matching", "IdleVolunteerNudged", volunteer_id, {
        "volunteer_id": volunteer_id, "open_needs": 1, "period": DAYTIME.date().isoformat()}))  # a marker after it
    world.consumer.wait_until(lambda: world.ledger("idle_nudge"), 120, message="the marker event handled")
    world.sender.run_once()
    assert len(world.ledger("concern_reported")) == 1
    assert [m["recipient"] for m in world.mails()].count(SOCIAL_WORKER) == 1


def test_thanks_and_a_nudge_reach_the_volunteer_once_and_not_one_who_switched_them_off(world: World) -> None:
    keen, quiet = world.a_volunteer(), world.a_volunteer(email="cicha@example.pl", name="Ewa Cicha")
    toggled = world.signed_in(quiet).post("/wolontariusz/wiadomosci", data={})
    assert toggled.status_code in (200, 302), toggled.get_data(as_text=True)

    def completed(volunteer_id: str) -> Any:
        return new_event(MATCHING, "matching", "MatchCompleted", str(uuid.uuid4()), {
            "match_id": str(uuid.uuid4()), "need_id": str(uuid.uuid4()), "volunteer_id": volunteer_id,
            "hours": 1.5, "category": "ZAK"})

    def nudged(volunteer_id: str) -> Any:
        return new_event(MATCHING, "matching", "IdleVolunteerNudged", volunteer_id, {
            "volunteer_id": volunteer_id, "open_needs": 3, "period": DAYTIME.date().isoformat()})

    events = [completed(keen), nudged(keen), completed(quiet), nudged(quiet)]
    for event in events + events:  # every event delivered twice
        world.publish(match_contract.TOPIC, event)
    world.consumer.wait_until(lambda: len(world.ledger("visit_thanks")) >= 2 and len(world.ledger("idle_nudge")) >= 2,
                              120, message="the thank-yous and nudges booked\n" + world.consumer.log()[-3000:])
    world.sender.run_once()
    mails = world.mails()
    to_keen = [m for m in mails if m["recipient"] == "jan.sasiad@example.pl"]
    assert len(to_keen) == 2, [m["subject"] for m in to_keen]  # one thank-you, one nudge
    assert any("dziękujemy za Twoją wizytę (Zakupy i sprawunki)" in m["body"] for m in to_keen)
    assert any("3 prośby o pomoc czekają" in m["body"] for m in to_keen), [m["body"] for m in to_keen]
    assert not [m for m in mails if m["recipient"] == "cicha@example.pl"]
    for kind in ("visit_thanks", "idle_nudge"):
        rows = [r for r in world.ledger(kind) if r["channel"] == "email"]
        assert len(rows) == 2, rows  # one per volunteer, whatever the redeliveries


def test_the_volunteers_own_availability_absence_and_pause_reach_matching_through_the_broker(
        world: World, tmp_path: Path, start_consumer: Callable[..., WorkerProcess]) -> None:
    """Each change on the space flows through volunteers' events, as a staff edit does: matching's consumer (its
    own process) sees the week, the absence (days only, no reason) and the pause, then the resume."""
    from services.matching.db import make_db as matching_db
    from services.matching.db import providers

    mdb = matching_db(f"sqlite:///{tmp_path / 'matching.db'}")
    mdb.migrate()
    matching = start_consumer("matching", mdb.url)
    volunteer_id = world.a_volunteer()
    browser = world.signed_in(volunteer_id)
    week = {f"d{d}_{r}_{end}": "" for d in range(7) for r in range(2) for end in ("start", "end")}
    week.update({"d1_0_start": "16:00", "d1_0_end": "19:00", "d5_0_start": "10:00", "d5_0_end": "13:00"})
    assert browser.post("/wolontariusz/dostepnosc", data=week).status_code == 302
    away = (DAYTIME + timedelta(days=7)).date()
    assert browser.post("/wolontariusz/nieobecnosci", data={
        "starts_on": away.isoformat(), "ends_on": (away + timedelta(days=2)).isoformat(),
        "reason": "sick"}).status_code == 302
    assert browser.post("/wolontariusz/przerwa", data={}).status_code == 302
    volunteers_db_ = world.volunteers.extensions["wspolnota.parts"].db
    relay = Relay(volunteers_db_, world.producer)

    def provider() -> dict[str, Any] | None:
        with mdb.engine.connect() as conn:
            found = conn.execute(sa.select(providers).where(providers.c.volunteer_id == volunteer_id)).mappings().first()
        return dict(found) if found else None

    try:
        assert relay.run_once() >= 4
        seen = matching.wait_until(lambda: (p := provider()) and p["paused"] and p, 120,
                                   message="the paused volunteer in matching's projection")
        assert seen["weekly_slots"] == [{"weekday": 1, "start": "16:00", "end": "19:00"},
                                        {"weekday": 5, "start": "10:00", "end": "13:00"}]
        assert seen["unavailable"] == [{"starts_on": away.isoformat(),
                                        "ends_on": (away + timedelta(days=2)).isoformat()}]
        assert browser.post("/wolontariusz/wznowienie", data={}).status_code == 302
        assert relay.run_once() >= 1
        matching.wait_until(lambda: (p := provider()) and not p["paused"], 120,
                            message="the resumed volunteer in matching's projection")
        with volunteers_db_.engine.connect() as conn:
            raw = b"".join(bytes(r.body) for r in conn.execute(sa.text("SELECT body FROM outbox")))
        assert b"sick" not in raw
    finally:
        matching.stop()
        mdb.dispose()
