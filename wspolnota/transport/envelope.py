"""The event envelope (docs/architecture.md), validated with marshmallow on publish and on consume."""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate


class InvalidEvent(ValueError):
    """A message that cannot be decoded or does not match its schema; `reason` goes to the DLQ header."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class EnvelopeSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[A-Z][A-Za-z0-9]{2,99}$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    source = fields.String(required=True, validate=validate.Length(min=1, max=50))
    time = fields.AwareDateTime(required=True, format="iso")
    key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    data = fields.Dict(keys=fields.String(), required=True)


_ENVELOPE = EnvelopeSchema()


@dataclass(frozen=True)
class Event:
    type: str
    key: str
    data: dict[str, Any]
    source: str
    version: int = 1
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))


class Catalog:
    """Payload schemas by event type: the contract between a publisher and its consumers."""

    def __init__(self, *parts: Mapping[str, type[Schema]]):
        self._schemas: dict[str, type[Schema]] = {}
        for part in parts:
            self._schemas.update(part)

    def __contains__(self, event_type: str) -> bool:
        return event_type in self._schemas

    def types(self) -> set[str]:
        return set(self._schemas)

    def validate(self, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """Return the payload in its wire form, or raise InvalidEvent with the field errors."""
        schema_cls = self._schemas.get(event_type)
        if schema_cls is None:
            raise InvalidEvent(f"unknown event type {event_type!r}")
        schema = schema_cls()
        try:
            loaded = schema.load(data)
        except ValidationError as err:
            raise InvalidEvent(f"{event_type} payload invalid: {json.dumps(err.messages, sort_keys=True)}") from err
        return schema.dump(loaded)


def new_event(catalog: Catalog, source: str, event_type: str, key: str, data: dict[str, Any],
              version: int = 1) -> Event:
    """Build an event whose payload has been validated against the publisher's schema."""
    return Event(type=event_type, key=str(key), data=catalog.validate(event_type, data), source=source,
                 version=version)


def encode(event: Event) -> bytes:
    body = {
        "id": str(event.id), "type": event.type, "version": event.version, "source": event.source,
        "time": event.time.isoformat(), "key": event.key, "data": event.data,
    }
    errors = _ENVELOPE.validate(body)
    if errors:
        raise InvalidEvent(f"envelope invalid: {json.dumps(errors, sort_keys=True)}")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(raw: bytes | None, catalog: Catalog | None = None) -> Event:
    """Parse and validate an envelope (and its payload when the catalog knows the type)."""
    if raw is None:
        raise InvalidEvent("empty message (tombstone)")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidEvent(f"not JSON: {err}") from err
    if not isinstance(body, dict):
        raise InvalidEvent("envelope is not a JSON object")
    try:
        env = _ENVELOPE.load(body)
    except ValidationError as err:
        raise InvalidEvent(f"envelope invalid: {json.dumps(err.messages, sort_keys=True)}") from err
    data = env["data"]
    if catalog is not None and env["type"] in catalog:
        data = catalog.validate(env["type"], data)
    return Event(type=env["type"], key=env["key"], data=data, source=env["source"], version=env["version"],
                 id=env["id"], time=env["time"])
