"""Demo data of the organising plan, activities, self-help groups and partners: a year of community work in a
fictional gmina (never real people). Called by the community service's demo seed; adds nothing when a plan exists.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from contracts import volunteers as volunteer_contract
from services.community import plan_handlers as h
from services.community.db import known_providers
from services.community.db_plan import (
    activities,
    activity_helpers,
    partner_profiles,
    plan_actions,
    plans,
    registrations,
)
from services.community.handlers import PUBLISHES
from wspolnota.db import Database
from wspolnota.localtime import WARSAW
from wspolnota.transport.outbox import Outbox

FIRST = ("Anna", "Barbara", "Celina", "Danuta", "Ewa", "Halina", "Irena", "Jan", "Józef", "Krystyna", "Marek",
         "Piotr", "Stanisław", "Teresa", "Wiesław", "Zofia")
LAST = ("Przykładowa", "Zmyślona", "Testowa", "Wymyślona", "Fikcyjna", "Demo", "Próbna", "Wzorcowa")

GOALS = (
    ("Seniorzy aktywni i mniej samotni", "sondaż: 41% seniorów w Belnie i Kajetanowie rzadko wychodzi z domu", (
        ("Warsztaty rękodzieła w świetlicy", ["belno"], "seniorzy 65+", "workshop"),
        ("Kawiarenka sąsiedzka", ["kajetanow"], "seniorzy i sąsiedzi", "meeting"),
    ), ("Uczestnicy zajęć dla seniorów", "participants", 0, 60)),
    ("Sąsiedzka pomoc i wolontariat", "mało wolontariuszy poza Zagnańskiem", (
        ("Piknik sąsiedzki z naborem wolontariuszy", ["zagnansk", "lekomin"], "mieszkańcy", "event"),
    ), ("Godziny pracy wolontariuszy przy zajęciach", "volunteer_hours", 0, 80)),
    ("Wsparcie opiekunów osób zależnych", "opiekunowie zgłaszają przeciążenie", (
        ("Grupa wsparcia opiekunów", ["samsonow"], "opiekunowie rodzinni", ""),
    ), ("Spotkania grupy wsparcia", "group_meetings", 0, 20)),
)


def _names(rng: random.Random, n: int) -> list[str]:
    """n different fictional names."""
    return [f"{first} {last}" for first, last in rng.sample([(f, la) for f in FIRST for la in LAST], n)]


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW)


def seed_plan_demo(db: Database, now: datetime, seed: int = 17) -> dict[str, int]:
    """A plan for this year (approved, then changed into version 2), activities held and to come with
    registrations and attendance, and a support group with members and meetings. The partners' cooperation and
    the helpers' hours need the volunteers register's providers, which reach this service by events:
    `seed_with_providers` adds them once they are here."""
    rng = random.Random(seed)
    outbox = Outbox(db, PUBLISHES)
    counts = {"plans": 0, "activities": 0, "groups": 0, "registrations": 0}
    year = now.astimezone(WARSAW).year
    today = now.astimezone(WARSAW).date()
    with db.transaction() as s:
        if s.execute(sa.select(plans.c.id).limit(1)).first() is not None:
            return counts
        plan_id = h.create_plan(s, f"Plan organizowania społeczności lokalnej gminy na {year} r.",
                                date(year, 1, 1), date(year, 12, 31), now)
        counts["plans"] = 1
        actions: list[tuple[str, list[str], str]] = []
        for title, finding, action_specs, (ind_title, source, baseline, target) in GOALS:
            goal_id = h.add_goal(s, plan_id, title, now, diagnosis_ref=finding)
            for a_title, villages, group, kind in action_specs:
                action_id = h.add_action(s, plan_id, {
                    "goal_id": goal_id, "title": a_title, "villages": villages, "target_group": group,
                    "responsible": "organizator społeczności lokalnej", "starts_on": date(year, 1, 15),
                    "ends_on": date(year, 12, 15)}, now)
                actions.append((action_id, villages, kind))
            h.add_indicator(s, plan_id, {"goal_id": goal_id, "title": ind_title, "source": source,
                                         "baseline": baseline, "target": target}, now)
        h.approve_plan(s, outbox, plan_id, "dyrektor CUS (demo)", now)
        for action_id, villages, kind in actions:
            if not kind:
                continue
            for months_ago in (4, 2, 1, -1):
                day = today - timedelta(days=30 * months_ago)
                if day.year != year:
                    continue
                starts_at = _at(day, 16)
                [activity_id] = h.schedule_activity(s, outbox, {
                    "kind": kind, "title": "Spotkanie" if kind == "meeting" else "Zajęcia", "village": villages[0],
                    "venue": "świetlica wiejska", "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=2),
                    "capacity": 20, "helpers_wanted": 2 if kind == "event" else 0, "action_id": action_id,
                    "helpers_category": "TOW" if kind == "event" else None}, starts_at - timedelta(days=14))
                counts["activities"] += 1
                registered = [h.register(s, activity_id, name, "", "staff", starts_at - timedelta(days=7))
                              for name in _names(rng, rng.randint(6, 14))]
                counts["registrations"] += len(registered)
                if starts_at < now:  # helpers' hours follow once their providers are known (seed_with_providers)
                    present = [r for r in registered if rng.random() < 0.8]
                    h.record_attendance(s, outbox, activity_id, present, {}, starts_at + timedelta(hours=2))
        carers = next(a for a, _, kind in actions if not kind)
        group_id = h.create_group(s, {"name": "Grupa wsparcia opiekunów rodzinnych", "village": "samsonow",
                                      "facilitator": "psycholog CUS", "schedule": "co drugi wtorek, 17:00",
                                      "venue": "szkoła w Samsonowie", "max_members": 12, "action_id": carers}, now)
        counts["groups"] = 1
        members = [h.add_member(s, group_id, name, "", date(year, 2, 1)) for name in _names(rng, 7)]
        meeting_day = date(year, 2, 3)
        while meeting_day < today and meeting_day.year == year:
            h.record_group_meeting(s, group_id, meeting_day, [m for m in members if rng.random() < 0.75], "", now)
            meeting_day += timedelta(days=14)
    return counts


def seed_with_providers(db: Database, now: datetime) -> dict[str, int]:
    """What needs the volunteers register's providers (they reach this service through the bus): what each partner
    organisation brings, an agreement, a log entry and a plan action of the demo plan, and two helpers' hours at
    held events wanting helpers (attendance recorded again: a correction). Adds nothing twice: a partner with a
    profile and an activity with helpers are left as they are."""
    outbox = Outbox(db, PUBLISHES)
    counts = {"partners": 0, "helper_hours": 0}
    year = now.astimezone(WARSAW).year
    with db.transaction() as s:
        partner_ids = [r[0] for r in s.execute(sa.select(known_providers.c.volunteer_id).where(
            known_providers.c.provider_type == volunteer_contract.PARTNER_ORGANISATION,
            known_providers.c.volunteer_id.not_in(sa.select(partner_profiles.c.org_id)))
            .order_by(known_providers.c.volunteer_id))]
        helper_ids = [r[0] for r in s.execute(sa.select(known_providers.c.volunteer_id).where(
            known_providers.c.provider_type == volunteer_contract.VOLUNTEER, known_providers.c.active)
            .order_by(known_providers.c.volunteer_id))]
        action_ids = [r[0] for r in s.execute(sa.select(plan_actions.c.id).order_by(plan_actions.c.created_at))]
        for i, org_id in enumerate(partner_ids):
            h.set_partner_profile(s, org_id, "sala, poczęstunek, ludzie do pomocy przy wydarzeniach", now)
            h.add_agreement(s, org_id, "współorganizacja wydarzeń sąsiedzkich", date(year, 1, 10), None,
                            f"CUS/{year}/demo/{i + 1}", now)
            h.log_cooperation(s, org_id, date(year, 1, 10), "meeting", "ustalenia na rok", "demo", now)
            if action_ids:
                h.link_partner(s, action_ids[i % len(action_ids)], org_id, now)
            counts["partners"] += 1
        held = s.execute(sa.select(activities.c.id, activities.c.helpers_wanted, activities.c.ends_at).where(
            activities.c.status == "held", activities.c.helpers_wanted > 0,
            activities.c.id.not_in(sa.select(activity_helpers.c.activity_id)))).all()
        for activity_id, wanted, ends_at in held if helper_ids else []:
            present = [r[0] for r in s.execute(sa.select(registrations.c.id).where(
                registrations.c.activity_id == activity_id, registrations.c.attended.is_(True)))]
            hours = {pid: 2.5 for pid in helper_ids[:wanted]}
            h.record_attendance(s, outbox, activity_id, present, hours, max(now, ends_at))
            counts["helper_hours"] += len(hours)
    return counts
