"""After the embedded broker restarts, the relay publishes again within seconds, not after the delivery timeout.

tansu forgets the idempotent producer's id on a restart; kafka-python's pending records to a partition the
producer had not written before then only fail when `delivery_timeout_ms` expires (30 s by default, per relay
hop). The relay bounds each round's flush (RELAY_FLUSH_TIMEOUT_S, 10 s), so a stuck round fails, the relay
starts a new producer and sends the round again (consumers drop any duplicate by event id).
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.volunteers.db import make_db
from tests.conftest import TansuBroker
from wspolnota import config
from wspolnota.testing import wait_until
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Outbox, Relay

pytestmark = pytest.mark.integration


def add_event(db, outbox: Outbox, key: str) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        outbox.add(session, "volunteers", "VolunteerPaused", key, {"volunteer_id": key})


def unpublished(db) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(db.outbox)
                                .where(db.outbox.c.published_at.is_(None))).scalar_one())


def test_the_relay_publishes_again_soon_after_the_broker_restarts(tmp_path: Path, topic_prefix: str) -> None:
    broker = TansuBroker(tmp_path)
    broker.start()
    db = make_db(f"sqlite:///{tmp_path / 'volunteers.db'}")
    db.migrate()
    from services.volunteers import handlers

    outbox = Outbox(db, handlers.PUBLISHES)
    topic = config.topic("volunteers")
    ensure_topics([topic], broker.bootstrap)

    def new_producer() -> KafkaProducerAdapter:  # a delivery timeout far beyond the wait below
        return KafkaProducerAdapter(broker.bootstrap, delivery_timeout_ms=300_000, request_timeout_ms=15_000)

    relay = Relay(db, new_producer(), producer_factory=new_producer)
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_wait_s": 0.05}, daemon=True)
    worker.start()
    try:
        add_event(db, outbox, "11111111-2222-4333-8444-555555555555")
        wait_until(lambda: unpublished(db) == 0, 60, message="the first event published")
        broker.restart()  # memory storage: the producer id and the topic are gone
        ensure_topics([topic], broker.bootstrap)
        add_event(db, outbox, "11111111-2222-4333-8444-666666666666")
        # 60 s is far below the 300 s delivery timeout: only a relay that notices the dead producer gets there.
        wait_until(lambda: unpublished(db) == 0, 60, message="the event after the restart published")
    finally:
        stop.set()
        worker.join(30)
        try:
            relay.producer.close()
            db.dispose()
        finally:
            broker.stop()  # even when the test failed with the producer in a bad state
