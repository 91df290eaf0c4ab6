"""Kafka backend on kafka-python 3 (works on Apache Kafka and on tansu).

tansu quirks (docs/architecture.md): a group join takes ~half of session_timeout_ms, so it is small and
configurable; `end_offsets()` is wrong there, so lag is computed from `highwater()` only.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata
from kafka.structs import TopicPartition as KafkaTP

from wspolnota import config
from wspolnota.transport.base import DeliveryError, Headers, Message, TopicPartition

log = logging.getLogger(__name__)


def _bootstrap(bootstrap: str | None) -> list[str]:
    return (bootstrap or config.get("KAFKA_BOOTSTRAP_SERVERS")).split(",")


class KafkaProducerAdapter:
    def __init__(self, bootstrap: str | None = None, client_id: str = "wspolnota", **overrides: Any):
        settings: dict[str, Any] = {
            "bootstrap_servers": _bootstrap(bootstrap),
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "max_in_flight_requests_per_connection": 5,  # idempotence keeps order per partition up to 5
            "linger_ms": 2,
            "request_timeout_ms": config.get_int("KAFKA_REQUEST_TIMEOUT_MS"),
            "delivery_timeout_ms": config.get_int("KAFKA_DELIVERY_TIMEOUT_MS"),
        }
        settings.update(overrides)
        self._producer = KafkaProducer(**settings)
        self._pending: list[Any] = []

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None) -> None:
        self._pending.append(self._producer.send(topic, key=key, value=value, headers=headers or []))

    def flush(self, timeout_s: float | None = None) -> None:
        self._producer.flush(timeout=timeout_s)
        pending, self._pending = self._pending, []
        failures = [f.exception for f in pending if f.failed()]
        if failures or any(not f.is_done for f in pending):
            raise DeliveryError(f"{len(failures)} of {len(pending)} records not acknowledged: {failures[:1]}")

    def close(self) -> None:
        self._producer.close(timeout=5)


class _RebalanceClock(ConsumerRebalanceListener):  # type: ignore[misc]
    """Remembers since when the member has been without a finished assignment (None: it has one)."""

    def __init__(self, clock: Any):
        self.clock = clock
        self.since: float | None = clock()  # the first join is a rebalance too

    def on_partitions_revoked(self, revoked: Any) -> None:
        if self.since is None:
            self.since = self.clock()

    def on_partitions_lost(self, lost: Any) -> None:
        self.on_partitions_revoked(lost)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.since = None


class KafkaConsumerAdapter:
    """One group member subscribed to a list of topics; offsets are committed only explicitly.

    A watchdog closes and recreates the kafka-python client when, for `KAFKA_CONSUMER_STALL_S`,
    - a rebalance it took part in has not finished (no assignment since the partitions were revoked), or
    - it has partitions to fetch but no fetch response arrived (its fetch-rate metric stays at zero).
    Seen on the embedded tansu after a restart that lost its memory: the topics came back with another
    partition count, the group rebalanced, and the broker never answered the leader's SyncGroup, while
    kafka-python kept fetching the old partitions and never timed the request out. A healthy member
    finishes a rebalance in seconds and gets a (possibly empty) fetch response every `fetch_max_wait_ms`
    (0.5 s), so the threshold is far from normal operation; it doubles after each recreation that did
    not help (a broker that is down), up to 10 minutes. The new client resumes from the committed
    offsets; consumers drop what they see twice.
    """

    FETCH_METRICS = "consumer-fetch-manager-metrics"
    MAX_STALL_S = 600.0

    def __init__(self, group_id: str, topics: list[str], bootstrap: str | None = None,
                 stall_s: float | None = None, consumer_factory: Any = KafkaConsumer,
                 clock: Any = time.monotonic, **overrides: Any):
        settings: dict[str, Any] = {
            "bootstrap_servers": _bootstrap(bootstrap),
            "group_id": group_id,
            "client_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "session_timeout_ms": config.get_int("KAFKA_SESSION_TIMEOUT_MS"),
            "heartbeat_interval_ms": config.get_int("KAFKA_HEARTBEAT_INTERVAL_MS"),
            "max_poll_interval_ms": config.get_int("KAFKA_MAX_POLL_INTERVAL_MS"),
            "request_timeout_ms": max(config.get_int("KAFKA_REQUEST_TIMEOUT_MS"),
                                      config.get_int("KAFKA_SESSION_TIMEOUT_MS") + 1000),
            # The watchdog reads fetch-rate; 2 samples of 10 s let it see a stall within ~20 s.
            "metrics_sample_window_ms": 10_000,
        }
        settings.update(overrides)
        self._settings, self._topics, self._factory, self._clock = settings, topics, consumer_factory, clock
        self.stall_s = config.get_float("KAFKA_CONSUMER_STALL_S") if stall_s is None else stall_s
        self._threshold = self.stall_s
        self.recreated = 0
        self.lag_snapshot: dict[TopicPartition, int] = {}  # for the metrics thread; taken after a poll
        self._next_lag = 0.0
        self._no_fetch_since: float | None = None
        self._next_check = 0.0
        self._returned_at: float | None = None
        self._consumer, self._rebalance = self._new_client()

    def _new_client(self) -> tuple[Any, _RebalanceClock]:
        consumer = self._factory(**self._settings)
        rebalance = _RebalanceClock(self._clock)
        consumer.subscribe(self._topics, listener=rebalance)
        return consumer, rebalance

    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[Message]:
        self._discount_time_away()
        self._recreate_if_stalled()
        self._rewind_truncated_partitions()
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        finally:
            self._returned_at = self._clock()
        if self._returned_at >= self._next_lag:
            self._next_lag = self._returned_at + 5.0
            self.lag_snapshot = self.lag()
        out: list[Message] = []
        for tp, records in batches.items():
            for r in records:
                headers = [(k, v if v is not None else b"") for k, v in (r.headers or [])]
                out.append(Message(tp.topic, tp.partition, r.offset, r.key, r.value, headers))
        return out

    def _discount_time_away(self) -> None:
        """Only time spent polling counts: a rebalance or a fetch cannot progress while the caller handles
        a batch, and a long batch must not look like a stuck client."""
        if self._returned_at is None:
            return
        away = self._clock() - self._returned_at
        if self._rebalance.since is not None:
            self._rebalance.since += away
        if self._no_fetch_since is not None:
            self._no_fetch_since += away

    def _fetching(self) -> bool | None:
        """True if fetch responses arrived lately, False if none did, None if there is nothing to fetch."""
        if not (set(self._consumer.assignment()) - set(self._consumer.paused())):
            return None
        rate = ((self._consumer.metrics() or {}).get(self.FETCH_METRICS) or {}).get("fetch-rate")
        return None if rate is None else rate > 0

    def _stall(self, now: float) -> str | None:
        """Why the client looks stuck, or None."""
        if self._rebalance.since is not None:
            self._no_fetch_since = None
            if now - self._rebalance.since >= self._threshold:
                return f"a rebalance has not finished for {now - self._rebalance.since:.0f} s"
            return None
        fetching = self._fetching()
        if fetching is not False:
            self._no_fetch_since = None
            if fetching:
                self._threshold = self.stall_s  # healthy again
            return None
        if self._no_fetch_since is None:
            self._no_fetch_since = now
        elif now - self._no_fetch_since >= self._threshold:
            return (f"{len(self._consumer.assignment())} partitions assigned but no fetch response for "
                    f"{now - self._no_fetch_since:.0f} s")
        return None

    def _recreate_if_stalled(self) -> None:
        now = self._clock()
        if self.stall_s <= 0 or now < self._next_check:
            return
        self._next_check = now + 1.0  # reading the metrics costs more than a busy poll
        reason = self._stall(now)
        if reason is None:
            return
        log.warning("consumer %s: %s (a request lost in a broker restart?): recreating its client",
                    self._settings["group_id"], reason)
        try:
            self._consumer.close(autocommit=False, timeout_ms=5000)
        except Exception as err:  # noqa: BLE001 - a wedged client may fail to close; a new one replaces it anyway
            log.warning("closing the stalled consumer failed: %s", err)
        self._consumer, self._rebalance = self._new_client()
        self._no_fetch_since = None
        self._threshold = min(self._threshold * 2, self.MAX_STALL_S)
        self.recreated += 1

    def _rewind_truncated_partitions(self) -> None:
        """A broker that lost its log (the embedded tansu keeps it in memory) leaves our position past its end.

        Kafka would answer OFFSET_OUT_OF_RANGE and auto_offset_reset would apply; tansu just waits, so new
        records at lower offsets would be skipped. Reread such a partition from the start: consumers dedupe.
        """
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = self._consumer.position(tp, timeout_ms=0)
            except KafkaError:  # position not known yet (just assigned): nothing to compare
                continue
            if position is not None and position > high:
                log.warning("%s:%d is at %d but the broker's log ends at %d (broker restarted?): rereading it",
                            tp.topic, tp.partition, position, high)
                self._consumer.seek_to_beginning(tp)

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if offsets:
            self._consumer.commit({KafkaTP(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()})

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._consumer.seek(KafkaTP(topic, partition), offset)

    def lag(self) -> dict[TopicPartition, int]:
        """Records behind the broker's high-water mark, per assigned partition (never end_offsets()).

        Both numbers are local: the high-water mark comes with each fetch response, so a partition
        with no fetch answered yet (or no known position) is left out rather than asked for."""
        lag: dict[TopicPartition, int] = {}
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = self._consumer.position(tp, timeout_ms=0)
            except KafkaError:
                continue
            if position is not None:
                lag[(tp.topic, tp.partition)] = max(0, high - position)
        return lag

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def ensure_topics(names: list[str], bootstrap: str | None = None, partitions: int = 3,
                  wait_s: float = 60.0) -> None:
    """Create the topics (and their DLQs) if missing; wait for the broker to answer first."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=_bootstrap(bootstrap), client_id="wspolnota-admin")
            break
        except KafkaError as err:
            if time.monotonic() > deadline:
                raise
            log.info("waiting for the broker: %s", err)
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        wanted = [n for n in names if n not in existing]
        for name in wanted:
            try:
                admin.create_topics([NewTopic(name, partitions, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
