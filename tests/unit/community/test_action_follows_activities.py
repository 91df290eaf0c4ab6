"""Plan actions follow their held activities (plan.progress_from_activities) unless staff set them by hand: the rule
alone (Hypothesis over every count and state) and through the store (schedule, hold, cancel, staff's hand)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.community import plan
from services.community import plan_handlers as h
from services.community.handlers import on_provider
from wspolnota.transport import Event

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HELPER = "11111111-2222-4333-8444-555555555555"

statuses = st.sampled_from(plan.ACTION_STATUSES)
percents = st.integers(0, 100)


@given(statuses, percents, st.integers(0, 60), st.integers(0, 60))
def test_an_action_set_by_hand_keeps_what_staff_set_whatever_its_activities_do(status, percent, held, scheduled):
    assert plan.progress_from_activities(status, percent, True, min(held, scheduled), scheduled) == (status, percent)


@given(percents, st.booleans(), st.integers(0, 60), st.integers(0, 60))
def test_a_cancelled_action_stays_cancelled(percent, by_hand, held, scheduled):
    result = plan.progress_from_activities(plan.CANCELLED, percent, by_hand, min(held, scheduled), scheduled)
    assert result == (plan.CANCELLED, percent)


@given(st.sampled_from((plan.PLANNED, plan.IN_PROGRESS, plan.DONE)), percents, st.integers(0, 60),
       st.integers(1, 60))
def test_an_action_following_its_activities_shows_the_share_held(status, percent, held, scheduled):
    held = min(held, scheduled)
    new_status, new_percent = plan.progress_from_activities(status, percent, False, held, scheduled)
    assert new_percent == held * 100 // scheduled
    assert (new_status == plan.PLANNED) == (held == 0)
    assert (new_status == plan.DONE) == (held == scheduled) == (new_percent == 100)
    assert new_status == plan.IN_PROGRESS or held in (0, scheduled)


@given(statuses, percents)
def test_an_action_without_activities_is_left_to_staff(status, percent):
    assert plan.progress_from_activities(status, percent, False, 0, 0) == (status, percent)


@pytest.mark.parametrize(("held", "scheduled", "expected"), [
    (0, 4, (plan.PLANNED, 0)), (1, 4, (plan.IN_PROGRESS, 25)), (1, 3, (plan.IN_PROGRESS, 33)),
    (2, 3, (plan.IN_PROGRESS, 66)), (3, 3, (plan.DONE, 100)),
])
def test_examples_of_the_share_held(held, scheduled, expected):
    assert plan.progress_from_activities(plan.PLANNED, 0, False, held, scheduled) == expected


# --- through the store ----------------------------------------------------------------------------------------
def an_action(s):  # type: ignore[no-untyped-def]
    plan_id = h.create_plan(s, "Plan 2026", date(2026, 1, 1), date(2026, 12, 31), NOW)
    goal_id = h.add_goal(s, plan_id, "Seniorzy aktywni", NOW)
    return plan_id, h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Warsztaty w świetlicy"}, NOW)


def meetings(community, s, action_id, count):  # type: ignore[no-untyped-def]
    start = NOW + timedelta(days=1)
    return h.schedule_activity(s, community.outbox, {
        "kind": "series", "title": "Warsztaty", "village": "belno", "starts_at": start,
        "ends_at": start + timedelta(hours=2), "every_days": 7, "count": count, "action_id": action_id}, NOW)


def hold(community, s, activity_id):  # type: ignore[no-untyped-def]
    h.record_attendance(s, community.outbox, activity_id, [], {HELPER: 1.0}, NOW + timedelta(days=60))


def state(s, action_id):  # type: ignore[no-untyped-def]
    action = h.get_action(s, action_id)
    return action["status"], action["percent_done"]


def test_the_first_held_activity_starts_the_action_and_the_last_one_completes_it(community):
    with community.db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", HELPER, {"volunteer_id": HELPER, "provider_type": "volunteer",
                                                             "villages": ["belno"]}, "volunteers"))
        plan_id, action_id = an_action(s)
        first, second, third, fourth = meetings(community, s, action_id, 4)
        assert state(s, action_id) == ("planned", 0)
        hold(community, s, first)
        assert state(s, action_id) == ("in_progress", 25)
        hold(community, s, first)  # a corrected attendance list counts the activity once
        assert state(s, action_id) == ("in_progress", 25)
        hold(community, s, second)
        h.cancel_activity(s, community.outbox, fourth, NOW)  # 2 held of 3 still on
        assert state(s, action_id) == ("in_progress", 66)
        hold(community, s, third)
        assert state(s, action_id) == ("done", 100)
        assert h.plan_view(s, plan_id)["progress"] == 100
        [fifth] = meetings(community, s, action_id, 1)  # another meeting: the action is open again
        assert state(s, action_id) == ("in_progress", 75)
        hold(community, s, fifth)
        assert state(s, action_id) == ("done", 100)


def test_staff_decisions_stand_until_they_hand_the_action_back_to_its_activities(community):
    with community.db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", HELPER, {"volunteer_id": HELPER, "provider_type": "volunteer",
                                                             "villages": ["belno"]}, "volunteers"))
        _, action_id = an_action(s)
        first, second = meetings(community, s, action_id, 2)
        h.set_action_progress(s, action_id, "in_progress", 10, NOW)
        hold(community, s, first)
        assert state(s, action_id) == ("in_progress", 10)  # staff's 10 % stands
        h.set_action_progress(s, action_id, "done", None, NOW)
        hold(community, s, second)
        assert state(s, action_id) == ("done", 100)
        h.set_action_progress(s, action_id, None, None, NOW, automatic=True)
        assert state(s, action_id) == ("done", 100)  # both held: done by the activities too
        [third] = meetings(community, s, action_id, 1)
        assert state(s, action_id) == ("in_progress", 66)


def test_a_cancelled_action_stays_cancelled_when_its_activity_is_held(community):
    with community.db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", HELPER, {"volunteer_id": HELPER, "provider_type": "volunteer",
                                                             "villages": ["belno"]}, "volunteers"))
        _, action_id = an_action(s)
        [only] = meetings(community, s, action_id, 1)
        h.set_action_progress(s, action_id, "cancelled", None, NOW)
        hold(community, s, only)
        assert state(s, action_id) == ("cancelled", 0)


def test_the_progress_form_hands_the_action_back_to_its_activities(api, community):
    with community.db.transaction() as s:
        _, action_id = an_action(s)
        h.set_action_progress(s, action_id, "in_progress", 40, NOW)
    page = api.get(f"/actions/{action_id}/progress").get_data(as_text=True)
    assert "ustawiono ręcznie" in page
    assert api.post(f"/actions/{action_id}/progress", data={"status": "in_progress", "percent_done": "40",
                                                             "automatic": "y"}).status_code == 302
    with community.db.transaction() as s:
        assert state(s, action_id) == ("in_progress", 40)  # no activities yet: nothing to count from
        assert h.get_action(s, action_id)["progress_by_hand"] is False
    answer = api.post(f"/api/actions/{action_id}/progress", json={"automatic": "maybe"})
    assert answer.status_code == 422
