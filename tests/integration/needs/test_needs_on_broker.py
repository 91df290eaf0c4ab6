"""The needs service's events round-trip through the real broker: what it publishes arrives intact
and without personal data; the match events it consumes move the need to completion."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.needs import handlers
from services.needs.app import create_app
from services.needs.db import make_db
from wspolnota import config
from wspolnota.testing import wait_until
from wspolnota.transport import Event, encode
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.kafka import KafkaConsumerAdapter, KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Outbox, Relay

pytestmark = pytest.mark.integration
START = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
VOLUNTEER = "11111111-2222-4333-8444-555555555555"


def read_topic(bootstrap: str, topic: str, expect: int) -> list[dict]:  # type: ignore[type-arg]
    out = subprocess.run([sys.executable, "-m", "tests.integration.needs.read_topic", bootstrap, topic,
                          str(expect), "60"], capture_output=True, text=True, check=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[3])
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_a_need_goes_out_and_match_events_come_back_through_the_real_broker(
        kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'needs.db'}")
    db.migrate()
    client = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
    ensure_topics([config.topic(t) for t in ("needs", "needs.dlq", "matches", "matches.dlq")], kafka_bootstrap)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    relay = Relay(db, producer)
    consumer = KafkaConsumerAdapter(f"{topic_prefix}needs", [config.topic("matches")], kafka_bootstrap)
    loop = ConsumerLoop("needs", consumer, producer, db, handlers.CONSUMES,
                        handlers.handlers(Outbox(db, handlers.PUBLISHES)))
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

        def status() -> str:
            loop.run_once(200)
            return client.get(f"/api/needs/{need['id']}").json["status"]

        wait_until(lambda: status() == "completed", 240, message="the need completed from match events")
        assert relay.run_once() == 1
        types = [r["type"] for r in read_topic(kafka_bootstrap, config.topic("needs"), 2)]
        assert types == ["NeedRegistered", "NeedCompleted"]
        assert [e["kind"] for e in client.get(f"/api/needs/{need['id']}/timeline").json] == [
            "NeedRegistered", "MatchAccepted", "MatchCompleted"]
    finally:
        consumer.close()
        producer.close()
        db.dispose()
