"""Residents hear what concerns them: help arranged (with the volunteer's first name), a reminder the day before, a
cancellation, "we're looking for someone else", a new time — by SMS, or as a task on the staff's "Do zadzwonienia"
list for a resident without a mobile phone, only with the resident's consent (docs/notify.md, "Residents' notices").

Notify knows residents by pseudonym only: which need is whose (`needs_watched.resident_ref`, from NeedRegistered),
how each wants to hear (`residents_seen`, from needs' ResidentNoticesChanged) and what each was told about a need's
visit (`resident_visits`). Ledger rows name the recipient `mieszkaniec:<resident_ref>`; the phone and the consent are
asked of the needs service at send time (and when staff open a call task), and the volunteer's first name of the
volunteers service at send time: the stored text holds the slot `{imie}` in its place, never the name.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import needs as need_contract
from services.notify.channels import PermanentFailure
from services.notify.contacts import RESIDENT, VolunteerContacts
from services.notify.db import (
    call_tasks,
    matches_seen,
    needs_watched,
    notifications,
    resident_visits,
    residents_seen,
)
from services.notify.ledger import cancel_pending, derived_id, record
from services.notify.messages import Rendered, render
from services.notify.settings import Settings
from wspolnota.db import Database
from wspolnota.service import Clock, utc_now
from wspolnota.transport import Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

FIRST_NAME = "{imie}"  # the volunteer's first name, filled in at send time (never stored here)
NO_FIRST_NAME = "osoba z CUS"  # the volunteer is gone from the register: the message still goes
KINDS = ("resident_arranged", "resident_reminder", "resident_looking", "resident_cancelled", "resident_changed")
KIND_PL = {"resident_arranged": "pomoc umówiona", "resident_reminder": "przypomnienie o wizycie",
           "resident_looking": "szukamy kogoś innego", "resident_cancelled": "wizyta odwołana",
           "resident_changed": "zmiana terminu"}
# A cancelled accepted visit is re-offered by matching (docs/matching.md) except for these: the need is off or done
# (NeedCancelled / NeedCompleted tell the resident), or the visit's time has passed.
NOT_REOFFERED = frozenset({"need_cancelled", "need_completed", "did_not_happen"})
ARRANGED, LOOKING, CANCELLED, DONE = "arranged", "looking", "cancelled", "done"
CALL_OPEN, CALL_DONE, CALL_UNREACHABLE, CALL_CANCELLED = "open", "done", "unreachable", "cancelled"
CALL_ATTEMPTS = 3  # "nie udało się" this many times: the task is closed as unreachable
CALL_STATUS_PL = {CALL_OPEN: "do zadzwonienia", CALL_DONE: "zadzwoniono", CALL_UNREACHABLE: "nie udało się dodzwonić",
                  CALL_CANCELLED: "anulowane"}
SWITCHED = "mieszkaniec zmienił sposób powiadomień"


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def first_name(full_name: str) -> str:
    """The first word of a name ("Zofia Wiśniewska" → "Zofia"); a placeholder when there is none."""
    parts = (full_name or "").split()
    return parts[0] if parts else NO_FIRST_NAME


# -- the consumer's side ---------------------------------------------------------------------------------------
def handlers(outbox: Outbox, settings: Settings, clock: Clock = utc_now) -> tuple[dict[str, Handler],
                                                                                    dict[str, Handler]]:
    """(before, after): handlers run before and after notify's own for the same event (merge with `merged`)."""

    def channel_of(session: Session, resident_ref: str) -> str:
        return session.execute(sa.select(residents_seen.c.channel).where(
            residents_seen.c.resident_ref == resident_ref)).scalar() or need_contract.NOTICE_NONE

    def visit(session: Session, need_id: str) -> dict[str, Any] | None:
        row = session.execute(sa.select(resident_visits).where(resident_visits.c.need_id == need_id)
                              ).mappings().first()
        return dict(row) if row else None

    def remember(session: Session, need_id: str, resident_ref: str, **values: Any) -> None:
        values["updated_at"] = clock()
        if visit(session, need_id) is None:
            session.execute(sa.insert(resident_visits).values(need_id=need_id, resident_ref=resident_ref, **values))
        else:
            session.execute(sa.update(resident_visits).where(resident_visits.c.need_id == need_id).values(**values))

    def need_facts(session: Session, need_id: str) -> dict[str, Any]:
        row = session.execute(sa.select(needs_watched).where(needs_watched.c.need_id == need_id)).mappings().first()
        return dict(row) if row else {}

    def tell(session: Session, resident_ref: str, cause: str, kind: str, text: Rendered, *, need_id: str,
             match_id: str | None = None, due: datetime | None = None) -> None:
        """One notice, once per cause: an SMS row, or a call task; nothing without the resident's consent."""
        book(session, resident_ref, channel_of(session, resident_ref), cause, kind, text.subject,
             {"sms": text.sms, "call": text.email}, need_id=need_id, match_id=match_id, due=due)

    def book(session: Session, resident_ref: str, channel: str, cause: str, kind: str, subject: str,
             bodies: dict[str, str], *, need_id: str | None, match_id: str | None, due: datetime | None) -> None:
        now = clock()
        if channel == need_contract.NOTICE_SMS:
            added = record(session, outbox, cause, kind, RESIDENT + resident_ref, "sms", subject, bodies["sms"],
                           need_id=need_id, match_id=match_id, due=due, now=now)
            if added is None:  # booked before and stopped when the resident chose calls: due again
                session.execute(sa.update(notifications).where(
                    notifications.c.cause_event_id == cause, notifications.c.recipient == RESIDENT + resident_ref,
                    notifications.c.channel == "sms", notifications.c.status == "cancelled",
                    notifications.c.last_error == SWITCHED).values(status="pending", last_error=None))
        elif channel == need_contract.NOTICE_CALL:
            added = record(session, outbox, cause, kind, RESIDENT + resident_ref, "call", subject, bodies["call"],
                           need_id=need_id, match_id=match_id, now=now)
            if added is not None:
                session.execute(sa.insert(call_tasks).values(
                    id=added, resident_ref=resident_ref, kind=kind, need_id=need_id, match_id=match_id,
                    due_at=due or now, status=CALL_OPEN, attempts=0, created_at=now))
            else:  # a task cancelled when the resident chose SMS: open again
                reopened = sa.select(notifications.c.id).where(
                    notifications.c.cause_event_id == cause, notifications.c.recipient == RESIDENT + resident_ref,
                    notifications.c.channel == "call")
                again = list(session.execute(sa.select(call_tasks.c.id).where(
                    call_tasks.c.id.in_(reopened), call_tasks.c.status == CALL_CANCELLED,
                    call_tasks.c.note == SWITCHED)).scalars())
                if again:
                    session.execute(sa.update(call_tasks).where(call_tasks.c.id.in_(again))
                                    .values(status=CALL_OPEN, note=None))
                    session.execute(sa.update(notifications).where(notifications.c.id.in_(again))
                                    .values(status="recorded", last_error=None))

    def stop(session: Session, reason: str, *, resident_ref: str | None = None, need_id: str | None = None,
             match_id: str | None = None, kinds: tuple[str, ...] | None = None) -> None:
        """Nothing more of these is sent or phoned: pending SMS rows and open call tasks."""
        n, c = notifications, call_tasks
        rows: list[Any] = [n.c.recipient.like(RESIDENT + "%")]
        tasks: list[Any] = [c.c.status == CALL_OPEN]
        for column, value in (("resident_ref", resident_ref), ("need_id", need_id), ("match_id", match_id)):
            if value is not None:
                rows.append(n.c.recipient == RESIDENT + value if column == "resident_ref" else n.c[column] == value)
                tasks.append(c.c[column] == value)
        if kinds is not None:
            rows.append(n.c.kind.in_(kinds))
            tasks.append(c.c.kind.in_(kinds))
        cancel_pending(session, *rows, reason=reason)
        stopped = list(session.execute(sa.select(c.c.id).where(*tasks)).scalars())
        if stopped:
            session.execute(sa.update(c).where(c.c.id.in_(stopped)).values(status=CALL_CANCELLED, note=reason[:200]))
            session.execute(sa.update(n).where(n.c.id.in_(stopped)).values(status="cancelled",
                                                                          last_error=reason[:500]))

    def text(kind: str, facts: dict[str, Any], start: datetime | None, **extra: Any) -> Rendered:
        return render(kind, category_code=facts.get("category"), window_start=start,
                      duration_minutes=facts.get("duration_minutes"), first_name=FIRST_NAME, **extra)

    # -- events ----------------------------------------------------------------------------------------------
    def on_need_registered(session: Session, event: Event) -> None:
        """Whose need it is (a pseudonym) and how long the visit is: kept with notify's watch of the need. Topics are
        not ordered with each other: an acceptance handled before its need was known is told now."""
        d = event.data
        session.execute(sa.update(needs_watched).where(needs_watched.c.need_id == d["need_id"]).values(
            resident_ref=d["resident_ref"], duration_minutes=d.get("duration_minutes")))
        if visit(session, d["need_id"]) is None:
            m = session.execute(sa.select(matches_seen).where(
                matches_seen.c.need_id == d["need_id"], matches_seen.c.status == "accepted",
                matches_seen.c.activity_id.is_(None)).order_by(matches_seen.c.window_start)).mappings().first()
            if m is not None:
                arrange(session, dict(m))

    def before_need_updated(session: Session, event: Event) -> None:
        """Staff moved a need whose resident was told "we're looking for someone else" (or of a visit): the new
        time, once per edit. Run before notify's own handler, which overwrites the need's old time."""
        d = event.data
        told = visit(session, d["need_id"])
        old = session.execute(sa.select(needs_watched.c.window_start).where(
            needs_watched.c.need_id == d["need_id"])).scalar()
        new = _dt(d["window_start"])
        if told is None or told["state"] not in (ARRANGED, LOOKING) or old is None or new == old:
            return
        if new is None or new <= clock():
            return
        facts = {**need_facts(session, d["need_id"]), "category": d["category"],
                 "duration_minutes": d.get("duration_minutes")}
        stop(session, "nowy termin", need_id=d["need_id"], kinds=("resident_reminder",))
        tell(session, told["resident_ref"], derived_id(str(event.id), "resident"), "resident_changed",
             text("resident_changed", facts, new), need_id=d["need_id"])
        remember(session, d["need_id"], told["resident_ref"], state=LOOKING, visit_start=new)

    def arrange(session: Session, m: dict[str, Any], told_before: bool = True) -> None:
        """Help is arranged (an accepted match `m` of matches_seen): the volunteer's first name (at send time), the
        time, the kind of help; a reminder the day before — for every visit of a series too (a visit a series
        commitment gave gets the reminder only: the resident heard of the series' volunteer with its first visit).
        Causes derive from the match, so the acceptance, the need's registration and a later consent book them
        once whichever comes first."""
        facts = need_facts(session, m["need_id"])
        resident_ref = facts.get("resident_ref")
        start = _dt(m["window_start"])
        if not resident_ref or start is None or start <= clock():
            return
        facts = {**facts, "category": m["category"] or facts.get("category")}
        told = visit(session, m["need_id"]) if told_before else None
        if not m.get("series_commitment"):
            changed = bool(told and told["visit_start"] and told["match_id"] != m["match_id"]
                           and _dt(told["visit_start"]) != start)
            tell(session, resident_ref, derived_id(m["match_id"], "resident-arranged"), "resident_arranged",
                 text("resident_arranged", facts, start, changed=changed), need_id=m["need_id"],
                 match_id=m["match_id"])
        due = start - timedelta(hours=settings.reminder_hours)
        if due > clock():
            tell(session, resident_ref, derived_id(m["match_id"], "resident-reminder"), "resident_reminder",
                 text("resident_reminder", facts, start), need_id=m["need_id"], match_id=m["match_id"], due=due)
        remember(session, m["need_id"], resident_ref, state=ARRANGED, match_id=m["match_id"],
                 volunteer_id=m["volunteer_id"], visit_start=start)

    def on_match_accepted(session: Session, event: Event) -> None:
        m = session.execute(sa.select(matches_seen).where(matches_seen.c.match_id == event.data["match_id"])
                            ).mappings().first()
        if m is not None and not m["activity_id"]:
            arrange(session, dict(m))

    def on_match_cancelled(session: Session, event: Event) -> None:
        """The arranged visit is off. Re-offered (the volunteer stepped back, paused, lost a credential …): "we're
        looking for someone else". The need cancelled or done: NeedCancelled / NeedCompleted tell the resident."""
        d = event.data
        told = visit(session, d["need_id"])
        if told is None or told["match_id"] != d["match_id"] or told["state"] != ARRANGED:
            return
        stop(session, "wizyta odwołana", match_id=d["match_id"], kinds=("resident_reminder", "resident_arranged"))
        reason = d.get("reason") or ""
        if reason in ("need_cancelled", "need_completed"):
            return
        start = _dt(told["visit_start"])
        if reason in NOT_REOFFERED or start is None or start <= clock():
            remember(session, d["need_id"], told["resident_ref"], state=DONE)
            return
        tell(session, told["resident_ref"], derived_id(str(event.id), "resident"), "resident_looking",
             text("resident_looking", need_facts(session, d["need_id"]), start), need_id=d["need_id"],
             match_id=d["match_id"])
        remember(session, d["need_id"], told["resident_ref"], state=LOOKING, match_id=None, volunteer_id=None)

    def on_need_cancelled(session: Session, event: Event) -> None:
        """A need the resident heard of is off: they are told (unless erased: then nothing is sent at all)."""
        d = event.data
        told = visit(session, d["need_id"])
        if told is None or told["state"] not in (ARRANGED, LOOKING):
            return
        stop(session, "potrzeba odwołana", need_id=d["need_id"])
        remember(session, d["need_id"], told["resident_ref"], state=CANCELLED)
        start = _dt(told["visit_start"])
        # nobody was found while we were looking and the need expired: the resident hears it, late as it is
        not_found = told["state"] == LOOKING
        expired = d.get("reason") == need_contract.CANCEL_EXPIRED
        passed = start is None or (start <= clock() and not (not_found and expired))
        if d.get("reason") == need_contract.CANCEL_RESIDENT_ERASED or passed:
            return
        tell(session, told["resident_ref"], derived_id(str(event.id), "resident"), "resident_cancelled",
             text("resident_cancelled", need_facts(session, d["need_id"]), start,
                  not_found=not_found or expired),
             need_id=d["need_id"])

    def on_need_completed(session: Session, event: Event) -> None:
        told = visit(session, event.data["need_id"])
        if told is not None:
            stop(session, "potrzeba zrealizowana", need_id=event.data["need_id"])
            remember(session, event.data["need_id"], told["resident_ref"], state=DONE)

    def on_notices_changed(session: Session, event: Event) -> None:
        """The resident's channel now. Notices not yet sent follow it: SMS rows become call tasks and back; `none`
        stops them."""
        ref, channel = event.data["resident_ref"], event.data["channel"]
        before = channel_of(session, ref)
        if session.execute(sa.select(residents_seen.c.resident_ref).where(
                residents_seen.c.resident_ref == ref)).first():
            session.execute(sa.update(residents_seen).where(residents_seen.c.resident_ref == ref)
                            .values(channel=channel, updated_at=clock()))
        else:
            session.execute(sa.insert(residents_seen).values(resident_ref=ref, channel=channel, updated_at=clock()))
        if before == channel:
            return
        n = notifications
        waiting = list(session.execute(sa.select(n).where(n.c.recipient == RESIDENT + ref, sa.or_(
            n.c.status == "pending", n.c.id.in_(sa.select(call_tasks.c.id).where(call_tasks.c.status == CALL_OPEN))))
        ).mappings())
        stop(session, SWITCHED, resident_ref=ref)
        if channel == need_contract.NOTICE_NONE:
            return
        if before == need_contract.NOTICE_NONE:  # a consent given after the visit was arranged: they hear of it now
            for arranged in session.execute(sa.select(resident_visits).where(
                    resident_visits.c.resident_ref == ref, resident_visits.c.state == ARRANGED)).mappings().all():
                m = session.execute(sa.select(matches_seen).where(matches_seen.c.match_id == arranged["match_id"])
                                    ).mappings().first()
                if m is not None:
                    arrange(session, dict(m), told_before=False)
        for row in waiting:
            kind = row["kind"]
            facts = need_facts(session, row["need_id"]) if row["need_id"] else {}
            told = visit(session, row["need_id"]) if row["need_id"] else None
            due = row["next_attempt_at"] if row["channel"] == "sms" else session.execute(
                sa.select(call_tasks.c.due_at).where(call_tasks.c.id == row["id"])).scalar()
            start = _dt(told["visit_start"]) if told else None
            again = text(kind, facts, start, changed=False, not_found=False) if kind in KINDS else None
            bodies = {"sms": again.sms, "call": again.email} if again else {"sms": row["body"], "call": row["body"]}
            book(session, ref, channel, row["cause_event_id"], kind, row["subject"], bodies,
                 need_id=row["need_id"], match_id=row["match_id"], due=_dt(due))

    def on_resident_erased(session: Session, event: Event) -> None:
        """RODO art. 17: nothing more is sent or phoned to the resident, and notify forgets whose needs they were."""
        ref = event.data["resident_ref"]
        stop(session, "dane mieszkańca usunięte (RODO)", resident_ref=ref)
        session.execute(sa.delete(residents_seen).where(residents_seen.c.resident_ref == ref))
        session.execute(sa.delete(resident_visits).where(resident_visits.c.resident_ref == ref))
        session.execute(sa.update(needs_watched).where(needs_watched.c.resident_ref == ref).values(resident_ref=None))
        session.execute(sa.update(call_tasks).where(call_tasks.c.resident_ref == ref).values(resident_ref="(usunięty)"))

    before: dict[str, Handler] = {"NeedUpdated": before_need_updated}
    after: dict[str, Handler] = {"NeedRegistered": on_need_registered, "NeedUpdated": on_need_registered,
             "MatchAccepted": on_match_accepted, "MatchCancelled": on_match_cancelled,
             "NeedCancelled": on_need_cancelled, "NeedCompleted": on_need_completed,
             "ResidentNoticesChanged": on_notices_changed, "ResidentErased": on_resident_erased}
    return before, after


