"""The demo year of community work: a plan whose indicators moved, activities, a support group, partners."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from services.community import plan_handlers as h
from services.community.db_plan import plans
from services.community.handlers import on_provider
from services.community.plan_seed import seed_plan_demo, seed_with_providers
from wspolnota.transport import Event

SEPTEMBER = datetime(2026, 9, 15, 10, 0, tzinfo=UTC)
ORG = "0f0f0f0f-1111-4222-8333-444444444444"
HELPER = "11111111-2222-4333-8444-555555555555"


def _providers_arrive(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", ORG, {"volunteer_id": ORG, "provider_type": "partner_organisation",
                                                          "villages": ["belno"]}, "volunteers"))
        on_provider(s, Event("VolunteerRegistered", HELPER, {"volunteer_id": HELPER, "provider_type": "volunteer",
                                                             "villages": ["zagnansk"]}, "volunteers"))


def test_the_demo_seeds_a_year_of_community_work_once(db):  # type: ignore[no-untyped-def]
    _providers_arrive(db)
    counts = seed_plan_demo(db, SEPTEMBER)
    assert counts["plans"] == 1 and counts["activities"] >= 8 and counts["groups"] == 1
    assert seed_plan_demo(db, SEPTEMBER) == {"plans": 0, "activities": 0, "groups": 0, "registrations": 0}
    added = seed_with_providers(db, SEPTEMBER)
    assert added["partners"] == 1 and added["helper_hours"] >= 1  # the one helper at each held event
    assert seed_with_providers(db, SEPTEMBER) == {"partners": 0, "helper_hours": 0}
    with db.transaction() as s:
        [plan_id] = s.execute(sa.select(plans.c.id)).scalars().all()
        view = h.plan_view(s, plan_id)
        [partner] = h.partner_network(s)
    assert view["status"] == "approved" and len(view["goals"]) == 3
    assert all(goal["indicators"][0]["value"] > 0 for goal in view["goals"])
    assert partner["actions"] and partner["agreements"]


def test_partners_and_helpers_that_arrive_after_the_plan_are_added_by_a_later_run(db):  # type: ignore[no-untyped-def]
    seed_plan_demo(db, SEPTEMBER)  # the volunteers' events have not reached this service yet
    assert seed_with_providers(db, SEPTEMBER) == {"partners": 0, "helper_hours": 0}
    _providers_arrive(db)
    added = seed_with_providers(db, SEPTEMBER)
    assert added["partners"] == 1 and added["helper_hours"] >= 1
    with db.transaction() as s:
        [partner] = h.partner_network(s)
        [plan_id] = s.execute(sa.select(plans.c.id)).scalars().all()
        view = h.plan_view(s, plan_id)
    assert partner["actions"] and partner["agreements"]
    hours = [i for g in view["goals"] for i in g["indicators"] if i["source"] == "volunteer_hours"]
    assert hours and hours[0]["value"] > 0  # the helpers' hours move the plan's indicator
