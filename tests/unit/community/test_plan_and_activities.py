"""The plan, activities, groups and partners as the organiser uses them (use cases on SQLite)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.community import plan_handlers as h
from services.community.handlers import on_provider
from wspolnota.errors import Invalid, NotFound, Refused
from wspolnota.transport import Event

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = "0f0f0f0f-1111-4222-8333-444444444444"
VOLUNTEER = "11111111-2222-4333-8444-555555555555"
KAMILKA_ID = "22222222-3333-4444-8555-666666666666"


def follow(community, session, event):  # type: ignore[no-untyped-def]
    """The service's own consumer handler for a volunteers event."""
    from services.community.handlers import handlers

    handlers(community.outbox)[event.type](session, event)


def a_plan(session, with_indicator=True):
    plan_id = h.create_plan(session, "Plan organizowania społeczności 2026", date(2026, 1, 1), date(2026, 12, 31), NOW)
    goal_id = h.add_goal(session, plan_id, "Seniorzy wychodzą z domu", NOW)
    action_id = h.add_action(session, plan_id, {"goal_id": goal_id, "title": "Warsztaty w świetlicy",
                                                "villages": ["belno"], "target_group": "seniorzy"}, NOW)
    if with_indicator:
        h.add_indicator(session, plan_id, {"goal_id": goal_id, "title": "Uczestnicy warsztatów", "unit": "osób",
                                           "source": "participants", "baseline": 0, "target": 40}, NOW)
    return plan_id, goal_id, action_id


def workshop(**over):
    start = NOW + timedelta(days=5)
    return {"kind": "workshop", "title": "Warsztaty rękodzieła", "village": "belno", "venue": "Świetlica w Belnie",
            "starts_at": start, "ends_at": start + timedelta(hours=3), "capacity": 2, "helpers_wanted": 3,
            "helpers_category": "TOW", "involves_children": True, **over}


def test_the_director_approves_a_complete_plan_and_plan_approved_carries_counts_only(community):
    with community.db.transaction() as s:
        plan_id, _, _ = a_plan(s)
        assert h.approve_plan(s, community.outbox, plan_id, "dyrektor", NOW) == 1
    [event] = community.published("PlanApproved")
    assert event == {"plan_id": plan_id, "version": 1, "starts_on": "2026-01-01", "ends_on": "2026-12-31",
                     "goals": 1, "actions": 1, "indicators": 1}


def test_a_plan_without_an_indicator_is_not_approved_and_nothing_is_written(community):
    with community.db.transaction() as s:
        plan_id, _, _ = a_plan(s, with_indicator=False)
    with pytest.raises(Refused, match="nie ma wskaźnika"), community.db.transaction() as s:
        h.approve_plan(s, community.outbox, plan_id, "dyrektor", NOW)
    assert community.published() == []


def test_a_change_after_approval_opens_version_2_and_version_1_stays_readable(community):
    with community.db.transaction() as s:
        plan_id, goal_id, _ = a_plan(s)
        h.approve_plan(s, community.outbox, plan_id, "dyrektor", NOW)
        h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Wycieczka do Kielc"}, NOW)
        view = h.plan_view(s, plan_id)
        assert (view["status"], view["version"]) == ("draft", 2)
        first = h.approved_version(s, plan_id, 1)
        assert [a["title"] for a in first["snapshot"]["actions"]] == ["Warsztaty w świetlicy"]
        assert first["approved_by"] == "dyrektor"
        with pytest.raises(NotFound):
            h.approved_version(s, plan_id, 2)


def test_progress_of_an_action_opens_no_new_version(community):
    with community.db.transaction() as s:
        plan_id, _, action_id = a_plan(s)
        h.approve_plan(s, community.outbox, plan_id, "dyrektor", NOW)
        assert h.set_action_progress(s, action_id, None, 50, NOW)["status"] == "in_progress"
        view = h.plan_view(s, plan_id)
    assert (view["status"], view["version"], view["progress"]) == ("approved", 1, 50)


def test_an_action_dated_outside_the_plan_gets_a_polish_field_error(community):
    with community.db.transaction() as s:
        plan_id, goal_id, _ = a_plan(s)
        with pytest.raises(Invalid) as err:
            h.add_action(s, plan_id, {"goal_id": goal_id, "title": "X", "starts_on": date(2027, 2, 1)}, NOW)
    assert err.value.errors == {"starts_on": "Data poza okresem planu (01.01.2026–31.12.2026)."}


