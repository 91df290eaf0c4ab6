"""The matching projection: open needs, providers and their offers, built from needs/volunteers events.

`apply` is the only writer of the projection tables. Every applied event is also kept verbatim in
`applied_events`, so `rebuild` can throw the projection away and replay it exactly (the bus keeps no
history we could replay). `load_world` turns the projection into the matcher's domain objects.
Consumption is tolerant: fields a producer does not send yet take the agreed defaults.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching.db import PROJECTION, applied_events, community_assets, offers, open_needs, providers
from services.matching.rules import AGREEMENT, CAR, Credential, Need, Point, Provider, TimeWindow, Week
from wspolnota import reference
from wspolnota.localtime import WARSAW

# Requirement and credential codes on the bus (docs/events.md) → codes of the rules.
CODE_ALIASES = {"own_car": CAR}
DEFAULT_HOURS_PER_WEEK = 10.0
DEFAULT_MAX_OPEN_TASKS = 3


def rule_code(kind: str) -> str:
    return CODE_ALIASES.get(kind, kind)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# --- applying events ----------------------------------------------------------------------------

def _need_values(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "category": d["category"], "village": d["village"],
        "window_start": _dt(d["window_start"]), "window_end": _dt(d["window_end"]),
        "duration_minutes": d["duration_minutes"], "urgent": bool(d.get("urgent", False)),
        "slots": int(d.get("slots", 1)), "resident_ref": d.get("resident_ref"),
        "requirements": list(d.get("requirements") or []) + need_terms(d),
        "involves_minor": bool(d.get("involves_minor", False)),
        "language": d.get("language") or "pl", "plan_ref": d.get("plan_ref"), "series_id": d.get("series_id"),
        "continuity": bool(d.get("continuity", False)), "moderation": d.get("moderation") or "review",
        "urgency": "urgent" if d.get("urgent") else (d.get("urgency") or "normal"),
    }


# What a need asks of its provider besides credentials (NeedRegistered/NeedUpdated: personal_care, skills,
# relatives) is kept in open_needs.requirements next to the credential codes, each item tagged; older events
# without these fields add nothing. need_from_row splits them again.
PERSONAL_CARE = "personal_care"
SKILL, RELATIVE = "skill:", "relative:"


def need_terms(d: dict[str, Any]) -> list[str]:
    return (([PERSONAL_CARE] if d.get("personal_care") else []) + [SKILL + s for s in d.get("skills") or ()]
            + [RELATIVE + r for r in d.get("relatives") or ()])


def _split_requirements(items: Iterable[str]) -> dict[str, Any]:
    items = list(items or ())
    return {
        "credentials": frozenset(rule_code(k) for k in items
                                 if k != PERSONAL_CARE and not k.startswith((SKILL, RELATIVE))),
        "personal_care": PERSONAL_CARE in items,
        "skills": frozenset(k.removeprefix(SKILL) for k in items if k.startswith(SKILL)),
        "relatives": frozenset(k.removeprefix(RELATIVE) for k in items if k.startswith(RELATIVE)),
    }


def _upsert(session: Session, table: sa.Table, key: str, key_value: str, values: dict[str, Any]) -> None:
    updated = session.execute(sa.update(table).where(table.c[key] == key_value).values(**values))
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(sa.insert(table).values(**{key: key_value, **values}))


def _erased(session: Session, resident_ref: str | None) -> bool:
    """The ResidentErased event is kept (key = resident_ref) as a tombstone: a need event about that resident
    that arrives later (another partition, a replay) is folded without the pseudonym."""
    return bool(resident_ref) and session.execute(sa.select(applied_events.c.seq).where(
        applied_events.c.type == "ResidentErased", applied_events.c.key == resident_ref)).first() is not None


def _need_row(session: Session, d: dict[str, Any]) -> dict[str, Any]:
    values = _need_values(d)
    if _erased(session, values["resident_ref"]):
        values["resident_ref"] = None
        values["requirements"] = [k for k in values["requirements"] if not k.startswith(RELATIVE)]
    return values


def need_registered(session: Session, d: dict[str, Any]) -> None:
    _upsert(session, open_needs, "need_id", d["need_id"], {**_need_row(session, d), "status": "open"})


def need_updated(session: Session, d: dict[str, Any]) -> None:
    current = session.execute(sa.select(open_needs.c.status).where(open_needs.c.need_id == d["need_id"])).scalar()
    _upsert(session, open_needs, "need_id", d["need_id"], {**_need_row(session, d), "status": current or "open"})


NEED_EVENTS_WITH_REF = ("NeedRegistered", "NeedUpdated")
CANCEL_CODES = frozenset({"", "expired", "resident_erased"})  # NeedCancelled reasons the needs service sets


def resident_erased(session: Session, d: dict[str, Any]) -> None:
    """RODO art. 17: the projection and the kept need events lose the resident's pseudonym (the need rows,
    their category, village and times stay; the needs service cancels the unfinished ones itself)."""
    ref = d["resident_ref"]
    need_ids = set(d.get("need_ids") or ()) | set(session.execute(
        sa.select(open_needs.c.need_id).where(open_needs.c.resident_ref == ref)).scalars())
    session.execute(sa.update(open_needs).where(open_needs.c.resident_ref == ref).values(resident_ref=None))
    if not need_ids:
        return
    # the relatives recorded on the resident's needs tie volunteers to the resident: they go too
    for need_id, items in session.execute(sa.select(open_needs.c.need_id, open_needs.c.requirements).where(
            open_needs.c.need_id.in_(sorted(need_ids)))).all():
        if any(k.startswith(RELATIVE) for k in items or ()):
            session.execute(sa.update(open_needs).where(open_needs.c.need_id == need_id).values(
                requirements=[k for k in items if not k.startswith(RELATIVE)]))
    kept = session.execute(sa.select(applied_events.c.seq, applied_events.c.data).where(
        applied_events.c.type.in_(NEED_EVENTS_WITH_REF), applied_events.c.key.in_(sorted(need_ids)))).all()
    for seq, data in kept:
        if isinstance(data, dict) and (data.get("resident_ref") == ref or data.get("relatives")):
            session.execute(sa.update(applied_events).where(applied_events.c.seq == seq)
                            .values(data={**data, "resident_ref": None, "relatives": []}))
    # a cancellation's reason may be what staff typed (free text about the resident): only codes stay
    for seq, data in session.execute(sa.select(applied_events.c.seq, applied_events.c.data).where(
            applied_events.c.type == "NeedCancelled", applied_events.c.key.in_(sorted(need_ids)))).all():
        if isinstance(data, dict) and data.get("reason") not in CANCEL_CODES:
            session.execute(sa.update(applied_events).where(applied_events.c.seq == seq)
                            .values(data={**data, "reason": ""}))


def _need_status(status: str) -> Callable[[Session, dict[str, Any]], None]:
    def apply(session: Session, d: dict[str, Any]) -> None:
        session.execute(sa.update(open_needs).where(open_needs.c.need_id == d["need_id"]).values(status=status))
    return apply


def _credentials(raw: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Credentials as the projection keeps them: one entry per credential (`credential_id`; None in events
    from before ids were sent), `written` for agreements (absent: not shown to be written)."""
    held = []
    for c in raw or ():
        entry = {"credential_id": c.get("credential_id"), "kind": rule_code(c["kind"]),
                 "valid_from": c.get("valid_from"), "valid_until": c.get("valid_until")}
        if entry["kind"] == AGREEMENT:
            entry["written"] = bool(c.get("written"))
        held.append(entry)
    return held


