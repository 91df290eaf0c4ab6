"""Use cases of the organising plan, activities, self-help groups and the partner network.

Every use case runs inside the caller's unit of work (`db.transaction()`): the change and its outbox event commit
together or not at all. They raise `wspolnota.errors` NotFound / Invalid (field → Polish message) / Refused.
"""
from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import community as contract
from contracts import volunteers as volunteer_contract
from services.community import animation, clearances, plan
from services.community.animation import AnimationRuleError
from services.community.db import audit_log, known_providers
from services.community.db_plan import (
    action_partners,
    activities,
    activity_helpers,
    agreements,
    announcements,
    cooperation_log,
    group_meetings,
    group_members,
    groups,
    partner_profiles,
    plan_actions,
    plan_goals,
    plan_indicators,
    plan_versions,
    plans,
    registrations,
)
from services.community.plan import ActionFigures, PlanRuleError
from wspolnota import localtime
from wspolnota.errors import Invalid, NotFound, Refused
from wspolnota.transport.outbox import Outbox

TOPIC = contract.TOPIC
ERASED_NAME = "(usunięto)"
CHILDREN_NEED_KAMILKA = ("Przy zajęciach z udziałem dzieci może pomagać tylko osoba z ważnym na dzień zajęć "
                         "sprawdzeniem z ustawy Kamilka (rejestr sprawców przestępstw i informacja z KRK).")


def _id() -> str:
    return str(uuid.uuid4())


def _one(session: Session, table: sa.Table, key: str, what: str, for_update: bool = False) -> dict[str, Any]:
    query = sa.select(table).where(table.c[next(iter(table.primary_key.columns)).name] == key)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"Nie ma {what} o identyfikatorze {key}.")
    return dict(row)


def _rule(err: PlanRuleError | AnimationRuleError) -> Invalid | Refused:
    return Invalid(err.errors, err.message) if err.errors else Refused(err.message)


# --- the plan ------------------------------------------------------------------------------------------------
def create_plan(session: Session, title: str, starts_on: date, ends_on: date, now: datetime) -> str:
    errors = plan.check_period(starts_on, ends_on)
    if errors:
        raise Invalid(errors)
    plan_id = _id()
    session.execute(sa.insert(plans).values(id=plan_id, title=title, starts_on=starts_on, ends_on=ends_on, version=1,
                                            status=plan.DRAFT, created_at=now, updated_at=now))
    return plan_id


def _changed(session: Session, plan_id: str, now: datetime) -> dict[str, Any]:
    """A change to the plan's content: an approved plan opens its next version as a draft."""
    row = _one(session, plans, plan_id, "planu", for_update=True)
    status, version = plan.version_after_edit(row["status"], row["version"])
    session.execute(sa.update(plans).where(plans.c.id == plan_id)
                    .values(status=status, version=version, updated_at=now))
    return {**row, "status": status, "version": version}


def add_goal(session: Session, plan_id: str, title: str, now: datetime, description: str = "",
             diagnosis_ref: str = "") -> str:
    _changed(session, plan_id, now)
    goal_id = _id()
    session.execute(sa.insert(plan_goals).values(id=goal_id, plan_id=plan_id, title=title, description=description,
                                                 diagnosis_ref=diagnosis_ref, created_at=now))
    return goal_id


def _goal(session: Session, plan_id: str, goal_id: str) -> dict[str, Any]:
    goal = _one(session, plan_goals, goal_id, "celu")
    if goal["plan_id"] != plan_id:
        raise Invalid({"goal_id": "Ten cel należy do innego planu."})
    return goal


def add_action(session: Session, plan_id: str, data: Mapping[str, Any], now: datetime) -> str:
    """data: goal_id, title, description, villages, target_group, responsible, starts_on, ends_on, partners."""
    the_plan = _changed(session, plan_id, now)
    _goal(session, plan_id, data["goal_id"])
    errors = plan.check_action_dates(data.get("starts_on"), data.get("ends_on"), the_plan["starts_on"],
                                     the_plan["ends_on"])
    if errors:
        raise Invalid(errors)
    action_id = _id()
    session.execute(sa.insert(plan_actions).values(
        id=action_id, plan_id=plan_id, goal_id=data["goal_id"], title=data["title"],
        description=data.get("description") or "", villages=list(data.get("villages") or []),
        target_group=data.get("target_group") or "", responsible=data.get("responsible") or "",
        starts_on=data.get("starts_on"), ends_on=data.get("ends_on"), status=plan.PLANNED, percent_done=0,
        created_at=now, updated_at=now))
    for org_id in data.get("partners") or []:
        link_partner(session, action_id, org_id, now)
    return action_id


def get_action(session: Session, action_id: str) -> dict[str, Any]:
    return _one(session, plan_actions, action_id, "działania")


def set_action_progress(session: Session, action_id: str, status: str | None, percent: int | None,
                        now: datetime, automatic: bool = False) -> dict[str, Any]:
    """Progress as it happens; it is not a change of the plan, so it opens no new version. Staff's status or % set
    by hand stands: held activities no longer move it, until staff hand it back to the activities (`automatic`)."""
    action = _one(session, plan_actions, action_id, "działania", for_update=True)
    if automatic:
        session.execute(sa.update(plan_actions).where(plan_actions.c.id == action_id)
                        .values(progress_by_hand=False))
        return follow_activities(session, action_id, now) or action
    target = status or action["status"]
    if target not in plan.ACTION_STATUSES:
        raise Invalid({"status": "Nieznany status działania."})
    try:
        plan.check_action_transition(action["status"], target)
        target, percent_done = plan.action_progress(target, percent, action["percent_done"])
    except PlanRuleError as err:
        raise _rule(err) from err
    session.execute(sa.update(plan_actions).where(plan_actions.c.id == action_id)
                    .values(status=target, percent_done=percent_done, progress_by_hand=True, updated_at=now))
    return {**action, "status": target, "percent_done": percent_done, "progress_by_hand": True}


