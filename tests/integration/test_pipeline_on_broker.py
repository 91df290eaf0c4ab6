"""Outbox → relay → real broker → consumer process → database, on SQLite and on PostgreSQL.

The consumer runs as its own process, as in production (one consumer role per process: on tansu a
second group consumer in one process can take ~50 s to join, DESIGN §2).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.matching.db import make_db as matching_db
from services.matching.db import open_needs
from services.needs import handlers as needs_handlers
from services.needs.db import make_db as needs_db
from wspolnota import config
from wspolnota.testing import wait_until
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Outbox, Relay

pytestmark = pytest.mark.integration
START = datetime.now(UTC) + timedelta(days=2)


def register(db, outbox: Outbox, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        with db.transaction() as session:
            needs_handlers.register_need(session, outbox, {
                "resident_ref": f"R-{i}", "category": "ZAK", "village": "zagnansk", "description": "",
                "window_start": START, "window_end": START + timedelta(hours=2), "duration_minutes": 60,
                "urgent": False, "slots": 1})


def committed(bootstrap: str, topic: str, group: str) -> int:
    out = subprocess.run([sys.executable, "-m", "tests.e2e.read_topic", "--committed", bootstrap, topic, group],
                         capture_output=True, check=True, cwd=config.ROOT, timeout=60)
    return sum(o or 0 for o in json.loads(out.stdout).values())


def test_events_flow_once_through_the_real_broker(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path,
                                                  new_database: Callable[[], str]) -> None:
    source, sink = needs_db(new_database()), matching_db(new_database())
    source.migrate()
    sink.migrate()
    ensure_topics([config.topic("needs"), config.topic("needs.dlq")], kafka_bootstrap)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    log = tmp_path / "consumer.log"
    env = {**os.environ, "DATABASE_URL": sink.url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "WSPOLNOTA_TOPIC_PREFIX": topic_prefix}
    with open(log, "wb") as out:
        consumer = subprocess.Popen([sys.executable, "-m", "wspolnota.cli", "consume", "matching"], env=env,
                                    stdout=out, stderr=subprocess.STDOUT, cwd=config.ROOT, start_new_session=True)
    try:
        register(source, Outbox(source, needs_handlers.PUBLISHES), 20)
        relay = Relay(source, producer)
        assert relay.run_once() == 20

        def projected() -> int:
            with sink.engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(open_needs)).scalar_one()

        wait_until(lambda: projected() == 20, 120, interval_s=0.2, message="20 needs projected")
        assert relay.replay() == 20  # e.g. after a broker restart: the consumer must dedupe
        wait_until(lambda: committed(kafka_bootstrap, config.topic("needs"), f"{topic_prefix}matching") == 40, 120,
                   interval_s=0.5, message="the consumer to read the 20 replayed copies")
        os.killpg(consumer.pid, signal.SIGTERM)
        consumer.wait(30)
        assert projected() == 20
        assert "'handled': 20, 'duplicates': 20" in log.read_text(), log.read_text()[-2000:]
    finally:
        if consumer.poll() is None:
            os.killpg(consumer.pid, signal.SIGKILL)
        producer.close()
        source.dispose()
        sink.dispose()