def volunteer_registered(session: Session, d: dict[str, Any]) -> None:
    row = session.execute(sa.select(providers).where(providers.c.volunteer_id == d["volunteer_id"])).mappings().first()
    values: dict[str, Any] = dict(row) if row else {
        "provider_type": "volunteer", "villages": [], "verified": True, "paused": False, "erased": False,
        "credentials": []}
    values.pop("volunteer_id", None)
    for name in ("provider_type", "villages", "home_village", "radius_km", "languages", "skills",
                 "capacity_hours_per_week", "max_open_tasks", "verified", "paused", "weekly_slots", "unavailable",
                 "neighbour_conditions_met"):
        if d.get(name) is not None:  # absent or null: the producer does not know the field (yet)
            values[name] = d[name]
    if d.get("credentials") is not None:
        values["credentials"] = _credentials(d["credentials"])
    _upsert(session, providers, "volunteer_id", d["volunteer_id"], values)


def _set_provider(**values: Any) -> Callable[[Session, dict[str, Any]], None]:
    def apply(session: Session, d: dict[str, Any]) -> None:
        session.execute(sa.update(providers).where(providers.c.volunteer_id == d["volunteer_id"]).values(**values))
    return apply


def _provider_credentials(session: Session, volunteer_id: str) -> list[dict[str, Any]] | None:
    return session.execute(sa.select(providers.c.credentials)
                           .where(providers.c.volunteer_id == volunteer_id)).scalar()