def follow_activities(session: Session, action_id: str | None, now: datetime) -> dict[str, Any] | None:
    """The action's status and % after its activities changed (one held, scheduled or cancelled): the rule is
    `plan.progress_from_activities`; an action staff set by hand keeps what they set."""
    if not action_id:
        return None
    action = _one(session, plan_actions, action_id, "działania", for_update=True)
    counts = {status: n for status, n in session.execute(
        sa.select(activities.c.status, sa.func.count()).where(activities.c.action_id == action_id)
        .group_by(activities.c.status))}
    held = int(counts.get(animation.HELD, 0))
    scheduled = held + int(counts.get(animation.SCHEDULED, 0))
    status, percent = plan.progress_from_activities(action["status"], action["percent_done"],
                                                    bool(action["progress_by_hand"]), held, scheduled)
    if (status, percent) != (action["status"], action["percent_done"]):
        session.execute(sa.update(plan_actions).where(plan_actions.c.id == action_id)
                        .values(status=status, percent_done=percent, updated_at=now))
    return {**action, "status": status, "percent_done": percent}


def add_indicator(session: Session, plan_id: str, data: Mapping[str, Any], now: datetime) -> str:
    """data: goal_id, title, unit, source, baseline, target."""
    errors = plan.check_indicator(data["source"], data["baseline"], data["target"])
    if errors:
        raise Invalid(errors)
    _changed(session, plan_id, now)
    _goal(session, plan_id, data["goal_id"])
    indicator_id = _id()
    session.execute(sa.insert(plan_indicators).values(
        id=indicator_id, plan_id=plan_id, goal_id=data["goal_id"], title=data["title"], unit=data.get("unit") or "",
        source=data["source"], baseline=data["baseline"], target=data["target"], created_at=now))
    return indicator_id


def set_indicator_value(session: Session, indicator_id: str, value: float) -> None:
    indicator = _one(session, plan_indicators, indicator_id, "wskaźnika")
    if indicator["source"] != plan.MANUAL:
        raise Refused("Wartość tego wskaźnika liczy się sama z odbytych zajęć i obecności.")
    if value < 0:
        raise Invalid({"value": "Wartość nie może być ujemna."})
    session.execute(sa.update(plan_indicators).where(plan_indicators.c.id == indicator_id)
                    .values(manual_value=value))


def approve_plan(session: Session, outbox: Outbox, plan_id: str, actor: str, now: datetime) -> int:
    """The director approves the version being edited; its content is kept as approved (PlanApproved)."""
    the_plan = _one(session, plans, plan_id, "planu", for_update=True)
    content = plan_content(session, plan_id)
    try:
        plan.check_approval(the_plan["status"], plan.approval_problems(
            content["goals"], content["actions"], content["indicators"]))
    except PlanRuleError as err:
        raise Refused(err.message) from err
    version = the_plan["version"]
    session.execute(sa.insert(plan_versions).values(plan_id=plan_id, version=version, approved_at=now,
                                                    approved_by=actor, snapshot=as_json(content)))
    session.execute(sa.update(plans).where(plans.c.id == plan_id).values(status=plan.APPROVED, updated_at=now))
    outbox.add(session, TOPIC, "PlanApproved", plan_id, {
        "plan_id": plan_id, "version": version, "starts_on": the_plan["starts_on"].isoformat(),
        "ends_on": the_plan["ends_on"].isoformat(), "goals": len(content["goals"]),
        "actions": len(content["actions"]), "indicators": len(content["indicators"])})
    return int(version)


