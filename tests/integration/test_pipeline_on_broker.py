"""Outbox → relay → real broker → consumer loop → database, on SQLite and on PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.matching import handlers as matching_handlers
from services.matching.db import make_db as matching_db
from services.matching.db import open_needs
from services.needs import handlers as needs_handlers
from services.needs.db import make_db as needs_db
from wspolnota import config
from wspolnota.testing import wait_until
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.kafka import KafkaConsumerAdapter, KafkaProducerAdapter, ensure_topics
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
                                                  new_database: Callable[[], str]) -> None:
    source, sink = needs_db(new_database()), matching_db(new_database())
    source.migrate()
    sink.migrate()
    ensure_topics([config.topic("needs"), config.topic("needs.dlq")], kafka_bootstrap)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    register(source, Outbox(source, needs_handlers.PUBLISHES), 20)
    relay = Relay(source, producer)
    assert relay.run_once() == 20
    consumer = KafkaConsumerAdapter(f"{topic_prefix}matching", [config.topic("needs")], kafka_bootstrap)
    loop = ConsumerLoop("matching", consumer, producer, sink, matching_handlers.CONSUMES,
                        matching_handlers.handlers(Outbox(sink, matching_handlers.PUBLISHES)))
    try:

        def projected() -> int:
            loop.run_once(200)
            with sink.engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(open_needs)).scalar_one()

        wait_until(lambda: projected() == 20, 60, message="20 needs projected")
        assert relay.replay() == 20  # e.g. after a broker restart: consumers must dedupe
        wait_until(lambda: loop.run_once(200) == 0 and loop.stats["duplicates"] == 20, 60,
                   message="20 duplicates recognised")
        assert projected() == 20 and loop.stats["handled"] == 20
    finally:
        consumer.close()
        producer.close()
        source.dispose()
        sink.dispose()
