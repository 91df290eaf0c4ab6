"""The hours ledger on SQLite and PostgreSQL: hours from the community and matching topics through the service's
consumer loop, a redelivered message counted once, a correction replacing the hours and an older record arriving
late changing nothing; the profile API reads the totals; events carrying the scope of the work reach the ledger and
the certificate of volunteering (PDF) names it. And the volunteers consumer on the real broker."""
from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from contracts import community as community_contract
from contracts import matching as match_contract
from services.volunteers import certificates, handlers, hours
from services.volunteers.app import create_app
from services.volunteers.db import hours_ledger, make_db
from wspolnota import config, localtime
from wspolnota.testing import WorkerProcess
from wspolnota.transport import Event, encode
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.memory import MemoryBroker

pytestmark = pytest.mark.integration
ACTIVITY = "aaaaaaaa-1111-4222-8333-444444444444"
MATCH = "cccccccc-1111-4222-8333-444444444444"
NEED = "dddddddd-1111-4222-8333-444444444444"
AT = datetime.now(UTC) - timedelta(days=1)


def participation(provider_id: str, given: float, at: datetime) -> Event:
    return Event("ParticipationRecorded", provider_id, {"activity_id": ACTIVITY, "provider_id": provider_id,
                                                         "hours": given, "held_on": localtime.local_day(AT).isoformat(),
                                                         "kind": "meeting"},
                 "community", time=at)


