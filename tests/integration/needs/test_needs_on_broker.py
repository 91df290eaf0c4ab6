"""The needs service's events round-trip through the real broker: what it publishes arrives intact
and without personal data; the match events it consumes move the need to completion.

Its consumer runs as `wspolnota consume needs` in its own process and the topic is read without a group
from another one: the pytest process holds no Kafka consumer (docs/architecture.md: on tansu a second group consumer
in one process can take ~50 s to join).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.read_topic import read_records
from services.needs.app import create_app
from services.needs.db import make_db
from wspolnota import config
from wspolnota.testing import WorkerProcess
from wspolnota.transport import Event, encode
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration
START = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
VOLUNTEER = "11111111-2222-4333-8444-555555555555"


def read_topic(bootstrap: str, topic: str, expect: int) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r["value"]) for r in read_records(bootstrap, topic, expect)]


def test_a_need_goes_out_and_match_events_come_back_through_the_real_broker(
        kafka_bootstrap: str, topic_prefix: str, tmp_path: Path,
        start_consumer: Callable[..., WorkerProcess]) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'needs.db'}")
    db.migrate()
    client = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
    ensure_topics([config.topic(t) for t in ("needs", "needs.dlq", "matches", "matches.dlq")], kafka_bootstrap)
    consumer = start_consumer("needs", db.url)  # joins its group while the test publishes
    producer = KafkaProducerAdapter(kafka_bootstrap)
    relay = Relay(db, producer)
    try:
        need = client.post("/api/needs", json={
            "resident_ref": "M-BROKER", "category": "KOR", "village": "kaniow", "description": "Pani Ala, ul. Cicha 2",
            "window_start": START.isoformat(), "window_end": (START + timedelta(hours=3)).isoformat(),
            "duration_minutes": 60}).json
        assert relay.run_once() == 1
        [registered] = read_topic(kafka_bootstrap, config.topic("needs"), 1)
        assert registered["type"] == "NeedRegistered" and registered["key"] == need["id"]
        assert registered["data"]["requirements"] == ["kamilka_check"] and registered["data"]["involves_minor"]
        assert "Cicha" not in json.dumps(registered, ensure_ascii=False)

        match_id = str(uuid.uuid4())
        for event_type, extra in [("MatchAccepted", {}), ("MatchCompleted", {"hours": 1.5})]:
            event = Event(type=event_type, key=need["id"], source="matching",
                          data={"match_id": match_id, "need_id": need["id"], "volunteer_id": VOLUNTEER, **extra})
            producer.send(config.topic("matches"), need["id"].encode(), encode(event))
        producer.flush()

        # 90 s: the consumer process starts, joins its group (~3 s on tansu with the 6 s session timeout) and
        # handles two events; on a loaded 2-core CI box starting the process alone can take 20 s.
        consumer.wait_until(lambda: client.get(f"/api/needs/{need['id']}").json["status"] == "completed", 90,
                            message="the need completed from match events")
        assert relay.run_once() == 1
        types = [r["type"] for r in read_topic(kafka_bootstrap, config.topic("needs"), 2)]
        assert types == ["NeedRegistered", "NeedCompleted"]
        assert [e["kind"] for e in client.get(f"/api/needs/{need['id']}/timeline").json] == [
            "NeedRegistered", "MatchAccepted", "MatchCompleted"]
    finally:
        consumer.stop()
        producer.close()
        db.dispose()
