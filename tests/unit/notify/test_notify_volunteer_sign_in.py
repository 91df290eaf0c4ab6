"""Notify's side of a volunteer's sign-in: one message per request on the channel the person typed, urgent, with a
link signed from the token id; and a volunteer's own quiet hours, which hold back their SMS that are not urgent."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from notify_support import VOLUNTEER, FakeChannel, event, ledger, offered

from contracts.volunteers import SIGN_IN_PATH, read_sign_in_token
from services.notify.channels import QuietHours
from services.notify.contacts import AddressBook, Contact, personal_quiet_until
from services.notify.db import notifications
from services.notify.links import hide_tokens
from services.notify.sender import Sender
from wspolnota.localtime import WARSAW

NOON = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw
EVENING = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)  # 20:30 in Warsaw


def in_fifteen_minutes() -> datetime:
    """When a link asked for now ends (at call time: a module-level value went stale in a long serial run)."""
    return (datetime.now(UTC) + timedelta(minutes=15)).replace(second=0, microsecond=0)


def requested(channel: str = "email", **over: object) -> dict[str, object]:
    return {"volunteer_id": VOLUNTEER, "token_id": str(uuid.uuid4()), "channel": channel,
            "expires_at": in_fifteen_minutes().isoformat(), **over}


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_request_becomes_one_urgent_message_on_the_typed_channel(deliver, db, settings, channel: str) -> None:
    request = event("SignInLinkRequested", requested(channel), key=VOLUNTEER)
    ends = datetime.fromisoformat(str(request.data["expires_at"]))
    deliver(request)
    deliver(request)  # delivered twice by the bus
    [row] = ledger(db, kind="volunteer_sign_in")
    assert (row["channel"], row["recipient"], row["urgent"]) == (channel, f"wolontariusz:{VOLUNTEER}", True)
    assert f"{ends.astimezone(WARSAW):%H:%M}" in row["body"]  # the link's end in Warsaw time
    link = row["body"].split("http://test", 1)[1].split()[0]
    assert link.startswith(SIGN_IN_PATH)
    assert read_sign_in_token(settings.secret_key, link.removeprefix(SIGN_IN_PATH)) == request.data["token_id"]
    assert SIGN_IN_PATH.rstrip("/") + "/…" in hide_tokens(row["body"])
    assert link.removeprefix(SIGN_IN_PATH) not in hide_tokens(row["body"])


def test_a_request_that_waited_past_its_links_life_sends_nothing(deliver, db) -> None:
    deliver(event("SignInLinkRequested", requested(expires_at="2020-01-01T10:00:00+00:00"), key=VOLUNTEER))
    assert ledger(db, kind="volunteer_sign_in") == []


def test_the_sms_with_the_link_fits_in_two_parts(deliver, db) -> None:
    deliver(event("SignInLinkRequested", requested("sms"), key=VOLUNTEER))
    [row] = ledger(db, kind="volunteer_sign_in")
    assert row["segments"] <= 2


class Volunteer:
    def __init__(self, contact: Contact):
        self.contact = contact

    def fetch(self, _volunteer_id: str) -> Contact:
        return self.contact


def book(settings, now: datetime, quiet_hours: str | None, preferred: str = "sms") -> AddressBook:  # type: ignore[no-untyped-def]
    contact = Contact("Zofia", "zofia@example.pl", "+48601202303", preferred, quiet_hours)
    return AddressBook(settings, Volunteer(contact), clock=lambda: now)  # type: ignore[arg-type]


def test_a_volunteers_own_quiet_hours_hold_back_an_sms_that_is_not_urgent(settings) -> None:
    addresses = book(settings, EVENING, "20:00-07:00")
    with pytest.raises(QuietHours) as held:
        addresses.address(f"wolontariusz:{VOLUNTEER}", "sms")
    assert held.value.until == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 07:00 in Warsaw
    assert addresses.address(f"wolontariusz:{VOLUNTEER}", "sms", urgent=True) == "+48601202303"
    assert book(settings, NOON, "20:00-07:00").address(f"wolontariusz:{VOLUNTEER}", "sms") == "+48601202303"
    assert book(settings, EVENING, None).address(f"wolontariusz:{VOLUNTEER}", "sms") == "+48601202303"
    assert book(settings, EVENING, "20:00-07:00", preferred="email").address(
        f"wolontariusz:{VOLUNTEER}", "email") == "zofia@example.pl"  # e-mail is never held back


@pytest.mark.parametrize("span", ["", "nonsense", "25:00-07:00", "21:00", "10:00-10:00"])
def test_unreadable_quiet_hours_hold_nothing_back(span: str) -> None:
    assert personal_quiet_until(span, EVENING) is None


def test_the_sender_postpones_to_the_end_of_the_volunteers_quiet_hours_without_spending_an_attempt(
        db, deliver, settings) -> None:
    clock = {"now": NOON}
    channels = {name: FakeChannel(name) for name in ("email", "sms", "webhook")}
    contact = Contact("Zofia", "zofia@example.pl", "+48601202303", "sms", "11:00-14:00")
    addresses = AddressBook(settings, Volunteer(contact), clock=lambda: clock["now"])  # type: ignore[arg-type]
    sender = Sender(db, settings, channels, addresses, clock=lambda: clock["now"], rng=lambda: 1.0)
    deliver(event("MatchOffered", offered()))
    with db.engine.begin() as conn:  # due now on the test's clock
        conn.execute(sa.update(notifications).values(next_attempt_at=NOON - timedelta(seconds=1)))
    sender.run_once()
    [sms] = ledger(db, channel="sms")
    assert channels["sms"].sent == [] and sms["status"] == "pending" and sms["attempts"] == 0
    assert sms["next_attempt_at"] == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # 14:00 in Warsaw
    clock["now"] = datetime(2026, 11, 26, 13, 0, tzinfo=UTC) + timedelta(seconds=1)
    sender.run_once()
    assert len(channels["sms"].sent) == 1 and ledger(db, channel="sms")[0]["status"] == "sent"
