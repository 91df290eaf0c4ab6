from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from contracts.needs import EVENTS as NEED_EVENTS
from services.matching.db import make_db, open_needs
from wspolnota.transport import Catalog, Event, encode, new_event
from wspolnota.transport.base import DeliveryError
from wspolnota.transport.consumer import ConsumerLoop, DatabaseUnavailable
from wspolnota.transport.memory import MemoryBroker

CATALOG = Catalog(NEED_EVENTS)
NEED = {"need_id": "3f0a3c2e-7d7b-4c55-9d6e-2b1f6c1b9a10", "resident_ref": "R-1", "category": "ZAK",
        "village": "zagnansk", "window_start": "2026-12-01T10:00:00+00:00",
        "window_end": "2026-12-01T12:00:00+00:00", "duration_minutes": 60, "urgent": False, "slots": 1}


class Recorder:
    """A handler that writes a row, so we can see exactly-once effects in the database."""

    def __init__(self, fail_times: int = 0, error: Exception | None = None):
        self.calls, self.fail_times, self.error = 0, fail_times, error

    def __call__(self, session, event: Event) -> None:  # type: ignore[no-untyped-def]
        self.calls += 1
        session.execute(sa.insert(open_needs).values(
            need_id=f"{event.data['need_id'][:-4]}{self.calls:04d}", category="ZAK", village="zagnansk",
            window_start=event.time, window_end=event.time, duration_minutes=60, urgent=False, slots=1,
            status="open"))
        if self.calls <= self.fail_times:
            raise self.error or ValueError("handler bug")


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = make_db(f"sqlite:///{tmp_path / 'm.db'}")
    db.migrate()
    broker = MemoryBroker(partitions=1)
    yield db, broker
    db.dispose()


def make_loop(db, broker, handler, **kw) -> ConsumerLoop:  # type: ignore[no-untyped-def]
    return ConsumerLoop("matching", broker.consumer("matching", ["needs"]), broker.producer(), db, CATALOG,
                        {"NeedRegistered": handler}, **kw)


def rows(db) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(open_needs)).scalar_one()


def publish(broker: MemoryBroker, value: bytes | None, key: bytes = b"k") -> None:
    broker.append("needs", key, value, [("event-type", b"NeedRegistered")])


def test_a_redelivered_event_is_handled_exactly_once(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    raw = encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED))
    publish(broker, raw)
    publish(broker, raw)
    handler = Recorder()
    loop = make_loop(db, broker, handler)
    loop.run_once(0)
    assert (handler.calls, rows(db), loop.stats["duplicates"]) == (1, 1, 1)


def test_a_malformed_message_goes_to_the_dlq_with_its_reason_and_the_loop_goes_on(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, b"{garbage")
    publish(broker, encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED)))
    loop = make_loop(db, broker, Recorder())
    loop.run_once(0)
    [dead] = broker.messages("needs.dlq")
    assert dead.value == b"{garbage"
    assert dead.header("dlq.kind") == b"invalid" and b"not JSON" in (dead.header("dlq.reason") or b"")
    assert dead.header("dlq.source.offset") == b"0" and dead.header("dlq.consumer") == b"matching"
    assert rows(db) == 1
    assert broker.committed[("matching", "needs", 0)] == 2


def test_a_payload_that_breaks_the_schema_is_dead_lettered(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    bad = Event(type="NeedRegistered", key="k", data={**NEED, "village": "atlantyda"}, source="needs")
    publish(broker, encode(bad))
    loop = make_loop(db, broker, Recorder())
    loop.run_once(0)
    [dead] = broker.messages("needs.dlq")
    assert b"village" in (dead.header("dlq.reason") or b"")
    assert rows(db) == 0


def test_a_handler_that_keeps_failing_is_dead_lettered_and_its_writes_rolled_back(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED)))
    handler = Recorder(fail_times=99)
    loop = make_loop(db, broker, handler, max_attempts=3)
    loop.run_once(0)
    assert handler.calls == 3 and rows(db) == 0
    [dead] = broker.messages("needs.dlq")
    assert dead.header("dlq.kind") == b"handler-failed" and b"handler bug" in (dead.header("dlq.reason") or b"")


