"""A gentle nudge to volunteers idle for a while when open needs wait near them.

Matching holds everything the rule needs, from events it already follows: the providers (villages, verified,
paused, erased), their matches (the last visit they took or did) and the open needs by village. So the rule runs
here, as a periodic job (`wspolnota jobs matching`), and publishes `IdleVolunteerNudged {volunteer_id, open_needs,
villages, period}`: counts and codes only. Notify words the message, sends it outside the quiet hours and skips a
volunteer who switched such messages off (the volunteers service owns that choice; notify reads it with the
contact at send time). Nobody reads another service's database.

The rule (`select`, a pure function): a verified, unpaused, not erased volunteer (provider type `volunteer`)
1. whose last visit taken or done (a match accepted or completed; an accepted visit still to come counts as now)
   is at least `idle` ago — a volunteer matching never saw help is idle from when this job first saw them
   (`nudges.first_seen_at`), so someone just verified is not nudged at once;
2. with at least one open need in their villages;
3. not nudged in the last `idle` (at most one nudge per period).
MATCHING_NUDGE_IDLE_DAYS (default 30; 0 switches the nudge off) is `idle`.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from contracts import matching as match_contract
from services.matching import model
from services.matching.db import nudges, open_needs, proposals, providers
from services.matching.handlers import PUBLISHES
from wspolnota import config, localtime
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("matching.nudges")
VOLUNTEER = "volunteer"


@dataclass(frozen=True)
class Provider:
    volunteer_id: str
    villages: tuple[str, ...]
    eligible: bool  # a verified volunteer, not paused, not erased


@dataclass(frozen=True)
class Nudge:
    volunteer_id: str
    open_needs: int
    villages: tuple[str, ...]


def select(people: Iterable[Provider], last_active: Mapping[str, datetime], first_seen: Mapping[str, datetime],
           last_nudged: Mapping[str, datetime], needs_by_village: Mapping[str, int], now: datetime,
           idle: timedelta) -> list[Nudge]:
    """Whom to nudge now (see the module's rule), in volunteer id order."""
    if idle <= timedelta(0):
        return []
    out = []
    for p in sorted(people, key=lambda p: p.volunteer_id):
        if not p.eligible:
            continue
        since = last_active.get(p.volunteer_id) or first_seen.get(p.volunteer_id) or now
        if now - since < idle:
            continue
        nudged = last_nudged.get(p.volunteer_id)
        if nudged is not None and now - nudged < idle:
            continue
        waiting = {v: needs_by_village.get(v, 0) for v in sorted(set(p.villages))}
        count = sum(waiting.values())
        if count > 0:
            out.append(Nudge(p.volunteer_id, count, tuple(v for v, n in waiting.items() if n)))
    return out


def idle_period() -> timedelta:
    return timedelta(days=config.get_int("MATCHING_NUDGE_IDLE_DAYS"))


def nudge_idle_volunteers(db: Database, now: datetime, idle: timedelta | None = None) -> list[Nudge]:
    """One run of the job, in one transaction: remember new providers, publish the nudges, note when."""
    idle = idle_period() if idle is None else idle
    outbox = Outbox(db, PUBLISHES)
    with db.transaction() as session:
        people = [Provider(r.volunteer_id, tuple(r.villages or ()),
                           r.provider_type == VOLUNTEER and bool(r.verified) and not r.paused and not r.erased)
                  for r in session.execute(sa.select(providers.c.volunteer_id, providers.c.villages,
                                                     providers.c.provider_type, providers.c.verified,
                                                     providers.c.paused, providers.c.erased))]
        known = {r.volunteer_id: r for r in session.execute(sa.select(nudges))}
        for p in people:
            if p.eligible and p.volunteer_id not in known:
                session.execute(sa.insert(nudges).values(volunteer_id=p.volunteer_id, first_seen_at=now))
        known = {r.volunteer_id: r for r in session.execute(sa.select(nudges))}
        active: dict[str, datetime] = {}
        for r in session.execute(sa.select(proposals.c.volunteer_id, proposals.c.status, proposals.c.updated_at,
                                           proposals.c.completed_at, proposals.c.created_at,
                                           proposals.c.window_start)
                                 .where(proposals.c.status.in_(model.SERVED))):
            when = now if r.status == model.ACCEPTED and r.window_start and r.window_start > now else \
                r.completed_at or r.updated_at or r.created_at
            if when is not None and (r.volunteer_id not in active or when > active[r.volunteer_id]):
                active[r.volunteer_id] = when
        needs_by_village = Counter(v for (v,) in session.execute(
            sa.select(open_needs.c.village).where(open_needs.c.status == "open")))
        chosen = select(people, active, {k: r.first_seen_at for k, r in known.items()},
                        {k: r.last_nudged_at for k, r in known.items() if r.last_nudged_at is not None},
                        needs_by_village, now, idle)
        period = localtime.local_day(now).isoformat()
        for n in chosen:
            outbox.add(session, match_contract.TOPIC, "IdleVolunteerNudged", n.volunteer_id, {
                "volunteer_id": n.volunteer_id, "open_needs": n.open_needs, "villages": list(n.villages),
                "period": period})
            session.execute(sa.update(nudges).where(nudges.c.volunteer_id == n.volunteer_id)
                            .values(last_nudged_at=now))
    if chosen:
        log.info("nudged %d idle volunteers", len(chosen))
    return chosen


PERIODIC = {"nudge-idle-volunteers": lambda db, now: nudge_idle_volunteers(db, now)}
