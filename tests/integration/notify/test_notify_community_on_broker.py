"""Community → notify on the real broker: community's relay publishes an activity and a consenting resident's
registration (ids only), notify's consumer (`wspolnota consume notify`, its own process) books the reminder for
the day before, and the resident's unregistering cancels it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.community import plan_handlers as h
from services.community.app import create_app
from services.community.db import make_db as community_db
from services.notify.db import make_db as notify_db
from services.notify.db import notifications
from services.notify.handlers import SUBSCRIPTIONS
from wspolnota import config
from wspolnota.testing import WorkerProcess
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW + timedelta(days=3)


def test_a_registration_on_the_bus_books_a_reminder_and_unregistering_cancels_it(
        kafka_bootstrap: str, topic_prefix: str, tmp_path: Path,
        start_consumer: Callable[..., WorkerProcess]) -> None:
    cdb = community_db(f"sqlite:///{tmp_path / 'community.db'}")
    cdb.migrate()
    ndb = notify_db(f"sqlite:///{tmp_path / 'notify.db'}")
    ndb.migrate()
    app = create_app({"DATABASE_URL": cdb.url, "TESTING": True, "AUTH_DISABLED": True})
    outbox = app.extensions["wspolnota.parts"].outbox
    ensure_topics([config.topic(t) for name in SUBSCRIPTIONS for t in (name, f"{name}.dlq")], kafka_bootstrap)
    consumer = start_consumer("notify", ndb.url)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    relay = Relay(cdb, producer)

    def reminders() -> list[sa.Row]:  # type: ignore[type-arg]
        with ndb.engine.connect() as conn:
            return list(conn.execute(sa.select(notifications.c.recipient, notifications.c.status,
                                               notifications.c.next_attempt_at)
                                     .where(notifications.c.kind == "activity_reminder")))

    try:
        with cdb.transaction() as s:
            [activity_id] = h.schedule_activity(s, outbox, {
                "kind": "meeting", "title": "Spotkanie mieszkańców", "village": "belno", "starts_at": START,
                "ends_at": START + timedelta(hours=2)}, NOW)
            registration = h.register(s, activity_id, "Anna Nowak", "600100200", "public", NOW, consent=True,
                                      outbox=outbox)
        assert relay.run_once() == 2
        rows = consumer.wait_until(lambda: len(reminders()) == 2 and reminders(), 120,
                                   message="the reminder booked by notify's consumer")
        assert {r.recipient for r in rows} == {f"uczestnik:{registration}"}
        assert {r.next_attempt_at for r in rows} == {START - timedelta(days=1)}
        with cdb.transaction() as s:
            h.remove_registration(s, outbox, activity_id, registration, "osl.nowak", NOW)
        assert relay.run_once() == 1
        consumer.wait_until(lambda: {r.status for r in reminders()} == {"cancelled"}, 60,
                            message="the reminder cancelled after unregistering")
    finally:
        consumer.stop()
        producer.close()
        cdb.dispose()
        ndb.dispose()
