"""Helpers wanted at community activities: the activity's helper places offered to eligible providers one by one.

Community publishes `HelpersWanted` (how many, where, when, whether children take part); matching keeps the
activity (helper_activities) and offers its places like the cascade offers a need (cascade.py): one offer per
missing place, each with a deadline; a decline or no answer by the deadline asks the next provider; once every
place is taken the offers still out are withdrawn. The legal gates are the matcher's own rules (rules.py),
judged on the activity as a `Need` whose window is the activity's time: active and verified, within the area,
free for the whole activity, a volunteer agreement (written when it must be, NNW for a short one) and, when the
activity involves children, a Kamilka check in date on its day. A change in a provider (a credential expired or
revoked, a pause) re-checks their offers and acceptances before the activity, as cascade.recheck_volunteer does
for matches. Offers travel as Helper* events (contracts/matching.py), never as match events.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from services.matching.cascade import MIN_ANSWER_TIME, RECHECK_RULES
from services.matching.db import helper_activities, helper_offers
from services.matching.projection import Availability, village_point
from services.matching.rules import (
    RULES,
    Candidate,
    Need,
    Rule,
    TimeWindow,
    category_offered,
    distance_km,
    first_rejection,
    time_windows_overlap,
)
from services.matching.settings import Settings
from services.matching.solver import without
from services.matching.world import load_world
from wspolnota.transport.outbox import Outbox

OPEN, CANCELLED_ACTIVITY = "open", "cancelled"
OFFERED, ACCEPTED, DECLINED, EXPIRED, CANCELLED = "offered", "accepted", "declined", "expired", "cancelled"
WAITING = (OFFERED, ACCEPTED)
NO_CATEGORY = ""  # an activity's helpers need no category: the rules about one category or another stay inert


def activity_need(activity: Any, asked: frozenset[str] = frozenset()) -> Need:
    """The activity as the rules see a need: its whole time, in its village, with children when it says so."""
    start, end = activity["starts_at"], activity["ends_at"]
    return Need(id=activity["activity_id"], category=activity["category"] or NO_CATEGORY,
                village=activity["village"], windows=(TimeWindow(start, end),),
                duration_hours=(end - start).total_seconds() / 3600, point=village_point(activity["village"]),
                slots=activity["count"], involves_minor=bool(activity["involves_children"]), declined_by=asked)


def rules_for(activity: Any, rules: tuple[Rule, ...] = RULES) -> tuple[Rule, ...]:
    """The matcher's rules; without a category there is no category to offer."""
    return rules if activity["category"] else tuple(r for r in rules if r is not category_offered)


# After a change in the provider, an offer or acceptance is judged again on everything but load, history and
# the time: the matcher does not book helper time, so a visit accepted later must not undo a helper's yes.
RECHECK = tuple(r for r in RECHECK_RULES if r is not time_windows_overlap)


def _activity(session: Session, activity_id: str) -> sa.RowMapping | None:
    return session.execute(sa.select(helper_activities).where(
        helper_activities.c.activity_id == activity_id)).mappings().first()


def _offers(session: Session, activity_id: str) -> list[sa.RowMapping]:
    return list(session.execute(sa.select(helper_offers).where(helper_offers.c.activity_id == activity_id)
                                .order_by(helper_offers.c.created_at, helper_offers.c.id)).mappings())


def _ids(row: Any) -> dict[str, str]:
    return {"match_id": row["id"], "activity_id": row["activity_id"], "volunteer_id": row["volunteer_id"]}


def _set(session: Session, row: Any, now: datetime, **values: Any) -> None:
    session.execute(sa.update(helper_offers).where(helper_offers.c.id == row["id"]).values(updated_at=now, **values))


def _cancel(session: Session, outbox: Outbox, row: Any, reason: str, now: datetime) -> None:
    _set(session, row, now, status=CANCELLED, reason=reason)
    outbox.add(session, match_contract.TOPIC, "HelperCancelled", row["activity_id"], {
        **_ids(row), "reason": reason, "accepted": row["status"] == ACCEPTED})


