"""Community activities: reminders the day before (once), notices of change, cancellations and announcements to
consenting residents ("uczestnik:<registration id>") and helpers; an unregistered resident hears nothing more."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notify_support import FakeHttpServer, event, ledger

from services.notify.channels import NotOnThisChannel, PermanentFailure
from services.notify.contacts import AddressBook, ParticipantContacts, VolunteerContacts
from services.notify.settings import Settings

ACTIVITY = "44444444-4444-4444-8444-444444444444"
RESIDENT = "66666666-6666-4666-8666-666666666666"
SILENT = "77777777-7777-4777-8777-777777777777"
HELPER = "33333333-3333-4333-8333-333333333333"
STARTS = (datetime.now(UTC) + timedelta(days=4)).replace(hour=14, minute=0, second=0, microsecond=0)


def scheduled(starts: datetime = STARTS, **over: Any) -> dict[str, Any]:
    return {"activity_id": ACTIVITY, "kind": "workshop", "village": "belno", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity": 10, **over}


def added(participant: str = RESIDENT, role: str = "resident", reminders: bool = True) -> dict[str, Any]:
    return {"activity_id": ACTIVITY, "participant_id": participant, "role": role, "reminders": reminders}


def setup(deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("ActivityScheduled", scheduled(), key=ACTIVITY))
    deliver(event("ParticipantAdded", added(), key=ACTIVITY))
    deliver(event("ParticipantAdded", added(SILENT, reminders=False), key=ACTIVITY))
    deliver(event("ParticipantAdded", added(HELPER, "helper"), key=ACTIVITY))


def pending(db, kind: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [r for r in ledger(db, kind=kind) if r["status"] == "pending"]


def test_a_reminder_is_booked_the_day_before_for_consenting_residents_and_helpers_once(db, deliver) -> None:  # type: ignore[no-untyped-def]
    setup(deliver)
    again = event("ParticipantAdded", added(), key=ACTIVITY)
    deliver(again)
    deliver(again)
    rows = ledger(db, kind="activity_reminder")
    assert sorted({r["recipient"] for r in rows}) == [f"uczestnik:{RESIDENT}", f"wolontariusz:{HELPER}"]
    assert len(rows) == 4  # SMS and e-mail each; the address book sends one of them to a resident
    assert {r["next_attempt_at"] for r in rows} == {STARTS - timedelta(days=1)}
    assert all(r["activity_id"] == ACTIVITY and not r["urgent"] for r in rows)
    assert "warsztat" in rows[0]["subject"] and "Belno" in rows[0]["subject"]


def test_a_new_date_cancels_the_old_reminders_books_new_ones_and_tells_everyone(db, deliver) -> None:  # type: ignore[no-untyped-def]
    setup(deliver)
    later = STARTS + timedelta(days=2)
    deliver(event("ActivityScheduled", scheduled(later), key=ACTIVITY))
    deliver(event("ActivityChanged", {"activity_id": ACTIVITY, "changed": ["time", "venue"], "village": "belno",
                                      "kind": "workshop", "starts_at": later.isoformat(),
                                      "ends_at": (later + timedelta(hours=2)).isoformat()}, key=ACTIVITY))
    reminders = ledger(db, kind="activity_reminder")
    assert sorted(r["status"] for r in reminders) == ["cancelled"] * 4 + ["pending"] * 4
    assert {r["next_attempt_at"] for r in pending(db, "activity_reminder")} == {later - timedelta(days=1)}
    notices = ledger(db, kind="activity_changed")
    assert sorted({r["recipient"] for r in notices}) == [f"uczestnik:{RESIDENT}", f"wolontariusz:{HELPER}"]
    assert "zmienione miejsce" in next(r["body"] for r in notices if r["channel"] == "sms")


def test_moving_back_to_the_first_date_books_the_reminder_again(db, deliver) -> None:  # type: ignore[no-untyped-def]
    setup(deliver)
    deliver(event("ActivityScheduled", scheduled(STARTS + timedelta(days=1)), key=ACTIVITY))
    deliver(event("ActivityScheduled", scheduled(STARTS), key=ACTIVITY))
    assert {r["next_attempt_at"] for r in pending(db, "activity_reminder")} == {STARTS - timedelta(days=1)}
    assert len(pending(db, "activity_reminder")) == 4


def test_a_change_of_title_or_capacity_only_sends_no_notice(db, deliver) -> None:  # type: ignore[no-untyped-def]
    setup(deliver)
    deliver(event("ActivityChanged", {"activity_id": ACTIVITY, "changed": ["title", "capacity"], "village": "belno",
                                      "starts_at": STARTS.isoformat(), "ends_at": (STARTS + timedelta(hours=2))
                                      .isoformat()}, key=ACTIVITY))
    assert ledger(db, kind="activity_changed") == []
    assert len(pending(db, "activity_reminder")) == 4


def test_an_unregistered_resident_gets_nothing_more(db, deliver) -> None:  # type: ignore[no-untyped-def]
    setup(deliver)
    deliver(event("ParticipantRemoved", {"activity_id": ACTIVITY, "participant_id": RESIDENT, "role": "resident",
                                         "reason": "unregistered"}, key=ACTIVITY))
    assert {r["status"] for r in ledger(db, recipient=f"uczestnik:{RESIDENT}")} == {"cancelled"}
    deliver(event("AnnouncementPosted", {"announcement_id": "88888888-8888-4888-8888-888888888888",
                                         "activity_id": ACTIVITY, "text": "Zabierzcie fartuchy"}, key=ACTIVITY))
    assert {r["recipient"] for r in ledger(db, kind="activity_announcement")} == {f"wolontariusz:{HELPER}"}


def test_an_announcement_reaches_consenting_residents_and_helpers_with_the_organisers_text(db, deliver) -> None:  # type: ignore[no-untyped-def]
    setup(deliver)
    posted = event("AnnouncementPosted", {"announcement_id": "88888888-8888-4888-8888-888888888888",
                                          "activity_id": ACTIVITY, "text": "Zabierzcie fartuchy"}, key=ACTIVITY)
    deliver(posted)
    deliver(posted)
    rows = ledger(db, kind="activity_announcement")
    assert len(rows) == 4 and all("Zabierzcie fartuchy" in r["body"] for r in rows)
    assert not any(SILENT in r["recipient"] for r in ledger(db))  # no consent: staff's call list


def test_a_cancellation_stops_the_reminders_and_tells_residents_and_staff_added_helpers(db, deliver) -> None:  # type: ignore[no-untyped-def]
    setup(deliver)
    deliver(event("ActivityCancelled", {"activity_id": ACTIVITY, "reason": "cancelled_by_staff"}, key=ACTIVITY))
    assert pending(db, "activity_reminder") == []
    told = ledger(db, kind="activity_cancelled")
    assert sorted({r["recipient"] for r in told}) == [f"uczestnik:{RESIDENT}", f"wolontariusz:{HELPER}"]
    assert "odwołane" in told[0]["subject"].lower()


def test_a_helper_from_matching_s_offer_gets_reminders_and_hears_of_cancellation_from_matching_only(db, deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("ActivityScheduled", scheduled(), key=ACTIVITY))
    offer = {"match_id": "55555555-5555-4555-8555-555555555555", "activity_id": ACTIVITY, "volunteer_id": HELPER}
    deliver(event("HelperOffered", {**offer, "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                                    "village": "belno", "starts_at": STARTS.isoformat(),
                                    "ends_at": (STARTS + timedelta(hours=2)).isoformat(), "involves_children": False,
                                    "kind": "workshop", "category": None}, key=ACTIVITY))
    deliver(event("HelperAccepted", offer, key=ACTIVITY))
    # an acceptance may still wait at community's Kamilka gate: no reminder until community adds the helper
    assert pending(db, "activity_reminder") == []
    deliver(event("ParticipantAdded", added(HELPER, "helper"), key=ACTIVITY))
    assert {r["recipient"] for r in pending(db, "activity_reminder")} == {f"wolontariusz:{HELPER}"}
    deliver(event("ActivityCancelled", {"activity_id": ACTIVITY}, key=ACTIVITY))
    assert ledger(db, kind="activity_cancelled") == []  # matching's HelperCancelled tells them
    deliver(event("HelperCancelled", {**offer, "reason": "activity_cancelled", "accepted": True}, key=ACTIVITY))
    assert len(ledger(db, kind="helper_cancelled")) == 2


def test_no_reminder_when_the_day_before_has_passed(db, deliver) -> None:  # type: ignore[no-untyped-def]
    soon = datetime.now(UTC) + timedelta(hours=5)
    deliver(event("ActivityScheduled", scheduled(soon), key=ACTIVITY))
    deliver(event("ParticipantAdded", added(), key=ACTIVITY))
    assert ledger(db, kind="activity_reminder") == []


# --- the resident's address, from community's internal API at send time ------------------------------------
def community_api(method: str, path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
    if headers.get("Authorization") != "Bearer right-token":
        return 401, {"message": "Wymagany token usługi."}
    contacts = {RESIDENT: {"phone": "600100200", "email": "anna@example.pl"},
                SILENT: {"phone": "", "email": "jan@example.pl"}}
    for rid, contact in contacts.items():
        if path == f"/internal/registrations/{rid}/contact":
            return 200, {"registration_id": rid, "name": "Anna Nowak", "consent": True, **contact}
    return 404, {"message": "Nie ma takiego zapisu."}


def test_a_resident_gets_one_message_sms_first_from_the_address_community_holds() -> None:
    with FakeHttpServer(community_api) as api:
        book = AddressBook(Settings.from_env({}), VolunteerContacts("http://127.0.0.1:9", "x"),
                           ParticipantContacts(api.url, "right-token"))
        assert book.address(f"uczestnik:{RESIDENT}", "sms") == "600100200"
        with pytest.raises(NotOnThisChannel, match="SMS"):  # one message: not an e-mail beside the SMS
            book.address(f"uczestnik:{RESIDENT}", "email")
        assert book.address(f"uczestnik:{SILENT}", "email") == "jan@example.pl"
        assert book.address(f"uczestnik:{SILENT}", "sms") is None
        with pytest.raises(PermanentFailure, match="404"):  # unregistered or erased
            book.address("uczestnik:99999999-9999-4999-8999-999999999999", "sms")
        assert api.requests[0][1] == f"/internal/registrations/{RESIDENT}/contact"