def merged(wanted: dict[str, Handler], more: tuple[dict[str, Handler], dict[str, Handler]]) -> dict[str, Handler]:
    """`wanted` with these handlers added: for an event both handle, `before` runs first, then notify's own, then
    `after` — in one transaction, so a failure in any leaves nothing."""
    before, after = more
    out = dict(wanted)
    for name in set(before) | set(after):
        chain = [h for h in (before.get(name), wanted.get(name), after.get(name)) if h is not None]
        out[name] = _chained(chain)
    return out


def _chained(chain: list[Handler]) -> Handler:
    def handle(session: Session, event: Event) -> None:
        for handler in chain:
            handler(session, event)
    return handle


# -- the sender's side -----------------------------------------------------------------------------------------
def fill_first_name(db: Database, row: Any, addresses: Any) -> str:
    """The text to send: the volunteer's first name read now from the volunteers service (the address book's
    client), never stored."""
    body = str(row["body"])
    if FIRST_NAME not in body:
        return body
    return body.replace(FIRST_NAME, volunteer_first_name(db, row["match_id"], addresses.volunteers))


def volunteer_first_name(db: Database, match_id: str | None, volunteers: VolunteerContacts) -> str:
    with db.engine.connect() as conn:
        volunteer_id = conn.execute(sa.select(matches_seen.c.volunteer_id).where(
            matches_seen.c.match_id == match_id)).scalar() if match_id else None
        conn.rollback()
    if not volunteer_id:
        return NO_FIRST_NAME
    try:
        return first_name(volunteers.fetch(volunteer_id).name)
    except PermanentFailure:  # gone from the register: the resident still hears of the visit
        return NO_FIRST_NAME


