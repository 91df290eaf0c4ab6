"""A whole series accepted through notify's answer, over the real broker: notify's outbox → relay → broker → the
matching consumer in its own process, which gives the series' later weeks to the provider without offers."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.matching import review, store
from services.matching.db import make_db as matching_db
from services.matching.db import proposals, series_commitments
from services.matching.handlers import CONSUMES as MATCHING_CONSUMES
from services.matching.handlers import PUBLISHES as PUBLISHES_MATCHING
from services.matching.settings import Settings
from services.notify import handlers as notify_handlers
from services.notify.db import make_db as notify_db
from services.notify.responses import Offer, respond
from wspolnota import config
from wspolnota.testing import WorkerProcess
from wspolnota.transport import encode, new_event
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Outbox, Relay

pytestmark = pytest.mark.integration
START = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
WEEKS = 3


def test_a_series_accepted_through_notify_reaches_the_matching_process(
        kafka_bootstrap: str, topic_prefix: str, new_database: Callable[[], str],
        start_consumer: Callable[..., WorkerProcess]) -> None:
    matching, notify = matching_db(new_database()), notify_db(new_database())
    matching.migrate()
    notify.migrate()
    ensure_topics([config.topic(t) for t in ("needs", "volunteers", "notifications", "community")], kafka_bootstrap)
    consumer = start_consumer("matching", matching.url)
    producer = KafkaProducerAdapter(kafka_bootstrap)

    def send(topic: str, source: str, event_type: str, key: str, data: dict) -> None:  # type: ignore[type-arg]
        producer.send(config.topic(topic), key.encode(), encode(new_event(MATCHING_CONSUMES, source, event_type, key,
                                                                          data)), [])

    volunteer, series_id = str(uuid.uuid4()), str(uuid.uuid4())
    send("volunteers", "volunteers", "VolunteerRegistered", volunteer, {
        "volunteer_id": volunteer, "provider_type": "volunteer", "villages": ["zagnansk"], "verified": True,
        "credentials": [{"kind": "agreement", "valid_from": "2026-01-01", "valid_until": None, "written": True}]})
    send("volunteers", "volunteers", "OfferPublished", volunteer, {
        "offer_id": str(uuid.uuid4()), "volunteer_id": volunteer, "categories": ["ZAK"], "villages": ["zagnansk"],
        "available_from": datetime.now(UTC).isoformat(), "available_to": (START + timedelta(days=30)).isoformat()})
    needs = []
    for week in range(WEEKS):
        need_id, start = str(uuid.uuid4()), START + timedelta(days=7 * week)
        needs.append(need_id)
        send("needs", "needs", "NeedRegistered", need_id, {
            "need_id": need_id, "resident_ref": "R-1", "category": "ZAK", "village": "zagnansk",
            "window_start": start.isoformat(), "window_end": (start + timedelta(hours=4)).isoformat(),
            "duration_minutes": 60, "urgent": False, "slots": 1, "series_id": series_id, "plan_ref": "IPUS/9/2026"})
    producer.flush()

    def proposal() -> sa.RowMapping | None:
        with matching.engine.connect() as conn:
            return conn.execute(sa.select(proposals).where(proposals.c.need_id == needs[0])).mappings().first()

    # 120 s: the consumer process starts and joins its group (15–50 s on tansu under load)
    consumer.wait_until(lambda: proposal() is not None, 120, message="the first week proposed")
    first = proposal()
    assert first is not None and first["volunteer_id"] == volunteer
    with matching.transaction() as session:
        store.lock(session)
        review.approve(session, Outbox(matching, PUBLISHES_MATCHING), first["id"], "Anna (OSL)", datetime.now(UTC),
                       Settings())

    offer = Offer("00000000-0000-4000-8000-00000000beef", first["id"], volunteer, {"series_id": series_id}, None)
    respond(notify, Outbox(notify, notify_handlers.PUBLISHES), offer, "accept", scope="series")
    assert Relay(notify, producer).run_once() == 1

    def accepted() -> set[str]:
        with matching.engine.connect() as conn:
            return set(conn.execute(sa.select(proposals.c.need_id).where(
                proposals.c.volunteer_id == volunteer, proposals.c.status == "accepted")).scalars())

    consumer.wait_until(lambda: accepted() == set(needs), 90, message="every week accepted")
    with matching.engine.connect() as conn:
        [commitment] = conn.execute(sa.select(series_commitments)).mappings().all()
        offered = conn.execute(sa.select(sa.func.count()).select_from(matching.outbox).where(
            matching.outbox.c.type == "MatchOffered")).scalar_one()
    assert commitment["series_id"] == series_id and commitment["volunteer_id"] == volunteer
    assert offered == 1  # only the first week was offered
    matching.dispose()
    notify.dispose()

