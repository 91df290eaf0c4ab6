"""Channels: a real SMTP round trip into the aiosmtpd sink, the documented SMS gateway request, and
webhook signatures that a receiver can check — with clear errors when something is wrong."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import sqlalchemy as sa
from notify_support import FakeHttpServer

from services.notify.channels import (
    EmailChannel,
    Outgoing,
    PermanentFailure,
    SmsChannel,
    TemporaryFailure,
    WebhookChannel,
    WebhookRejected,
    signed_headers,
    verify,
)
from services.notify.db import sink_messages
from services.notify.settings import Settings
from services.notify.sink import Inbox, smtp_controller
from wspolnota.broker import free_port
from wspolnota.testing import wait_until

ID = "5f0c7d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def message(**over):  # type: ignore[no-untyped-def]
    body = {"notification_id": ID, "kind": "match_offered", "address": "zofia@example.pl",
            "subject": "Prośba o pomoc: Zakupy i sprawunki, Bęczków", "text": "Dzień dobry,\n\nZażółć gęślą jaźń.",
            "html": "<p>Dzień dobry</p>"}
    return Outgoing(**{**body, **over})


@pytest.fixture
def sink(db):  # type: ignore[no-untyped-def]
    port = free_port()
    controller = smtp_controller(Inbox(db), port)
    controller.start()
    yield port
    controller.stop()


def inbox(db) -> list[dict]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(sink_messages)).mappings()]


def test_an_email_travels_over_smtp_into_the_sink_with_its_ledger_message_id(db, sink) -> None:
    channel = EmailChannel(Settings.from_env({}, smtp_port=sink))
    channel.send(message())
    [mail] = wait_until(lambda: inbox(db), 5, message="the sink to store the mail")
    assert mail["message_id"] == f"<{ID}@wspolnota.cus-zagnansk>"
    assert mail["recipient"] == "zofia@example.pl" and mail["subject"].startswith("Prośba o pomoc")
    assert "Zażółć gęślą jaźń." in mail["body"] and mail["deliveries"] == 1


def test_a_resent_email_is_recognised_by_the_sink_as_the_same_message(db, sink) -> None:
    channel = EmailChannel(Settings.from_env({}, smtp_port=sink))
    channel.send(message())
    channel.send(message())
    [mail] = inbox(db)
    assert mail["deliveries"] == 2


def test_an_unreachable_smtp_server_is_a_temporary_failure() -> None:
    with pytest.raises(TemporaryFailure, match="SMTP"):
        EmailChannel(Settings.from_env({}, smtp_port=free_port(), smtp_timeout_s=2.0)).send(message())


def test_an_email_can_be_built_for_starttls_and_auth_from_settings() -> None:
    settings = Settings.from_env({"NOTIFY_SMTP_SECURITY": "starttls", "NOTIFY_SMTP_USER": "cus",
                                  "NOTIFY_SMTP_PASSWORD": "tajne", "NOTIFY_SMTP_PORT": "587"})
    assert (settings.smtp_security, settings.smtp_user, settings.smtp_port) == ("starttls", "cus", 587)
    mail = EmailChannel(settings).build(message())
    assert mail["Message-ID"] == f"<{ID}@wspolnota.cus-zagnansk>" and mail.is_multipart()


def test_the_sms_gateway_gets_the_documented_request() -> None:
    with FakeHttpServer(lambda *a: (200, {"id": "gw-1"})) as gateway:
        settings = Settings.from_env({}, sms_gateway_url=gateway.url + "/sms", sms_gateway_token="gw-token")
        SmsChannel(settings).send(message(address="+48601202303", text="CUS Zagnańsk: test"))
    [(method, path, headers, body)] = gateway.requests
    assert (method, path) == ("POST", "/sms")
    assert headers["Authorization"] == "Bearer gw-token" and headers["Idempotency-Key"] == ID
    assert json.loads(body) == {"to": "+48601202303", "text": "CUS Zagnańsk: test", "sender": "CUSZagnansk",
                                "reference": ID}


@pytest.mark.parametrize("status, failure", [(400, PermanentFailure), (422, PermanentFailure),
                                             (429, TemporaryFailure), (503, TemporaryFailure)])
def test_gateway_answers_map_to_permanent_or_temporary_failures(status: int, failure: type) -> None:
    with FakeHttpServer(lambda *a: (status, {"error": "x"})) as gateway:
        with pytest.raises(failure, match=str(status)):
            SmsChannel(Settings.from_env({}, sms_gateway_url=gateway.url)).send(message(address="+48601202303"))


SECRET = "shared-secret"
BODY = json.dumps({"event": "match.accepted", "match_id": "m"}).encode()


def independent_signature(ts: str, body: bytes) -> str:
    """The receiver's side, written from docs/notify.md, not from our code."""
    return "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()


