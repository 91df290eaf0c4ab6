"""Kafka backend on kafka-python 3 (works on Apache Kafka and on tansu).

tansu quirks (DESIGN §2): a group join takes ~half of session_timeout_ms, so it is small and
configurable; `end_offsets()` is wrong there, so lag is computed from `highwater()` only.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
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


class KafkaConsumerAdapter:
    """One group member subscribed to a list of topics; offsets are committed only explicitly."""

    def __init__(self, group_id: str, topics: list[str], bootstrap: str | None = None, **overrides: Any):
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
        }
        settings.update(overrides)
        self._consumer = KafkaConsumer(**settings)
        self._consumer.subscribe(topics)

    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[Message]:
        self._rewind_truncated_partitions()
        batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        out: list[Message] = []
        for tp, records in batches.items():
            for r in records:
                headers = [(k, v if v is not None else b"") for k, v in (r.headers or [])]
                out.append(Message(tp.topic, tp.partition, r.offset, r.key, r.value, headers))
        return out

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
        """Records behind the broker's high-water mark, per assigned partition (never end_offsets())."""
        lag: dict[TopicPartition, int] = {}
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is not None:
                lag[(tp.topic, tp.partition)] = max(0, high - self._consumer.position(tp))
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