def test_a_transient_handler_failure_is_retried_in_place(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED)))
    handler = Recorder(fail_times=1)
    make_loop(db, broker, handler, max_attempts=3).run_once(0)
    assert handler.calls == 2 and rows(db) == 1
    assert broker.messages("needs.dlq") == []


def test_when_the_database_is_down_nothing_is_dead_lettered_or_committed(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED)))
    down = Recorder(fail_times=1, error=OperationalError("SELECT 1", {}, Exception("connection refused")))
    loop = make_loop(db, broker, down)
    with pytest.raises(DatabaseUnavailable):
        loop.run_once(0)
    assert broker.messages("needs.dlq") == [] and ("matching", "needs", 0) not in broker.committed
    loop.run_once(0)  # the database is back: the same message is handled
    assert rows(db) == 1 and broker.committed[("matching", "needs", 0)] == 1


def test_event_types_without_a_handler_are_skipped_and_committed(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, encode(Event(type="NeedCancelled", key="k", data={"need_id": NEED["need_id"]}, source="needs")))
    loop = make_loop(db, broker, Recorder())
    loop.run_once(0)
    assert loop.stats["ignored"] == 1 and broker.committed[("matching", "needs", 0)] == 1


def test_a_handler_without_a_payload_schema_is_refused_at_start(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    with pytest.raises(ValueError, match="NoSuchEvent"):
        ConsumerLoop("x", broker.consumer("x", ["needs"]), broker.producer(), db, CATALOG,
                     {"NoSuchEvent": Recorder()})


def test_a_failed_offset_commit_does_not_stop_the_loop_and_redelivery_is_harmless(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED)))
    consumer = broker.consumer("matching", ["needs"])
    real_commit = consumer.commit
    consumer.commit = lambda offsets: (_ for _ in ()).throw(RuntimeError("rebalance in progress"))  # type: ignore[method-assign]
    handler = Recorder()
    loop = ConsumerLoop("matching", consumer, broker.producer(), db, CATALOG, {"NeedRegistered": handler})
    loop.run_once(0)
    consumer.commit = real_commit  # type: ignore[method-assign]
    again = ConsumerLoop("matching", broker.consumer("matching", ["needs"]), broker.producer(), db, CATALOG,
                         {"NeedRegistered": handler})
    again.run_once(0)  # nothing was committed: the event comes again and is recognised
    assert handler.calls == 1 and again.stats["duplicates"] == 1 and rows(db) == 1


