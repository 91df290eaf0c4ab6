"""The demo year of community work: a plan whose indicators moved, activities, a support group, partners."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from services.community import plan_handlers as h
from services.community.db_plan import plans
from services.community.handlers import on_provider
from services.community.plan_seed import seed_plan_demo
from wspolnota.transport import Event

SEPTEMBER = datetime(2026, 9, 15, 10, 0, tzinfo=UTC)
ORG = "0f0f0f0f-1111-4222-8333-444444444444"
HELPER = "11111111-2222-4333-8444-555555555555"


def test_the_demo_seeds_a_year_of_community_work_once(db):
    with db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", ORG, {"volunteer_id": ORG, "provider_type": "partner_organisation",
                                                          "villages": ["belno"]}, "volunteers"))
        on_provider(s, Event("VolunteerRegistered", HELPER, {"volunteer_id": HELPER, "provider_type": "volunteer",
                                                             "villages": ["zagnansk"]}, "volunteers"))
    counts = seed_plan_demo(db, SEPTEMBER)
    assert counts["plans"] == 1 and counts["activities"] >= 8 and counts["groups"] == 1
    assert seed_plan_demo(db, SEPTEMBER) == {"plans": 0, "activities": 0, "groups": 0, "registrations": 0}
    with db.transaction() as s:
        [plan_id] = s.execute(sa.select(plans.c.id)).scalars().all()
        view = h.plan_view(s, plan_id)
        [partner] = h.partner_network(s)
    assert view["status"] == "approved" and len(view["goals"]) == 3
    assert all(goal["indicators"][0]["value"] > 0 for goal in view["goals"])
    assert partner["actions"] and partner["agreements"]