def as_json(value: Any) -> Any:
    """Dates and times as ISO strings, for snapshots and JSON answers."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def plan_content(session: Session, plan_id: str) -> dict[str, list[dict[str, Any]]]:
    def rows(table: sa.Table, order: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in session.execute(
            sa.select(table).where(table.c.plan_id == plan_id).order_by(order, table.c.id)).mappings()]

    actions = rows(plan_actions, plan_actions.c.created_at)
    links: dict[str, list[str]] = defaultdict(list)
    if actions:
        for link in session.execute(sa.select(action_partners).where(
                action_partners.c.action_id.in_([a["id"] for a in actions]))).mappings():
            links[link["action_id"]].append(link["org_id"])
    for action in actions:
        action["partners"] = sorted(links[action["id"]])
        action.pop("created_at"), action.pop("updated_at")
    goals = rows(plan_goals, plan_goals.c.created_at)
    indicators = rows(plan_indicators, plan_indicators.c.created_at)
    for row in (*goals, *indicators):
        row.pop("created_at")
    return {"goals": goals, "actions": actions, "indicators": indicators}


def action_figures(session: Session, action_ids: Iterable[str], since: datetime | None = None,
                   until: datetime | None = None) -> dict[str, ActionFigures]:
    """What really happened under each action: activities held, participants present, volunteer hours recorded,
    self-help group meetings, partners at work (optionally only activities and meetings within [since, until))."""
    ids = list(action_ids)
    figures: dict[str, ActionFigures] = {a: ActionFigures() for a in ids}
    if not ids:
        return figures
    held = sa.select(activities.c.id, activities.c.action_id).where(
        activities.c.action_id.in_(ids), activities.c.status == animation.HELD)
    if since is not None:
        held = held.where(activities.c.starts_at >= since)
    if until is not None:
        held = held.where(activities.c.starts_at < until)
    held_rows = session.execute(held).all()
    by_activity = {r.id: r.action_id for r in held_rows}
    for action_id in by_activity.values():
        figures[action_id] += ActionFigures(activities_held=1)
    if by_activity:
        for r in session.execute(sa.select(registrations.c.activity_id, sa.func.count()).where(
                registrations.c.activity_id.in_(list(by_activity)), registrations.c.attended.is_(True))
                .group_by(registrations.c.activity_id)):
            figures[by_activity[r[0]]] += ActionFigures(participants=int(r[1]))
        for r in session.execute(sa.select(activity_helpers.c.activity_id, sa.func.sum(activity_helpers.c.hours))
                                 .where(activity_helpers.c.activity_id.in_(list(by_activity)))
                                 .group_by(activity_helpers.c.activity_id)):
            figures[by_activity[r[0]]] += ActionFigures(volunteer_hours=float(r[1] or 0))
    meetings = sa.select(groups.c.action_id, sa.func.count()).join(
        group_meetings, group_meetings.c.group_id == groups.c.id).where(groups.c.action_id.in_(ids))
    if since is not None:
        meetings = meetings.where(group_meetings.c.held_on >= localtime.local_day(since))
    if until is not None:
        meetings = meetings.where(group_meetings.c.held_on < localtime.local_day(until))
    for r in session.execute(meetings.group_by(groups.c.action_id)):
        figures[r[0]] += ActionFigures(group_meetings=int(r[1]))
    for r in session.execute(sa.select(action_partners.c.action_id, sa.func.count()).where(
            action_partners.c.action_id.in_(ids)).group_by(action_partners.c.action_id)):
        figures[r[0]] += ActionFigures(partners=int(r[1]))
    return figures


def plan_view(session: Session, plan_id: str, since: datetime | None = None,
              until: datetime | None = None) -> dict[str, Any]:
    """The plan with its progress: goals → actions (with figures) and indicators (with current values)."""
    the_plan = _one(session, plans, plan_id, "planu")
    content = plan_content(session, plan_id)
    figures = action_figures(session, [a["id"] for a in content["actions"]], since, until)
    goals = []
    for goal in content["goals"]:
        actions = [a for a in content["actions"] if a["goal_id"] == goal["id"]]
        total = sum((figures[a["id"]] for a in actions), ActionFigures())
        indicators = []
        for ind in (i for i in content["indicators"] if i["goal_id"] == goal["id"]):
            value = plan.indicator_value(ind["source"], ind["baseline"], ind["manual_value"], total)
            indicators.append({**ind, "value": value,
                               "progress": plan.indicator_progress(ind["baseline"], ind["target"], value)})
        goals.append({**goal, "actions": [{**a, "figures": figures[a["id"]].__dict__} for a in actions],
                      "indicators": indicators, "figures": total.__dict__})
    versions = [dict(r) for r in session.execute(
        sa.select(plan_versions.c.version, plan_versions.c.approved_at, plan_versions.c.approved_by)
        .where(plan_versions.c.plan_id == plan_id).order_by(plan_versions.c.version)).mappings()]
    return {**the_plan, "goals": goals, "progress": plan.plan_progress(content["actions"]), "versions": versions}


def number_in_path(value: str) -> int:
    """A version or a year from a URL: a number, else the page does not exist."""
    if not value.isdigit() or len(value) > 4:
        raise NotFound("Nie ma takiej strony.")
    return int(value)


def approved_version(session: Session, plan_id: str, version: int) -> dict[str, Any]:
    row = session.execute(sa.select(plan_versions).where(plan_versions.c.plan_id == plan_id,
                                                         plan_versions.c.version == version)).mappings().first()
    if row is None:
        raise NotFound(f"Plan nie ma zatwierdzonej wersji {version}.")
    return dict(row)


def yearly_report(session: Session, plan_id: str, year: int) -> dict[str, Any]:
    """The plan's year: what each action did in that calendar year (Warsaw) and where the indicators stand."""
    since = datetime(year, 1, 1, tzinfo=localtime.WARSAW)
    until = datetime(year + 1, 1, 1, tzinfo=localtime.WARSAW)
    view = plan_view(session, plan_id, since, until)
    return {**view, "year": year}


# --- the partner network ------------------------------------------------------------------------------------
LOG_KINDS = ("meeting", "joint_action", "other")
LOG_KIND_PL = {"meeting": "spotkanie", "joint_action": "wspólne działanie", "other": "inne"}
# Kinds of partner organisation: the volunteers register's codes (`organisation_kind`), with its Polish labels.
ORGANISATION_KIND_PL = {"kgw": "Koło Gospodyń Wiejskich", "osp": "Ochotnicza Straż Pożarna", "parish": "parafia",
                        "school": "szkoła", "ngo": "organizacja pozarządowa", "business": "firma", "other": "inna"}


