"""The community service on the real broker: SurveyClosed goes out with counts only, and the needs and
volunteers events it follows (run as `wspolnota consume community` in its own process) reach the diagnosis."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.read_topic import read_records
from services.community import diagnosis
from services.community.app import create_app
from services.community.db import make_db
from wspolnota import config
from wspolnota.testing import WorkerProcess
from wspolnota.transport import Event, encode
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration
START = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)


def test_survey_closed_goes_out_and_needs_and_providers_come_in_through_the_real_broker(
        kafka_bootstrap: str, topic_prefix: str, tmp_path: Path,
        start_consumer: Callable[..., WorkerProcess]) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'community.db'}")
    db.migrate()
    client = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
    ensure_topics([config.topic(t) for t in ("community", "community.dlq", "needs", "needs.dlq", "volunteers",
                                             "volunteers.dlq")], kafka_bootstrap)
    consumer = start_consumer("community", db.url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    relay = Relay(db, producer)
    try:
        survey = client.post("/api/surveys", json={"title": "Transport", "villages": ["kaniow"]}).json
        q = client.post(f"/api/surveys/{survey['id']}/questions", json={
            "kind": "single", "text": "Bus?", "required": True, "options": ["tak", "nie"]}).json
        client.post(f"/api/surveys/{survey['id']}/publish")
        client.post(f"/api/surveys/{survey['id']}/responses", json={"village": "kaniow", "answers": {q["id"]: 0}})
        assert client.post(f"/api/surveys/{survey['id']}/close").status_code == 200
        assert relay.run_once() == 1
        [closed] = [json.loads(r["value"]) for r in read_records(kafka_bootstrap, config.topic("community"), 1)]
        assert closed["type"] == "SurveyClosed" and closed["key"] == survey["id"]
        assert closed["data"]["responses"] == 1 and closed["data"]["by_village"] == [
            {"village": "kaniow", "responses": 1}]

        need_id, volunteer_id = str(uuid.uuid4()), str(uuid.uuid4())
        need = Event(type="NeedRegistered", key=need_id, source="needs", data={
            "need_id": need_id, "resident_ref": "M-BROKER", "category": "ZAK", "village": "kaniow",
            "window_start": START.isoformat(), "window_end": (START + timedelta(hours=3)).isoformat(),
            "duration_minutes": 60, "urgent": False, "slots": 1})
        provider = Event(type="VolunteerRegistered", key=volunteer_id, source="volunteers", data={
            "volunteer_id": volunteer_id, "provider_type": "volunteer", "villages": ["kaniow"]})
        producer.send(config.topic("needs"), need_id.encode(), encode(need))
        producer.send(config.topic("volunteers"), volunteer_id.encode(), encode(provider))
        producer.flush()

        def seen() -> bool:
            with db.engine.connect() as conn:
                row = diagnosis.needs_beside_providers(conn, "kaniow")[0]
            return row["open"] == 1 and row["providers"] == 1

        consumer.wait_until(seen, 90, message="the need and the provider reached the community service")
        with db.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(db.processed)).scalar() == 2
    finally:
        consumer.stop()
        producer.close()
        db.dispose()