def test_a_database_error_reaches_logs_and_the_dlq_without_the_values_it_was_given(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED)))

    def insert_twice(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        row = {"need_id": "Jan Kowalski, ul. Leśna 5", "category": "ZAK", "village": "zagnansk",
               "window_start": event.time, "window_end": event.time, "duration_minutes": 60, "urgent": False,
               "slots": 1, "status": "open"}
        session.execute(sa.insert(open_needs).values(**row))
        session.execute(sa.insert(open_needs).values(**row))  # primary key clash

    make_loop(db, broker, insert_twice, max_attempts=1).run_once(0)
    [dead] = broker.messages("needs.dlq")
    reason = (dead.header("dlq.reason") or b"").decode()
    assert "IntegrityError" in reason and "Kowalski" not in reason


class DeadLetterQueueThatIsDown:
    """A DLQ producer (fake) whose broker refuses every record while `down` is set."""

    def __init__(self, broker: MemoryBroker):
        self.real, self.down = broker.producer(), True

    def send(self, topic, key, value, headers=None) -> None:  # type: ignore[no-untyped-def]
        self.real.send(topic, key, value, headers)

    def flush(self, timeout_s: float | None = None) -> None:
        if self.down:
            self.real._queued.clear()
            raise DeliveryError("1 of 1 records not acknowledged: broker unreachable")
        self.real.flush(timeout_s)

    def close(self) -> None:
        self.real.close()


def test_when_dead_lettering_fails_no_later_message_of_the_batch_is_skipped(setup) -> None:  # type: ignore[no-untyped-def]
    db, broker = setup
    publish(broker, b"{garbage")  # must be dead-lettered, but the DLQ is down
    for _ in range(4):
        publish(broker, encode(new_event(CATALOG, "needs", "NeedRegistered", str(NEED["need_id"]), NEED)))
    dlq = DeadLetterQueueThatIsDown(broker)
    handler = Recorder()
    loop = ConsumerLoop("matching", broker.consumer("matching", ["needs"]), dlq, db, CATALOG,
                        {"NeedRegistered": handler})
    with pytest.raises(DeliveryError):
        loop.run_once(0)
    assert ("matching", "needs", 0) not in broker.committed
    dlq.down = False
    loop.run_once(0)  # the same batch again, from the message that could not be dead-lettered
    [dead] = broker.messages("needs.dlq")
    assert dead.value == b"{garbage" and handler.calls == 4 and rows(db) == 4
    assert broker.committed[("matching", "needs", 0)] == 5


def test_a_failure_in_the_middle_of_a_batch_rewinds_every_partition_to_its_first_unhandled_message(
        tmp_path: Path) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'm.db'}")
    db.migrate()
    broker = MemoryBroker(partitions=3)
    events = [new_event(CATALOG, "needs", "NeedRegistered", f"need-{i}", NEED) for i in range(12)]
    for event in events:
        publish(broker, encode(event), key=event.key.encode())
    failing = {events[5].id}

    record = Recorder()

    def handler(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        if event.id in failing:
            raise ValueError("handler bug")
        record(session, event)

    dlq = DeadLetterQueueThatIsDown(broker)
    loop = ConsumerLoop("matching", broker.consumer("matching", ["needs"]), dlq, db, CATALOG,
                        {"NeedRegistered": handler}, max_attempts=1)
    with pytest.raises(DeliveryError):
        loop.run_once(0)
    dlq.down = False
    loop.run_once(0)
    assert [m.value for m in broker.messages("needs.dlq")] == [encode(events[5])]
    assert rows(db) == 11
    assert {p: broker.committed[("matching", "needs", p)] for p in range(3)} == {
        p: len(broker.logs["needs"][p]) for p in range(3)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["ok", "garbage", "bug"]), min_size=1, max_size=12),
       outages=st.lists(st.booleans(), min_size=1, max_size=6))
def test_whatever_fails_no_event_is_committed_before_it_is_handled_or_dead_lettered(
        tmp_path_factory: pytest.TempPathFactory, kinds: list[str], outages: list[bool]) -> None:
    db = make_db(f"sqlite:///{tmp_path_factory.mktemp('m') / 'm.db'}")
    db.migrate()
    broker = MemoryBroker(partitions=3)
    handled: set[str] = set()
    for i, kind in enumerate(kinds):
        key = f"need-{i}"
        raw = b"{garbage" + key.encode() if kind == "garbage" else encode(
            new_event(CATALOG, "needs", "NeedRegistered", key, {**NEED, "slots": 2 if kind == "bug" else 1}))
        publish(broker, raw, key=key.encode())

    def handler(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        if event.data["slots"] == 2:
            raise ValueError("handler bug")
        handled.add(event.key)

    dlq = DeadLetterQueueThatIsDown(broker)
    loop = ConsumerLoop("matching", broker.consumer("matching", ["needs"]), dlq, db, CATALOG,
                        {"NeedRegistered": handler}, max_attempts=1)

    def settled(message) -> bool:  # type: ignore[no-untyped-def]
        """Handled, or recorded in the DLQ."""
        dead = {m.value for m in broker.messages("needs.dlq")}
        key = message.key.decode()
        return key in handled or message.value in dead

    for down in outages + [False]:  # the DLQ comes and goes, and is up at the end
        dlq.down = down
        try:
            loop.run_once(0)
        except DeliveryError:
            pass
        for p, log in enumerate(broker.logs["needs"]):
            committed = broker.committed.get(("matching", "needs", p), 0)
            assert all(settled(m) for m in log[:committed]), f"partition {p}: committed past an unsettled event"
    assert all(settled(m) for m in broker.messages("needs"))
    db.dispose()