def _partner(session: Session, org_id: str) -> dict[str, Any]:
    """A partner organisation as the volunteers register has it (followed by events into `known_providers`)."""
    row = session.execute(sa.select(known_providers).where(
        known_providers.c.volunteer_id == org_id,
        known_providers.c.provider_type == volunteer_contract.PARTNER_ORGANISATION)).mappings().first()
    if row is None:
        raise Invalid({"org_id": "Nie ma takiej organizacji partnerskiej w rejestrze wolontariatu."})
    return dict(row)


def set_partner_profile(session: Session, org_id: str, brings: str, now: datetime) -> None:
    """What the organisation brings to community work (its name, kind, KRS and contacts are the volunteers
    register's)."""
    _partner(session, org_id)
    values = {"brings": brings, "updated_at": now}
    updated = session.execute(sa.update(partner_profiles).where(partner_profiles.c.org_id == org_id)
                              .values(**values)).rowcount  # type: ignore[attr-defined]
    if not updated:
        session.execute(sa.insert(partner_profiles).values(org_id=org_id, **values))


def link_partner(session: Session, action_id: str, org_id: str, now: datetime, role: str = "") -> None:
    try:
        _partner(session, org_id)
    except Invalid as err:
        raise Invalid({"partners": "Nie ma takiej organizacji partnerskiej w rejestrze wolontariatu."}) from err
    _one(session, plan_actions, action_id, "działania")
    exists = session.execute(sa.select(action_partners.c.org_id).where(
        action_partners.c.action_id == action_id, action_partners.c.org_id == org_id)).first()
    if exists is None:
        session.execute(sa.insert(action_partners).values(action_id=action_id, org_id=org_id, role=role))


def add_agreement(session: Session, org_id: str, scope: str, starts_on: date, ends_on: date | None,
                  document_ref: str, now: datetime) -> str:
    _partner(session, org_id)
    if ends_on is not None and ends_on < starts_on:
        raise Invalid({"ends_on": "Koniec porozumienia nie może być wcześniejszy niż jego początek."})
    agreement_id = _id()
    session.execute(sa.insert(agreements).values(id=agreement_id, org_id=org_id, scope=scope, starts_on=starts_on,
                                                 ends_on=ends_on, document_ref=document_ref, created_at=now))
    return agreement_id


def log_cooperation(session: Session, org_id: str, on: date, kind: str, note: str, actor: str, now: datetime,
                    action_id: str | None = None) -> None:
    _partner(session, org_id)
    if kind not in LOG_KINDS:
        raise Invalid({"kind": "Nieznany rodzaj wpisu."})
    if action_id:
        _one(session, plan_actions, action_id, "działania")
    session.execute(sa.insert(cooperation_log).values(org_id=org_id, on=on, kind=kind, action_id=action_id,
                                                      note=note, actor=actor, created_at=now))


def partner_label(partner: Mapping[str, Any]) -> str:
    """The organisation's name as the volunteers register publishes it; until its next event has brought it (an
    organisation known from before names travelled), a short form of its id."""
    return str(partner.get("name") or f"organizacja {str(partner['org_id'])[:8]}")


