"""Residents hear what concerns them: help arranged with the volunteer's first name (read at send time, never
stored), a reminder the day before, "we're looking for someone else", a cancellation, a new time — by SMS with their
consent, or as a staff call task; never an SMS at night; once per event however often the bus delivers it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from notify_support import IN_THREE_DAYS, MATCH, NEED, VOLUNTEER, FakeChannel, event, ledger, offered

from services.notify import resident_notices as rn
from services.notify.channels import NotOnThisChannel, PermanentFailure, QuietHours
from services.notify.contacts import AddressBook, Contact, ResidentContact
from services.notify.db import call_tasks, resident_visits
from services.notify.messages import POLISH_TO_GSM7, for_duration, on_day, render
from services.notify.sender import Sender

RESIDENT = "M-ABC234"
NOON = datetime(2026, 12, 8, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw
NIGHT = datetime(2026, 12, 8, 22, 30, tzinfo=UTC)  # 23:30 in Warsaw


def registered(**over: Any) -> dict[str, Any]:
    return {"need_id": NEED, "resident_ref": RESIDENT, "category": "ZAK", "village": "belno",
            "window_start": (IN_THREE_DAYS - timedelta(hours=1)).isoformat(),
            "window_end": (IN_THREE_DAYS + timedelta(hours=4)).isoformat(), "duration_minutes": 90,
            "urgent": False, "slots": 1, **over}


def arranged_visit(deliver: Any, channel: str | None = "sms") -> Any:
    """A need of the resident, their channel, an offer with the agreed time, its acceptance (returned)."""
    deliver(event("NeedRegistered", registered()))
    if channel:
        deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": channel}, key=RESIDENT))
    deliver(event("MatchOffered", offered(agreed_start=IN_THREE_DAYS.isoformat())))
    accepted = event("MatchAccepted", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER})
    deliver(accepted)
    return accepted


def says(phrase: str, body: str) -> bool:
    """In the text as sent: SMS drop Polish letters when that saves parts (messages.sms_text)."""
    return phrase in body or phrase.translate(POLISH_TO_GSM7) in body


def resident_rows(db: Any, **where: Any) -> list[dict[str, Any]]:
    return [r for r in ledger(db, recipient=f"mieszkaniec:{RESIDENT}", **where)]


def tasks(db: Any) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(call_tasks).order_by(call_tasks.c.due_at)).mappings()]


class Volunteers:
    def __init__(self, name: str = "Zofia Wiśniewska", missing: bool = False):
        self.name, self.missing, self.asked = name, missing, []

    def fetch(self, volunteer_id: str) -> Contact:
        self.asked.append(volunteer_id)
        if self.missing:
            raise PermanentFailure("brak wolontariusza")
        return Contact(name=self.name, email=None, phone=None)


class Residents:
    def __init__(self, channel: str = "sms", consent: bool = True, phone: str = "+48 600 100 200"):
        self.contact = ResidentContact(RESIDENT, channel, consent, phone if consent else "")
        self.asked: list[tuple[str, str]] = []

    def fetch(self, resident_ref: str, purpose: str, asked_for: str = "") -> ResidentContact:
        self.asked.append((resident_ref, purpose))
        return self.contact


# -- texts ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("minutes", "said"), [
    (60, "na 1 godzinę"), (120, "na 2 godziny"), (240, "na 4 godziny"), (300, "na 5 godzin"), (720, "na 12 godzin"),
    (1320, "na 22 godziny"), (90, "na półtorej godziny"), (150, "na 2,5 godziny"), (30, "na 30 minut"),
    (45, "na 45 minut"), (75, "na 1 godz. 15 min"), (None, "")])
def test_a_visits_length_is_said_in_the_right_polish_form(minutes: int | None, said: str) -> None:
    assert for_duration(minutes) == said


@pytest.mark.parametrize(("day", "said"), [
    (datetime(2026, 12, 7, 9, 0, tzinfo=UTC), "w poniedziałek 7.12 o 10:00"),
    (datetime(2026, 12, 8, 9, 0, tzinfo=UTC), "we wtorek 8.12 o 10:00"),
    (datetime(2026, 12, 9, 9, 0, tzinfo=UTC), "w środę 9.12 o 10:00"),
    (datetime(2026, 12, 12, 9, 0, tzinfo=UTC), "w sobotę 12.12 o 10:00"),
    (datetime(2026, 7, 5, 8, 30, tzinfo=UTC), "w niedzielę 5.07 o 10:30")])  # summer time
def test_the_day_of_a_visit_takes_its_preposition_and_case(day: datetime, said: str) -> None:
    assert on_day(day) == said


def test_help_arranged_names_the_first_name_slot_the_time_and_the_help_never_a_name() -> None:
    text = render("resident_arranged", category_code="ZAK", window_start=datetime(2026, 12, 8, 9, tzinfo=UTC),
                  duration_minutes=120, first_name=rn.FIRST_NAME, changed=False)
    assert text.sms == ("CUS Zagnańsk: pomoc umówiona — Zakupy i sprawunki we wtorek 8.12 o 10:00, na 2 godziny. "
                        "Przyjdzie {imie}. Pytania: prosimy dzwonić do CUS.")
    assert "Dzień dobry, dzwonię z Centrum Usług Społecznych w Zagnańsku." in text.email  # what staff say
    moved = render("resident_arranged", category_code="ZAK", window_start=datetime(2026, 12, 9, 9, tzinfo=UTC),
                   duration_minutes=60, first_name="Zofia", changed=True)
    assert "zmiana terminu — Zakupy i sprawunki teraz w środę 9.12 o 10:00, na 1 godzinę. Przyjdzie Zofia." in moved.sms


def test_the_first_name_is_the_first_word_of_the_name() -> None:
    assert rn.first_name("Zofia Wiśniewska") == "Zofia"
    assert rn.first_name("  Jan  ") == "Jan"
    assert rn.first_name("") == rn.NO_FIRST_NAME


# -- what is booked, for whom ----------------------------------------------------------------------------------
def test_an_accepted_visit_books_the_residents_sms_and_reminder_once(deliver, db) -> None:
    accepted = arranged_visit(deliver)
    deliver(accepted)  # the bus delivers it again
    rows = resident_rows(db)
    assert [(r["kind"], r["channel"]) for r in rows] == [("resident_arranged", "sms"), ("resident_reminder", "sms")]
    arranged, reminder = rows
    assert "{imie}" in arranged["body"] and "Zofia" not in arranged["body"]
    assert says("na półtorej godziny", arranged["body"]) and arranged["status"] == "pending"
    assert reminder["next_attempt_at"] == IN_THREE_DAYS - timedelta(hours=24)


def test_a_resident_without_consent_gets_nothing(deliver, db) -> None:
    arranged_visit(deliver, channel=None)
    assert resident_rows(db) == []
    deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": "none"}, key=RESIDENT))
    assert resident_rows(db) == []


def test_a_resident_without_a_mobile_phone_gets_call_tasks_instead(deliver, db) -> None:
    arranged_visit(deliver, channel="call")
    rows = resident_rows(db)
    assert {(r["channel"], r["status"]) for r in rows} == {("call", "recorded")}
    assert [(t["kind"], t["status"], t["attempts"]) for t in tasks(db)] == [
        ("resident_arranged", "open", 0), ("resident_reminder", "open", 0)]
    assert tasks(db)[1]["due_at"] == IN_THREE_DAYS - timedelta(hours=24)
    assert "Dzień dobry, dzwonię z Centrum Usług Społecznych" in rows[0]["body"]


def test_a_visit_given_by_a_series_commitment_gets_its_reminder_only(deliver, db) -> None:
    deliver(event("NeedRegistered", registered(series_id="S-1")))
    deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": "sms"}, key=RESIDENT))
    deliver(event("MatchAccepted", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER,
                                    "series_commitment": "44444444-4444-4444-8444-444444444444",
                                    "series_id": "S-1", "category": "ZAK", "village": "belno",
                                    "window_start": IN_THREE_DAYS.isoformat(),
                                    "agreed_start": IN_THREE_DAYS.isoformat()}))
    assert [r["kind"] for r in resident_rows(db)] == ["resident_reminder"]


def test_a_stepped_back_volunteer_means_we_look_for_someone_else_and_the_reminder_stops(deliver, db) -> None:
    arranged_visit(deliver)
    cancelled = event("MatchCancelled", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER,
                                         "reason": "stepped_back"})
    deliver(cancelled)
    deliver(cancelled)
    by_kind = {r["kind"]: r for r in resident_rows(db)}
    assert by_kind["resident_reminder"]["status"] == "cancelled"
    assert says("Szukamy kogoś innego i damy znać.", by_kind["resident_looking"]["body"])
    assert len(resident_rows(db, kind="resident_looking")) == 1


def test_a_new_acceptance_after_looking_is_help_arranged_again(deliver, db) -> None:
    arranged_visit(deliver)
    deliver(event("MatchCancelled", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER,
                                     "reason": "volunteer_paused"}))
    other = "55555555-5555-4555-8555-555555555555"
    later = IN_THREE_DAYS + timedelta(hours=2)
    deliver(event("MatchOffered", offered(match_id=other, agreed_start=later.isoformat())))
    deliver(event("MatchAccepted", {"match_id": other, "need_id": NEED, "volunteer_id": VOLUNTEER}))
    [first, again] = resident_rows(db, kind="resident_arranged")
    assert says("zmiana terminu", again["body"]) and again["match_id"] == other
    assert [r["status"] for r in resident_rows(db, kind="resident_reminder")] == ["cancelled", "pending"]


def test_a_cancelled_need_tells_the_resident_once_and_not_twice_through_the_match(deliver, db) -> None:
    arranged_visit(deliver)
    deliver(event("MatchCancelled", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER,
                                     "reason": "need_cancelled"}))
    cancelled = event("NeedCancelled", {"need_id": NEED, "reason": "cancelled"})
    deliver(cancelled)
    deliver(cancelled)
    [row] = resident_rows(db, kind="resident_cancelled")
    assert says("jest odwołana", row["body"])
    assert resident_rows(db, kind="resident_looking") == []


def test_a_need_moved_while_we_look_tells_the_new_time(deliver, db) -> None:
    arranged_visit(deliver)
    deliver(event("MatchCancelled", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER,
                                     "reason": "credential_expired"}))
    moved = IN_THREE_DAYS + timedelta(days=1)
    deliver(event("NeedUpdated", registered(window_start=moved.isoformat(),
                                            window_end=(moved + timedelta(hours=3)).isoformat())))
    [row] = resident_rows(db, kind="resident_changed")
    assert says(on_day(moved), row["body"])


def test_choosing_calls_turns_the_waiting_sms_into_call_tasks_and_none_stops_them(deliver, db) -> None:
    arranged_visit(deliver)
    deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": "call"}, key=RESIDENT))
    assert {r["status"] for r in resident_rows(db, channel="sms")} == {"cancelled"}
    assert [t["kind"] for t in tasks(db)] == ["resident_arranged", "resident_reminder"]
    deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": "sms"}, key=RESIDENT))
    assert {r["status"] for r in resident_rows(db, channel="sms")} == {"pending"}
    assert {t["status"] for t in tasks(db)} == {"cancelled"}
    deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": "none"}, key=RESIDENT))
    assert {r["status"] for r in resident_rows(db)} == {"cancelled"}


def test_erasure_cancels_pending_notices_and_call_tasks_and_forgets_the_visits(deliver, db) -> None:
    arranged_visit(deliver, channel="call")
    deliver(event("ResidentErased", {"resident_ref": RESIDENT, "erased_at": datetime.now(UTC).isoformat(),
                                     "need_ids": [NEED]}, key=RESIDENT))
    assert {t["status"] for t in tasks(db)} == {"cancelled"}
    assert {t["resident_ref"] for t in tasks(db)} == {"(usunięty)"}
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(resident_visits)).all() == []


# -- sending ----------------------------------------------------------------------------------------------------
def test_the_sms_goes_with_the_volunteers_first_name_read_at_send_time(deliver, db, settings) -> None:
    arranged_visit(deliver)
    volunteers, residents = Volunteers(), Residents()
    book = AddressBook(settings, volunteers, residents=residents, clock=lambda: NOON)  # type: ignore[arg-type]
    channels = {name: FakeChannel(name) for name in ("email", "sms", "webhook")}
    Sender(db, settings, channels, book, clock=lambda: NOON).run_once()  # type: ignore[arg-type]
    texts = [m.text for m in channels["sms"].sent if "mieszkaniec" not in m.address]
    [arranged] = [m for m in channels["sms"].sent if says("pomoc umówiona", m.text)]
    assert arranged.address == "+48 600 100 200" and "Przyjdzie Zofia." in arranged.text
    assert "Wiśniewska" not in " ".join(texts)
    assert "{imie}" in resident_rows(db, kind="resident_arranged")[0]["body"]  # the ledger never keeps the name
    assert residents.asked == [(RESIDENT, "SMS do mieszkańca o wizycie")] and VOLUNTEER in volunteers.asked


def test_a_volunteer_gone_from_the_register_is_said_as_someone_from_cus(deliver, db, settings) -> None:
    arranged_visit(deliver)
    book = AddressBook(settings, Volunteers(missing=True), residents=Residents(),  # type: ignore[arg-type]
                       clock=lambda: NOON)
    channels = {name: FakeChannel(name) for name in ("email", "sms", "webhook")}
    Sender(db, settings, channels, book, clock=lambda: NOON).run_once()  # type: ignore[arg-type]
    assert any("Przyjdzie osoba z CUS." in m.text for m in channels["sms"].sent)


def test_never_an_sms_to_a_resident_at_night_even_an_urgent_one(settings) -> None:
    residents = Residents()
    book = AddressBook(settings, Volunteers(), residents=residents, clock=lambda: NIGHT)  # type: ignore[arg-type]
    with pytest.raises(QuietHours) as held:
        book.address(f"mieszkaniec:{RESIDENT}", "sms", urgent=True)
    assert held.value.until == datetime(2026, 12, 9, 7, 0, tzinfo=UTC)  # 08:00 in Warsaw
    assert residents.asked == []  # nothing read while the message waits


@pytest.mark.parametrize(("contact", "why"), [
    (Residents(consent=False), "nie zgodził się"), (Residents(channel="none"), "nie zgodził się"),
    (Residents(channel="call"), "telefon od pracownika")])
def test_an_sms_is_skipped_without_consent_or_when_the_resident_chose_calls(settings, contact, why) -> None:
    book = AddressBook(settings, Volunteers(), residents=contact, clock=lambda: NOON)  # type: ignore[arg-type]
    with pytest.raises(NotOnThisChannel, match=why):
        book.address(f"mieszkaniec:{RESIDENT}", "sms")
    assert book.address(f"mieszkaniec:{RESIDENT}", "email") is None


def test_call_attempts_are_counted_and_three_failures_close_the_task(deliver, db) -> None:
    arranged_visit(deliver, channel="call")
    task = tasks(db)[0]["id"]
    assert rn.mark_call(db, task, False, "anna", NOON) == "open"
    assert rn.mark_call(db, task, False, "anna", NOON) == "open"
    assert rn.mark_call(db, task, False, "anna", NOON) == "unreachable"
    assert rn.mark_call(db, task, True, "anna", NOON) is None  # closed already
    other = tasks(db)[1]["id"]
    assert rn.mark_call(db, other, True, "anna", NOON) == "done"
    done = {t["id"]: t for t in tasks(db)}
    assert (done[task]["attempts"], done[other]["attempts"], done[other]["last_by"]) == (3, 1, "anna")


def test_a_need_that_expired_while_we_looked_tells_the_resident_nobody_was_found(deliver, db) -> None:
    arranged_visit(deliver)
    deliver(event("MatchCancelled", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER,
                                     "reason": "stepped_back"}))
    with db.engine.begin() as conn:  # the visit's time went by with nobody found
        conn.execute(sa.update(resident_visits).values(visit_start=datetime.now(UTC) - timedelta(hours=1)))
    deliver(event("NeedCancelled", {"need_id": NEED, "reason": "expired"}))
    [row] = resident_rows(db, kind="resident_cancelled")
    assert says("nie znaleźliśmy nikogo", row["body"])


def test_a_visit_already_past_is_not_called_off_to_the_resident(deliver, db) -> None:
    arranged_visit(deliver)
    with db.engine.begin() as conn:
        conn.execute(sa.update(resident_visits).values(visit_start=datetime.now(UTC) - timedelta(hours=1)))
    deliver(event("NeedCancelled", {"need_id": NEED, "reason": "cancelled"}))
    assert resident_rows(db, kind="resident_cancelled") == []


def test_an_acceptance_handled_before_its_need_is_told_when_the_need_arrives_once(deliver, db) -> None:
    deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": "sms"}, key=RESIDENT))
    deliver(event("MatchOffered", offered(agreed_start=IN_THREE_DAYS.isoformat())))
    accepted = event("MatchAccepted", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER})
    deliver(accepted)  # the matches topic came first: notify does not know whose need it is yet
    assert resident_rows(db) == []
    deliver(event("NeedRegistered", registered()))
    deliver(accepted)
    assert [r["kind"] for r in resident_rows(db)] == ["resident_arranged", "resident_reminder"]


def test_a_consent_given_after_the_visit_was_arranged_tells_the_resident_then(deliver, db) -> None:
    arranged_visit(deliver, channel=None)
    assert resident_rows(db) == []
    consent = event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": "sms"}, key=RESIDENT)
    deliver(consent)
    deliver(consent)
    assert [r["kind"] for r in resident_rows(db)] == ["resident_arranged", "resident_reminder"]


def test_switching_back_to_calls_opens_the_same_tasks_again(deliver, db) -> None:
    arranged_visit(deliver, channel="call")
    for channel in ("sms", "call"):
        deliver(event("ResidentNoticesChanged", {"resident_ref": RESIDENT, "channel": channel}, key=RESIDENT))
    assert [(t["kind"], t["status"]) for t in tasks(db)] == [("resident_arranged", "open"),
                                                              ("resident_reminder", "open")]
    assert {r["status"] for r in resident_rows(db, channel="call")} == {"recorded"}
    assert {r["status"] for r in resident_rows(db, channel="sms")} == {"cancelled"}
