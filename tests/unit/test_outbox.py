from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.needs.db import make_db, needs
from services.needs.handlers import PUBLISHES
from wspolnota.transport.base import DeliveryError
from wspolnota.transport.envelope import decode
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Outbox, Relay

NEED = {"resident_ref": "R-1", "category": "ZAK", "village": "zagnansk", "window_start": "2026-12-01T10:00:00+00:00",
        "window_end": "2026-12-01T12:00:00+00:00", "duration_minutes": 60, "urgent": False, "slots": 1}


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = make_db(f"sqlite:///{tmp_path / 'needs.db'}")
    database.migrate()
    yield database
    database.dispose()


def add_events(db, outbox: Outbox, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    with db.transaction() as session:
        for i in range(count):
            need_id = f"00000000-0000-4000-8000-{i:012d}"
            ids.append(str(outbox.add(session, "needs", "NeedRegistered", need_id, {**NEED, "need_id": need_id}).id))
    return ids


def unpublished(db) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(db.outbox.c.published_at.is_(None))).scalar_one()


def test_the_event_row_is_lost_with_its_rolled_back_domain_change(db) -> None:  # type: ignore[no-untyped-def]
    outbox = Outbox(db, PUBLISHES)
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.execute(sa.insert(needs).values(
            id="n1", resident_ref="R", category="ZAK", village="zagnansk", description="",
            window_start=datetime.now(UTC), window_end=datetime.now(UTC), duration_minutes=60, urgent=False,
            slots=1, status="open", created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
        outbox.add(session, "needs", "NeedRegistered", "n1", {**NEED, "need_id": "00000000-0000-4000-8000-000000000001"})
        raise RuntimeError("the handler failed after writing")
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(needs)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(db.outbox)).scalar_one() == 0


def test_the_relay_publishes_in_commit_order_and_marks_rows_published(db) -> None:  # type: ignore[no-untyped-def]
    broker = MemoryBroker(partitions=1)
    ids = add_events(db, Outbox(db, PUBLISHES), 5)
    relay = Relay(db, broker.producer())
    assert relay.run_once() == 5
    assert [str(decode(m.value).id) for m in broker.messages("needs")] == ids
    assert unpublished(db) == 0
    assert relay.run_once() == 0


def test_a_failed_publish_leaves_rows_unpublished_for_the_next_round(db) -> None:  # type: ignore[no-untyped-def]
    class BrokenProducer:
        def send(self, *args, **kw): ...  # type: ignore[no-untyped-def]

        def flush(self, timeout_s=None):  # type: ignore[no-untyped-def]
            raise DeliveryError("broker down")

    add_events(db, Outbox(db, PUBLISHES), 3)
    with pytest.raises(DeliveryError):
        Relay(db, BrokenProducer()).run_once()
    assert unpublished(db) == 3


def test_purge_drops_only_published_rows_older_than_the_retention(db) -> None:  # type: ignore[no-untyped-def]
    broker = MemoryBroker()
    outbox = Outbox(db, PUBLISHES)
    add_events(db, outbox, 2)
    relay = Relay(db, broker.producer(), retention=timedelta(hours=1))
    relay.run_once()
    add_events(db, outbox, 1)  # not published yet
    assert relay.purge(now=datetime.now(UTC)) == 0
    assert relay.purge(now=datetime.now(UTC) + timedelta(hours=2)) == 2
    assert unpublished(db) == 1


def test_replay_republishes_kept_rows_since_a_time(db) -> None:  # type: ignore[no-untyped-def]
    broker = MemoryBroker(partitions=1)
    outbox = Outbox(db, PUBLISHES)
    add_events(db, outbox, 2)
    relay = Relay(db, broker.producer())
    relay.run_once()
    cutoff = datetime.now(UTC)
    later = add_events(db, outbox, 1)
    assert relay.replay(since=cutoff) == 1
    assert str(decode(broker.messages("needs")[-1].value).id) == later[0]
    assert relay.replay() == 3
    assert unpublished(db) == 0
