""""Did it happen?": closing the loop after an accepted visit.

An accepted visit that ended `MATCHING_VISIT_CHECK_HOURS` (default 2) ago and that nobody has confirmed — neither
the provider in their own space (volunteers' VisitConfirmed) nor staff on the match page — gets one
`VisitCheckDue {match_id, provider_id, need_id}` from this periodic job (`wspolnota jobs matching`). Notify asks
the provider by a signed link; the answer comes back as notify's `VisitOutcomeGiven`, which matching handles with
the very code path of VisitConfirmed (services/matching/confirmations.py): hours count at once.

Each match is asked once: the job remembers it in `visit_checks` (the primary key is the match id, so a second run,
or two runs at once, publish nothing more). A match still accepted `MATCHING_VISIT_FOLLOWUP_HOURS` (default 48)
after the question is the organiser's follow-up task ("Wizyty bez potwierdzenia" on the dashboard, read from
`GET /api/visit-checks/overdue`); it leaves the list as soon as somebody decides (completed or cancelled).

The rule (`select`, a pure function): an accepted match (each visit of a weekly series is its own match) whose
visit's end (the agreed end; on older rows the start plus the need's duration) is at least `after` ago, and that
has not been asked yet.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from services.matching import model
from services.matching.db import open_needs, proposals, visit_checks
from services.matching.handlers import PUBLISHES
from wspolnota import config
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("matching.visit_checks")
DEFAULT_DURATION = timedelta(minutes=60)  # a match whose need matching no longer holds: its start plus an hour


@dataclass(frozen=True)
class Visit:
    match_id: str
    need_id: str
    volunteer_id: str
    status: str
    end: datetime


@dataclass(frozen=True)
class Check:
    match_id: str
    need_id: str
    provider_id: str


def select(visits: Iterable[Visit], asked: set[str], now: datetime, after: timedelta) -> list[Check]:
    """The visits to ask about now (see the module's rule), in match id order."""
    return [Check(v.match_id, v.need_id, v.volunteer_id) for v in sorted(visits, key=lambda v: v.match_id)
            if v.status == model.ACCEPTED and v.match_id not in asked and v.end <= now - after]


def check_after() -> timedelta:
    return timedelta(hours=config.get_float("MATCHING_VISIT_CHECK_HOURS"))


def follow_up_after() -> timedelta:
    return timedelta(hours=config.get_float("MATCHING_VISIT_FOLLOWUP_HOURS"))


def visit_end(row: Any, duration_minutes: int | None) -> datetime:
    if row["agreed_end"] is not None:
        return row["agreed_end"]  # type: ignore[no-any-return]
    start = row["agreed_start"] or row["window_start"]
    return start + (timedelta(minutes=duration_minutes) if duration_minutes else DEFAULT_DURATION)  # type: ignore[no-any-return]


def _accepted(session: Session, before: datetime) -> list[Visit]:
    """Accepted matches whose visit began before `before` (an ended visit began before its end)."""
    rows = session.execute(
        sa.select(proposals.c.id, proposals.c.need_id, proposals.c.volunteer_id, proposals.c.status,
                  proposals.c.window_start, proposals.c.agreed_start, proposals.c.agreed_end,
                  open_needs.c.duration_minutes)
        .select_from(proposals.outerjoin(open_needs, open_needs.c.need_id == proposals.c.need_id))
        .where(proposals.c.status == model.ACCEPTED,
               sa.func.coalesce(proposals.c.agreed_start, proposals.c.window_start) < before)).mappings()
    return [Visit(r["id"], r["need_id"], r["volunteer_id"], r["status"], visit_end(r, r["duration_minutes"]))
            for r in rows]


def ask_visit_checks(db: Database, now: datetime, after: timedelta | None = None) -> list[Check]:
    """One run of the job, in one transaction: publish VisitCheckDue for each visit due and remember it."""
    after = check_after() if after is None else after
    outbox = Outbox(db, PUBLISHES)
    with db.transaction() as session:
        asked = set(session.execute(sa.select(visit_checks.c.match_id)).scalars())
        chosen = select(_accepted(session, now - after), asked, now, after)
        for c in chosen:
            session.execute(sa.insert(visit_checks).values(match_id=c.match_id, need_id=c.need_id,
                                                           volunteer_id=c.provider_id, asked_at=now))
            outbox.add(session, match_contract.TOPIC, "VisitCheckDue", c.need_id, {
                "match_id": c.match_id, "provider_id": c.provider_id, "need_id": c.need_id})
    if chosen:
        log.info("asked %d providers whether their visit happened", len(chosen))
    return chosen


def overdue(session: Session, now: datetime, follow_up: timedelta | None = None) -> list[dict[str, Any]]:
    """The organiser's follow-up tasks: visits asked about `follow_up` ago and still accepted (nobody decided),
    the oldest question first. Ids, codes and times only."""
    follow_up = follow_up_after() if follow_up is None else follow_up
    rows = session.execute(
        sa.select(proposals.c.id, proposals.c.need_id, proposals.c.volunteer_id, proposals.c.category,
                  proposals.c.village, proposals.c.window_start, proposals.c.agreed_start, visit_checks.c.asked_at)
        .join(visit_checks, visit_checks.c.match_id == proposals.c.id)
        .where(proposals.c.status == model.ACCEPTED, visit_checks.c.asked_at <= now - follow_up)
        .order_by(visit_checks.c.asked_at, proposals.c.id)).mappings()
    return [{"match_id": r["id"], "need_id": r["need_id"], "volunteer_id": r["volunteer_id"],
             "category": r["category"], "village": r["village"],
             "visit_start": (r["agreed_start"] or r["window_start"]).isoformat(),
             "asked_at": r["asked_at"].isoformat()} for r in rows]


PERIODIC = {"ask-visit-checks": lambda db, now: ask_visit_checks(db, now)}