def credential_recorded(session: Session, d: dict[str, Any]) -> None:
    """One more credential: the others of its kind stay (a renewal is recorded before the old one expires).
    The same credential recorded again (a redelivery, a correction) replaces its own entry only."""
    held = _provider_credentials(session, d["volunteer_id"])
    if held is None:
        return
    [new] = _credentials([d])
    same = (lambda c: c.get("credential_id") == new["credential_id"]) if new["credential_id"] else (
        lambda c: not c.get("credential_id") and c == new)
    _set_provider(credentials=[c for c in held if not same(c)] + [new])(session, d)


def _until(c: dict[str, Any]) -> date | None:
    value = c.get("valid_until")
    return None if value is None else date.fromisoformat(str(value))


def credential_expired(session: Session, d: dict[str, Any]) -> None:
    """Only the credential that expired goes; a renewal of the same kind stays.

    When no entry has the event's `credential_id` (an event from before ids were sent, replayed, or entries
    kept without one), the credentials of its kind (without an id, if the event has one) whose `valid_until`
    is on or before the event's go; with no date in the event either, those with the earliest end date."""
    held = _provider_credentials(session, d["volunteer_id"])
    if held is None:
        return
    credential_id = d.get("credential_id")
    if credential_id and any(c.get("credential_id") == credential_id for c in held):
        gone = [c for c in held if c.get("credential_id") == credential_id]
    else:
        kind = rule_code(d["kind"])
        dated = [(end, c) for c in held if c["kind"] == kind and not (credential_id and c.get("credential_id"))
                 and (end := _until(c)) is not None]
        until = _until(d) or min((end for end, _ in dated), default=None)
        gone = [c for end, c in dated if until is not None and end <= until]
    _set_provider(credentials=[c for c in held if not any(c is g for g in gone)])(session, d)


def credential_revoked(session: Session, d: dict[str, Any]) -> None:
    """Staff revoked the credential, a later Kamilka check was adverse, or a later one decides now: it goes.

    Entries kept without an id (from events before ids were sent) cannot be told apart: every one of the
    revoked credential's kind goes with it, so a revocation never leaves an old copy counting."""
    held = _provider_credentials(session, d["volunteer_id"])
    if held is None:
        return
    kind = rule_code(d["kind"])
    _set_provider(credentials=[c for c in held if c.get("credential_id") != d["credential_id"]
                               and not (c["kind"] == kind and not c.get("credential_id"))])(session, d)


def offer_published(session: Session, d: dict[str, Any]) -> None:
    _upsert(session, offers, "offer_id", d["offer_id"], {
        "volunteer_id": d["volunteer_id"], "categories": d["categories"], "villages": d["villages"],
        "available_from": _dt(d["available_from"]), "available_to": _dt(d["available_to"]),
        "weekly_slots": d.get("weekly_slots"), "status": "published"})


def offer_withdrawn(session: Session, d: dict[str, Any]) -> None:
    session.execute(sa.update(offers).where(offers.c.offer_id == d["offer_id"]).values(status="withdrawn"))


def volunteer_erased(session: Session, d: dict[str, Any]) -> None:
    _set_provider(erased=True, credentials=[], skills=None, languages=None)(session, d)
    session.execute(sa.update(offers).where(offers.c.volunteer_id == d["volunteer_id"]).values(status="withdrawn"))


