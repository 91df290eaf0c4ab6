"""Outbox → relay → real broker → consumer process → database, on SQLite and on PostgreSQL.

The consumer runs as its own process, as in production (one consumer role per process: on tansu a
second group consumer in one process can take ~50 s to join, docs/architecture.md).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bench.read_topic import committed_total
from services.matching.db import make_db as matching_db
from services.matching.db import open_needs
from services.needs import handlers as needs_handlers
from services.needs.db import make_db as needs_db
from wspolnota import config
from wspolnota.testing import WorkerProcess
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


def test_events_flow_once_through_the_real_broker(kafka_bootstrap: str, topic_prefix: str,
                                                  new_database: Callable[[], str],
                                                  start_consumer: Callable[..., WorkerProcess]) -> None:
    source, sink = needs_db(new_database()), matching_db(new_database())
    source.migrate()
    sink.migrate()
    ensure_topics([config.topic("needs"), config.topic("needs.dlq")], kafka_bootstrap)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    consumer = start_consumer("matching", sink.url)  # joins its group while the needs are registered
    try:
        register(source, Outbox(source, needs_handlers.PUBLISHES), 20)
        relay = Relay(source, producer)
        assert relay.run_once() == 20

        def projected() -> int:
            with sink.engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(open_needs)).scalar_one()

        # 90 s: includes starting the consumer process and its group join (~3 s on tansu) on a loaded box.
        consumer.wait_until(lambda: projected() == 20, 90, message="20 needs projected")
        assert relay.replay() == 20  # e.g. after a broker restart: the consumer must dedupe
        consumer.wait_until(lambda: committed_total(kafka_bootstrap, config.topic("needs"),
                                                    f"{topic_prefix}matching") == 40, 60, interval_s=0.5,
                            message="the consumer to read the 20 replayed copies")
        consumer.stop()  # SIGTERM: it logs its stats on the way out
        assert projected() == 20
        assert "'handled': 20, 'duplicates': 20" in consumer.log(), consumer.log()[-2000:]
    finally:
        consumer.stop()
        producer.close()
        source.dispose()
        sink.dispose()
