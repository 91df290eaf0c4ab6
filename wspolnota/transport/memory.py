"""In-memory bus for unit tests: same ports as the Kafka backend, no threads, no sleeps.

A group here has one member that owns every partition (enough to test handlers and the loop);
rebalancing is the real broker's business and is covered by the integration suite.
"""
from __future__ import annotations

import zlib

from wspolnota.transport.base import Headers, Message, TopicPartition


class MemoryBroker:
    def __init__(self, partitions: int = 3):
        self.partitions = partitions
        self.logs: dict[str, list[list[Message]]] = {}
        self.committed: dict[tuple[str, str, int], int] = {}

    def _topic(self, name: str) -> list[list[Message]]:
        if name not in self.logs:
            self.logs[name] = [[] for _ in range(self.partitions)]
        return self.logs[name]

    def append(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers) -> Message:
        parts = self._topic(topic)
        p = zlib.crc32(key) % self.partitions if key is not None else 0
        msg = Message(topic, p, len(parts[p]), key, value, list(headers))
        parts[p].append(msg)
        return msg

    def messages(self, topic: str) -> list[Message]:
        return sorted((m for part in self._topic(topic) for m in part), key=lambda m: (m.partition, m.offset))

    def producer(self) -> MemoryProducer:
        return MemoryProducer(self)

    def consumer(self, group_id: str, topics: list[str]) -> MemoryConsumer:
        return MemoryConsumer(self, group_id, topics)


class MemoryProducer:
    def __init__(self, broker: MemoryBroker):
        self.broker = broker
        self._queued: list[tuple[str, bytes | None, bytes | None, Headers]] = []

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None) -> None:
        self._queued.append((topic, key, value, list(headers or [])))

    def flush(self, timeout_s: float | None = None) -> None:
        queued, self._queued = self._queued, []
        for topic, key, value, headers in queued:
            self.broker.append(topic, key, value, headers)

    def close(self) -> None:
        self.flush()


class MemoryConsumer:
    def __init__(self, broker: MemoryBroker, group_id: str, topics: list[str]):
        self.broker, self.group_id, self.topics = broker, group_id, list(topics)
        self._position: dict[TopicPartition, int] = {}
        self.closed = False

    def _start(self, tp: TopicPartition) -> int:
        if tp not in self._position:
            self._position[tp] = self.broker.committed.get((self.group_id, *tp), 0)
        return self._position[tp]

    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[Message]:
        out: list[Message] = []
        limit = max_records or 500
        for topic in self.topics:
            for p, log in enumerate(self.broker._topic(topic)):
                pos = self._start((topic, p))
                batch = log[pos:pos + limit - len(out)]
                out.extend(batch)
                self._position[(topic, p)] = pos + len(batch)
        return out

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        for (topic, p), offset in offsets.items():
            self.broker.committed[(self.group_id, topic, p)] = offset

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._position[(topic, partition)] = offset

    def lag(self) -> dict[TopicPartition, int]:
        return {tp: len(self.broker._topic(tp[0])[tp[1]]) - pos for tp, pos in self._position.items()}

    def close(self) -> None:
        self.closed = True


