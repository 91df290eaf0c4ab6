import json
from datetime import UTC, datetime

import pytest

from contracts.needs import EVENTS as NEED_EVENTS
from wspolnota.transport import Catalog, Event, InvalidEvent, decode, encode, new_event

CATALOG = Catalog(NEED_EVENTS)
NEED = {"need_id": "3f0a3c2e-7d7b-4c55-9d6e-2b1f6c1b9a10", "resident_ref": "R-1", "category": "ZAK",
        "village": "zagnansk", "window_start": "2026-12-01T10:00:00+00:00",
        "window_end": "2026-12-01T12:00:00+00:00", "duration_minutes": 60, "urgent": False, "slots": 1}


def test_an_event_survives_encoding_and_decoding() -> None:
    event = new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED)
    back = decode(encode(event), CATALOG)
    assert (back.id, back.type, back.key, back.source, back.version) == (
        event.id, "NeedRegistered", NEED["need_id"], "needs", 1)
    assert back.data == event.data


def test_publishing_an_invalid_payload_is_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidEvent, match="category"):
        new_event(CATALOG, "needs", "NeedRegistered", "k", {**NEED, "category": "XYZ"})


def test_publishing_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="unknown event type"):
        new_event(CATALOG, "needs", "NeedInvented", "k", {})


@pytest.mark.parametrize("raw, reason", [
    (b"\xff\xfe not utf-8", "not JSON"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"id": "x"}', "envelope invalid"),
    (None, "tombstone"),
])
def test_undecodable_messages_are_rejected_with_a_reason(raw: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        decode(raw, CATALOG)


def test_a_naive_timestamp_is_not_a_valid_envelope() -> None:
    body = json.loads(encode(new_event(CATALOG, "needs", "NeedRegistered", "k", NEED)))
    body["time"] = "2026-12-01T10:00:00"
    with pytest.raises(InvalidEvent, match="time"):
        decode(json.dumps(body).encode(), CATALOG)


def test_consumers_validate_the_payload_against_the_publishers_schema() -> None:
    event = Event(type="NeedRegistered", key="k", data={**NEED, "slots": "many"}, source="needs",
                  time=datetime.now(UTC))
    with pytest.raises(InvalidEvent, match="slots"):
        decode(encode(event), CATALOG)


def test_types_the_catalog_does_not_know_pass_with_only_the_envelope_checked() -> None:
    event = Event(type="SomethingElse", key="k", data={"any": 1}, source="x")
    assert decode(encode(event), CATALOG).data == {"any": 1}