def test_a_signature_matches_the_documented_recipe() -> None:
    headers = signed_headers(SECRET, BODY, ID, "match_accepted", now=1_790_000_000)
    assert headers["X-Wspolnota-Timestamp"] == "1790000000"
    assert headers["X-Wspolnota-Signature"] == independent_signature("1790000000", BODY)
    assert verify(SECRET, headers, BODY, 300, now=1_790_000_100)["event"] == "match.accepted"


@pytest.mark.parametrize("change, code, status", [
    (lambda h, b: ({k: v for k, v in h.items() if k != "X-Wspolnota-Signature"}, b), "missing_header", 400),
    (lambda h, b: ({**h, "X-Wspolnota-Timestamp": "yesterday"}, b), "bad_timestamp", 400),
    (lambda h, b: ({**h, "X-Wspolnota-Signature": "sha256=" + "0" * 64}, b), "bad_signature", 401),
    (lambda h, b: (h, b.replace(b"accepted", b"cancelled")), "bad_signature", 401),
    (lambda h, b: ({**h, "X-Wspolnota-Timestamp": str(int(h["X-Wspolnota-Timestamp"]) - 1)}, b), "bad_signature", 401),
])
def test_a_tampered_webhook_is_refused_with_a_clear_reason(change, code: str, status: int) -> None:  # type: ignore[no-untyped-def]
    headers, body = change(signed_headers(SECRET, BODY, ID, "match_accepted"), BODY)
    with pytest.raises(WebhookRejected) as refused:
        verify(SECRET, headers, body, 300)
    assert (refused.value.code, refused.value.status) == (code, status)


def test_a_replayed_webhook_outside_the_window_is_refused_by_its_timestamp() -> None:
    headers = signed_headers(SECRET, BODY, ID, "match_accepted", now=time.time() - 301)
    with pytest.raises(WebhookRejected, match="replay window is ±300 s") as refused:
        verify(SECRET, headers, BODY, 300)
    assert refused.value.code == "stale_timestamp"


def test_a_signed_body_that_is_not_a_json_event_is_malformed() -> None:
    for body in (b"\xff\xfe", b"[1,2]", b'{"no_event": 1}'):
        with pytest.raises(WebhookRejected) as refused:
            verify(SECRET, signed_headers(SECRET, body, ID, "x"), body, 300)
        assert refused.value.code == "malformed_body"


def test_the_webhook_channel_posts_a_signed_json_body() -> None:
    with FakeHttpServer(lambda *a: (200, {})) as case_system:
        WebhookChannel(Settings.from_env({}, case_webhook_secret=SECRET)).send(
            message(address=case_system.url + "/hook", payload={"event": "match.accepted", "match_id": "m"}))
    [(_, path, headers, body)] = case_system.requests
    assert path == "/hook" and headers["Idempotency-Key"] == ID and headers["X-Wspolnota-Event"] == "match.accepted"
    assert headers["X-Wspolnota-Signature"] == independent_signature(headers["X-Wspolnota-Timestamp"], body)