def wanted(session: Session, outbox: Outbox, data: dict[str, Any], now: datetime, settings: Settings) -> None:
    """HelpersWanted: keep (or replace) the activity's count and facts, then offer its missing places."""
    values = {"count": data["count"], "involves_children": bool(data["involves_children"]),
              "category": data.get("category"), "kind": data.get("kind"), "village": data["village"],
              "starts_at": _dt(data["starts_at"]), "ends_at": _dt(data["ends_at"]), "updated_at": now}
    known = _activity(session, data["activity_id"])
    if known is None:
        session.execute(sa.insert(helper_activities).values(activity_id=data["activity_id"], status=OPEN, **values))
    elif known["status"] == CANCELLED_ACTIVITY:
        return
    else:
        session.execute(sa.update(helper_activities).where(
            helper_activities.c.activity_id == data["activity_id"]).values(**values))
    moved = known is not None and (known["starts_at"] != values["starts_at"] or known["ends_at"] != values["ends_at"])
    if known is not None and (moved or known["involves_children"] != values["involves_children"]
                              or known["village"] != values["village"]):
        recheck_activity(session, outbox, data["activity_id"], now, settings, moved=moved)
    refill(session, outbox, data["activity_id"], now, settings)


def cancelled(session: Session, outbox: Outbox, activity_id: str, now: datetime) -> None:
    """ActivityCancelled: every offer out and every acceptance is withdrawn."""
    session.execute(sa.update(helper_activities).where(helper_activities.c.activity_id == activity_id)
                    .values(status=CANCELLED_ACTIVITY, updated_at=now))
    for row in _offers(session, activity_id):
        if row["status"] in WAITING:
            _cancel(session, outbox, row, "activity_cancelled", now)


def refill(session: Session, outbox: Outbox, activity_id: str, now: datetime, settings: Settings) -> int:
    """Enough offers out for the places still missing; when every place is taken, the rest are withdrawn."""
    activity = _activity(session, activity_id)
    if activity is None or activity["status"] != OPEN:
        return 0
    rows = _offers(session, activity_id)
    accepted = sum(r["status"] == ACCEPTED for r in rows)
    out = [r for r in rows if r["status"] == OFFERED]
    if accepted >= activity["count"]:
        for row in out:
            _cancel(session, outbox, row, "covered", now)
        return 0
    missing = activity["count"] - accepted - len(out)
    if missing <= 0 or activity["starts_at"] <= now:
        return 0
    made = 0
    for provider_id in candidates(session, activity, frozenset(r["volunteer_id"] for r in rows), now, settings,
                                  missing):
        deadline = max(min(now + settings.offer_deadline, activity["starts_at"]), now + MIN_ANSWER_TIME)
        offer = {"id": str(uuid.uuid4()), "activity_id": activity_id, "volunteer_id": provider_id,
                 "status": OFFERED, "deadline": deadline, "reason": None, "created_at": now, "updated_at": now}
        session.execute(sa.insert(helper_offers).values(**offer))
        outbox.add(session, match_contract.TOPIC, "HelperOffered", activity_id, {
            **_ids(offer), "deadline": deadline.isoformat(), "village": activity["village"],
            "starts_at": activity["starts_at"].isoformat(), "ends_at": activity["ends_at"].isoformat(),
            "involves_children": bool(activity["involves_children"]), "kind": activity["kind"],
            "category": activity["category"]})
        made += 1
    return made


def refill_open(session: Session, outbox: Outbox, now: datetime, settings: Settings) -> int:
    """After a change in the providers (a newcomer, a renewed check): the places still missing, offered again."""
    ids = session.execute(sa.select(helper_activities.c.activity_id).where(
        helper_activities.c.status == OPEN, helper_activities.c.starts_at > now)
        .order_by(helper_activities.c.starts_at)).scalars().all()
    return sum(refill(session, outbox, activity_id, now, settings) for activity_id in ids)


def candidates(session: Session, activity: Any, asked: frozenset[str], now: datetime, settings: Settings,
               count: int) -> list[str]:
    """The nearest providers not yet asked whom every rule lets through (ties: fewer open tasks, then id).
    Their visits and other helper places are already cut out of their free time (world.load_world)."""
    world = load_world(session, now, settings)
    need = activity_need(activity, asked)
    rules = rules_for(activity)
    found: list[tuple[float, int, str]] = []
    for p in world.providers.values():
        if p.id in asked:
            continue
        km = distance_km(need, p)
        if first_rejection(Candidate(need, p, km), rules) is None:
            found.append((km, p.open_tasks, p.id))
    return [pid for _, _, pid in sorted(found)[:count]]


