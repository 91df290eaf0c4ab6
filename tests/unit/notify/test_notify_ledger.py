"""Events become ledger rows: who hears what on which channel, once per (event, recipient, channel)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from notify_support import (
    IN_THREE_DAYS,
    MATCH,
    NEED,
    VOLUNTEER,
    event,
    ledger,
    match_data,
    offered,
    outbox_events,
)
from sqlalchemy.exc import IntegrityError

from services.notify.db import notifications

PROVIDER = f"wolontariusz:{VOLUNTEER}"


def test_an_offer_goes_to_the_provider_by_sms_and_email_with_signed_links(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    rows = ledger(db, kind="match_offered")
    assert sorted((r["recipient"], r["channel"], r["status"]) for r in rows) == [
        (PROVIDER, "email", "pending"), (PROVIDER, "sms", "pending")]
    sms = next(r for r in rows if r["channel"] == "sms")
    assert "http://test/notify/o/" in sms["body"] and sms["segments"] <= 2
    email = next(r for r in rows if r["channel"] == "email")
    assert email["body"].count("http://test/notify/o/") == 2
    assert len(outbox_events(db, "NotificationRecorded")) == 2


def test_a_redelivered_event_records_nothing_new(db, deliver) -> None:
    offer = event("MatchOffered", offered())
    deliver(offer)
    deliver(offer)
    assert len(ledger(db, kind="match_offered")) == 2
    assert len(outbox_events(db, "NotificationRecorded")) == 2


def test_the_database_itself_refuses_a_second_row_for_the_same_event_recipient_and_channel(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    row = ledger(db, channel="sms")[0]
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(sa.insert(notifications).values({**row, "id": "another-id"}))


def test_acceptance_reaches_the_organiser_and_the_case_system_and_books_a_reminder(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    accepted = event("MatchAccepted", match_data())
    deliver(accepted)
    rows = {(r["kind"], r["recipient"], r["channel"]): r for r in ledger(db)}
    assert ("match_accepted", "organizator", "email") in rows
    hook = rows[("match_accepted", "system_cus", "webhook")]
    assert '"event": "match.accepted"' in hook["payload"] and f'"need_id": "{NEED}"' in hook["payload"]
    assert '"notification_id": "' + hook["id"] in hook["payload"]
    reminder = rows[("visit_reminder", PROVIDER, "sms")]
    assert reminder["next_attempt_at"] == IN_THREE_DAYS - timedelta(hours=24)
    assert "Zakupy i sprawunki" in reminder["body"]


def test_no_reminder_is_booked_once_its_time_has_passed_by_the_services_clock(db, outbox, settings) -> None:
    from services.notify.handlers import handlers

    table = handlers(outbox, settings, clock=lambda: IN_THREE_DAYS - timedelta(hours=2))
    for e in (event("MatchOffered", offered()), event("MatchAccepted", match_data())):
        with db.transaction() as session:
            table[e.type](session, e)
    assert ledger(db, kind="match_accepted") and not ledger(db, kind="visit_reminder")


def test_no_personal_data_is_kept_in_the_ledger_or_sent_on_the_bus(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))
    for row in ledger(db):
        assert "@" not in row["recipient"] and "+48" not in row["recipient"]
    for e in outbox_events(db, "NotificationRecorded"):
        assert set(e["data"]) == {"notification_id", "cause_event_id", "kind", "channel", "recipient_role"}


def test_a_cancellation_reaches_everyone_affected_and_stops_the_reminder(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))
    deliver(event("MatchCancelled", match_data(reason="Mieszkanka jest w szpitalu")))
    reminders = ledger(db, kind="visit_reminder")
    assert reminders and {r["status"] for r in reminders} == {"cancelled"}
    cancelled = {(r["recipient"], r["channel"]) for r in ledger(db, kind="match_cancelled")}
    assert cancelled == {(PROVIDER, "sms"), (PROVIDER, "email"), ("organizator", "email"),
                         ("system_cus", "webhook")}
    assert all(r["urgent"] for r in ledger(db, kind="match_cancelled", recipient=PROVIDER))


def test_a_provider_who_was_only_proposed_hears_nothing_of_a_cancellation(db, deliver) -> None:
    deliver(event("MatchProposed", match_data(offer_id=NEED, category="ZAK", village="belno",
                                              window_start=IN_THREE_DAYS.isoformat(), urgent=False,
                                              reason="Pasuje: ta sama miejscowość.")))
    deliver(event("MatchCancelled", match_data(reason="Potrzeba odwołana")))
    assert {(r["recipient"], r["channel"]) for r in ledger(db, kind="match_cancelled")} == {("organizator", "email")}


def test_an_offer_not_yet_sent_is_withdrawn_when_it_expires(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchExpired", match_data()))
    assert {r["status"] for r in ledger(db, kind="match_offered")} == {"cancelled"}


def need_registered(**over):  # type: ignore[no-untyped-def]
    return {"need_id": NEED, "resident_ref": "R-1", "category": "ZAK", "village": "belno",
            "window_start": IN_THREE_DAYS.isoformat(), "window_end": (IN_THREE_DAYS + timedelta(hours=2)).isoformat(),
            "duration_minutes": 60, "urgent": False, "slots": 1, **over}


def test_a_support_package_start_and_end_reach_the_ipus_coordinator(db, deliver) -> None:
    deliver(event("SupportPackageOpened", {"plan_ref": "IPUS/2026/017", "resident_ref": "R-1", "village": "belno",
                                           "start_date": "2026-12-01", "end_date": "2027-02-28"}, key="IPUS/2026/017"))
    deliver(event("SupportPackageClosed", {"plan_ref": "IPUS/2026/017"}, key="IPUS/2026/017"))
    rows = ledger(db, recipient="koordynator_ipus")
    assert [r["kind"] for r in sorted(rows, key=lambda r: r["kind"])] == ["support_package_ended",
                                                                          "support_package_started"]
    assert all("IPUS/2026/017" in r["subject"] for r in rows)


def test_a_credential_warning_is_due_thirty_days_before_it_expires(db, deliver) -> None:
    until = (datetime.now(UTC) + timedelta(days=90)).date()
    deliver(event("CredentialRecorded", {"volunteer_id": VOLUNTEER, "kind": "first_aid",
                                         "valid_from": "2025-01-01", "valid_until": until.isoformat()},
                  key=VOLUNTEER))
    rows = ledger(db, kind="credential_expiring")
    assert {r["channel"] for r in rows} == {"sms", "email"}
    assert rows[0]["next_attempt_at"].date() == until - timedelta(days=30)
    assert "szkolenie z pierwszej pomocy" in rows[0]["subject"]


def test_a_renewed_credential_replaces_the_warning_for_the_old_date(db, deliver) -> None:
    def recorded(days: int):  # type: ignore[no-untyped-def]
        until = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
        return event("CredentialRecorded", {"volunteer_id": VOLUNTEER, "kind": "first_aid",
                                            "valid_from": "2025-01-01", "valid_until": until}, key=VOLUNTEER)

    deliver(recorded(60))
    renewal = recorded(425)
    deliver(renewal)
    deliver(renewal)  # handled again: the renewal's own warning stays
    rows = ledger(db, kind="credential_expiring")
    assert sorted(r["status"] for r in rows) == ["cancelled", "cancelled", "pending", "pending"]
    [due] = {r["next_attempt_at"].date() for r in rows if r["status"] == "pending"}
    assert due == (datetime.now(UTC) + timedelta(days=395)).date()


def test_an_erased_volunteer_gets_nothing_more(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    deliver(event("VolunteerErased", {"volunteer_id": VOLUNTEER}, key=VOLUNTEER))
    assert {r["status"] for r in ledger(db, recipient=PROVIDER)} == {"cancelled"}


def test_only_events_whose_schemas_exist_get_handlers(outbox, settings) -> None:
    from services.notify.handlers import CONSUMES, handlers

    assert set(handlers(outbox, settings)) <= CONSUMES.types()
    assert MATCH  # the fixtures' ids are valid UUIDs the schemas accept


def test_the_case_system_hears_of_an_acceptance_under_its_own_plan_reference(db, deliver) -> None:
    deliver(event("NeedRegistered", {
        "need_id": NEED, "resident_ref": "R-1", "category": "ZAK", "village": "belno",
        "window_start": IN_THREE_DAYS.isoformat(), "window_end": (IN_THREE_DAYS + timedelta(hours=2)).isoformat(),
        "duration_minutes": 60, "urgent": False, "slots": 1, "plan_ref": "IPUS/2026/017"}))
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))
    [hook] = ledger(db, kind="match_accepted", channel="webhook")
    assert '"plan_ref": "IPUS/2026/017"' in hook["payload"]
    assert "R-1" not in hook["payload"]  # the resident's reference stays out of the webhook


def test_a_cancellation_says_why_in_polish_and_the_case_system_gets_the_code(db, deliver) -> None:
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))
    deliver(event("MatchCancelled", match_data(reason="volunteer_paused")))
    [staff] = ledger(db, kind="match_cancelled", recipient="organizator")
    assert "Powód: wykonawca wstrzymał udział" in staff["body"] and "volunteer_paused" not in staff["body"]
    [webhook] = ledger(db, kind="match_cancelled", channel="webhook")
    assert json.loads(webhook["payload"])["reason"] == "volunteer_paused"
