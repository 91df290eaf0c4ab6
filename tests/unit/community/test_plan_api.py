"""The plan, activities, groups and partners API: Polish field errors (422), refusals (409), the public link."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _plan(api) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    plan_id = api.post("/api/plans", json={"title": "Plan 2026", "starts_on": "2026-01-01",
                                           "ends_on": "2026-12-31"}).get_json()["id"]
    goal_id = api.post(f"/api/plans/{plan_id}/goals", json={"title": "Seniorzy aktywni"}).get_json()["id"]
    return plan_id, goal_id


def test_a_plan_with_a_missing_title_and_a_bad_date_gets_polish_field_errors(api):
    answer = api.post("/api/plans", json={"starts_on": "2026-13-01", "ends_on": "2026-12-31"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"] == {"title": ["To pole jest wymagane."],
                                                   "starts_on": ["Data w formacie RRRR-MM-DD."]}


def test_a_period_ending_before_it_starts_is_a_422_on_that_field(api):
    answer = api.post("/api/plans", json={"title": "X", "starts_on": "2026-12-01", "ends_on": "2026-01-01"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"] == {
        "ends_on": ["Koniec okresu nie może być wcześniejszy niż jego początek."]}


def test_approving_an_incomplete_plan_is_a_409_in_polish(api, director):
    plan_id, _ = _plan(api)
    answer = director.post(f"/api/plans/{plan_id}/approve")
    assert answer.status_code == 409 and "nie ma żadnego działania" in answer.get_json()["message"]


def test_the_organiser_builds_and_the_director_approves_a_plan(api, director, community):
    plan_id, goal_id = _plan(api)
    assert api.post(f"/api/plans/{plan_id}/actions", json={"goal_id": goal_id, "title": "Warsztaty",
                                                            "villages": ["belno"]}).status_code == 201
    indicator = api.post(f"/api/plans/{plan_id}/indicators", json={
        "goal_id": goal_id, "title": "Uczestnicy", "source": "participants", "baseline": 0, "target": 30})
    assert indicator.status_code == 201
    assert api.post(f"/api/plans/{plan_id}/approve").status_code == 403  # the organiser does not approve
    assert director.post(f"/api/plans/{plan_id}/actions", json={"goal_id": goal_id, "title": "X"}).status_code == 403
    assert director.post(f"/api/plans/{plan_id}/approve").get_json() == {"version": 1}
    view = api.get(f"/api/plans/{plan_id}").get_json()
    assert view["status"] == "approved" and view["versions"][0]["version"] == 1
    assert api.get(f"/api/plans/{plan_id}/versions/1").get_json()["goals"][0]["title"] == "Seniorzy aktywni"
    assert api.get(f"/api/plans/{plan_id}/report/2026").status_code == 200
    assert len(community.published("PlanApproved")) == 1


def test_an_unknown_plan_is_a_404(api):
    assert api.get("/api/plans/nope").status_code == 404


def test_an_activity_with_wrong_fields_writes_nothing(api, community):
    start = NOW + timedelta(days=3)
    answer = api.post("/api/activities", json={"kind": "picnic", "title": "", "village": "nowhere",
                                               "starts_at": start.isoformat(), "ends_at": "jutro", "capacity": 0})
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]["json"]
    assert set(errors) == {"kind", "title", "village", "ends_at", "capacity"}
    assert errors["kind"] == ["Wybierz jedną z dozwolonych wartości."]
    assert community.published() == []


def _activity(api, capacity=5):  # type: ignore[no-untyped-def]
    start = NOW + timedelta(days=3)
    answer = api.post("/api/activities", json={
        "kind": "event", "title": "Piknik sąsiedzki", "village": "belno", "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=4)).isoformat(), "capacity": capacity, "helpers_wanted": 3,
        "involves_children": True})
    assert answer.status_code == 201, answer.get_json()
    [activity_id] = answer.get_json()["ids"]
    return api.get(f"/api/activities/{activity_id}").get_json()


def test_the_public_link_registers_residents_and_is_rate_limited(api):
    activity = _activity(api)
    url = f"/api/public/activities/{activity['public_token']}/registrations"
    assert api.post(url, json={"name": "Anna Nowak"}).status_code == 201
    assert api.post(url, json={"name": "Jan Kowalski", "phone": "abc"}).status_code == 422
    assert api.post(url, json={"name": "Ewa Zielińska"}).status_code == 201
    limited = api.post(url, json={"name": "Piotr Wiśniewski"})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert api.get(f"/api/activities/{activity['id']}").get_json()["free_places"] == 3


def test_a_full_activity_answers_409(api):
    activity = _activity(api, capacity=1)
    assert api.post(f"/api/activities/{activity['id']}/registrations", json={"name": "A B"}).status_code == 201
    full = api.post(f"/api/activities/{activity['id']}/registrations", json={"name": "C D"})
    assert full.status_code == 409 and full.get_json()["message"] == "Brak wolnych miejsc."


def test_a_group_and_a_partner_profile_answer_field_errors(api):
    answer = api.post("/api/groups", json={"name": "Grupa", "village": "belno", "max_members": 1})
    assert answer.get_json()["errors"]["json"] == {"facilitator": ["To pole jest wymagane."],
                                                   "schedule": ["To pole jest wymagane."],
                                                   "max_members": ["Co najmniej 2 osoby."]}
    unknown = api.put("/api/partners/0f0f0f0f-1111-4222-8333-444444444444", json={"brings": "sala"})
    assert unknown.status_code == 422 and "org_id" in unknown.get_json()["errors"]["json"]


def test_the_overview_shows_plan_progress_and_activities_missing_helpers(api, reader):
    plan_id, goal_id = _plan(api)
    action_id = api.post(f"/api/plans/{plan_id}/actions", json={"goal_id": goal_id, "title": "W"}).get_json()["id"]
    api.post(f"/api/actions/{action_id}/progress", json={"percent_done": 40})
    _activity(api, capacity=5)
    overview = reader.get("/api/overview").get_json()
    assert [(p["title"], p["progress"]) for p in overview["plans"]] == [("Plan 2026", 40)]
    [upcoming] = overview["upcoming"]
    assert upcoming["free_places"] == 5 and upcoming["helpers_missing"] == 3 and "public_token" not in upcoming
    assert overview["helpers_missing"] == 3
    assert reader.post("/api/plans", json={"title": "X"}).status_code == 403  # a social worker reads only
