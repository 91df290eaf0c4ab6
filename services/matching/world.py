"""The world as the matcher sees it: open needs, providers with their free time and load, and every match.

`load_world` reads the projection (projection.py) and matching's own rows into one `World`; the times that
approved, offered and accepted matches hold, and the community activities a provider was offered or took a
helper place at (helpers.py), are already cut out of the providers' availability, so no path that creates a
match can give one provider two visits at once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import model, projection
from services.matching.db import helper_activities, helper_offers, open_needs, proposals, providers
from services.matching.model import ACTIVE, COMMITTED, EXCLUDING, OFFERED, SERVED
from services.matching.rules import Need, Provider, TimeWindow, Week, iso_week
from services.matching.settings import Settings
from services.matching.solver import without


@dataclass
class World:
    needs: dict[str, sa.RowMapping]
    providers: dict[str, Provider]
    free: dict[str, projection.Availability]  # as offered, before the reserved times are taken out
    matches: dict[str, list[sa.RowMapping]]  # per need, every match row
    # per provider, the visit times their matches hold (need id, time): already cut out of the providers'
    # availability, so no path that creates a match can give one provider two visits at once
    reserved: dict[str, list[tuple[str, TimeWindow]]] = field(default_factory=dict)

    def provider_for(self, volunteer_id: str, need_id: str) -> Provider | None:
        """The provider as a match of this need sees them: the times of their other visits taken, the time
        this need's own match holds free again (a match is re-checked against everything but itself)."""
        p = self.providers.get(volunteer_id)
        own = [w for n, w in self.reserved.get(volunteer_id, ()) if n == need_id]
        if p is None or not own:
            return p
        offered = [w for w, _ in (self.free.get(volunteer_id) or projection.Availability()).windows]
        others = [w for n, w in self.reserved[volunteer_id] if n != need_id]
        return replace(p, availability=tuple(without(offered, others)))

    def active(self, need_id: str, statuses: tuple[str, ...] = ACTIVE) -> list[sa.RowMapping]:
        return [m for m in self.matches.get(need_id, []) if m["status"] in statuses]

    def domain_need(self, need_id: str, slots: int | None = None, keep: frozenset[str] = frozenset()) -> Need:
        """The need with its exclusions: who declined, timed out or was rejected, and who already serves it."""
        rows = self.matches.get(need_id, [])
        excluded = {m["volunteer_id"] for m in rows if m["status"] in EXCLUDING + COMMITTED} - keep
        row = self.needs[need_id]
        return projection.need_from_row(row, declined_by=frozenset(excluded),
                                        previous_providers=self.previous_providers(row))

    def previous_providers(self, need: sa.RowMapping) -> frozenset[str]:
        if not (need["series_id"] or (need["plan_ref"] and need["continuity"])):
            return frozenset()
        same = {nid for nid, n in self.needs.items()
                if nid != need["need_id"] and ((need["series_id"] and n["series_id"] == need["series_id"])
                                               or (need["continuity"] and n["plan_ref"] == need["plan_ref"]))}
        return frozenset(m["volunteer_id"] for nid in same for m in self.matches.get(nid, [])
                         if m["status"] in SERVED)