def partner_network(session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    """Every partner organisation (optionally of one kind) with its public identity from the volunteers register
    (name, kind, KRS), villages, what it brings, agreements, log and the plan actions it works on; by name."""
    query = (sa.select(known_providers.c.volunteer_id.label("org_id"), known_providers.c.name,
                       known_providers.c.kind, known_providers.c.krs, known_providers.c.villages,
                       known_providers.c.active, partner_profiles.c.brings)
             .outerjoin(partner_profiles, partner_profiles.c.org_id == known_providers.c.volunteer_id)
             .where(known_providers.c.provider_type == volunteer_contract.PARTNER_ORGANISATION))
    if kind:
        query = query.where(known_providers.c.kind == kind)
    rows = session.execute(query).mappings().all()
    out = []
    for p in rows:
        org_id = p["org_id"]
        out.append({
            **p, "label": partner_label(dict(p)), "brings": p["brings"] or "",
            "agreements": [dict(r) for r in session.execute(sa.select(agreements).where(
                agreements.c.org_id == org_id).order_by(agreements.c.starts_on)).mappings()],
            "log": [dict(r) for r in session.execute(sa.select(cooperation_log).where(
                cooperation_log.c.org_id == org_id).order_by(cooperation_log.c.on.desc())).mappings()],
            "actions": [dict(r) for r in session.execute(
                sa.select(plan_actions.c.id, plan_actions.c.title, plan_actions.c.plan_id, plan_actions.c.status,
                          plan_actions.c.percent_done, action_partners.c.role)
                .join(action_partners, action_partners.c.action_id == plan_actions.c.id)
                .where(action_partners.c.org_id == org_id)
                .order_by(plan_actions.c.title, plan_actions.c.id)).mappings()],
        })
    return sorted(out, key=lambda p: (p["label"].casefold(), p["org_id"]))


def who_works_with_whom(network: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """From the partner network: for each plan action the partners on it, and for each pair of partners that share
    an action the actions they share (pairs by name, each pair once)."""
    partners = {p["org_id"]: p for p in network}
    by_action: dict[str, dict[str, Any]] = {}
    for p in partners.values():
        for a in p["actions"]:
            entry = by_action.setdefault(a["id"], {**a, "partners": []})
            entry["partners"].append(p)
    actions = sorted(by_action.values(), key=lambda a: (str(a["title"]).casefold(), a["id"]))
    for a in actions:
        a["partners"].sort(key=lambda p: (p["label"].casefold(), p["org_id"]))
    shared: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for a in actions:
        ids = [p["org_id"] for p in a["partners"]]
        for i, first in enumerate(ids):
            for second in ids[i + 1:]:
                shared[(first, second)].append(a)
    pairs: list[dict[str, Any]] = [{"first": partners[x], "second": partners[y], "actions": acts}
                                   for (x, y), acts in shared.items()]
    pairs.sort(key=lambda pair: (-len(pair["actions"]), str(pair["first"]["label"]).casefold(),
                                 str(pair["second"]["label"]).casefold()))
    return {"actions": actions, "pairs": pairs}


# --- activities ---------------------------------------------------------------------------------------------
def schedule_activity(session: Session, outbox: Outbox, data: Mapping[str, Any], now: datetime) -> list[str]:
    """data: kind, title, description, village, venue, venue_asset_id, starts_at, ends_at, capacity,
    helpers_wanted, helpers_category, involves_children, action_id, and for a series every_days and count.
    One activity, or one per meeting of a series; ActivityScheduled (and HelpersWanted) for each."""
    errors = animation.check_activity(data["kind"], data["starts_at"], data["ends_at"], data.get("capacity"),
                                      data.get("helpers_wanted") or 0)
    if errors:
        raise Invalid(errors)
    if data.get("action_id"):
        _one(session, plan_actions, data["action_id"], "działania")
    series_id = None
    meetings = [(data["starts_at"], data["ends_at"])]
    if data["kind"] == animation.SERIES:
        try:
            meetings = animation.occurrences(data["starts_at"], data["ends_at"], data.get("every_days") or 7,
                                             data.get("count") or 1)
        except AnimationRuleError as err:
            raise _rule(err) from err
        series_id = _id()
    ids = []
    for starts_at, ends_at in meetings:
        activity_id = _id()
        row = {"id": activity_id, "kind": data["kind"], "title": data["title"],
               "description": data.get("description") or "", "action_id": data.get("action_id"),
               "series_id": series_id, "village": data["village"], "venue": data.get("venue") or "",
               "venue_asset_id": data.get("venue_asset_id"), "starts_at": starts_at, "ends_at": ends_at,
               "capacity": data.get("capacity"), "status": animation.SCHEDULED,
               "helpers_wanted": data.get("helpers_wanted") or 0, "helpers_category": data.get("helpers_category"),
               "involves_children": bool(data.get("involves_children")),
               "public_token": secrets.token_urlsafe(16), "created_at": now, "updated_at": now}
        session.execute(sa.insert(activities).values(**row))
        outbox.add(session, TOPIC, "ActivityScheduled", activity_id, {
            "activity_id": activity_id, "kind": row["kind"], "village": row["village"],
            "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "capacity": row["capacity"],
            "action_id": row["action_id"], "series_id": series_id})
        if row["helpers_wanted"]:
            _helpers_wanted(session, outbox, row)
        ids.append(activity_id)
    follow_activities(session, data.get("action_id"), now)
    return ids


def _helpers_wanted(session: Session, outbox: Outbox, row: Mapping[str, Any]) -> None:
    outbox.add(session, TOPIC, "HelpersWanted", row["id"], {
        "activity_id": row["id"], "count": row["helpers_wanted"], "involves_children": row["involves_children"],
        "category": row["helpers_category"], "village": row["village"], "starts_at": row["starts_at"].isoformat(),
        "ends_at": row["ends_at"].isoformat(), "kind": row["kind"]})


EDITABLE = ("title", "description", "village", "venue", "starts_at", "ends_at", "capacity", "helpers_wanted")


def update_activity(session: Session, outbox: Outbox, activity_id: str, data: Mapping[str, Any],
                    now: datetime) -> list[str]:
    """Staff edit a scheduled activity that has not started (fields in EDITABLE; the others stay). A new time,
    village or capacity is published again as ActivityScheduled (and HelpersWanted with the new times, so matching
    re-checks its helpers); every change as ActivityChanged (codes), from which notify tells the participants of
    a new time, village or venue. Returns the change codes (empty: nothing changed)."""
    row = _one(session, activities, activity_id, "zajęć", for_update=True)
    new = {k: data[k] if k in data else row[k] for k in EDITABLE}
    new["description"] = new["description"] or ""
    new["venue"] = new["venue"] or ""
    new["helpers_wanted"] = new["helpers_wanted"] or 0
    errors = animation.check_activity(row["kind"], new["starts_at"], new["ends_at"], new["capacity"],
                                      new["helpers_wanted"])
    if errors:
        raise Invalid(errors)
    try:
        animation.check_edit(row["status"], row["starts_at"], now, new["capacity"],
                             registered_count(session, activity_id))
        if new["starts_at"] <= now:
            raise AnimationRuleError("Nowy początek zajęć musi być w przyszłości.", "starts_at")
    except AnimationRuleError as err:
        raise _rule(err) from err
    codes = {"title": "title", "description": "description", "village": "village", "venue": "venue",
             "starts_at": "time", "ends_at": "time", "capacity": "capacity", "helpers_wanted": "helpers"}
    changed = sorted({codes[k] for k in EDITABLE if new[k] != row[k]}, key=contract.CHANGE_CODES.index)
    if not changed:
        return []
    session.execute(sa.update(activities).where(activities.c.id == activity_id).values(**new, updated_at=now))
    after = {**row, **new}
    if {"time", "village", "capacity"} & set(changed):
        outbox.add(session, TOPIC, "ActivityScheduled", activity_id, {
            "activity_id": activity_id, "kind": after["kind"], "village": after["village"],
            "starts_at": after["starts_at"].isoformat(), "ends_at": after["ends_at"].isoformat(),
            "capacity": after["capacity"], "action_id": after["action_id"], "series_id": after["series_id"]})
    if (after["helpers_wanted"] or row["helpers_wanted"]) and {"time", "village", "helpers"} & set(changed):
        _helpers_wanted(session, outbox, after)
    outbox.add(session, TOPIC, "ActivityChanged", activity_id, {
        "activity_id": activity_id, "changed": changed, "village": after["village"], "kind": after["kind"],
        "starts_at": after["starts_at"].isoformat(), "ends_at": after["ends_at"].isoformat()})
    return changed


def cancel_activity(session: Session, outbox: Outbox, activity_id: str, now: datetime) -> None:
    row = _one(session, activities, activity_id, "zajęć", for_update=True)
    if row["status"] != animation.SCHEDULED:
        raise Refused("Odwołać można tylko zaplanowane zajęcia.")
    session.execute(sa.update(activities).where(activities.c.id == activity_id)
                    .values(status=animation.CANCELLED, updated_at=now))
    outbox.add(session, TOPIC, "ActivityCancelled", activity_id,
               {"activity_id": activity_id, "reason": contract.CANCELLED_BY_STAFF})
    follow_activities(session, row["action_id"], now)


def activity_by_token(session: Session, token: str) -> dict[str, Any]:
    row = session.execute(sa.select(activities).where(activities.c.public_token == token)).mappings().first()
    if row is None:
        raise NotFound("Nie ma takich zajęć.")
    return dict(row)


def registered_count(session: Session, activity_id: str) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(registrations)
                               .where(registrations.c.activity_id == activity_id)).scalar_one())


