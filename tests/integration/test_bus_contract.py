"""One contract, two backends: the in-memory bus must behave like the real broker where it matters.

On the real broker every consumer is a real group member (KafkaConsumerAdapter) in a process of its own
(tests/integration/consumer_process.py): the group tests need several members per test, and on tansu a
second group consumer in one process can take ~50 s to join (docs/architecture.md) — which would also slow every
later test of the session. Each join still costs ~3 s (half the 6 s session timeout), so the Kafka half
of this file takes ~40 s.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from wspolnota.transport.base import Consumer, DeliveryError, Message
from wspolnota.transport.memory import MemoryBroker


class MemoryBus:
    def __init__(self) -> None:
        self.broker = MemoryBroker()

    def topic(self) -> str:
        return f"contract-{uuid.uuid4().hex[:8]}"

    def producer(self) -> Any:
        return self.broker.producer()

    def values(self, topic: str, expect: int) -> list[bytes | None]:
        return [m.value for m in self.broker.messages(topic)]

    def committed(self, topic: str, group: str) -> int:
        return sum(o for (g, t, _), o in self.broker.committed.items() if (g, t) == (group, topic))

    def consumer(self, group: str, topics: list[str]) -> Any:
        return self.broker.consumer(group, topics)


class KafkaBus:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._closables: list[Any] = []

    def topic(self) -> str:
        from wspolnota.transport.consumer import dlq_topic
        from wspolnota.transport.kafka import ensure_topics

        name = f"contract-{uuid.uuid4().hex[:8]}"
        ensure_topics([name, dlq_topic(name)], self.bootstrap)
        return name

    def values(self, topic: str, expect: int) -> list[bytes | None]:
        """The topic's records, read without a group in a process of its own."""
        from bench.read_topic import read_records

        return [r["value"].encode() for r in read_records(self.bootstrap, topic, expect, timeout_s=30)]

    def committed(self, topic: str, group: str) -> int:
        from bench.read_topic import committed_total

        return committed_total(self.bootstrap, topic, group)

    def producer(self) -> Any:
        from wspolnota.transport.kafka import KafkaProducerAdapter

        p = KafkaProducerAdapter(self.bootstrap)
        self._closables.append(p)
        return p

    def consumer(self, group: str, topics: list[str]) -> Any:
        from tests.integration.consumer_process import ConsumerInItsOwnProcess

        c = ConsumerInItsOwnProcess(self.bootstrap, group, topics)
        self._closables.append(c)
        return c

    def close(self) -> None:
        for c in reversed(self._closables):
            try:
                c.close()
            except Exception:  # noqa: BLE001 - already closed by the test
                pass


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.integration)])
def bus(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryBus()
        return
    kafka = KafkaBus(request.getfixturevalue("kafka_bootstrap"))
    yield kafka
    kafka.close()


def drain(consumer: Consumer, count: int, timeout_s: float = 60.0) -> list[Message]:
    """Poll until `count` messages arrived (or fail at the deadline); then check nothing more comes.

    60 s: a new member's first poll includes its group join (~3 s on tansu, one or two rebalance rounds
    under load), on a 2-core box shared with other test runs."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} messages within {timeout_s}s"
        got.extend(consumer.poll(200))
    got.extend(consumer.poll(100))
    return got


def send(producer: Any, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    for key, value in items:
        producer.send(topic, key, value, [("event-type", b"Test")])
    producer.flush()


def test_one_keys_messages_arrive_in_the_order_they_were_sent(bus: Any) -> None:
    topic = bus.topic()
    items = [(b"need-%d" % (i % 3), b"%d" % i) for i in range(30)]
    send(bus.producer(), topic, items)
    got = drain(bus.consumer("g-order", [topic]), 30)
    for key in (b"need-0", b"need-1", b"need-2"):
        assert [m.value for m in got if m.key == key] == [v for k, v in items if k == key]


def test_key_value_and_headers_round_trip_unchanged(bus: Any) -> None:
    topic = bus.topic()
    producer = bus.producer()
    producer.send(topic, "klucz-ż".encode(), "wartość ąę".encode(), [("event-type", b"NeedRegistered"),
                                                                     ("event-id", b"abc")])
    producer.flush()
    [msg] = drain(bus.consumer("g-round", [topic]), 1)
    assert (msg.topic, msg.key, msg.value) == (topic, "klucz-ż".encode(), "wartość ąę".encode())
    assert msg.header("event-type") == b"NeedRegistered" and msg.header("event-id") == b"abc"


def test_a_new_member_resumes_after_the_committed_offsets(bus: Any) -> None:
    topic = bus.topic()
    producer = bus.producer()
    send(producer, topic, [(b"k", b"first"), (b"k", b"second")])
    first = bus.consumer("g-resume", [topic])
    got = drain(first, 2)
    first.commit({(m.topic, m.partition): m.offset + 1 for m in got})
    first.close()
    send(producer, topic, [(b"k", b"third")])
    again = drain(bus.consumer("g-resume", [topic]), 1)
    assert [m.value for m in again] == [b"third"]


def test_uncommitted_messages_are_delivered_again_to_the_next_member(bus: Any) -> None:
    topic = bus.topic()
    send(bus.producer(), topic, [(b"k", b"a"), (b"k", b"b")])
    first = bus.consumer("g-redeliver", [topic])
    drain(first, 2)
    first.close()
    again = drain(bus.consumer("g-redeliver", [topic]), 2)
    assert [m.value for m in again] == [b"a", b"b"]


def test_each_group_gets_every_message(bus: Any) -> None:
    topic = bus.topic()
    send(bus.producer(), topic, [(b"k1", b"x"), (b"k2", b"y")])
    one = drain(bus.consumer("g-one", [topic]), 2)
    two = drain(bus.consumer("g-two", [topic]), 2)
    assert sorted(m.value for m in one) == sorted(m.value for m in two) == [b"x", b"y"]


def test_seek_rewinds_a_partition(bus: Any) -> None:
    topic = bus.topic()
    send(bus.producer(), topic, [(b"k", b"a"), (b"k", b"b"), (b"k", b"c")])
    consumer = bus.consumer("g-seek", [topic])
    got = drain(consumer, 3)
    consumer.seek(topic, got[1].partition, got[1].offset)
    assert [m.value for m in drain(consumer, 2)] == [b"b", b"c"]


class DeadLetterQueueThatIsDown:
    """A DLQ producer (fake) in front of the bus's real one: while `down`, every record is refused."""

    def __init__(self, real: Any):
        self.real, self.down = real, True
        self._queued: list[tuple[Any, ...]] = []

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any = None) -> None:
        self._queued.append((topic, key, value, headers))

    def flush(self, timeout_s: float | None = None) -> None:
        queued, self._queued = self._queued, []
        if self.down:
            raise DeliveryError(f"{len(queued)} records not acknowledged: broker unreachable")
        for record in queued:
            self.real.send(*record)
        self.real.flush(timeout_s)

    def close(self) -> None:
        self.real.close()


