"""The two ports every backend implements (Kafka, in-memory); one contract suite tests both."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

Headers = list[tuple[str, bytes]]
TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = field(default_factory=list)

    def header(self, name: str) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)


class Producer(Protocol):
    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None) -> None:
        """Queue a record; ordering per (topic, key) is preserved."""

    def flush(self, timeout_s: float | None = None) -> None:
        """Block until every queued record is acknowledged (acks=all); raise if any failed."""

    def close(self) -> None: ...


class Consumer(Protocol):
    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[Message]: ...

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the *next* offset to read for each partition."""

    def seek(self, topic: str, partition: int, offset: int) -> None: ...

    def close(self) -> None: ...


class DeliveryError(RuntimeError):
    """The broker did not acknowledge a record."""
