"""Support packages (IPUS) with recurring needs, and the match events that move each need along."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.unit.needs.conftest import VOLUNTEER, need_body
from wspolnota import localtime

START = localtime.today() + timedelta(days=1)


def package(needs, plan_ref="IPUS/2026/7", days=60):  # type: ignore[no-untyped-def]
    response = needs.client.post("/api/packages", json={
        "plan_ref": plan_ref, "resident_ref": "M-TEST01", "village": "belno",
        "start_date": START.isoformat(), "end_date": (START + timedelta(days=days)).isoformat()})
    assert response.status_code == 201, response.json
    return response.json


def recurring(needs, until_days=27, plan_ref="IPUS/2026/7", **over):  # type: ignore[no-untyped-def]
    body = {k: v for k, v in need_body(category="TOW", **over).items() if not k.startswith("window")}
    body.update(plan_ref=plan_ref, recurrence={
        "weekdays": [0, 3], "time_from": "10:00", "time_to": "12:00", "starts_on": START.isoformat(),
        "until": (START + timedelta(days=until_days)).isoformat()})
    return needs.client.post("/api/needs/recurring", json=body)


def match(needs, event_type, need_id, match_id, **data):  # type: ignore[no-untyped-def]
    needs.match_event(event_type, need_id, match_id, **data)
    return needs.status(need_id)


def test_a_package_opens_with_an_event_and_a_weekly_pattern_expands_into_occurrences(needs) -> None:  # type: ignore[no-untyped-def]
    package(needs)
    response = recurring(needs)
    assert response.status_code == 201, response.json
    occurrences = response.json["needs"]
    assert len(occurrences) == 8  # two weekdays over four weeks
    assert {n["series_id"] for n in occurrences} == {response.json["series_id"]}
    assert all(n["continuity"] and n["plan_ref"] == "IPUS/2026/7" for n in occurrences)
    [opened] = needs.published("SupportPackageOpened")
    assert opened.key == "IPUS/2026/7" and opened.data["resident_ref"] == "M-TEST01"
    assert len(needs.published("NeedRegistered")) == 8


def test_a_recurrence_past_the_plans_end_is_refused_and_nothing_is_stored(needs) -> None:  # type: ignore[no-untyped-def]
    package(needs, days=20)
    response = recurring(needs, until_days=27)
    assert response.status_code == 422
    assert "until" in response.json["errors"]["json"]["recurrence"]
    assert needs.count("needs") == 0 and len(needs.published("NeedRegistered")) == 0


@pytest.mark.parametrize("over, field", [
    ({"plan_ref": "IPUS/NIE-MA"}, "plan_ref"),
    ({"urgency": "urgent"}, "urgency"),
])
def test_a_recurrence_outside_a_known_plan_or_marked_urgent_is_refused(needs, over, field) -> None:  # type: ignore[no-untyped-def]
    package(needs)
    response = recurring(needs, **over)
    assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert needs.count("needs") == 0


def test_a_package_period_longer_than_a_year_or_in_the_past_is_refused(needs) -> None:  # type: ignore[no-untyped-def]
    too_long = needs.client.post("/api/packages", json={
        "plan_ref": "P1", "resident_ref": "M-1", "village": "belno", "start_date": START.isoformat(),
        "end_date": (START + timedelta(days=400)).isoformat()})
    backwards = needs.client.post("/api/packages", json={
        "plan_ref": "P2", "resident_ref": "M-1", "village": "belno", "start_date": START.isoformat(),
        "end_date": (START - timedelta(days=3)).isoformat()})
    assert too_long.status_code == backwards.status_code == 422
    assert needs.count("support_packages") == 0


def test_match_events_move_a_need_through_its_lifecycle_and_build_its_timeline(needs) -> None:  # type: ignore[no-untyped-def]
    need_id = needs.register()["id"]
    m = str(uuid.uuid4())
    assert match(needs, "MatchProposed", need_id, m) == "proposed"
    assert match(needs, "MatchApproved", need_id, m) == "approved"
    assert match(needs, "MatchOffered", need_id, m) == "offered"
    assert match(needs, "MatchAccepted", need_id, m) == "accepted"
    assert match(needs, "MatchCompleted", need_id, m, hours=1.5) == "completed"
    kinds = [e["kind"] for e in needs.client.get(f"/api/needs/{need_id}/timeline").json]
    assert kinds == ["NeedRegistered", "MatchProposed", "MatchApproved", "MatchOffered", "MatchAccepted",
                     "MatchCompleted"]
    [completed] = needs.published("NeedCompleted")
    assert completed.data["hours"] == 1.5 and completed.data["visits"] == 1
    page = needs.page(f"/needs/{need_id}")
    assert "wykonawca przyjął" in page and "wizyta wykonana" in page and "zakończona" in page


def test_a_decline_puts_the_need_back_until_the_next_volunteer_is_offered(needs) -> None:  # type: ignore[no-untyped-def]
    need_id = needs.register()["id"]
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    match(needs, "MatchApproved", need_id, first)
    assert match(needs, "MatchOffered", need_id, first) == "offered"
    assert match(needs, "MatchDeclined", need_id, first, reason="choroba") == "open"
    assert match(needs, "MatchOffered", need_id, second) == "offered"
    assert match(needs, "MatchExpired", need_id, second) == "open"


def test_an_agreed_visit_that_is_cancelled_needs_a_follow_up_call(needs) -> None:  # type: ignore[no-untyped-def]
    need_id = needs.register()["id"]
    m = str(uuid.uuid4())
    match(needs, "MatchAccepted", need_id, m)
    assert match(needs, "MatchCancelled", need_id, m, reason="volunteer_paused") == "needs_follow_up"
    last = needs.client.get(f"/api/needs/{need_id}/timeline").json[-1]
    assert "powód: wykonawca wstrzymał udział" in last["detail"]  # the code in Polish


def test_a_late_match_event_never_revives_a_cancelled_need_but_is_kept_in_its_history(needs) -> None:  # type: ignore[no-untyped-def]
    need_id = needs.register()["id"]
    needs.client.post(f"/api/needs/{need_id}/cancel", json={"reason": "szpital"})
    assert match(needs, "MatchAccepted", need_id, str(uuid.uuid4())) == "cancelled"
    last = needs.client.get(f"/api/needs/{need_id}/timeline").json[-1]
    assert last["kind"] == "MatchAccepted" and "status pozostaje" in last["detail"]


def test_a_match_event_delivered_twice_is_handled_once(needs) -> None:  # type: ignore[no-untyped-def]
    from wspolnota import config
    from wspolnota.transport import Event, encode

    need_id = needs.register()["id"]
    event = Event(type="MatchCompleted", key=need_id, source="matching",
                  data={"match_id": str(uuid.uuid4()), "need_id": need_id, "volunteer_id": VOLUNTEER, "hours": 2.0})
    for _ in range(2):
        needs.system.broker.append(config.topic("matches"), need_id.encode(), encode(event), [])
    needs.system.pump()
    assert needs.client.get(f"/api/needs/{need_id}").json["hours_delivered"] == 2.0


def test_events_about_needs_of_another_service_are_ignored(needs) -> None:  # type: ignore[no-untyped-def]
    needs.match_event("MatchAccepted", str(uuid.uuid4()), str(uuid.uuid4()))
    assert needs.count("need_timeline") == 0


def test_a_package_summary_counts_delivered_visits_and_hours_and_closing_cancels_what_is_left(needs) -> None:  # type: ignore[no-untyped-def]
    package(needs)
    occurrences = recurring(needs).json["needs"]
    for n in occurrences[:3]:
        m = str(uuid.uuid4())
        match(needs, "MatchAccepted", n["id"], m)
        match(needs, "MatchCompleted", n["id"], m, hours=1.25)
    summary = needs.client.get("/api/packages/IPUS%2F2026%2F7").json
    assert (summary["visits_delivered"], summary["hours_delivered"], summary["needs_open"]) == (3, 3.75, 5)
    closed = needs.client.post("/api/packages/IPUS%2F2026%2F7/close", json={"reason": "cel osiągnięty"})
    assert closed.status_code == 200 and closed.json["status"] == "closed" and closed.json["needs_open"] == 0
    assert len(needs.published("NeedCancelled")) == 5
    [event] = needs.published("SupportPackageClosed")
    assert event.data == {"plan_ref": "IPUS/2026/7", "reason": "closed", "visits_delivered": 3,
                          "hours_delivered": 3.75}  # the typed reason stays in needs (it may name the resident)
    assert closed.json["close_reason"] == "cel osiągnięty"
    assert needs.client.post("/api/packages/IPUS%2F2026%2F7/close", json={}).status_code == 409
    assert "nie więcej" not in needs.page("/packages/IPUS/2026/7")