def test_scheduling_a_workshop_needing_helpers_publishes_helpers_wanted_without_names(community):
    with community.db.transaction() as s:
        _, _, action_id = a_plan(s)
        [activity_id] = h.schedule_activity(s, community.outbox, workshop(action_id=action_id), NOW)
    [scheduled] = community.published("ActivityScheduled")
    assert scheduled["activity_id"] == activity_id and scheduled["capacity"] == 2
    [wanted] = community.published("HelpersWanted")
    assert wanted == {"activity_id": activity_id, "count": 3, "involves_children": True, "category": "TOW",
                      "village": "belno", "starts_at": workshop()["starts_at"].isoformat(),
                      "ends_at": workshop()["ends_at"].isoformat(), "kind": "workshop"}


def test_a_weekly_series_schedules_each_meeting(community):
    with community.db.transaction() as s:
        ids = h.schedule_activity(s, community.outbox, workshop(kind="series", helpers_wanted=0, count=4,
                                                                every_days=7), NOW)
    assert len(ids) == 4 and len(community.published("ActivityScheduled")) == 4
    assert len({e["series_id"] for e in community.published("ActivityScheduled")}) == 1


def test_the_last_place_goes_once_and_a_third_resident_is_refused(community):
    with community.db.transaction() as s:
        [activity_id] = h.schedule_activity(s, community.outbox, workshop(), NOW)
        h.register(s, activity_id, "Anna Nowak", "600100200", "staff", NOW)
        with pytest.raises(Invalid):
            h.register(s, activity_id, "anna  nowak", "600100200", "public", NOW)
        h.register(s, activity_id, "Jan Kowalski", "", "public", NOW)
        with pytest.raises(Refused, match="Brak wolnych miejsc"):
            h.register(s, activity_id, "Ewa Zielińska", "", "public", NOW)
        assert h.activity_view(s, activity_id)["free_places"] == 0


def test_attendance_moves_the_indicator_and_sends_the_helpers_hours(community):
    with community.db.transaction() as s:
        plan_id, _, action_id = a_plan(s)
        [activity_id] = h.schedule_activity(s, community.outbox, workshop(action_id=action_id), NOW)
        follow(community, s, Event("VolunteerRegistered", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "provider_type": "volunteer", "villages": ["belno"], "credentials": [
                {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2026-12-31",
                 "credential_id": KAMILKA_ID}]}, "volunteers"))
        with pytest.raises(Invalid) as err:
            h.record_attendance(s, community.outbox, activity_id, [], {ORG: 1}, NOW + timedelta(days=6))
        assert err.value.errors == {"provider_id": "Nie ma takiego wolontariusza w rejestrze wolontariatu."}
        anna = h.register(s, activity_id, "Anna Nowak", "", "staff", NOW)
        h.register(s, activity_id, "Jan Kowalski", "", "staff", NOW)
        later = NOW + timedelta(days=6)
        assert h.record_attendance(s, community.outbox, activity_id, [anna], {VOLUNTEER: 3.5}, later) == {
            "participants": 1, "helpers": 1}
        view = h.plan_view(s, plan_id)
    [goal] = view["goals"]
    assert goal["figures"] == {"activities_held": 1, "participants": 1, "volunteer_hours": 3.5,
                               "group_meetings": 0, "partners": 0}
    assert goal["indicators"][0]["value"] == 1 and goal["indicators"][0]["progress"] == 2
    [hours] = community.published("ParticipationRecorded")
    assert hours == {"activity_id": activity_id, "provider_id": VOLUNTEER, "hours": 3.5, "held_on": "2026-03-07",
                     "kind": "workshop"}


def test_attendance_before_the_activity_is_refused(community):
    with community.db.transaction() as s:
        [activity_id] = h.schedule_activity(s, community.outbox, workshop(), NOW)
        with pytest.raises(Refused, match="po rozpoczęciu"):
            h.record_attendance(s, community.outbox, activity_id, [], {}, NOW)


def test_a_self_help_group_keeps_its_members_and_meetings(community):
    with community.db.transaction() as s:
        group_id = h.create_group(s, {"name": "Grupa wsparcia opiekunów", "village": "kajetanow",
                                      "facilitator": "Maria Psycholog", "schedule": "co drugi wtorek, 17:00",
                                      "max_members": 2}, NOW)
        first = h.add_member(s, group_id, "Anna Nowak", "", date(2026, 3, 1))
        h.add_member(s, group_id, "Jan Kowalski", "", date(2026, 3, 1))
        with pytest.raises(Refused, match="komplet"):
            h.add_member(s, group_id, "Ewa Zielińska", "", date(2026, 3, 1))
        h.record_group_meeting(s, group_id, date(2026, 3, 1), [first], "", NOW)
        with pytest.raises(Invalid):
            h.record_group_meeting(s, group_id, date(2026, 3, 1), ["someone-else"], "", NOW)
        view = h.group_view(s, group_id)
    assert len(view["members"]) == 2 and view["meetings"][0]["present"] == [first]