def test_when_dead_lettering_fails_the_consumer_loop_skips_nothing_of_its_batch(bus: Any, tmp_path: Any) -> None:
    from contracts.needs import EVENTS as NEED_EVENTS
    from services.matching.db import make_db
    from wspolnota.transport import Catalog, encode, new_event
    from wspolnota.transport.consumer import ConsumerLoop, dlq_topic

    catalog = Catalog(NEED_EVENTS)
    need = {"need_id": str(uuid.uuid4()), "resident_ref": "R-1", "category": "ZAK", "village": "zagnansk",
            "window_start": "2026-12-01T10:00:00+00:00", "window_end": "2026-12-01T12:00:00+00:00",
            "duration_minutes": 60, "urgent": False, "slots": 1}
    topic = bus.topic()
    send(bus.producer(), topic, [(b"k", b"{garbage")] + [
        (b"k", encode(new_event(catalog, "needs", "NeedRegistered", "k", need))) for _ in range(4)])
    db = make_db(f"sqlite:///{tmp_path / 'matching.db'}")
    db.migrate()
    handled: list[str] = []
    dlq = DeadLetterQueueThatIsDown(bus.producer())
    loop = ConsumerLoop("contract", bus.consumer("g-dlq-down", [topic]), dlq, db, catalog,
                        {"NeedRegistered": lambda session, event: handled.append(event.key)})
    deadline = time.monotonic() + 60
    with pytest.raises(DeliveryError):
        while time.monotonic() < deadline:  # the first poll that brings the batch fails on its first message
            loop.run_once(200)
    dlq.down = False
    while len(handled) < 4:  # the same batch comes again, from the message that could not be dead-lettered
        assert time.monotonic() < deadline, f"only {len(handled)} of 4 events handled after the DLQ came back"
        loop.run_once(200)
    assert bus.values(dlq_topic(topic), 1) == [b"{garbage"]
    assert bus.committed(topic, "g-dlq-down") == 5
    db.dispose()