def asset_recorded(session: Session, d: dict[str, Any]) -> None:
    """The asset as it is now (a repeat of the same event changes nothing)."""
    _upsert(session, community_assets, "asset_id", d["asset_id"], {
        "kind": d["kind"], "subtype": d.get("subtype") or "", "village": d["village"], "name": d.get("name"),
        "capacity": d.get("capacity"), "accessible": bool(d.get("accessible")), "lendable": bool(d.get("lendable"))})


def asset_removed(session: Session, d: dict[str, Any]) -> None:
    session.execute(sa.delete(community_assets).where(community_assets.c.asset_id == d["asset_id"]))


PROJECTORS: dict[str, Callable[[Session, dict[str, Any]], None]] = {
    "NeedRegistered": need_registered,
    "NeedUpdated": need_updated,
    "NeedCancelled": _need_status("cancelled"),
    "NeedCompleted": _need_status("completed"),
    "VolunteerRegistered": volunteer_registered,
    "VolunteerUpdated": volunteer_registered,
    "VolunteerPaused": _set_provider(paused=True),
    "VolunteerResumed": _set_provider(paused=False),
    "VolunteerErased": volunteer_erased,
    "ResidentErased": resident_erased,
    "CredentialRecorded": credential_recorded,
    "CredentialExpired": credential_expired,
    "CredentialRevoked": credential_revoked,
    "OfferPublished": offer_published,
    "OfferWithdrawn": offer_withdrawn,
    "AssetRecorded": asset_recorded,
    "AssetRemoved": asset_removed,
}
# Kept in applied_events but folded into nothing (a rebuild skips them): the moment a provider said yes is
# the "time to confirmed match" of the reports (services/matching/reports.py); proposals keep only the last change.
KEPT_ONLY = frozenset({"ProviderResponded"})


def apply(session: Session, event_id: str, event_type: str, key: str, data: dict[str, Any],
          at: datetime) -> None:
    """Keep the raw event, then fold it into the projection."""
    if event_type not in PROJECTORS and event_type not in KEPT_ONLY:
        return
    session.execute(sa.insert(applied_events).values(event_id=event_id, type=event_type, key=key, data=data, time=at))
    if event_type in PROJECTORS:
        PROJECTORS[event_type](session, data)


def rebuild(session: Session) -> int:
    """Empty the projection and fold every kept event into it again, in the order they were applied."""
    for table in PROJECTION:
        session.execute(sa.delete(table))
    count = 0
    for row in session.execute(sa.select(applied_events.c.type, applied_events.c.data)
                               .where(applied_events.c.type.in_(list(PROJECTORS)))
                               .order_by(applied_events.c.seq)).all():
        PROJECTORS[row.type](session, row.data)
        count += 1
    return count


# --- from the projection to the matcher's domain -----------------------------------------------

def village_point(code: str | None) -> Point | None:
    village = reference.villages().get(code or "")
    return None if village is None else Point(village["lat"], village["lon"])


def need_from_row(row: sa.RowMapping, **extra: Any) -> Need:
    return Need(
        id=row["need_id"], category=row["category"], village=row["village"],
        windows=(TimeWindow(row["window_start"], row["window_end"]),),
        duration_hours=row["duration_minutes"] / 60, point=village_point(row["village"]),
        urgency=row["urgency"] or ("urgent" if row["urgent"] else "normal"), slots=row["slots"],
        involves_minor=bool(row["involves_minor"]), language=row["language"] or "pl",
        **_split_requirements(row["requirements"]),
        beneficiary_ref=row["resident_ref"], plan_ref=row["plan_ref"], **extra)


@dataclass
class Availability:
    """Free time of one provider, each window remembering the offer it came from."""

    windows: list[tuple[TimeWindow, str]] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)
    villages: set[str] = field(default_factory=set)

    def offer_for(self, need: Need) -> str | None:
        for window in need.windows:
            for free, offer_id in self.windows:
                if window.overlap_hours(free) >= need.duration_hours:
                    return offer_id
        return None