# -- the call list ("Do zadzwonienia") -------------------------------------------------------------------------
def calls(db: Database, *, status: str = CALL_OPEN, until: datetime | None = None,
          limit: int = 200) -> list[dict[str, Any]]:
    """Call tasks with their script (the first name not filled in), the soonest due first."""
    c, n = call_tasks, notifications
    query = (sa.select(c, n.c.subject, n.c.body).join(n, n.c.id == c.c.id).where(c.c.status == status)
             .order_by(c.c.due_at if status == CALL_OPEN else c.c.last_attempt_at.desc()).limit(limit))
    if until is not None:
        query = query.where(c.c.due_at <= until)
    with db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        conn.rollback()
    return rows


def call(db: Database, task_id: str) -> dict[str, Any] | None:
    c, n = call_tasks, notifications
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(c, n.c.subject, n.c.body).join(n, n.c.id == c.c.id)
                           .where(c.c.id == task_id)).mappings().first()
        conn.rollback()
    return dict(row) if row else None


def mark_call(db: Database, task_id: str, reached: bool, actor: str, now: datetime) -> str | None:
    """"zadzwoniono" (done) or "nie udało się" (one more attempt; closed as unreachable after CALL_ATTEMPTS):
    the task's new status, or None when it was no longer open."""
    c, n = call_tasks, notifications
    with db.transaction() as session:
        task = session.execute(sa.select(c).where(c.c.id == task_id, c.c.status == CALL_OPEN)).mappings().first()
        if task is None:
            return None
        attempts = task["attempts"] + 1
        status = CALL_DONE if reached else CALL_UNREACHABLE if attempts >= CALL_ATTEMPTS else CALL_OPEN
        session.execute(sa.update(c).where(c.c.id == task_id, c.c.status == CALL_OPEN).values(
            status=status, attempts=attempts, last_attempt_at=now, last_by=actor[:200]))
        if status != CALL_OPEN:
            session.execute(sa.update(n).where(n.c.id == task_id).values(
                status="sent" if reached else "failed", sent_at=now if reached else None, attempts=attempts,
                last_error=None if reached else "nie udało się dodzwonić"))
    return status


def due_today_end(now: datetime) -> datetime:
    """The end of today in Warsaw (calls due today, and those overdue)."""
    from wspolnota.localtime import WARSAW

    local = now.astimezone(WARSAW)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=WARSAW).astimezone(UTC)

