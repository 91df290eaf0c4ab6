"""The Kafka consumer adapter recreates a client stuck in a rebalance or getting no fetch responses.

A fake kafka-python client stands in for the broker here; the real-broker test is
tests/integration/test_consumer_watchdog_on_broker.py.
"""
from __future__ import annotations

from typing import Any

import pytest

from wspolnota.transport.kafka import KafkaConsumerAdapter


class FakeClient:
    """The part of kafka.KafkaConsumer the adapter uses, with a settable fetch-rate and assignment."""

    made: list[FakeClient] = []
    clock: Clock
    poll_s = 0.5  # an idle poll waits its whole timeout
    joins = True  # whether the next clients' first poll completes their join

    def __init__(self, **settings: Any):
        self.settings = settings
        self.topics: list[str] = []
        self.listener: Any = None
        self.joins = FakeClient.joins
        self.joined = False
        self.assigned: set[tuple[str, int]] = {("t", 0), ("t", 1)}
        self.paused_tps: set[tuple[str, int]] = set()
        self.fetch_rate: float | None = 0.0
        self.closed = False
        self.polls = 0
        FakeClient.made.append(self)

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        self.topics, self.listener = topics, listener

    def rebalance(self) -> None:
        """A rebalance starts: kafka-python tells the listener the partitions are revoked."""
        self.listener.on_partitions_revoked(self.assigned)
        self.joined = False

    def assignment(self) -> set[tuple[str, int]]:
        return self.assigned

    def paused(self) -> set[tuple[str, int]]:
        return self.paused_tps

    def metrics(self) -> dict[str, dict[str, float]]:
        if self.fetch_rate is None:
            return {}
        return {"consumer-fetch-manager-metrics": {"fetch-rate": self.fetch_rate}}

    def highwater(self, tp: Any) -> None:
        return None

    def poll(self, timeout_ms: int, max_records: int | None = None) -> dict[Any, Any]:
        self.polls += 1
        FakeClient.clock.now += FakeClient.poll_s
        if self.joins and not self.joined:
            self.joined = True
            self.listener.on_partitions_assigned(self.assigned)
        return {}

    def close(self, autocommit: bool = True, timeout_ms: int | None = None) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    FakeClient.made.clear()
    FakeClient.joins = True
    FakeClient.poll_s = 0.5
    FakeClient.clock = Clock()
    return FakeClient.clock


def adapter(clock: Clock, stall_s: float = 45) -> KafkaConsumerAdapter:
    return KafkaConsumerAdapter("g", ["t"], "127.0.0.1:1", stall_s=stall_s, consumer_factory=FakeClient,
                                clock=clock)


def poll_for(consumer: KafkaConsumerAdapter, clock: Clock, seconds: float) -> None:
    """Poll back to back for this long (each poll takes FakeClient.poll_s)."""
    end = clock.now + seconds
    while clock.now < end:
        consumer.poll(500)


def test_a_client_without_fetch_responses_is_closed_and_recreated_with_the_same_subscription(clock: Clock) -> None:
    consumer = adapter(clock)
    first = FakeClient.made[0]
    assert first.topics == ["t"] and first.settings["group_id"] == "g"
    assert first.settings["enable_auto_commit"] is False
    poll_for(consumer, clock, 44)
    assert consumer.recreated == 0 and not first.closed
    poll_for(consumer, clock, 3)
    assert consumer.recreated == 1 and first.closed
    second = FakeClient.made[1]
    assert second.topics == ["t"] and second.settings == first.settings
    assert second.polls >= 1  # the poll that found the stall went to the new client


def test_a_fetching_client_is_kept_however_long_it_runs(clock: Clock) -> None:
    consumer = adapter(clock)
    FakeClient.made[0].fetch_rate = 2.0  # idle but healthy: an empty fetch response every 0.5 s
    poll_for(consumer, clock, 600)
    assert consumer.recreated == 0 and len(FakeClient.made) == 1


def test_one_fetch_response_restarts_the_clock(clock: Clock) -> None:
    consumer = adapter(clock)
    client = FakeClient.made[0]
    poll_for(consumer, clock, 30)
    client.fetch_rate = 0.1
    poll_for(consumer, clock, 2)
    client.fetch_rate = 0.0
    poll_for(consumer, clock, 40)
    assert consumer.recreated == 0
    poll_for(consumer, clock, 10)
    assert consumer.recreated == 1