def load_world(session: Session, now: datetime, settings: Settings, load: tuple[str, ...] = COMMITTED,
               only: list[str] | None = None) -> World:
    """The projection and matching's own rows; `load` says which match statuses book the provider's time
    (the incremental solve passes PROPOSED too: it places new needs next to the proposals it keeps).

    `only`: of the needs, load just these plus those with a match (load, continuity) and those whose
    window has ended (deficits) — not the whole backlog of open needs no solve will touch.
    """
    query = sa.select(open_needs)
    if only is not None:
        query = query.where(sa.or_(open_needs.c.need_id.in_(only), open_needs.c.window_end <= now,
                                   open_needs.c.need_id.in_(sa.select(proposals.c.need_id))))
    needs = {r["need_id"]: r for r in session.execute(query).mappings()}
    matches: dict[str, list[sa.RowMapping]] = defaultdict(list)
    hours: dict[str, float] = defaultdict(float)  # over the horizon: the load that fairness spreads
    weekly: dict[str, dict[Week, float]] = defaultdict(lambda: defaultdict(float))  # the weekly-hours limit
    tasks: dict[str, int] = defaultdict(int)
    reserved: dict[str, list[tuple[str, TimeWindow]]] = defaultdict(list)
    committed: set[str] = set()  # series commitments already counted: all their visits are one open task
    for m in session.execute(sa.select(proposals).order_by(proposals.c.created_at, proposals.c.id)).mappings():
        matches[m["need_id"]].append(m)
        need = needs.get(m["need_id"])
        if m["status"] in load and need is not None and need["window_end"] > now:
            hours[m["volunteer_id"]] += need["duration_minutes"] / 60
            weekly[m["volunteer_id"]][iso_week(need["window_start"])] += need["duration_minutes"] / 60
            if m["series_commitment_id"] not in committed:
                tasks[m["volunteer_id"]] += 1
            if m["series_commitment_id"]:
                committed.add(m["series_commitment_id"])
            reserved[m["volunteer_id"]].append((m["need_id"], visit_of(m, need)))
    free = projection.availability(session, now, settings.horizon_days)
    helping = helper_places(session, now)
    for volunteer_id, windows in helping.items():  # a helper place is load like a committed match
        for w in windows:
            length = (w.end - w.start).total_seconds() / 3600
            hours[volunteer_id] += length
            weekly[volunteer_id][iso_week(w.start)] += length
            tasks[volunteer_id] += 1
    people = {}
    for r in session.execute(sa.select(providers).order_by(providers.c.volunteer_id)).mappings():
        p = projection.provider_from_row(r, free.get(r["volunteer_id"]), hours[r["volunteer_id"]],
                                         tasks[r["volunteer_id"]], weekly.get(r["volunteer_id"]))
        if reserved.get(p.id):
            p = replace(p, availability=tuple(without(p.availability, [w for _, w in reserved[p.id]])))
        if helping.get(p.id):
            p = replace(p, availability=tuple(without(p.availability, helping[p.id])))
        people[p.id] = p
    return World(needs, people, free, matches, dict(reserved))


def helper_places(session: Session, now: datetime) -> dict[str, list[TimeWindow]]:
    """Per provider, the times of community activities they were offered a helper place at or accepted one
    (helpers.py), until the activity is over: not free for a visit, nor for another activity, and counted like a
    committed match (offered or accepted) in the weekly hours of the activity's week and in the open tasks."""
    rows = session.execute(sa.select(helper_offers.c.volunteer_id, helper_activities.c.starts_at,
                                     helper_activities.c.ends_at)
                           .join(helper_activities, helper_activities.c.activity_id == helper_offers.c.activity_id)
                           .where(helper_offers.c.status.in_(("offered", "accepted")),
                                  helper_activities.c.ends_at > now)
                           .order_by(helper_activities.c.starts_at)).all()
    taken: dict[str, list[TimeWindow]] = defaultdict(list)
    for r in rows:
        taken[r.volunteer_id].append(TimeWindow(r.starts_at, r.ends_at))
    return dict(taken)


def visit_of(match: Any, need: Any) -> TimeWindow:
    """A match's visit time: the agreed one; on rows made before it was kept, the window's start for the
    need's duration (what the provider was told then)."""
    if match["agreed_start"] is not None and match["agreed_end"] is not None:
        return TimeWindow(match["agreed_start"], match["agreed_end"])
    start = match["window_start"]
    return TimeWindow(start, start + timedelta(minutes=need["duration_minutes"]))


def visit_begun(match: Any, need: Any, now: datetime) -> bool:
    """An accepted visit whose agreed time has come: a later change in the world cannot undo it."""
    return model.visit_begun(match["status"], visit_of(match, need).start, now)


def solvable_slots(world: World, need_id: str, now: datetime) -> int:
    """Slots the solver may (re)decide for this need: 0 while its cascade runs or when it is not open."""
    need = world.needs[need_id]
    if need["status"] != "open" or need["window_end"] <= now or world.active(need_id, (OFFERED,)):
        return 0
    return need["slots"] - len(world.active(need_id, COMMITTED))
