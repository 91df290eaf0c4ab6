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


def test_a_client_that_stopped_fetching_is_replaced_and_the_next_record_arrives(kafka_bootstrap: str,
                                                                               topic_prefix: str) -> None:
    topic = config.topic("watchdog")
    ensure_topics([topic], kafka_bootstrap, partitions=1)
    consumer = ConsumerInItsOwnProcess(kafka_bootstrap, f"{topic_prefix}watchdog", [topic],
                                       KAFKA_CONSUMER_STALL_S="10")
    try:
        send(kafka_bootstrap, topic, b"first")
        assert poll_until(consumer, 90) == [b"first"]
        consumer.lose_fetches()
        send(kafka_bootstrap, topic, b"second")
        # The injected loss holds: the client that lost its fetch gets nothing (fetch-rate needs ~20 s to fall).
        assert poll_until(consumer, 8) == []
        assert consumer.recreated() == 0
        # The watchdog replaces the client; the new one rejoins and resumes after the committed "first".
        assert poll_until(consumer, 120) == [b"second"]
        assert consumer.recreated() == 1
    finally:
        consumer.close()


def test_a_client_stuck_in_a_rebalance_is_replaced_and_the_next_record_arrives(kafka_bootstrap: str,
                                                                             topic_prefix: str) -> None:
    topic = config.topic("watchdog")
    ensure_topics([topic], kafka_bootstrap, partitions=1)
    consumer = ConsumerInItsOwnProcess(kafka_bootstrap, f"{topic_prefix}watchdog", [topic],
                                       KAFKA_CONSUMER_STALL_S="5")
    try:
        send(kafka_bootstrap, topic, b"first")
        assert poll_until(consumer, 90) == [b"first"]
        consumer.hang_next_rebalance()
        send(kafka_bootstrap, topic, b"second")
        assert poll_until(consumer, 3) == []  # the hung rebalance holds
        assert consumer.recreated() == 0
        assert poll_until(consumer, 120) == [b"second"]
        assert consumer.recreated() == 1
    finally:
        consumer.close()
