"""The sender: due rows go out once, failures back off with jitter, then fail visibly; SMS keeps quiet at night."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from notify_support import (
    NEED,
    FakeAddressBook,
    FakeChannel,
    PermanentFailure,
    TemporaryFailure,
    event,
    ledger,
    match_data,
    offered,
)

from services.notify.app import create_app
from services.notify.db import dead_letters, needs_watched, notifications
from services.notify.sender import Sender, backoff_delay

NOON = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw
NIGHT = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)  # 22:00 in Warsaw


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def channels():  # type: ignore[no-untyped-def]
    return {name: FakeChannel(name) for name in ("email", "sms", "webhook")}


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def sender(db, settings, channels, clock):  # type: ignore[no-untyped-def]
    return Sender(db, settings, channels, FakeAddressBook(), clock=clock, rng=lambda: 1.0)


def make_due(db, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        conn.execute(sa.update(notifications).values(next_attempt_at=clock.now - timedelta(seconds=1)))


def test_a_due_notification_is_sent_once_and_marked_sent(db, deliver, sender, channels, clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    assert sender.run_once() == 2
    assert sender.run_once() == 0
    [mail], [sms] = channels["email"].sent, channels["sms"].sent
    assert {r["status"] for r in ledger(db)} == {"sent"}
    assert mail.address == "ktos@example.pl" and sms.address == "+48600100200"
    assert mail.html and "<a href=" in mail.html and mail.notification_id == ledger(db, channel="email")[0]["id"]


def test_a_notification_not_yet_due_waits(db, deliver, sender, channels) -> None:
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))
    sender.run_once()
    assert ledger(db, kind="visit_reminder")[0]["status"] == "pending"
    assert all(m.kind != "visit_reminder" for m in channels["sms"].sent)


def test_a_webhook_carries_its_json_payload(db, deliver, sender, channels, clock) -> None:
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))
    make_due(db, clock)
    sender.run_once()
    [hook] = channels["webhook"].sent
    assert hook.payload["event"] == "match.accepted" and hook.payload["notification_id"] == hook.notification_id


def test_temporary_failures_back_off_exponentially_then_succeed(db, deliver, sender, channels, clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    channels["email"].failures = [TemporaryFailure("SMTP: timeout"), TemporaryFailure("SMTP: timeout")]
    sender.run_once()
    row = ledger(db, channel="email")[0]
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "SMTP: timeout")
    assert row["next_attempt_at"] == NOON + timedelta(seconds=10)
    clock.now = row["next_attempt_at"]
    sender.run_once()
    assert ledger(db, channel="email")[0]["next_attempt_at"] == clock.now + timedelta(seconds=20)
    clock.now += timedelta(seconds=20)
    sender.run_once()
    assert ledger(db, channel="email")[0]["status"] == "sent" and len(channels["email"].sent) == 1


def test_backoff_is_jittered_and_capped() -> None:
    assert backoff_delay(1, 10, 600, rng=lambda: 0.0) == 5.0
    assert backoff_delay(1, 10, 600, rng=lambda: 1.0) == 10.0
    assert backoff_delay(4, 10, 600, rng=lambda: 1.0) == 80.0
    assert backoff_delay(30, 10, 600, rng=lambda: 1.0) == 600.0
    assert len({backoff_delay(3, 10, 600) for _ in range(20)}) > 1


def test_after_the_last_attempt_the_row_fails_with_a_dead_letter_and_an_alert(db, deliver, sender, channels,
                                                                              clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    channels["sms"].failures = [TemporaryFailure("bramka SMS odpowiedziała 503")] * 3
    for _ in range(3):
        sender.run_once()
        clock.now += timedelta(hours=1)
    row = ledger(db, channel="sms")[0]
    assert (row["status"], row["attempts"]) == ("failed", 3)
    with db.engine.connect() as conn:
        [letter] = conn.execute(sa.select(dead_letters)).mappings().all()
    assert letter["notification_id"] == row["id"] and "503" in letter["reason"]
    client = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "Nie udało się wysłać 1 powiadomienia" in page and "bramka SMS odpowiedziała 503" in page
    [failed] = client.get("/api/notifications/failed").json
    assert (failed["notification_id"], failed["channel"], failed["attempts"]) == (row["id"], "sms", 3)


def test_a_permanent_failure_fails_at_once(db, deliver, sender, channels, clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    channels["email"].failures = [PermanentFailure("serwer poczty odrzucił adres odbiorcy")]
    sender.run_once()
    assert ledger(db, channel="email")[0]["status"] == "failed"
    assert ledger(db, channel="email")[0]["attempts"] == 1


def test_staff_can_put_a_failed_notification_back_in_the_queue(db, deliver, sender, channels, clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    channels["email"].failures = [PermanentFailure("odrzucony")]
    sender.run_once()
    app = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "WTF_CSRF_ENABLED": False})
    row = ledger(db, channel="email")[0]
    response = app.test_client().post(f"/nieudane/{row['id']}/ponow")
    assert response.status_code == 302
    assert ledger(db, channel="email")[0]["status"] == "pending"
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Nie udało się wysłać" not in page


def test_an_sms_at_night_waits_for_eight_in_the_morning(db, deliver, sender, channels, clock) -> None:
    clock.now = NIGHT
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    sender.run_once()
    assert channels["sms"].sent == [] and len(channels["email"].sent) == 1
    assert ledger(db, channel="sms")[0]["next_attempt_at"] == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    sender.run_once()
    assert len(channels["sms"].sent) == 1


def test_an_urgent_sms_goes_out_at_night(db, deliver, sender, channels, clock) -> None:
    clock.now = NIGHT
    deliver(event("MatchOffered", offered(urgent=True)))
    make_due(db, clock)
    sender.run_once()
    assert len(channels["sms"].sent) == 1 and "PILNE" in channels["sms"].sent[0].text


def test_a_send_interrupted_by_a_crash_is_resent_with_the_same_identity_after_the_lease(db, deliver, sender,
                                                                                       channels, clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    row = ledger(db, channel="email")[0]
    assert sender.claim(row["id"], clock.now)  # a sender claimed it, then died before marking it
    sender.run_once()
    assert ledger(db, channel="email")[0]["status"] == "sending" and channels["email"].sent == []
    clock.now += timedelta(seconds=61)
    sender.run_once()
    [mail] = channels["email"].sent
    assert mail.notification_id == row["id"] and ledger(db, channel="email")[0]["status"] == "sent"


def test_a_recipient_without_a_phone_number_is_skipped_not_failed(db, deliver, settings, channels, clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    book = FakeAddressBook({("wolontariusz:33333333-3333-4333-8333-333333333333", "sms"): None})
    Sender(db, settings, channels, book, clock=clock).run_once()
    assert ledger(db, channel="sms")[0]["status"] == "skipped" and channels["sms"].sent == []


def need_registered(**over):  # type: ignore[no-untyped-def]
    start = (NOON + timedelta(days=5)).isoformat()
    return {"need_id": NEED, "resident_ref": "R-1", "category": "ZAK", "village": "belno", "window_start": start,
            "window_end": (NOON + timedelta(days=5, hours=2)).isoformat(), "duration_minutes": 60, "urgent": False,
            "slots": 1, **over}


def registered_at(db, when: datetime) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        conn.execute(sa.update(needs_watched).values(registered_at=when))


def test_a_need_without_a_provider_for_48_hours_is_reported_to_the_organiser_once(db, deliver, sender, channels,
                                                                                   clock) -> None:
    deliver(event("NeedRegistered", need_registered(), key=NEED))
    registered_at(db, NOON - timedelta(hours=47))
    sender.run_once()
    assert ledger(db, kind="need_unmatched") == []
    clock.now = NOON + timedelta(hours=1)
    sender.run_once()
    sender.run_once()
    [row] = ledger(db, kind="need_unmatched")
    assert (row["recipient"], row["channel"], row["status"]) == ("organizator", "email", "sent")
    assert "od 48 h" in row["subject"] and len(channels["email"].sent) == 1


def test_a_need_accepted_in_time_is_not_reported(db, deliver, sender, clock) -> None:
    deliver(event("NeedRegistered", need_registered(), key=NEED))
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))
    registered_at(db, NOON - timedelta(hours=49))
    sender.run_once()
    assert ledger(db, kind="need_unmatched") == []


def test_a_slow_sender_whose_claim_was_taken_over_does_not_overwrite_the_new_owner(db, deliver, settings, clock) -> None:
    deliver(event("MatchOffered", offered()))
    make_due(db, clock)
    later = clock.now + timedelta(minutes=5)

    class TakenOverWhileSending(FakeChannel):
        def send(self, message):  # type: ignore[no-untyped-def]
            with db.engine.begin() as conn:  # meanwhile the lease ran out and another sender claimed the row
                conn.execute(sa.update(notifications).where(notifications.c.id == message.notification_id)
                             .values(claimed_at=later))
            super().send(message)

    channels = {"email": TakenOverWhileSending("email"), "sms": TakenOverWhileSending("sms")}
    Sender(db, settings, channels, FakeAddressBook(), clock=clock).run_once()
    assert {(r["status"], r["claimed_at"]) for r in ledger(db)} == {("sending", later)}


def test_the_senders_metrics_count_outcomes_and_ledger_rows(db, deliver, sender, clock) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client import generate_latest

    from wspolnota.metrics import WorkerMetrics
    from wspolnota.testing import metric_samples

    metrics = WorkerMetrics("notify", "sender").sender(sender, notifications)

    def scrape() -> dict[tuple[str, str], float]:
        return {(name, labels[0][1] if labels else ""): value
                for (name, labels), value in metric_samples(generate_latest(metrics.registry).decode()).items()}

    deliver(event("MatchOffered", offered()))
    assert scrape()[("wspolnota_notification_rows", "pending")] == 2
    make_due(db, clock)
    sender.run_once()
    got = scrape()
    assert got[("wspolnota_notifications_total", "sent")] == 2 and got[("wspolnota_notifications_total", "failed")] == 0
    assert got[("wspolnota_notification_rows", "sent")] == 2 and ("wspolnota_notification_rows", "pending") not in got
