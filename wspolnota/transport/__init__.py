"""Transport: event envelope, transactional outbox + relay, idempotent consumer loop, DLQ.

Backends: Kafka (kafka-python) and an in-memory bus for unit tests; both pass one contract suite.
Payload schemas belong to the publishing service; this package only carries them.
"""
from wspolnota.transport.base import Consumer, Message, Producer
from wspolnota.transport.envelope import Catalog, Event, InvalidEvent, decode, encode, new_event

__all__ = ["Catalog", "Consumer", "Event", "InvalidEvent", "Message", "Producer", "decode", "encode", "new_event"]