def register(session: Session, activity_id: str, name: str, phone: str, source: str, now: datetime, *,
             email: str = "", consent: bool = False, outbox: Outbox | None = None) -> str:
    """A resident registered by staff or through the public link; the row lock keeps the last place single.
    With the consent and a phone or e-mail they get reminders and notices (ParticipantAdded, ids only)."""
    row = _one(session, activities, activity_id, "zajęć", for_update=True)
    name = " ".join(name.split())
    email = email.strip()
    if not name:
        raise Invalid({"name": "Podaj imię i nazwisko."})
    errors = animation.check_reminder_contact(consent, phone, email)
    if errors:
        raise Invalid(errors)
    taken = session.execute(sa.select(registrations.c.name, registrations.c.phone).where(
        registrations.c.activity_id == activity_id)).all()
    if any(r.name.casefold() == name.casefold() and r.phone == phone for r in taken):
        raise Invalid({"name": "Ta osoba jest już zapisana na te zajęcia."})
    try:
        animation.check_registration(row["status"], row["starts_at"], now, row["capacity"], len(taken))
    except AnimationRuleError as err:
        raise Refused(err.message) from err
    registration_id = _id()
    session.execute(sa.insert(registrations).values(
        id=registration_id, activity_id=activity_id, name=name, phone=phone, email=email, source=source,
        reminders_consent=bool(consent), consented_at=now if consent else None, created_at=now))
    if outbox is not None:
        outbox.add(session, TOPIC, "ParticipantAdded", activity_id, {
            "activity_id": activity_id, "participant_id": registration_id, "role": contract.RESIDENT,
            "reminders": animation.gets_reminders(consent, phone, email)})
    return registration_id


def remove_registration(session: Session, outbox: Outbox, activity_id: str, registration_id: str, actor: str,
                        now: datetime, reason: str = contract.UNREGISTERED) -> None:
    """The resident unregisters (or their data is erased): the row with the name, phone and e-mail goes, so does
    every message not sent yet (ParticipantRemoved). After attendance was recorded the row is kept as the
    record of who came; only its contact data goes."""
    activity = _one(session, activities, activity_id, "zajęć", for_update=True)
    row = session.execute(sa.select(registrations).where(registrations.c.id == registration_id,
                                                         registrations.c.activity_id == activity_id)
                          ).mappings().first()
    if row is None:
        raise NotFound("Nie ma takiego zapisu.")
    if activity["status"] == animation.HELD:
        session.execute(sa.update(registrations).where(registrations.c.id == registration_id).values(
            name=ERASED_NAME, phone="", email="", reminders_consent=False))
    else:
        session.execute(sa.delete(registrations).where(registrations.c.id == registration_id))
    session.execute(sa.insert(audit_log).values(at=now, actor=actor or "system", action="erase",
                                                subject="registration", subject_id=registration_id,
                                                purpose=f"registration removed ({reason})"))
    outbox.add(session, TOPIC, "ParticipantRemoved", activity_id, {
        "activity_id": activity_id, "participant_id": registration_id, "role": contract.RESIDENT,
        "reason": reason})


def registration_contact(session: Session, registration_id: str, actor: str, now: datetime) -> dict[str, Any]:
    """What notify needs to send one message (internal API): the address only with the consent. Audited."""
    row = session.execute(sa.select(registrations).where(registrations.c.id == registration_id)
                          ).mappings().first()
    if row is None or row["name"] == ERASED_NAME:
        raise NotFound("Nie ma takiego zapisu.")
    session.execute(sa.insert(audit_log).values(at=now, actor=actor, action="read", subject="registration",
                                                subject_id=registration_id, purpose="contact for a reminder"))
    consent = bool(row["reminders_consent"])
    return {"registration_id": registration_id, "activity_id": row["activity_id"], "name": row["name"],
            "phone": row["phone"] if consent else "", "email": row["email"] if consent else "",
            "consent": consent}