def test_hours_arrive_once_and_corrections_win_on_each_database(database_url: str) -> None:
    db = make_db(database_url)
    db.migrate()
    try:
        client = create_app({"DATABASE_URL": database_url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
        volunteer = client.post("/api/volunteers", json={
            "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
            "villages": ["belno"]}).json["id"]
        broker = MemoryBroker()
        community_topic, matches_topic = config.topic(community_contract.TOPIC), config.topic(match_contract.TOPIC)
        loop = ConsumerLoop("volunteers", broker.consumer("volunteers", [community_topic, matches_topic]),
                            broker.producer(), db, handlers.CONSUMES, handlers.handlers(None))  # type: ignore[arg-type]
        producer = broker.producer()
        first, correction = participation(volunteer, 3, AT), participation(volunteer, 2.5, AT + timedelta(hours=1))
        visit = Event("MatchCompleted", NEED, {"match_id": MATCH, "need_id": NEED, "volunteer_id": volunteer,
                                               "hours": 1.5}, "matching", time=AT)
        for topic, event in ((community_topic, first), (community_topic, first), (matches_topic, visit),
                             (community_topic, correction)):
            producer.send(topic, event.key.encode(), encode(event))
        producer.flush()
        loop.run_once(0)
        assert (loop.stats["handled"], loop.stats["duplicates"]) == (3, 1)

        late = ConsumerLoop("late", broker.consumer("late", [community_topic]), broker.producer(), db,
                            handlers.CONSUMES, handlers.handlers(None))  # type: ignore[arg-type]
        producer.send(community_topic, volunteer.encode(), encode(first))  # the old record reaches a fresh group
        producer.flush()
        late.run_once(0)
        # this group had seen nothing: the first record and the correction reach its handler, and the ledger
        # itself keeps the correction
        assert (late.stats["handled"], late.stats["duplicates"]) == (2, 2)

        with db.transaction() as session:
            figures = hours.summary(session, volunteer, localtime.today())
        assert (figures["activities"]["total"], figures["activities"]["count"]) == (2.5, 1)
        assert figures["visits"]["total"] == 1.5 and figures["total"] == 4
        assert client.get(f"/api/volunteers/{volunteer}/hours").json["total"] == 4
    finally:
        db.dispose()


def test_events_with_the_scope_of_the_work_end_in_a_certificate_on_each_database(database_url: str) -> None:
    """A shopping visit and a workshop arrive through the consumer loop with their category and kind; the ledger
    keeps them, the hours API shows them by month, and the certificate read back from the PDF names the volunteer,
    the period, the hours and the scope with its Polish letters; the issue is audited."""
    db = make_db(database_url)
    db.migrate()
    try:
        client = create_app({"DATABASE_URL": database_url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
        volunteer = client.post("/api/volunteers", json={
            "name": "Zofia Wiśniewska-Łęcka", "email": "zofia@example.pl", "phone": "+48 601 202 303",
            "villages": ["belno"]}).json["id"]
        broker = MemoryBroker()
        community_topic, matches_topic = config.topic(community_contract.TOPIC), config.topic(match_contract.TOPIC)
        loop = ConsumerLoop("volunteers", broker.consumer("volunteers", [community_topic, matches_topic]),
                            broker.producer(), db, handlers.CONSUMES, handlers.handlers(None))  # type: ignore[arg-type]
        # 23:30 UTC on 31 March 2026 is already 1 April in Warsaw
        visit = Event("MatchCompleted", NEED, {"match_id": MATCH, "need_id": NEED, "volunteer_id": volunteer,
                                               "hours": 2.5, "category": "ZAK"}, "matching",
                      time=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
        workshop = Event("ParticipationRecorded", volunteer, {
            "activity_id": ACTIVITY, "provider_id": volunteer, "hours": 3, "held_on": "2026-04-18",
            "kind": "workshop"}, "community", time=datetime(2026, 4, 18, 15, tzinfo=UTC))
        producer = broker.producer()
        producer.send(matches_topic, visit.key.encode(), encode(visit))
        producer.send(community_topic, workshop.key.encode(), encode(workshop))
        producer.flush()
        loop.run_once(0)
        with db.engine.connect() as conn:
            assert sorted(conn.execute(sa.select(hours_ledger.c.category, hours_ledger.c.on_date)).all()) == [
                ("ZAK", date(2026, 4, 1)), ("workshop", date(2026, 4, 18))]
        months = client.get(f"/api/volunteers/{volunteer}/hours?year=2026").json["by_month"]["months"]
        assert [m["hours"] for m in months[2:4]] == [0, 5.5]

        response = client.get(f"/api/volunteers/{volunteer}/certificate?since=2026-04-01&until=2026-04-30")
        assert response.status_code == 200, response.json
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
        for expected in ("Zofia Wiśniewska-Łęcka", "od 01.04.2026 r. do 30.04.2026 r.", "Zakupy i sprawunki",
                         "Warsztat", "społeczności lokalnej", "Łączna liczba godzin świadczeń w tym okresie: 5,5.",
                         "ZAŚWIADCZENIE", "Centrum Usług Społecznych w Zagnańsku"):
            assert expected in text, expected
        with db.transaction() as session:
            [issued] = handlers.audit_entries(session, volunteer, certificates.CERTIFICATE_ISSUED)
        assert issued["detail"] == "zaświadczenie o wolontariacie za okres 01.04.2026–30.04.2026"
    finally:
        db.dispose()


def test_hours_from_the_community_topic_reach_the_ledger_through_the_real_broker(
        kafka_bootstrap: str, topic_prefix: str, tmp_path: Path,
        start_consumer: Callable[..., WorkerProcess]) -> None:
    """`wspolnota consume volunteers` in its own process follows the community topic: a helper's hours, sent twice
    (a replay), are counted once, with the activity's kind as their scope."""
    db = make_db(f"sqlite:///{tmp_path / 'volunteers.db'}")
    db.migrate()
    ensure_topics([config.topic(t) for t in ("community", "community.dlq", "matches", "matches.dlq")],
                  kafka_bootstrap)
    consumer = start_consumer("volunteers", db.url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    try:
        volunteer = str(uuid.uuid4())
        event = participation(volunteer, 3, AT)
        for _ in range(2):
            producer.send(config.topic("community"), volunteer.encode(), encode(event))
        producer.flush()

        def counted() -> bool:
            with db.transaction() as session:
                return bool(hours.summary(session, volunteer, localtime.today())["total"] == 3)

        consumer.wait_until(counted, 90, message="the helper's hours reached the volunteers service")
        with db.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(db.processed)).scalar() == 1
            assert conn.execute(sa.select(hours_ledger.c.category)).scalars().all() == ["meeting"]
    finally:
        consumer.stop()
        producer.close()
        db.dispose()
