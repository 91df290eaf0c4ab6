"""Volunteer hours: what a provider gave, from the events that carry hours, so they count wherever hours count.

One ledger row per provider and source: a visit (matching's `MatchCompleted`, per match) or a community activity
(community's `ParticipationRecorded`, per activity). A later event for the same row is a correction and replaces
the hours; the same event handled again, or an older one arriving after its correction, changes nothing. Each row
keeps the scope of the work where the event carries it: a visit's category code, an activity's kind.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts.community import ACTIVITY_KIND_LABELS
from services.volunteers.db import hours_ledger
from wspolnota import localtime, reference
from wspolnota.transport import Event

VISIT, ACTIVITY = "visit", "activity"
SOURCES = (VISIT, ACTIVITY)


def record(session: Session, event: Event, *, provider_id: str, source: str, source_id: str, hours: float,
           on_date: date, now: datetime, category: str | None = None) -> bool:
    """Put the hours of one source in the ledger; True if the ledger changed."""
    key = (hours_ledger.c.provider_id == provider_id, hours_ledger.c.source == source,
           hours_ledger.c.source_id == source_id)
    current = session.execute(sa.select(hours_ledger.c.event_id, hours_ledger.c.event_time).where(*key)).first()
    values = {"hours": round(hours, 2), "on_date": on_date, "event_id": str(event.id), "event_time": event.time,
              "recorded_at": now, "category": category}
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
           hours=data["hours"], on_date=date.fromisoformat(str(data["held_on"])), now=localtime.now(),
           category=data.get("kind"))


def on_match_completed(session: Session, event: Event) -> None:
    """A visit done: its hours, on the Warsaw day the completion was recorded."""
    data = event.data
    record(session, event, provider_id=data["volunteer_id"], source=VISIT, source_id=data["match_id"],
           hours=data["hours"], on_date=localtime.local_day(event.time), now=localtime.now(),
           category=data.get("category"))


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
        sa.select(hours_ledger.c.source, hours_ledger.c.source_id, hours_ledger.c.hours, hours_ledger.c.on_date,
                  hours_ledger.c.category)
        .where(hours_ledger.c.provider_id == provider_id)
        .order_by(hours_ledger.c.on_date.desc(), hours_ledger.c.source_id).limit(limit)).mappings()]


# --- by month, by period, and the scope of the work ---------------------------------------------------------
SOURCE_PL = {VISIT: "wizyty u mieszkańców", ACTIVITY: "zajęcia w społeczności lokalnej"}
UNKNOWN_SCOPE_PL = {VISIT: "pomoc bez podanej kategorii", ACTIVITY: "zajęcia bez podanego rodzaju"}


def scope_label(source: str, category: str | None) -> str:
    """What kind of help a ledger row is, in Polish: the category's name for a visit ("Zakupy i sprawunki"), the
    activity's kind for a community activity ("warsztat"); older rows without a code say what they are."""
    if source == VISIT and category in reference.categories():
        return str(reference.categories()[category]["name"])
    if source == ACTIVITY and category in ACTIVITY_KIND_LABELS:
        return ACTIVITY_KIND_LABELS[category]
    return UNKNOWN_SCOPE_PL.get(source, source)


def _rows(session: Session, provider_id: str, since: date, until: date) -> list[Any]:
    return list(session.execute(
        sa.select(hours_ledger.c.source, hours_ledger.c.source_id, hours_ledger.c.hours, hours_ledger.c.on_date,
                  hours_ledger.c.category)
        .where(hours_ledger.c.provider_id == provider_id, hours_ledger.c.on_date >= since,
               hours_ledger.c.on_date <= until)
        .order_by(hours_ledger.c.on_date, hours_ledger.c.source, hours_ledger.c.source_id)).all())


def by_month(session: Session, provider_id: str, year: int) -> dict[str, Any]:
    """Hours of one calendar year (the Warsaw days the ledger keeps), month by month: twelve entries, empty
    months with zeros, each with its hours per source and how many visits or activities they come from."""
    rows = _rows(session, provider_id, date(year, 1, 1), date(year, 12, 31))
    months = []
    for month in range(1, 13):
        mine = [r for r in rows if r.on_date.month == month]
        months.append({"month": month, **_figures(mine)})
    return {"year": year, "months": months, **_figures(rows)}


def _figures(rows: Iterable[Any]) -> dict[str, Any]:
    rows = list(rows)
    visits = [r for r in rows if r.source == VISIT]
    activities = [r for r in rows if r.source == ACTIVITY]
    return {"hours": round(sum(r.hours for r in rows), 2),
            "visit_hours": round(sum(r.hours for r in visits), 2),
            "activity_hours": round(sum(r.hours for r in activities), 2),
            "visits": len([r for r in visits if r.hours > 0]),
            "activities": len([r for r in activities if r.hours > 0])}


def between(session: Session, provider_id: str, since: date, until: date) -> list[dict[str, Any]]:
    """The ledger's rows of one provider from `since` to `until` (Warsaw days, both included), oldest first,
    each with its scope in Polish; rows of zero hours (a visit reported without hours) are left out."""
    return [{"on_date": r.on_date, "source": r.source, "source_id": r.source_id, "hours": r.hours,
             "category": r.category, "scope": scope_label(r.source, r.category)}
            for r in _rows(session, provider_id, since, until) if r.hours > 0]


def scope(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scope of the work in a period: one line per source and kind of help, with its count and hours,
    visits first, then by hours (most first)."""
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        line = lines.setdefault((e["source"], e["scope"]), {"source": e["source"], "scope": e["scope"],
                                                             "count": 0, "hours": 0.0})
        line["count"] += 1
        line["hours"] = round(line["hours"] + e["hours"], 2)
    return sorted(lines.values(), key=lambda line: (SOURCES.index(line["source"]), -line["hours"], line["scope"]))