def post_announcement(session: Session, outbox: Outbox, activity_id: str, text: str, actor: str,
                      now: datetime) -> str:
    activity = _one(session, activities, activity_id, "zajęć")
    text = " ".join(text.split())
    errors = animation.check_announcement(activity["status"], text)
    if errors:
        raise Invalid(errors)
    announcement_id = _id()
    session.execute(sa.insert(announcements).values(id=announcement_id, activity_id=activity_id, text=text,
                                                    actor=actor, created_at=now))
    outbox.add(session, TOPIC, "AnnouncementPosted", activity_id, {
        "announcement_id": announcement_id, "activity_id": activity_id, "text": text})
    return announcement_id


def add_helper(session: Session, activity_id: str, provider_id: str, outbox: Outbox | None = None) -> None:
    """A volunteer who accepted to help (by the signed link or told staff); hours come with the attendance. At an
    activity with children only a person with a Kamilka check in date on its day may help (never bypassed)."""
    known = session.execute(sa.select(known_providers.c.volunteer_id).where(
        known_providers.c.volunteer_id == provider_id)).first()
    if known is None:
        raise Invalid({"provider_id": "Nie ma takiego wolontariusza w rejestrze wolontariatu."})
    exists = session.execute(sa.select(activity_helpers.c.provider_id).where(
        activity_helpers.c.activity_id == activity_id, activity_helpers.c.provider_id == provider_id)).first()
    if exists is not None:
        return
    activity = _one(session, activities, activity_id, "zajęć")
    if activity["involves_children"] and not clearances.cleared_for_children(
            session, provider_id, localtime.local_day(activity["starts_at"])):
        raise Refused(CHILDREN_NEED_KAMILKA)
    session.execute(sa.insert(activity_helpers).values(activity_id=activity_id, provider_id=provider_id))
    if outbox is not None:  # whoever added them (staff, or matching's offer through the gate): notify follows
        outbox.add(session, TOPIC, "ParticipantAdded", activity_id, {
            "activity_id": activity_id, "participant_id": provider_id, "role": contract.HELPER, "reminders": True})


def record_attendance(session: Session, outbox: Outbox, activity_id: str, present: Iterable[str],
                      helper_hours: Mapping[str, float], now: datetime) -> dict[str, int]:
    """Who came (registration ids) and each helper's hours: the activity is held, ParticipationRecorded for each
    helper, ActivityHeld with the counts. Recording again corrects the earlier record."""
    row = _one(session, activities, activity_id, "zajęć", for_update=True)
    try:
        animation.check_attendance(row["status"], row["starts_at"], now)
    except AnimationRuleError as err:
        raise Refused(err.message) from err
    present = set(present)
    known = {r[0] for r in session.execute(sa.select(registrations.c.id).where(
        registrations.c.activity_id == activity_id))}
    if present - known:
        raise Invalid({"present": "Na liście są osoby niezapisane na te zajęcia."})
    duration = (row["ends_at"] - row["starts_at"]).total_seconds() / 3600
    errors = animation.check_helper_hours(helper_hours, duration)
    if errors:
        raise Invalid(errors)
    session.execute(sa.update(registrations).where(registrations.c.activity_id == activity_id)
                    .values(attended=registrations.c.id.in_(present) if present else sa.false()))
    held_on = localtime.local_day(row["starts_at"]).isoformat()
    for provider_id, hours in helper_hours.items():
        add_helper(session, activity_id, provider_id, outbox)
        session.execute(sa.update(activity_helpers).where(
            activity_helpers.c.activity_id == activity_id, activity_helpers.c.provider_id == provider_id)
            .values(hours=hours, recorded_at=now))
        outbox.add(session, TOPIC, "ParticipationRecorded", provider_id, {
            "activity_id": activity_id, "provider_id": provider_id, "hours": hours, "held_on": held_on,
            "kind": row["kind"]})
    session.execute(sa.update(activities).where(activities.c.id == activity_id)
                    .values(status=animation.HELD, updated_at=now))
    follow_activities(session, row["action_id"], now)  # the action it carries out moves with it
    counts = {"participants": len(present), "helpers": len(helper_hours)}
    outbox.add(session, TOPIC, "ActivityHeld", activity_id,
               {"activity_id": activity_id, "action_id": row["action_id"], **counts})
    return counts


def activity_view(session: Session, activity_id: str) -> dict[str, Any]:
    row = _one(session, activities, activity_id, "zajęć")
    regs = [dict(r) for r in session.execute(sa.select(registrations).where(
        registrations.c.activity_id == activity_id).order_by(registrations.c.name)).mappings()]
    helpers = [dict(r) for r in session.execute(sa.select(activity_helpers).where(
        activity_helpers.c.activity_id == activity_id).order_by(activity_helpers.c.provider_id)).mappings()]
    posted = [dict(r) for r in session.execute(sa.select(announcements).where(
        announcements.c.activity_id == activity_id).order_by(announcements.c.created_at.desc())).mappings()]
    for r in regs:
        r["gets_reminders"] = animation.gets_reminders(r["reminders_consent"], r["phone"], r["email"])
    return {**row, "registrations": regs, "helpers": helpers, "announcements": posted,
            "call_list": [r for r in regs if not r["gets_reminders"] and r["name"] != ERASED_NAME],
            "free_places": animation.free_places(row["capacity"], len(regs)),
            "helpers_missing": animation.helpers_missing(row["helpers_wanted"], len(helpers))}


