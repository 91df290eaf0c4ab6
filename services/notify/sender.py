"""The sender worker (`python -m services.notify.sender`): claims due ledger rows, sends, marks them.

Crash safety. A row is claimed by a compare-and-set pending → sending (committed before anything
leaves the process), sent, then marked sent. If the process dies in between, the row stays
"sending"; once its lease runs out another round takes it again and sends it with the same identity
(Message-ID, SMS reference, Idempotency-Key — all the ledger id), so the receiver recognises the
resend. Nothing is lost (the row is never dropped) and no second, different message is ever made.

Failures are retried with exponential backoff and full jitter; after NOTIFY_MAX_ATTEMPTS the row is
"failed" and a dead letter is written in the same transaction (the staff page shows it as an alert).
"""
from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.notify import feedback
from services.notify.channels import (
    Channel,
    NotOnThisChannel,
    Outgoing,
    PermanentFailure,
    QuietHours,
    TemporaryFailure,
    default_channels,
)
from services.notify.contacts import ORGANISER, AddressBook, VolunteerContacts
from services.notify.db import dead_letters, needs_watched, notifications
from services.notify.handlers import PUBLISHES
from services.notify.ledger import derived_id, record
from services.notify.messages import Rendered, quiet_until, render
from services.notify.resident_notices import fill_first_name
from services.notify.settings import Settings
from wspolnota import config
from wspolnota.db import Database
from wspolnota.service import Clock, utc_now
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("wspolnota.notify.sender")
t = notifications


