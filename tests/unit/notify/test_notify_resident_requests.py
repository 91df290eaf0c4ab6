"""A resident who asked for help hears back once per step — the acknowledgement, "we're arranging help" or the
closing reason — on the channel they chose, with the address asked of the needs service at send time."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from notify_support import FakeChannel, FakeHttpServer, event, ledger

from services.notify.channels import NotOnThisChannel, PermanentFailure
from services.notify.contacts import AddressBook
from services.notify.db import notifications
from services.notify.request_notices import RequesterContacts
from services.notify.sender import Sender

REQUEST = "55555555-5555-4555-8555-555555555555"
NEED = "11111111-1111-4111-8111-111111111111"


def test_a_received_request_is_acknowledged_once_even_when_redelivered(deliver, db) -> None:
    received = event("RequestReceived", {"request_id": REQUEST, "village": "belno", "channel": "online"}, key=REQUEST)
    deliver(received)
    deliver(received)
    deliver(event("RequestReceived", {"request_id": REQUEST, "village": "belno", "channel": "online"}, key=REQUEST))
    rows = ledger(db, kind="request_received")
    assert sorted((r["recipient"], r["channel"]) for r in rows) == [
        (f"wnioskodawca:{REQUEST}", "email"), (f"wnioskodawca:{REQUEST}", "sms")]
    assert all("pomoc dotar" in r["body"] for r in rows)  # SMS text goes without Polish letters


def test_closing_tells_the_reason_in_plain_words_and_converting_says_help_is_arranged(deliver, db) -> None:
    deliver(event("RequestClosed", {"request_id": REQUEST, "reason": "outside_area"}, key=REQUEST))
    [email] = ledger(db, kind="request_closed", channel="email")
    assert "osoba mieszka poza gminą Zagnańsk" in email["body"]
    deliver(event("RequestConverted", {"request_id": REQUEST, "need_id": NEED}, key=REQUEST))
    [sms] = ledger(db, kind="request_converted", channel="sms")
    assert "organizujemy pomoc" in sms["body"] and sms["body"].startswith("CUS Zagnańsk")


def contacts_server(answer: dict[str, object], status: int = 200) -> FakeHttpServer:
    return FakeHttpServer(lambda method, path, headers, body: (status, answer))


def test_the_address_is_asked_of_needs_and_only_the_chosen_channel_is_used(settings) -> None:
    answer = {"request_id": REQUEST, "phone": "601202303", "email": "anna@example.pl", "reply_channel": "email"}
    with contacts_server(answer) as needs:
        book = AddressBook(settings, None)  # type: ignore[arg-type]
        book.requesters = RequesterContacts(needs.url, "token")  # type: ignore[attr-defined]
        assert book.address(f"wnioskodawca:{REQUEST}", "email") == "anna@example.pl"
        with pytest.raises(NotOnThisChannel):
            book.address(f"wnioskodawca:{REQUEST}", "sms")
        method, path, headers, _ = needs.requests[0]
        assert (method, path, headers["Authorization"]) == ("GET", f"/internal/requests/{REQUEST}/contact",
                                                            "Bearer token")


def test_an_erased_request_is_not_retried(settings) -> None:
    with contacts_server({"message": "nie ma"}, 404) as needs, pytest.raises(PermanentFailure):
        RequesterContacts(needs.url, "token").fetch(REQUEST)


def test_the_sender_sends_one_message_on_the_chosen_channel_and_skips_the_other(deliver, db, settings) -> None:
    channels = {name: FakeChannel(name) for name in ("email", "sms", "webhook")}
    answer = {"request_id": REQUEST, "phone": "601202303", "email": "", "reply_channel": "sms"}
    deliver(event("RequestClosed", {"request_id": REQUEST, "reason": "resolved"}, key=REQUEST))
    with contacts_server(answer) as needs:
        book = AddressBook(settings, None)  # type: ignore[arg-type]
        book.requesters = RequesterContacts(needs.url, "token")  # type: ignore[attr-defined]
        noon = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
        with db.engine.begin() as conn:
            conn.execute(sa.update(notifications).values(next_attempt_at=noon))
        Sender(db, settings, channels, book, clock=lambda: noon, rng=lambda: 1.0).run_once()
        Sender(db, settings, channels, book, clock=lambda: noon, rng=lambda: 1.0).run_once()
    [sent] = channels["sms"].sent
    assert sent.address == "601202303" and "pomoc nie jest juz potrzebna" in sent.text
    assert channels["email"].sent == []
    assert {r["channel"]: r["status"] for r in ledger(db, kind="request_closed")} == {"sms": "sent",
                                                                                      "email": "skipped"}
