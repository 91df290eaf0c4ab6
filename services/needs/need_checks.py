""""Is it still needed?": an open need nobody took for long is checked with the worker who asked for it.

The periodic job (`wspolnota jobs needs`, `ask-need-checks`) finds needs still waiting for a provider (open,
proposed, approved or offered) registered more than `NEEDS_CHECK_DAYS` (default 14) ago and not checked in as
many days, and publishes `NeedCheckDue {need_id, check_id}` for each, remembering the check in `need_checks` (one
row per need: the current check). Notify e-mails the requesting worker — the resident's social worker, the
organiser when none is assigned (`GET /internal/needs/<id>/check-recipient`, at send time) — a signed link:
"nadal potrzebna" keeps the need and the next check comes `NEEDS_CHECK_DAYS` after the answer; "już niepotrzebna"
cancels it through the normal cancel path (status `cancelled`, NeedCancelled with the reason `no_longer_needed`).
The answer comes back as notify's `NeedCheckAnswered`; only the current, unanswered check of a need still waiting
is changed, so an answer handled twice (or a stale one) changes nothing.

A question unanswered `NEEDS_CHECK_ANSWER_DAYS` (default 7) becomes the organiser's follow-up task
("Potrzeby do potwierdzenia" on the dashboard, `GET /api/need-checks/overdue`), and it is not asked again
meanwhile: the organiser decides on the need's check page with the same two answers. Nothing stays open forever
without someone deciding.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import needs as need_contract
from services.needs import clock, handlers, model
from services.needs.db import need_checks, needs, residents
from wspolnota import config
from wspolnota.db import Database
from wspolnota.errors import NotFound
from wspolnota.service import Clock
from wspolnota.transport import Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("needs.need_checks")
WAITING = (model.OPEN, model.PROPOSED, model.APPROVED, model.OFFERED)  # no provider agreed yet
STILL_NEEDED, NO_LONGER_NEEDED = "still_needed", "no_longer_needed"
BY_LINK = "pracownik (link „Czy potrzeba jest aktualna?”)"
CANCEL_TEXT = "już niepotrzebna (sprawdzenie, czy potrzeba jest aktualna)"


@dataclass(frozen=True)
class Waiting:
    need_id: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class LastCheck:
    asked_at: datetime
    answered_at: datetime | None


def select(waiting: Iterable[Waiting], checks: Mapping[str, LastCheck], now: datetime, every: timedelta) -> list[str]:
    """The needs to check now, in id order: still waiting, registered at least `every` ago, and either never
    checked or answered "still needed" at least `every` ago. A question not answered yet is the organiser's
    follow-up, never asked again."""
    if every <= timedelta(0):
        return []
    out = []
    for w in sorted(waiting, key=lambda w: w.need_id):
        if w.status not in WAITING or now - w.created_at < every:
            continue
        last = checks.get(w.need_id)
        if last is not None and (last.answered_at is None or now - last.answered_at < every):
            continue
        out.append(w.need_id)
    return out


def check_every() -> timedelta:
    return timedelta(days=config.get_float("NEEDS_CHECK_DAYS"))


def answer_within() -> timedelta:
    return timedelta(days=config.get_float("NEEDS_CHECK_ANSWER_DAYS"))


def ask_need_checks(db: Database, now: datetime, every: timedelta | None = None) -> list[str]:
    """One run of the job, in one transaction: publish NeedCheckDue for each need due and remember the check."""
    every = check_every() if every is None else every
    outbox = Outbox(db, handlers.PUBLISHES)
    with clock.using(lambda: now), db.transaction() as session:
        waiting = [Waiting(r.id, r.status, r.created_at) for r in session.execute(
            sa.select(needs.c.id, needs.c.status, needs.c.created_at).where(
                needs.c.status.in_(WAITING), needs.c.created_at <= now - every))]
        checks = {r.need_id: LastCheck(r.asked_at, r.answered_at) for r in session.execute(sa.select(need_checks))}
        chosen = select(waiting, checks, now, every)
        for need_id in chosen:
            check_id = str(uuid.uuid4())
            values = {"check_id": check_id, "asked_at": now, "answered_at": None, "answer": None, "answered_by": None}
            if need_id in checks:
                session.execute(sa.update(need_checks).where(need_checks.c.need_id == need_id).values(**values))
            else:
                session.execute(sa.insert(need_checks).values(need_id=need_id, **values))
            outbox.add(session, need_contract.TOPIC, "NeedCheckDue", need_id,
                       {"need_id": need_id, "check_id": check_id})
    if chosen:
        log.info("asked whether %d needs are still needed", len(chosen))
    return chosen


def current(session: Session, need_id: str) -> dict[str, Any] | None:
    row = session.execute(sa.select(need_checks).where(need_checks.c.need_id == need_id)).mappings().first()
    return dict(row) if row is not None else None


def answer(session: Session, outbox: Outbox, need_id: str, check_id: str | None, still_needed: bool,
           actor: str) -> bool:
    """Record the answer to the need's open check (`check_id` None: whichever is open — the organiser's page).
    "Still needed": the need stays and the next check is NEEDS_CHECK_DAYS from now; "no longer": the need is
    cancelled through the staff cancel path with the reason code `no_longer_needed`. True when something changed;
    an answered, replaced or unknown check, or a need no longer waiting, changes nothing."""
    check = current(session, need_id)
    if check is None or check["answered_at"] is not None or (check_id is not None and check["check_id"] != check_id):
        return False
    status = session.execute(sa.select(needs.c.status).where(needs.c.id == need_id)).scalar()
    if status not in WAITING:
        return False
    session.execute(sa.update(need_checks).where(need_checks.c.need_id == need_id).values(
        answered_at=clock.now(), answer=STILL_NEEDED if still_needed else NO_LONGER_NEEDED, answered_by=actor[:200]))
    if still_needed:
        handlers.note(session, need_id, "check:still_needed", status, "potrzeba nadal aktualna", actor)
    else:
        handlers.change_status(session, outbox, need_id, model.CANCELLED, CANCEL_TEXT, actor,
                               code=need_contract.CANCEL_NO_LONGER_NEEDED)
    return True


def overdue(session: Session, now: datetime, within: timedelta | None = None) -> list[dict[str, Any]]:
    """The organiser's follow-up tasks: questions unanswered for `within` about needs still waiting, the oldest
    first. Codes and times only (never the description or the resident)."""
    within = answer_within() if within is None else within
    rows = session.execute(
        sa.select(needs.c.id, needs.c.category, needs.c.village, needs.c.window_start, needs.c.urgency,
                  needs.c.created_at, need_checks.c.asked_at)
        .join(need_checks, need_checks.c.need_id == needs.c.id)
        .where(needs.c.status.in_(WAITING), need_checks.c.answered_at.is_(None),
               need_checks.c.asked_at <= now - within)
        .order_by(need_checks.c.asked_at, needs.c.id)).mappings()
    return [{"need_id": r["id"], "category": r["category"], "village": r["village"],
             "window_start": r["window_start"].isoformat(), "urgency": r["urgency"],
             "created_at": r["created_at"].isoformat(), "asked_at": r["asked_at"].isoformat()} for r in rows]


def recipient(session: Session, need_id: str) -> str:
    """Where the question goes: the e-mail of the resident's social worker, or "" (notify then asks the organiser)."""
    ref = session.execute(sa.select(needs.c.resident_ref).where(needs.c.id == need_id)).first()
    if ref is None:
        raise NotFound(need_id)
    email = session.execute(sa.select(residents.c.social_worker_email).where(
        residents.c.ref == ref[0], residents.c.erased_at.is_(None))).scalar()
    return str(email or "")


def on_check_answered(session: Session, outbox: Outbox, data: Mapping[str, Any]) -> None:
    """Notify's NeedCheckAnswered (the requesting worker's link)."""
    answer(session, outbox, data["need_id"], data["check_id"], bool(data["still_needed"]), BY_LINK)


def consumer_handlers(outbox: Outbox, running_clock: Clock) -> dict[str, Handler]:
    """The consumer's handler of notify's NeedCheckAnswered (merged into the bootstrap's handlers)."""
    def check_answered(session: Session, event: Event) -> None:
        with clock.using(running_clock):
            on_check_answered(session, outbox, event.data)

    return {"NeedCheckAnswered": check_answered}


PERIODIC = {"ask-need-checks": lambda db, now: ask_need_checks(db, now)}