def offer_windows(row: sa.RowMapping, now: datetime, horizon_days: int,
                  profile_slots: list[dict[str, Any]] | None = None) -> list[TimeWindow]:
    """The offer's free time: its own weekly slots, else the profile's, else the whole offer period."""
    start, end = row["available_from"], row["available_to"]
    slots = row["weekly_slots"] or profile_slots
    if not slots:
        return [TimeWindow(start, end)]
    windows = []
    first = max(start, now - timedelta(days=1)).astimezone(WARSAW).date()
    last = min(end, now + timedelta(days=horizon_days)).astimezone(WARSAW).date()
    day = first
    while day <= last:
        for slot in slots:
            if int(slot["weekday"]) == day.weekday():
                w_start = _local(day, slot["start"])
                w_end = _local(day, slot["end"])
                w_start, w_end = max(w_start, start), min(w_end, end)
                if w_end > w_start:
                    windows.append(TimeWindow(w_start, w_end))
        day += timedelta(days=1)
    return windows


def _local(day: date, hhmm: str) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), WARSAW).astimezone(UTC)


def without_absences(windows: list[TimeWindow], absences: list[dict[str, Any]] | None) -> list[TimeWindow]:
    """Cut the absence days (whole days in Europe/Warsaw) out of the free windows."""
    for absence in absences or ():
        first = datetime.combine(date.fromisoformat(absence["starts_on"]), time(0), WARSAW).astimezone(UTC)
        after = datetime.combine(date.fromisoformat(absence["ends_on"]) + timedelta(days=1), time(0),
                                 WARSAW).astimezone(UTC)
        kept = []
        for w in windows:
            if w.start < first:
                kept.append(TimeWindow(w.start, min(w.end, first)))
            if w.end > after:
                kept.append(TimeWindow(max(w.start, after), w.end))
        windows = [w for w in kept if w.end > w.start]
    return windows


def availability(session: Session, now: datetime, horizon_days: int) -> dict[str, Availability]:
    found: dict[str, Availability] = defaultdict(Availability)
    profiles = {r.volunteer_id: r for r in session.execute(
        sa.select(providers.c.volunteer_id, providers.c.weekly_slots, providers.c.unavailable))}
    rows = session.execute(sa.select(offers).where(offers.c.status == "published", offers.c.available_to > now)
                           .order_by(offers.c.available_from, offers.c.offer_id)).mappings()
    for row in rows:
        a = found[row["volunteer_id"]]
        profile = profiles.get(row["volunteer_id"])
        windows = offer_windows(row, now, horizon_days, profile.weekly_slots if profile else None)
        windows = without_absences(windows, profile.unavailable if profile else None)
        a.windows += [(w, row["offer_id"]) for w in windows]
        a.categories.update(row["categories"])
        a.villages.update(row["villages"])
    return found


def _credential(raw: dict[str, Any]) -> Credential:
    until, start = raw.get("valid_until"), raw.get("valid_from")
    return Credential(raw["kind"], date.fromisoformat(until) if until else None,
                      date.fromisoformat(start) if start else None, written=bool(raw.get("written")))


def provider_from_row(row: sa.RowMapping, free: Availability | None, hours_booked: float = 0.0,
                      open_tasks: int = 0, hours_by_week: dict[Week, float] | None = None) -> Provider:
    free = free or Availability()
    home = row["home_village"] or (row["villages"][0] if row["villages"] else None)
    return Provider(
        id=row["volunteer_id"], type=row["provider_type"],
        villages=frozenset(free.villages or row["villages"]),
        radius_km=float(row["radius_km"] or 0.0),
        availability=tuple(w for w, _ in free.windows),
        hours_per_week=float(row["capacity_hours_per_week"] or DEFAULT_HOURS_PER_WEEK),
        max_open_tasks=int(row["max_open_tasks"] or DEFAULT_MAX_OPEN_TASKS),
        point=village_point(home), hours_booked=hours_booked, open_tasks=open_tasks,
        hours_by_week=tuple(sorted((hours_by_week or {}).items())),
        paused=bool(row["paused"] or row["erased"]),
        languages=frozenset(row["languages"] or ("pl",)), skills=frozenset(row["skills"] or ()),
        credentials=tuple(_credential(c) for c in row["credentials"] or ()),
        categories=frozenset(free.categories), verified=bool(row["verified"]) and not row["erased"],
        neighbour_conditions_met=row["neighbour_conditions_met"] is not False,
    )
