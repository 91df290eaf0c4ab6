"""Volunteer hours: what a provider gave, from the events that carry hours, so they count wherever hours count.

One ledger row per provider and source: a visit (matching's `MatchCompleted`, per match) or a community activity
(community's `ParticipationRecorded`, per activity). A later event for the same row is a correction and replaces
the hours; the same event handled again, or an older one arriving after its correction, changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.volunteers.db import hours_ledger
from wspolnota import localtime
from wspolnota.transport import Event

VISIT, ACTIVITY = "visit", "activity"
SOURCES = (VISIT, ACTIVITY)


def record(session: Session, event: Event, *, provider_id: str, source: str, source_id: str, hours: float,
           on_date: date, now: datetime) -> bool:
    """Put the hours of one source in the ledger; True if the ledger changed."""
    key = (hours_ledger.c.provider_id == provider_id, hours_ledger.c.source == source,
           hours_ledger.c.source_id == source_id)
    current = session.execute(sa.select(hours_ledger.c.event_id, hours_ledger.c.event_time).where(*key)).first()
    values = {"hours": round(hours, 2), "on_date": on_date, "event_id": str(event.id), "event_time": event.time,
              "recorded_at": now}
    if current is None:
        session.execute(sa.insert(hours_ledger).values(provider_id=provider_id, source=source, source_id=source_id,
                                                       **values))
        return True
    if current.event_id == str(event.id) or event.time < current.event_time:
        return False  # handled already, or older than the correction already in the ledger
    session.execute(sa.update(hours_ledger).where(*key).values(**values))
    return True


def on_participation_recorded(session: Session, event: Event) -> None:
    """A helper's hours at a community activity (from the attendance record)."""
    data = event.data
    record(session, event, provider_id=data["provider_id"], source=ACTIVITY, source_id=data["activity_id"],
           hours=data["hours"], on_date=date.fromisoformat(str(data["held_on"])), now=localtime.now())


def on_match_completed(session: Session, event: Event) -> None:
    """A visit done: its hours, on the Warsaw day the completion was recorded."""
    data = event.data
    record(session, event, provider_id=data["volunteer_id"], source=VISIT, source_id=data["match_id"],
           hours=data["hours"], on_date=localtime.local_day(event.time), now=localtime.now())


def summary(session: Session, provider_id: str, today: date) -> dict[str, Any]:
    """Hours in total and in `today`'s calendar year, altogether and per source (visits, community activities),
    with how many visits or activities they come from."""
    rows = session.execute(sa.select(hours_ledger.c.source, hours_ledger.c.hours, hours_ledger.c.on_date)
                           .where(hours_ledger.c.provider_id == provider_id)).all()

    def figures(source: str | None) -> dict[str, Any]:
        mine = [r for r in rows if source is None or r.source == source]
        this_year = [r for r in mine if r.on_date.year == today.year]
        return {"total": round(sum(r.hours for r in mine), 2), "this_year": round(sum(r.hours for r in this_year), 2),
                "count": len([r for r in mine if r.hours > 0])}

    return {"provider_id": provider_id, "year": today.year, **figures(None),
            "visits": figures(VISIT), "activities": figures(ACTIVITY)}


def entries(session: Session, provider_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The ledger's rows of one provider, the latest day first."""
    return [dict(r) for r in session.execute(
        sa.select(hours_ledger.c.source, hours_ledger.c.source_id, hours_ledger.c.hours, hours_ledger.c.on_date)
        .where(hours_ledger.c.provider_id == provider_id)
        .order_by(hours_ledger.c.on_date.desc(), hours_ledger.c.source_id).limit(limit)).mappings()]