def upcoming_activities(session: Session, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    counts = (sa.select(registrations.c.activity_id, sa.func.count().label("n"))
              .group_by(registrations.c.activity_id).subquery())
    helpers_n = (sa.select(activity_helpers.c.activity_id, sa.func.count().label("h"))
                 .group_by(activity_helpers.c.activity_id).subquery())
    rows = session.execute(
        sa.select(activities, sa.func.coalesce(counts.c.n, 0).label("registered"),
                  sa.func.coalesce(helpers_n.c.h, 0).label("helpers"))
        .outerjoin(counts, counts.c.activity_id == activities.c.id)
        .outerjoin(helpers_n, helpers_n.c.activity_id == activities.c.id)
        .where(activities.c.ends_at >= now, activities.c.status == animation.SCHEDULED)
        .order_by(activities.c.starts_at).limit(limit)).mappings()
    return [{**r, "free_places": animation.free_places(r["capacity"], r["registered"]),
             "helpers_missing": animation.helpers_missing(r["helpers_wanted"], r["helpers"])} for r in rows]


def overview(session: Session, now: datetime, limit: int = 10) -> dict[str, Any]:
    """For the organiser's dashboard: each plan's progress, and the next activities with their free places and
    missing helpers."""
    plan_rows = session.execute(sa.select(plans).order_by(plans.c.starts_on.desc())).mappings().all()
    progress = []
    for row in plan_rows:
        actions = [dict(a) for a in session.execute(sa.select(plan_actions.c.status, plan_actions.c.percent_done)
                                                    .where(plan_actions.c.plan_id == row["id"])).mappings()]
        progress.append({"id": row["id"], "title": row["title"], "status": row["status"], "version": row["version"],
                         "starts_on": row["starts_on"], "ends_on": row["ends_on"],
                         "progress": plan.plan_progress(actions), "actions": len(actions)})
    upcoming = upcoming_activities(session, now, limit)
    return {"plans": progress, "upcoming": upcoming,
            "helpers_missing": sum(a["helpers_missing"] for a in upcoming)}


# --- self-help groups ---------------------------------------------------------------------------------------
def create_group(session: Session, data: Mapping[str, Any], now: datetime) -> str:
    if data.get("max_members") is not None and data["max_members"] < 2:
        raise Invalid({"max_members": "Grupa samopomocowa to co najmniej 2 osoby."})
    if data.get("action_id"):
        _one(session, plan_actions, data["action_id"], "działania")
    group_id = _id()
    session.execute(sa.insert(groups).values(
        id=group_id, name=data["name"], topic=data.get("topic") or "", village=data["village"],
        facilitator=data["facilitator"], schedule=data["schedule"], venue=data.get("venue") or "",
        max_members=data.get("max_members"), action_id=data.get("action_id"), active=True, created_at=now))
    return group_id


def add_member(session: Session, group_id: str, name: str, phone: str, joined_on: date) -> str:
    group = _one(session, groups, group_id, "grupy", for_update=True)
    current = [r.name for r in session.execute(sa.select(group_members.c.name).where(
        group_members.c.group_id == group_id, group_members.c.left_on.is_(None)))]
    try:
        animation.check_member(group["active"], current, name, group["max_members"])
    except AnimationRuleError as err:
        raise _rule(err) from err
    member_id = _id()
    session.execute(sa.insert(group_members).values(id=member_id, group_id=group_id, name=" ".join(name.split()),
                                                    phone=phone, joined_on=joined_on))
    return member_id


def member_leaves(session: Session, group_id: str, member_id: str, on: date) -> None:
    done = session.execute(sa.update(group_members).where(
        group_members.c.id == member_id, group_members.c.group_id == group_id, group_members.c.left_on.is_(None))
        .values(left_on=on)).rowcount  # type: ignore[attr-defined]
    if not done:
        raise NotFound("Nie ma takiego członka grupy.")


def record_group_meeting(session: Session, group_id: str, held_on: date, present: Iterable[str], note: str,
                         now: datetime) -> str:
    group = _one(session, groups, group_id, "grupy")
    if not group["active"]:
        raise Refused("Grupa zakończyła działalność.")
    if held_on > localtime.local_day(now):
        raise Invalid({"held_on": "Obecność odnotowuje się po spotkaniu."})
    members = {r[0] for r in session.execute(sa.select(group_members.c.id).where(
        group_members.c.group_id == group_id))}
    present = sorted(set(present))
    if set(present) - members:
        raise Invalid({"present": "Na liście są osoby spoza grupy."})
    meeting_id = _id()
    session.execute(sa.insert(group_meetings).values(id=meeting_id, group_id=group_id, held_on=held_on,
                                                     present=present, note=note, created_at=now))
    return meeting_id


def group_view(session: Session, group_id: str) -> dict[str, Any]:
    group = _one(session, groups, group_id, "grupy")
    members = [dict(r) for r in session.execute(sa.select(group_members).where(
        group_members.c.group_id == group_id).order_by(group_members.c.name)).mappings()]
    meetings = [dict(r) for r in session.execute(sa.select(group_meetings).where(
        group_meetings.c.group_id == group_id).order_by(group_meetings.c.held_on.desc())).mappings()]
    return {**group, "members": members, "meetings": meetings}
