"""Closing the loop: "did it happen?" to the provider after a visit, "is it still needed?" to the worker who asked
for a need left without a provider.

- Matching's `VisitCheckDue {match_id, provider_id, need_id}` → one message to the provider (their preferred
  channel, never in the quiet hours: the centre's, and theirs for SMS) with a signed single-use link
  (`/w/<token>`, links.py, action `visit_check`). The check's id is derived from the match id, so the same match
  is asked once whatever is redelivered. The answer ("Tak, odbyła się" with minutes 5–600, or "Nie odbyła się")
  is kept once per check (`visit_check_answers`) and published as `VisitOutcomeGiven` in the same transaction;
  matching handles it as the volunteer's own VisitConfirmed.
- The needs service's `NeedCheckDue {need_id, check_id}` → one e-mail to the requesting worker
  (`pracownik_potrzeby:<need id>`: the resident's social worker, the organiser when none; asked of needs at send
  time) with a signed link (`/p/<token>`, action `need_check`). The answer ("nadal potrzebna" / "już
  niepotrzebna") is kept once per check and published as `NeedCheckAnswered`.

A link used again, expired, or about a visit or need already decided shows a Polish page and changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import notify as notify_contract
from services.notify.contacts import NEED_WORKER, VOLUNTEER
from services.notify.db import (
    matches_seen,
    need_check_answers,
    needs_watched,
    notifications,
    visit_check_answers,
)
from services.notify.ledger import PROVIDER_CHANNELS, cancel_pending, derived_id, record, record_rendered
from services.notify.links import link_url
from services.notify.messages import quiet_until, render
from services.notify.settings import Settings
from wspolnota.db import Database
from wspolnota.service import Clock
from wspolnota.transport import Event
from wspolnota.transport.outbox import Outbox

VISIT_CHECK, NEED_CHECK = "visit_check", "need_check"
MINUTES = notify_contract.VISIT_MINUTES


def visit_check_id(match_id: str) -> str:
    """One check per match: the cause of its notifications and the id its link names."""
    return derived_id(match_id, "visit-check")


def days_pl(days: int) -> str:
    """"od 1 dnia", "od 14 dni": the genitive after "od"."""
    return "1 dnia" if days == 1 else f"{days} dni"


def handlers(outbox: Outbox, cfg: Settings, clock: Clock) -> dict[str, Callable[[Session, Event], None]]:
    """Notify's handlers of the two checks, merged into services/notify/handlers.py's."""

    def not_in_quiet_hours() -> datetime | None:
        return quiet_until(clock(), *cfg.quiet_window(), ZoneInfo(cfg.timezone))

    def on_visit_check_due(session: Session, event: Event) -> None:
        d = event.data
        known = session.execute(sa.select(matches_seen).where(matches_seen.c.match_id == d["match_id"])
                                ).mappings().first()
        if known is not None and known["status"] in ("completed", "cancelled"):
            return  # decided meanwhile (the volunteer's own page, staff): nothing to ask
        check_id = visit_check_id(d["match_id"])
        text = render(VISIT_CHECK, window_start=known["window_start"] if known else None,
                      category_code=known["category"] if known else None,
                      village_code=known["village"] if known else None,
                      link=link_url(cfg.public_url, cfg.link_secret, check_id, VISIT_CHECK, path="w"))
        record_rendered(session, outbox, check_id, VISIT_CHECK, VOLUNTEER + d["provider_id"], PROVIDER_CHANNELS,
                        text, need_id=d["need_id"], match_id=d["match_id"], due=not_in_quiet_hours())

    def on_need_check_due(session: Session, event: Event) -> None:
        d = event.data
        seen = session.execute(sa.select(needs_watched).where(needs_watched.c.need_id == d["need_id"])
                               ).mappings().first()
        if seen is not None and seen["status"] == "closed":
            return  # cancelled or completed meanwhile
        registered = seen["registered_at"] if seen is not None else None
        days = max(1, (clock() - registered).days) if registered is not None else None
        text = render(NEED_CHECK, category_code=seen["category"] if seen else None,
                      village_code=seen["village"] if seen else None,
                      days=days_pl(days) if days else "dłuższego czasu",
                      link=link_url(cfg.public_url, cfg.link_secret, d["check_id"], NEED_CHECK, path="p"))
        record(session, outbox, d["check_id"], NEED_CHECK, NEED_WORKER + d["need_id"], "email", text.subject,
               text.email, need_id=d["need_id"], due=not_in_quiet_hours())

    return {"VisitCheckDue": on_visit_check_due, "NeedCheckDue": on_need_check_due}


# -- the link pages' use cases ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class VisitCheck:
    check_id: str
    match_id: str
    volunteer_id: str
    match: dict[str, Any]
    answer: dict[str, Any] | None

    @property
    def decided(self) -> bool:
        """Somebody already settled the visit (the volunteer's own page, staff, an earlier answer)."""
        return self.match.get("status") in ("completed", "cancelled")


@dataclass(frozen=True)
class NeedCheck:
    check_id: str
    need_id: str
    need: dict[str, Any]
    answer: dict[str, Any] | None

    @property
    def decided(self) -> bool:
        return self.need.get("status") == "closed"


class AlreadyAnswered(Exception):
    pass


def _asked(conn: Any, check_id: str, kind: str) -> Any:
    return conn.execute(sa.select(notifications.c.match_id, notifications.c.need_id, notifications.c.recipient)
                        .where(notifications.c.cause_event_id == check_id, notifications.c.kind == kind)
                        .limit(1)).first()


def find_visit_check(db: Database, check_id: str) -> VisitCheck | None:
    with db.engine.connect() as conn:
        row = _asked(conn, check_id, VISIT_CHECK)
        if row is None or row.match_id is None:
            return None
        match = conn.execute(sa.select(matches_seen).where(matches_seen.c.match_id == row.match_id)
                             ).mappings().first()
        answer = conn.execute(sa.select(visit_check_answers).where(visit_check_answers.c.check_id == check_id)
                              ).mappings().first()
    return VisitCheck(check_id, row.match_id, row.recipient.removeprefix(VOLUNTEER), dict(match or {}),
                      dict(answer) if answer else None)


def find_need_check(db: Database, check_id: str) -> NeedCheck | None:
    with db.engine.connect() as conn:
        row = _asked(conn, check_id, NEED_CHECK)
        if row is None or row.need_id is None:
            return None
        need = conn.execute(sa.select(needs_watched).where(needs_watched.c.need_id == row.need_id)).mappings().first()
        answer = conn.execute(sa.select(need_check_answers).where(need_check_answers.c.check_id == check_id)
                              ).mappings().first()
    return NeedCheck(check_id, row.need_id, dict(need or {}), dict(answer) if answer else None)


def check_minutes(value: Any) -> tuple[int | None, str | None]:
    """The visit's length as typed: (minutes, None) or (None, a Polish error)."""
    text = str(value or "").strip()
    if not text:
        return None, "Podaj, ile minut trwała wizyta."
    if not text.isdigit():
        return None, "Podaj liczbę minut — same cyfry, np. 60."
    minutes = int(text)
    if not MINUTES[0] <= minutes <= MINUTES[1]:
        return None, f"Podaj od {MINUTES[0]} do {MINUTES[1]} minut."
    return minutes, None


def answer_visit(db: Database, outbox: Outbox, check: VisitCheck, happened: bool, minutes: int | None,
                 now: datetime | None = None) -> None:
    """Keep the one answer to this check and publish VisitOutcomeGiven in the same transaction."""
    if happened and (minutes is None or not MINUTES[0] <= minutes <= MINUTES[1]):
        raise ValueError("minutes out of range")
    try:
        with db.transaction() as session:
            session.execute(sa.insert(visit_check_answers).values(
                check_id=check.check_id, match_id=check.match_id, volunteer_id=check.volunteer_id, happened=happened,
                minutes=minutes if happened else None, answered_at=now or datetime.now(UTC)))
            outbox.add(session, notify_contract.TOPIC, "VisitOutcomeGiven", check.match_id, {
                "match_id": check.match_id, "volunteer_id": check.volunteer_id, "happened": happened,
                "minutes": minutes if happened else None})
            # answered through one channel: the other's copy (an SMS held back by quiet hours) is moot
            cancel_pending(session, notifications.c.cause_event_id == check.check_id,
                           notifications.c.kind == VISIT_CHECK, reason="wolontariusz już odpowiedział")
    except IntegrityError as err:
        raise AlreadyAnswered(check.check_id) from err


def answer_need(db: Database, outbox: Outbox, check: NeedCheck, still_needed: bool,
                now: datetime | None = None) -> None:
    """Keep the one answer to this check and publish NeedCheckAnswered in the same transaction."""
    try:
        with db.transaction() as session:
            session.execute(sa.insert(need_check_answers).values(
                check_id=check.check_id, need_id=check.need_id, still_needed=still_needed,
                answered_at=now or datetime.now(UTC)))
            outbox.add(session, notify_contract.TOPIC, "NeedCheckAnswered", check.need_id, {
                "need_id": check.need_id, "check_id": check.check_id, "still_needed": still_needed})
    except IntegrityError as err:
        raise AlreadyAnswered(check.check_id) from err