def backoff_delay(attempts: int, base_s: float, max_s: float, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: a random point in [½, 1] × min(max, base × 2^(attempts−1))."""
    ceiling = min(max_s, base_s * 2 ** max(attempts - 1, 0))
    return ceiling * (0.5 + 0.5 * rng())


class Sender:
    def __init__(self, db: Database, settings: Settings, channels: dict[str, Channel] | None = None,
                 addresses: AddressBook | None = None, clock: Clock = utc_now,
                 rng: Callable[[], float] = random.random, outbox: Outbox | None = None):
        self.db, self.s, self.clock, self.rng = db, settings, clock, rng
        self.outbox = outbox or Outbox(db, PUBLISHES)
        self.channels = channels if channels is not None else default_channels(settings)
        self.addresses = addresses or AddressBook(settings, VolunteerContacts(
            settings.volunteers_internal_url, settings.internal_service_token, settings.http_timeout_s), clock=clock)
        self.stats = {"sent": 0, "retried": 0, "failed": 0, "skipped": 0, "deferred": 0, "recovered": 0}

    # -- one round, driven by tests without threads ------------------------------------------------
    def run_once(self) -> int:
        """Recover stale claims, then send every due row once; return how many rows were attempted."""
        now = self.clock()
        self.recover_stale(now)
        self.report_unmatched(now)
        attempted = 0
        for row in self.due(now):
            if row.channel == "sms" and not row.urgent:
                quiet_end = quiet_until(now, *self.s.quiet_window(), ZoneInfo(self.s.timezone))
                if quiet_end is not None:
                    self.defer(row.id, quiet_end)
                    continue
            if self.claim(row.id, now):
                attempted += 1
                self.deliver(row.id)
        return attempted

    def run(self, stop: threading.Event, heartbeat: Callable[[], None] = lambda: None) -> None:
        while not stop.is_set():
            heartbeat()
            try:
                busy = self.run_once()
            except sa.exc.OperationalError as err:
                log.warning("database unavailable: %s; retrying", err.orig)
                stop.wait(2.0)
                continue
            if busy < self.s.sender_batch:
                stop.wait(self.s.sender_poll_s)

    # -- steps --------------------------------------------------------------------------------------
    def due(self, now: datetime) -> list[sa.Row]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.id, t.c.channel, t.c.urgent).where(
                t.c.status == "pending", t.c.next_attempt_at <= now)
                .order_by(t.c.urgent.desc(), t.c.next_attempt_at).limit(self.s.sender_batch)).all()
            conn.rollback()
        return list(rows)

    def recover_stale(self, now: datetime) -> int:
        """Rows left "sending" by a worker that died: due again, same ledger id, same message identity."""
        cutoff = now - timedelta(seconds=self.s.sending_lease_s)
        stale = (t.c.status == "sending") & (t.c.claimed_at < cutoff)
        if not self._any(sa.select(t.c.id).where(stale)):  # read first: SQLite writers take a file lock
            return 0
        with self.db.engine.begin() as conn:
            n = conn.execute(sa.update(t).where(stale)
                             .values(status="pending", next_attempt_at=now,
                                     last_error="wysyłka przerwana (proces zatrzymany); ponowienie z tym samym "
                                                "identyfikatorem")).rowcount or 0
        if n:
            log.warning("recovered %d notification(s) left in 'sending' by a stopped sender", n)
            self.stats["recovered"] += n
        return n

    def report_unmatched(self, now: datetime) -> int:
        """Needs still without a provider NOTIFY_UNMATCHED_HOURS after registration: one e-mail to the organiser."""
        w = needs_watched
        cutoff = now - timedelta(hours=self.s.unmatched_hours)
        if not self._any(sa.select(w.c.need_id).where(w.c.status == "open", w.c.registered_at <= cutoff)):
            return 0
        reported = 0
        with self.db.transaction() as session:
            for need in session.execute(sa.select(w).where(w.c.status == "open", w.c.registered_at <= cutoff)
                                        .limit(self.s.sender_batch)).mappings().all():
                text = render("need_unmatched", category_code=need["category"], village_code=need["village"],
                              window_start=need["window_start"], need_id=need["need_id"],
                              hours=int(self.s.unmatched_hours))
                record(session, self.outbox, derived_id(need["cause_event_id"], "unmatched"), "need_unmatched",
                       ORGANISER, "email", text.subject, text.email, need_id=need["need_id"], now=now)
                session.execute(sa.update(w).where(w.c.need_id == need["need_id"]).values(status="reported"))
                reported += 1
        return reported

    def _any(self, query: sa.Select) -> bool:  # type: ignore[type-arg]
        with self.db.engine.connect() as conn:
            found = conn.execute(query.limit(1)).first() is not None
            conn.rollback()
        return found

    def defer(self, notification_id: str, until: datetime) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.id == notification_id, t.c.status == "pending")
                         .values(next_attempt_at=until))
        self.stats["deferred"] += 1

    def claim(self, notification_id: str, now: datetime) -> bool:
        with self.db.engine.begin() as conn:
            claimed = conn.execute(sa.update(t).where(t.c.id == notification_id, t.c.status == "pending")
                                   .values(status="sending", claimed_at=now, attempts=t.c.attempts + 1)).rowcount
        return claimed == 1

    def deliver(self, notification_id: str) -> None:
        with self.db.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == notification_id)).mappings().one()
            conn.rollback()
        try:
            address = self.addresses.address(row["recipient"], row["channel"], urgent=row["urgent"], kind=row["kind"])
            if not address:
                raise NotOnThisChannel(f"brak adresu dla kanału {row['channel']}")
            if row["kind"] == feedback.FEEDBACK_KIND:  # keep the phone's hash to match the reply, never the phone
                feedback.remember_phone(self.db, self.s, row, address, self.clock())
            config.failpoint("sender.before_send")
            self.channels[row["channel"]].send(self.outgoing(row, address))
        except NotOnThisChannel as err:
            self.finish(row, "skipped", str(err))
            return
        except QuietHours as err:
            self.postpone(row, err.until)
            return
        except PermanentFailure as err:
            self.fail(row, str(err))
            return
        except TemporaryFailure as err:
            self.retry(row, str(err))
            return
        except Exception as err:  # noqa: BLE001 - an unexpected failure is worth another try, then the DLQ
            log.exception("notification %s: unexpected error while sending", row["id"])
            self.retry(row, f"{type(err).__name__}: {err}")
            return
        config.failpoint("sender.after_send")
        self.finish(row, "sent", None)

    def outgoing(self, row: sa.RowMapping, address: str) -> Outgoing:
        html = Rendered(row["subject"], "", row["body"]).html() if row["channel"] == "email" else None
        payload = json.loads(row["payload"]) if row["payload"] else {}
        text = fill_first_name(self.db, row, self.addresses)  # a resident's notice: the first name read now, not kept
        return Outgoing(notification_id=row["id"], kind=row["kind"], address=address, subject=row["subject"],
                        text=text, html=html, payload=payload)

    @staticmethod
    def _mine(row: sa.RowMapping) -> tuple:  # type: ignore[type-arg]
        """Still our claim? (Another sender may have taken the row over after our lease ran out.)"""
        return (t.c.id == row["id"], t.c.status == "sending", t.c.claimed_at == row["claimed_at"])

    def finish(self, row: sa.RowMapping, status: str, note: str | None) -> None:
        now = self.clock()
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(t).where(*self._mine(row)).values(
                status=status, sent_at=now if status == "sent" else None, last_error=note, claimed_at=None))
        self.stats[status] += 1
        log.info("notification %s %s (%s via %s)", row["id"], status, row["kind"], row["channel"])

    def postpone(self, row: sa.RowMapping, until: datetime) -> None:
        """The volunteer's own quiet hours: pending again until they end; the attempt does not count."""
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(t).where(*self._mine(row)).values(
                status="pending", claimed_at=None, attempts=t.c.attempts - 1, next_attempt_at=until))
        self.stats["deferred"] += 1

    def retry(self, row: sa.RowMapping, error: str) -> None:
        if row["attempts"] >= self.s.max_attempts:
            self.fail(row, error)
            return
        delay = backoff_delay(row["attempts"], self.s.retry_base_s, self.s.retry_max_s, self.rng)
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(t).where(*self._mine(row)).values(
                status="pending", claimed_at=None, last_error=error[:500],
                next_attempt_at=self.clock() + timedelta(seconds=delay)))
        self.stats["retried"] += 1
        log.warning("notification %s attempt %d failed, next in %.0f s: %s", row["id"], row["attempts"], delay,
                    error[:200])

    def fail(self, row: sa.RowMapping, error: str) -> None:
        now = self.clock()
        with self.db.engine.begin() as conn:
            if not conn.execute(sa.update(t).where(*self._mine(row)).values(
                    status="failed", claimed_at=None, last_error=error[:500])).rowcount:
                log.warning("notification %s: claim lost to another sender; leaving it to them", row["id"])
                return
            conn.execute(sa.insert(dead_letters).values(
                notification_id=row["id"], kind=row["kind"], channel=row["channel"], recipient=row["recipient"],
                attempts=row["attempts"], reason=error[:500], failed_at=now))
        self.stats["failed"] += 1
        log.error("notification %s failed for good after %d attempt(s): %s", row["id"], row["attempts"], error[:200])


def main() -> None:
    from services.notify.bootstrap import bootstrap
    from wspolnota.logs import setup_logging
    from wspolnota.metrics import WorkerMetrics
    from wspolnota.worker import heartbeat, stop_on_signals

    setup_logging("notify", "sender")
    config.require_secrets("notify-sender")  # no empty or public secret (README "Secrets")
    parts = bootstrap()
    settings, db = parts.settings, parts.db
    stop = stop_on_signals()
    sender = Sender(db, settings, clock=parts.clock, outbox=parts.outbox)
    metrics = WorkerMetrics("notify", "sender").sender(sender, notifications)
    metrics.serve()
    log.info("sender started (SMTP %s:%s, SMS %s, webhook %s)", settings.smtp_host, settings.smtp_port,
             settings.sms_gateway_url, settings.case_webhook_url)
    try:
        sender.run(stop, heartbeat=metrics.beat(heartbeat))
    finally:
        db.dispose()
        log.info("sender stopped (%s)", sender.stats)


if __name__ == "__main__":
    main()
