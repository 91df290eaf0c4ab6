"""A concern about a resident: one urgent e-mail to the resident's social worker, whose address is asked of the
needs service at send time (the organiser when none is assigned); the message is a link, never the concern."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from notify_support import FakeChannel, FakeHttpServer, event, ledger

from services.notify.channels import PermanentFailure, TemporaryFailure
from services.notify.contacts import AddressBook, ConcernRecipients
from services.notify.sender import Sender
from wspolnota.broker import free_port

CONCERN = "77777777-7777-4777-8777-777777777777"
NEED = "11111111-1111-4111-8111-111111111111"
NIGHT = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # 00:30 in Warsaw: quiet hours


class Needs:
    def __init__(self, email: str):
        self.email, self.asked = email, []

    def fetch(self, concern_id: str) -> str:
        self.asked.append(concern_id)
        return self.email


def reported(**over: object) -> dict[str, object]:
    return {"concern_id": CONCERN, "need_id": NEED, "resident_ref": "M-ABC123", "urgent": True, **over}


def test_a_concern_becomes_one_urgent_email_with_a_link_and_no_text(deliver, db) -> None:
    concern = event("ConcernReported", reported(), key="M-ABC123")
    deliver(concern)
    deliver(concern)  # delivered twice by the bus
    [row] = ledger(db, kind="concern_reported")
    assert (row["recipient"], row["channel"], row["urgent"]) == (f"pracownik_socjalny:{CONCERN}", "email", True)
    assert "Nowe zgłoszenie niepokoju — zobacz we Wspólnocie: http://test/needs/zgloszenia/" + CONCERN in row["body"]
    assert row["need_id"] == NEED and "(PILNE)" in row["subject"]


def test_a_general_concern_says_it_goes_to_the_organiser(deliver, db) -> None:
    deliver(event("ConcernReported", reported(need_id=None, resident_ref=None, urgent=False), key=CONCERN))
    [row] = ledger(db, kind="concern_reported")
    assert "trafia do organizatora" in row["body"] and "(PILNE)" not in row["subject"]


def test_the_social_worker_is_found_at_send_time_and_the_organiser_stands_in(settings) -> None:
    organiser = settings.organiser_email or "osl@cus.example"
    from dataclasses import replace

    given = replace(settings, organiser_email=organiser)
    assigned = Needs("a.nowak@cus.example.pl")
    book = AddressBook(given, None, concerns=assigned)  # type: ignore[arg-type]
    assert book.address(f"pracownik_socjalny:{CONCERN}", "email", urgent=True) == "a.nowak@cus.example.pl"
    assert assigned.asked == [CONCERN]
    assert book.address(f"pracownik_socjalny:{CONCERN}", "sms", urgent=True) is None
    nobody = AddressBook(given, None, concerns=Needs(""))  # type: ignore[arg-type]
    assert nobody.address(f"pracownik_socjalny:{CONCERN}", "email", urgent=True) == organiser


def test_the_sender_sends_it_at_night_to_the_address_needs_gives(deliver, db, settings) -> None:
    channels = {name: FakeChannel(name) for name in ("email", "sms", "webhook")}
    addresses = AddressBook(settings, None, concerns=Needs("a.nowak@cus.example.pl"),  # type: ignore[arg-type]
                            clock=lambda: NIGHT)
    deliver(event("ConcernReported", reported(), key="M-ABC123"))
    import sqlalchemy as sa

    from services.notify.db import notifications

    with db.engine.begin() as conn:
        conn.execute(sa.update(notifications).values(next_attempt_at=NIGHT))
    Sender(db, settings, channels, addresses, clock=lambda: NIGHT, rng=lambda: 1.0).run_once()
    [sent] = channels["email"].sent
    assert sent.address == "a.nowak@cus.example.pl"
    assert ledger(db, kind="concern_reported")[0]["status"] == "sent"


def needs_api(method: str, path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
    if headers.get("Authorization") != "Bearer right-token":
        return 401, {"message": "Wymagany token usługi."}
    if path == f"/internal/concerns/{CONCERN}/recipient":
        return 200, {"concern_id": CONCERN, "email": "a.nowak@cus.example.pl"}
    return 404, {"message": "Nie ma takiego zgłoszenia."}


def test_the_recipient_is_asked_with_the_bearer_token_and_failures_are_told_apart() -> None:
    with FakeHttpServer(needs_api) as api:
        assert ConcernRecipients(api.url, "right-token").fetch(CONCERN) == "a.nowak@cus.example.pl"
        with pytest.raises(TemporaryFailure, match="INTERNAL_SERVICE_TOKEN"):
            ConcernRecipients(api.url, "wrong").fetch(CONCERN)
        with pytest.raises(PermanentFailure, match="404"):
            ConcernRecipients(api.url, "right-token").fetch(str(uuid.uuid4()))
    with pytest.raises(TemporaryFailure, match="nie odpowiada"):
        ConcernRecipients(f"http://127.0.0.1:{free_port()}", "t", timeout_s=2).fetch(CONCERN)
