"""Engagement messages: a volunteer is thanked once per completed visit and nudged once per period when idle with
needs waiting near them; neither goes out in the quiet hours (e-mail included), and a volunteer who switched them
off gets neither (decided at send time from the volunteers service's contact)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from notify_support import MATCH, NEED, VOLUNTEER, FakeChannel, event, ledger

from services.notify.contacts import AddressBook, Contact
from services.notify.db import notifications
from services.notify.handlers import handlers
from services.notify.messages import waiting_pl
from services.notify.sender import Sender

NOON = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw
NIGHT = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 23:00 in Warsaw: inside the 20:00-08:00 quiet hours
MORNING = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 08:00 in Warsaw


def handle(db, outbox, settings, at: datetime, *events) -> None:  # type: ignore[no-untyped-def]
    table = handlers(outbox, settings, clock=lambda: at)
    for e in events:
        with db.transaction() as session:
            table[e.type](session, e)


def completed(**over: object) -> dict[str, object]:
    return {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER, "hours": 1.5, "category": "ZAK", **over}


def test_a_completed_visit_thanks_the_volunteer_once_even_if_completed_again(db, outbox, settings) -> None:  # type: ignore[no-untyped-def]
    handle(db, outbox, settings, NOON, event("MatchCompleted", completed()), event("MatchCompleted", completed()))
    rows = ledger(db, kind="visit_thanks")
    assert sorted(r["channel"] for r in rows) == ["email", "sms"]
    assert all(r["recipient"] == f"wolontariusz:{VOLUNTEER}" and not r["urgent"] for r in rows)
    assert "Zakupy" in rows[0]["body"] and "/volunteers/wolontariusz/godziny" in rows[0]["body"]


def test_thanks_recorded_in_the_quiet_hours_wait_for_the_morning_on_both_channels(db, outbox, settings) -> None:  # type: ignore[no-untyped-def]
    handle(db, outbox, settings, NIGHT, event("MatchCompleted", completed()))
    assert {r["next_attempt_at"] for r in ledger(db, kind="visit_thanks")} == {MORNING}


def nudged(period: date = date(2026, 11, 1), **over: object) -> dict[str, object]:
    return {"volunteer_id": VOLUNTEER, "open_needs": 3, "villages": ["belno"], "period": period.isoformat(), **over}


def test_a_nudge_is_sent_once_per_period_with_the_count_in_polish(db, outbox, settings) -> None:  # type: ignore[no-untyped-def]
    handle(db, outbox, settings, NOON, event("IdleVolunteerNudged", nudged(), key=VOLUNTEER),
           event("IdleVolunteerNudged", nudged(), key=VOLUNTEER))
    [mail] = ledger(db, kind="idle_nudge", channel="email")
    assert "3 prośby o pomoc czekają" in mail["body"]
    handle(db, outbox, settings, NOON, event("IdleVolunteerNudged", nudged(date(2026, 12, 1)), key=VOLUNTEER))
    assert len(ledger(db, kind="idle_nudge", channel="sms")) == 2


@pytest.mark.parametrize("n, text", [(1, "1 prośba o pomoc czeka"), (2, "2 prośby o pomoc czekają"),
                                     (5, "5 próśb o pomoc czeka"), (12, "12 próśb o pomoc czeka"),
                                     (22, "22 prośby o pomoc czekają")])
def test_waiting_needs_have_the_right_polish_form(n: int, text: str) -> None:
    assert waiting_pl(n) == text


class Volunteer:
    def __init__(self, engagement: bool):
        self.contact = Contact("Zofia", "zofia@example.pl", "+48601202303", "email", None, engagement)

    def fetch(self, _volunteer_id: str) -> Contact:
        return self.contact


@pytest.mark.parametrize("wants, status", [(True, "sent"), (False, "skipped")])
def test_a_volunteer_who_switched_them_off_gets_no_thanks_but_still_gets_their_tasks(
        db, outbox, settings, wants: bool, status: str) -> None:  # type: ignore[no-untyped-def]
    channels = {name: FakeChannel(name) for name in ("email", "sms", "webhook")}
    addresses = AddressBook(settings, Volunteer(wants), clock=lambda: NOON)  # type: ignore[arg-type]
    handle(db, outbox, settings, NOON, event("MatchCompleted", completed()))
    with db.engine.begin() as conn:  # due now on the test's clock
        conn.execute(sa.update(notifications).values(next_attempt_at=NOON - timedelta(seconds=1)))
    Sender(db, settings, channels, addresses, clock=lambda: NOON, rng=lambda: 1.0).run_once()
    [mail] = ledger(db, kind="visit_thanks", channel="email")
    assert mail["status"] == status
    if not wants:
        assert mail["last_error"] == "wolontariusz wyłączył podziękowania i przypomnienia"
        assert addresses.address(f"wolontariusz:{VOLUNTEER}", "email", kind="match_offered") == "zofia@example.pl"