def respond(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, response: str, reason: str,
            now: datetime, settings: Settings) -> bool:
    """A provider's answer to a helper offer; an answer to an offer no longer open changes nothing."""
    row = session.execute(sa.select(helper_offers).where(helper_offers.c.id == match_id)).mappings().first()
    if row is None or row["volunteer_id"] != volunteer_id:
        return False
    if row["status"] != OFFERED:
        if response == "accept" and row["status"] in (EXPIRED, CANCELLED):  # they must hear not to come
            outbox.add(session, match_contract.TOPIC, "HelperCancelled", row["activity_id"], {
                **_ids(row), "reason": "answer_too_late", "accepted": True})
        return False
    if response == "accept":
        activity = _activity(session, row["activity_id"])
        _set(session, row, now, status=ACCEPTED)
        outbox.add(session, match_contract.TOPIC, "HelperAccepted", row["activity_id"], {
            **_ids(row), "starts_at": activity["starts_at"].isoformat() if activity is not None else None})
    else:
        _set(session, row, now, status=DECLINED, reason=reason[:500])
        outbox.add(session, match_contract.TOPIC, "HelperDeclined", row["activity_id"],
                   {**_ids(row), "reason": reason[:500]})
    refill(session, outbox, row["activity_id"], now, settings)
    return True


def is_helper_offer(session: Session, match_id: str) -> bool:
    return session.execute(sa.select(helper_offers.c.id).where(helper_offers.c.id == match_id)).first() is not None


def expire_offers(session: Session, outbox: Outbox, now: datetime, settings: Settings) -> int:
    rows = list(session.execute(sa.select(helper_offers).where(
        helper_offers.c.status == OFFERED, helper_offers.c.deadline <= now)
        .order_by(helper_offers.c.deadline, helper_offers.c.id)).mappings())
    for row in rows:
        _set(session, row, now, status=EXPIRED)
        outbox.add(session, match_contract.TOPIC, "HelperExpired", row["activity_id"], _ids(row))
    for activity_id in sorted({r["activity_id"] for r in rows}):
        refill(session, outbox, activity_id, now, settings)
    return len(rows)


def recheck_volunteer(session: Session, outbox: Outbox, volunteer_id: str, reason: str, now: datetime,
                      settings: Settings) -> int:
    """After a change in a provider: withdraw their offers and acceptances the rules no longer allow."""
    rows = list(session.execute(sa.select(helper_offers).where(
        helper_offers.c.volunteer_id == volunteer_id, helper_offers.c.status.in_(WAITING))).mappings())
    if not rows:
        return 0
    return _recheck(session, outbox, rows, reason, now, settings)


def recheck_activity(session: Session, outbox: Outbox, activity_id: str, now: datetime, settings: Settings,
                     moved: bool = False) -> int:
    """The activity changed (`moved`: its time): its offers and acceptances are judged again; after a new time
    also on whether the helper is free for the whole new time (their own place here not counted as busy)."""
    rows = [r for r in _offers(session, activity_id) if r["status"] in WAITING]
    return _recheck(session, outbox, rows, "activity_updated", now, settings, moved=moved) if rows else 0


def _recheck(session: Session, outbox: Outbox, rows: list[Any], reason: str, now: datetime,
             settings: Settings, moved: bool = False) -> int:
    world = load_world(session, now, settings)
    broken = []
    for row in rows:
        activity = _activity(session, row["activity_id"])
        if activity is None or activity["status"] != OPEN or activity["starts_at"] <= now:
            continue  # under way or over: nothing to undo
        provider = world.providers.get(row["volunteer_id"])
        need = activity_need(activity)
        rules = rules_for(activity, RECHECK)
        if moved and provider is not None:  # a new time: free then, apart from this very place?
            provider = replace(provider, availability=tuple(_free_apart_from(session, world, row, now)))
            rules = (*rules, time_windows_overlap)
        if provider is None or first_rejection(Candidate(need, provider, distance_km(need, provider)),
                                               rules) is not None:
            broken.append(row)
    for row in broken:
        _cancel(session, outbox, row, reason if reason in match_contract.HELPER_CANCEL_REASONS else "covered", now)
    for activity_id in sorted({r["activity_id"] for r in broken}):
        refill(session, outbox, activity_id, now, settings)
    return len(broken)