@pytest.mark.parametrize("case", ["no partitions", "all paused", "no metrics", "watchdog off"])
def test_nothing_to_fetch_or_nothing_to_judge_by_is_never_a_stall(clock: Clock, case: str) -> None:
    consumer = adapter(clock, stall_s=0 if case == "watchdog off" else 45)
    client = FakeClient.made[0]
    if case == "no partitions":  # more members than partitions, or between rebalances
        client.assigned = set()
    elif case == "all paused":
        client.paused_tps = set(client.assigned)
    elif case == "no metrics":  # metrics_enabled=False
        client.fetch_rate = None
    poll_for(consumer, clock, 600)
    assert consumer.recreated == 0 and len(FakeClient.made) == 1


def test_a_client_that_fails_to_close_is_replaced_anyway(clock: Clock) -> None:
    consumer = adapter(clock)

    def broken_close(**_: Any) -> None:
        raise RuntimeError("wedged")

    FakeClient.made[0].close = broken_close  # type: ignore[method-assign]
    poll_for(consumer, clock, 60)
    assert consumer.recreated == 1 and len(FakeClient.made) == 2


def test_the_metrics_are_read_at_most_once_a_second(clock: Clock) -> None:
    consumer = adapter(clock)
    client = FakeClient.made[0]
    reads = 0
    original = client.metrics

    def counting() -> dict[str, dict[str, float]]:
        nonlocal reads
        reads += 1
        return original()

    client.metrics = counting  # type: ignore[method-assign]
    FakeClient.poll_s = 0.01
    poll_for(consumer, clock, 10)  # a busy consumer: 1,000 polls
    assert 9 <= reads <= 11


def test_a_rebalance_that_never_finishes_gets_a_new_client(clock: Clock) -> None:
    consumer = adapter(clock)
    first = FakeClient.made[0]
    first.fetch_rate = 2.0  # still fetching its old partitions, as kafka-python does during a rebalance
    poll_for(consumer, clock, 30)
    first.joins = False
    first.rebalance()  # and the broker never answers the SyncGroup
    poll_for(consumer, clock, 44)
    assert consumer.recreated == 0
    poll_for(consumer, clock, 3)
    assert consumer.recreated == 1 and first.closed
    assert FakeClient.made[1].joined and FakeClient.made[1].listener is not first.listener


def test_a_first_join_that_never_finishes_gets_a_new_client(clock: Clock) -> None:
    FakeClient.joins = False
    consumer = adapter(clock)
    FakeClient.joins = True
    poll_for(consumer, clock, 46)
    assert consumer.recreated == 1 and FakeClient.made[1].joined


def test_a_rebalance_that_finishes_in_time_keeps_the_client(clock: Clock) -> None:
    consumer = adapter(clock)
    client = FakeClient.made[0]
    client.fetch_rate = 2.0
    for _ in range(20):  # a rebalance every 30 s, each taking 10 s
        client.joins = False
        client.rebalance()
        poll_for(consumer, clock, 10)
        client.joins = True
        poll_for(consumer, clock, 20)
    assert consumer.recreated == 0


def test_the_wait_doubles_while_new_clients_do_not_help_and_resets_once_one_does(clock: Clock) -> None:
    FakeClient.joins = False  # the broker is down: no client ever joins
    consumer = adapter(clock)
    times = []
    while len(times) < 5:
        before = consumer.recreated
        consumer.poll(500)
        if consumer.recreated > before:
            times.append(clock.now - FakeClient.poll_s)  # it happened before the poll waited
    gaps = [round(b - a) for a, b in zip([1000.0, *times], times, strict=False)]
    assert gaps == [45, 90, 180, 360, 600]
    FakeClient.joins = True  # the broker is back; the client made while it was away still waits
    poll_for(consumer, clock, 601)
    assert consumer.recreated == 6
    healthy = FakeClient.made[-1]
    healthy.fetch_rate = 2.0
    poll_for(consumer, clock, 5)
    healthy.joins = False
    healthy.rebalance()
    poll_for(consumer, clock, 47)
    assert consumer.recreated == 7  # back to 45 s


def test_time_spent_handling_a_batch_between_polls_does_not_count(clock: Clock) -> None:
    consumer = adapter(clock)
    client = FakeClient.made[0]
    client.fetch_rate = 2.0
    poll_for(consumer, clock, 5)
    client.joins = False
    client.rebalance()  # a rebalance starts in a poll ...
    consumer.poll(500)
    clock.now += 200  # ... and the caller then spends 200 s on the batch it already had
    poll_for(consumer, clock, 40)
    assert consumer.recreated == 0
    poll_for(consumer, clock, 10)
    assert consumer.recreated == 1