def _provider_event():
    return Event("VolunteerRegistered", ORG, {"volunteer_id": ORG, "provider_type": "partner_organisation",
                                              "villages": ["belno"]}, "volunteers")


def test_a_partner_organisation_comes_from_the_volunteers_register_and_works_on_actions(community):
    with community.db.transaction() as s:
        on_provider(s, _provider_event())
        on_provider(s, Event("VolunteerRegistered", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "provider_type": "volunteer", "villages": []}, "volunteers"))
        h.set_partner_profile(s, ORG, "sala, ciasta, ludzie", NOW)
        with pytest.raises(Invalid) as err:
            h.set_partner_profile(s, VOLUNTEER, "", NOW)  # a volunteer is not an organisation
        assert err.value.errors == {"org_id": "Nie ma takiej organizacji partnerskiej w rejestrze wolontariatu."}
        plan_id, goal_id, _ = a_plan(s)
        action_id = h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Festyn", "partners": [ORG]}, NOW)
        h.add_agreement(s, ORG, "wspólne festyny", date(2026, 1, 1), None, "CUS/2026/4", NOW)
        h.log_cooperation(s, ORG, date(2026, 2, 3), "meeting", "ustalenia festynu", "osl", NOW, action_id)
        [partner] = h.partner_network(s)
    assert partner["org_id"] == ORG and partner["brings"] == "sala, ciasta, ludzie"
    assert [a["title"] for a in partner["actions"]] == ["Festyn"]
    assert len(partner["agreements"]) == 1 and len(partner["log"]) == 1


def test_an_erased_partner_cannot_join_new_actions(community):
    with community.db.transaction() as s:
        on_provider(s, _provider_event())
        on_provider(s, Event("VolunteerErased", ORG, {"volunteer_id": ORG}, "volunteers"))
        plan_id, goal_id, _ = a_plan(s)
        with pytest.raises(Invalid) as err:
            h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Festyn", "partners": [ORG]}, NOW)
    assert err.value.errors == {"partners": "Nie ma takiej organizacji partnerskiej w rejestrze wolontariatu."}


def test_at_an_activity_with_children_only_a_helper_with_a_kamilka_check_in_date_may_help(community):
    day = workshop()["starts_at"].date().isoformat()
    with community.db.transaction() as s:
        [children] = h.schedule_activity(s, community.outbox, workshop(), NOW)
        [adults] = h.schedule_activity(s, community.outbox, workshop(involves_children=False), NOW)
        follow(community, s, Event("VolunteerRegistered", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "provider_type": "volunteer", "villages": ["belno"]}, "volunteers"))
        follow(community, s, Event("VolunteerRegistered", ORG, {
            "volunteer_id": ORG, "provider_type": "partner_organisation", "villages": ["belno"], "credentials": [
                {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": None}]}, "volunteers"))
        with pytest.raises(Refused, match="ustawy Kamilka"):
            h.add_helper(s, children, VOLUNTEER)
        h.add_helper(s, adults, VOLUNTEER)
        follow(community, s, Event("CredentialRecorded", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": day,
            "credential_id": KAMILKA_ID}, "volunteers"))
        h.add_helper(s, children, VOLUNTEER)
    with community.db.transaction() as s:
        [later] = h.schedule_activity(s, community.outbox, workshop(starts_at=workshop()["starts_at"] + timedelta(
            days=1), ends_at=workshop()["ends_at"] + timedelta(days=1)), NOW)
        with pytest.raises(Refused):  # the check ends the day before
            h.add_helper(s, later, VOLUNTEER)
        follow(community, s, Event("CredentialRevoked", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "kind": "kamilka_check", "credential_id": KAMILKA_ID,
            "reason": "adverse_result"}, "volunteers"))
        [another] = h.schedule_activity(s, community.outbox, workshop(), NOW)
        with pytest.raises(Refused):
            h.add_helper(s, another, VOLUNTEER)
        with pytest.raises(Refused):  # an organisation's check cannot speak for the person who comes
            h.add_helper(s, another, ORG)
