"""A consumer whose kafka-python client is stuck is recreated and carries on from its committed offsets.

After an embedded tansu restart (the e2e restart test, under load) the broker never answered a SyncGroup
and kafka-python never timed it out: the member stayed in the rebalance, fetching its old partitions, and
never got the new partition. Here each fault is injected into a real client on the real broker; the
adapter's watchdog replaces the client and the next record arrives. Without the watchdog it never comes
(checked with KAFKA_CONSUMER_STALL_S=0).
"""
from __future__ import annotations

import time

import pytest

from tests.integration.consumer_process import ConsumerInItsOwnProcess
from wspolnota import config
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics

pytestmark = pytest.mark.integration


def send(bootstrap: str, topic: str, value: bytes) -> None:
    producer = KafkaProducerAdapter(bootstrap)
    try:
        producer.send(topic, b"k", value)
        producer.flush(30)
    finally:
        producer.close()


def poll_until(consumer: ConsumerInItsOwnProcess, timeout_s: float) -> list[bytes]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        messages = consumer.poll(500)
        if messages:
            consumer.commit({(m.topic, m.partition): m.offset + 1 for m in messages})
            return [m.value or b"" for m in messages]
    return []


@pytest.mark.parametrize(("fault", "stall_s", "held_s"), [
    ("lose_fetches", "10", 8),  # its fetcher stops sending; fetch-rate needs ~20 s to fall to zero
    ("hang_next_rebalance", "5", 3),  # a rebalance whose join/sync never completes
])
def test_a_stuck_client_is_replaced_and_the_next_record_arrives(kafka_bootstrap: str, topic_prefix: str,
                                                                fault: str, stall_s: str, held_s: float) -> None:
    topic = config.topic("watchdog")
    ensure_topics([topic], kafka_bootstrap, partitions=1)
    consumer = ConsumerInItsOwnProcess(kafka_bootstrap, f"{topic_prefix}watchdog", [topic],
                                       KAFKA_CONSUMER_STALL_S=stall_s)
    try:
        send(kafka_bootstrap, topic, b"first")
        assert poll_until(consumer, 90) == [b"first"]
        getattr(consumer, fault)()
        send(kafka_bootstrap, topic, b"second")
        assert poll_until(consumer, held_s) == []  # the injected fault holds: the stuck client gets nothing
        assert consumer.recreated() == 0
        # The watchdog replaces the client; the new one rejoins and resumes after the committed "first".
        assert poll_until(consumer, 120) == [b"second"]
        assert consumer.recreated() == 1
    finally:
        consumer.close()