def _free_apart_from(session: Session, world: Any, row: Any, now: datetime) -> list[TimeWindow]:
    """The provider's offered time without their visits and their other helper places: this place's own time
    (world.load_world cut it out, at the new time already) counts as free, as a match is re-checked against
    everything but itself."""
    volunteer_id = row["volunteer_id"]
    offered = [w for w, _ in (world.free.get(volunteer_id) or Availability()).windows]
    visits = [w for _, w in world.reserved.get(volunteer_id, ())]
    others = session.execute(sa.select(helper_activities.c.starts_at, helper_activities.c.ends_at).join(
        helper_offers, helper_offers.c.activity_id == helper_activities.c.activity_id).where(
        helper_offers.c.volunteer_id == volunteer_id, helper_offers.c.status.in_(WAITING),
        helper_offers.c.activity_id != row["activity_id"], helper_activities.c.ends_at > now)).all()
    return without(offered, [*visits, *(TimeWindow(r.starts_at, r.ends_at) for r in others)])


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))



# --- what staff read (pages.py: "Pomocnicy na zajęciach") ---------------------------------------------------

def overview(conn: sa.Connection | Session, now: datetime) -> list[dict[str, Any]]:
    """Open activities not yet over, soonest first, with their places: wanted, accepted, offered (waiting for an
    answer), missing (neither accepted nor offered)."""
    activities = list(conn.execute(sa.select(helper_activities).where(
        helper_activities.c.status == OPEN, helper_activities.c.ends_at > now)
        .order_by(helper_activities.c.starts_at, helper_activities.c.activity_id)).mappings())
    counts: dict[tuple[str, str], int] = {}
    deadlines: dict[str, datetime] = {}  # the soonest answer due among the offers waiting
    for r in conn.execute(sa.select(helper_offers.c.activity_id, helper_offers.c.status, sa.func.count().label("n"),
                                    sa.func.min(helper_offers.c.deadline).label("deadline"))
                          .where(helper_offers.c.activity_id.in_([a["activity_id"] for a in activities]))
                          .group_by(helper_offers.c.activity_id, helper_offers.c.status)):
        counts[(r.activity_id, r.status)] = r.n
        if r.status == OFFERED:
            deadlines[r.activity_id] = r.deadline
    return [{**_with_places(dict(a), counts.get((a["activity_id"], ACCEPTED), 0),
                            counts.get((a["activity_id"], OFFERED), 0)),
             "next_deadline": deadlines.get(a["activity_id"])} for a in activities]


def _with_places(activity: dict[str, Any], accepted: int, offered: int) -> dict[str, Any]:
    return {**activity, "wanted": activity["count"], "accepted": accepted, "offered": offered,
            "missing": max(0, activity["count"] - accepted - offered)}


def detail(session: Session, activity_id: str, now: datetime, settings: Settings) -> dict[str, Any] | None:
    """One activity with every offer made for it and, while places are missing, why: the providers not yet asked,
    each judged by the rules that offer the place (the first rule that stops each one, counted)."""
    activity = _activity(session, activity_id)
    if activity is None:
        return None
    rows = [dict(r) for r in _offers(session, activity_id)]
    found = _with_places(dict(activity), sum(r["status"] == ACCEPTED for r in rows),
                         sum(r["status"] == OFFERED for r in rows))
    found["offers"] = rows
    found["why_missing"] = why_missing(session, activity, frozenset(r["volunteer_id"] for r in rows), now,
                                       settings) if found["missing"] and activity["status"] == OPEN else None
    return found


def why_missing(session: Session, activity: Any, asked: frozenset[str], now: datetime,
                settings: Settings) -> dict[str, Any]:
    """The providers not yet asked and what stops them (Polish reasons, most frequent first)."""
    if activity["starts_at"] <= now:
        return {"examined": 0, "eligible": 0, "reasons": [], "started": True}
    world = load_world(session, now, settings)
    need = activity_need(activity, asked)
    rules = rules_for(activity)
    reasons: dict[str, int] = {}
    examined = eligible = 0
    for p in world.providers.values():
        if p.id in asked:
            continue
        examined += 1
        rejection = first_rejection(Candidate(need, p, distance_km(need, p)), rules)
        if rejection is None:
            eligible += 1
        else:
            reasons[rejection.reason] = reasons.get(rejection.reason, 0) + 1
    return {"examined": examined, "eligible": eligible, "started": False,
            "reasons": sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))}
