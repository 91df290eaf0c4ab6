"""The staff pages of the plan, activities, groups and partners, and the public registration page."""
from __future__ import annotations

from datetime import timedelta

from community_plan_support import NOW

from services.community import plan_handlers as h
from services.community.handlers import on_provider

ORG = "0f0f0f0f-1111-4222-8333-444444444444"


def test_a_plan_form_with_a_missing_title_answers_422_with_the_message_beside_the_field(api, community):
    page = api.post("/plans", data={"title": "", "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    assert page.status_code == 422
    assert "To pole jest wymagane." in page.get_data(as_text=True)
    assert community.published() == []


def test_the_organiser_builds_a_plan_through_the_pages_and_the_director_approves_it(api, director, community):
    created = api.post("/plans", data={"title": "Plan 2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    assert created.status_code == 302
    plan_url = created.headers["Location"]
    plan_id = plan_url.rsplit("/", 1)[-1]
    assert api.post(plan_url, data={"title": "Seniorzy aktywni"}).status_code == 302
    with community.db.transaction() as s:
        [goal] = h.plan_view(s, plan_id)["goals"]
    bad = api.post(f"/plans/{plan_id}/actions/new", data={"goal_id": goal["id"], "title": "Warsztaty",
                                                          "starts_on": "2027-05-01"})
    assert bad.status_code == 422 and "Data poza okresem planu" in bad.get_data(as_text=True)
    assert api.post(f"/plans/{plan_id}/actions/new", data={"goal_id": goal["id"], "title": "Warsztaty",
                                                           "villages": ["belno"]}).status_code == 302
    assert api.post(f"/plans/{plan_id}/indicators/new", data={
        "goal_id": goal["id"], "title": "Uczestnicy", "source": "participants", "baseline": "0",
        "target": "30"}).status_code == 302
    director.post(f"/plans/{plan_id}/approve")
    page = director.get(plan_url).get_data(as_text=True)
    assert "Zatwierdzono wersję 1 planu." in page and "zatwierdzony" in page
    assert "<td>Belno</td>" in page  # the action's village by name
    assert "(Belno)" in api.get(f"/plans/{plan_id}/versions/1").get_data(as_text=True)
    assert api.get(f"/plans/{plan_id}/versions/1").status_code == 200
    assert "Sprawozdanie z realizacji planu" in api.get(f"/plans/{plan_id}/report/2026").get_data(as_text=True)


def _workshop(api):  # type: ignore[no-untyped-def]
    start = (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    end = (NOW + timedelta(days=3, hours=2)).strftime("%Y-%m-%dT%H:%M")
    answer = api.post("/activities", data={"kind": "workshop", "title": "Warsztaty rękodzieła", "village": "belno",
                                           "starts_at": start, "ends_at": end, "capacity": "1",
                                           "helpers_wanted": "2", "involves_children": "y"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"].rsplit("/", 1)[-1]


def test_an_activity_form_with_the_end_before_the_start_keeps_nothing(api, community):
    page = api.post("/activities", data={"kind": "workshop", "title": "X", "village": "belno",
                                         "starts_at": "2026-03-10T10:00", "ends_at": "2026-03-10T09:00"})
    assert page.status_code == 422 and "Koniec musi być później niż początek." in page.get_data(as_text=True)
    assert community.published() == []


def test_a_resident_registers_on_the_phone_page_and_the_next_finds_it_full(api, community):
    activity_id = _workshop(api)
    with community.db.transaction() as s:
        token = h.activity_view(s, activity_id)["public_token"]
    page = api.get(f"/zapisy/{token}")
    assert page.status_code == 200 and "1 wolne miejsce" in page.get_data(as_text=True)
    assert api.post(f"/zapisy/{token}", data={"name": "Anna Nowak"}).status_code == 200
    full = api.post(f"/zapisy/{token}", data={"name": "Jan Kowalski"})
    assert full.status_code == 422 and "Brak wolnych miejsc." in full.get_data(as_text=True)
    limited = api.post(f"/zapisy/{token}", data={"name": "Ewa Zielińska"})
    assert limited.status_code == 429


def test_the_attendance_list_prints_the_registered_and_records_who_came(api, community, monkeypatch):
    activity_id = _workshop(api)
    assert api.post(f"/activities/{activity_id}", data={"r-name": "Anna Nowak"}).status_code == 302
    unknown = api.post(f"/activities/{activity_id}", data={"form": "helper", "h-provider_id": "nie-uuid"})
    assert unknown.status_code == 422 and "Niepoprawny identyfikator." in unknown.get_data(as_text=True)
    with community.db.transaction() as s:
        view = h.activity_view(s, activity_id)
    listing = api.get(f"/activities/{activity_id}/attendance").get_data(as_text=True)
    assert "Anna Nowak" in listing and "Podpis" in listing
    early = api.post(f"/activities/{activity_id}/attendance", data={"present": [view["registrations"][0]["id"]]})
    assert early.status_code == 422 and "po rozpoczęciu" in early.get_data(as_text=True)


def test_groups_and_partners_pages_show_what_was_recorded(api, community):
    with community.db.transaction() as s:
        from wspolnota.transport import Event

        on_provider(s, Event("VolunteerRegistered", ORG, {"volunteer_id": ORG,
                                                                "provider_type": "partner_organisation",
                                                                "villages": ["belno"]}, "volunteers"))
    created = api.post("/groups", data={"name": "Grupa wsparcia opiekunów", "village": "belno",
                                        "facilitator": "Maria", "schedule": "wtorki 17:00"})
    assert created.status_code == 302
    group_url = created.headers["Location"]
    assert api.post(group_url, data={"name": "Anna Nowak", "joined_on": "2026-03-01"}).status_code == 302
    assert "Anna Nowak" in api.get(group_url).get_data(as_text=True)
    bad = api.post(f"/partners/{ORG}", data={"form": "agreement", "a-scope": "festyny", "a-starts_on": "2026-05-01",
                                              "a-ends_on": "2026-01-01"})
    assert bad.status_code == 422
    assert "Koniec porozumienia nie może być wcześniejszy niż jego początek." in bad.get_data(as_text=True)
    assert api.post(f"/partners/{ORG}", data={"form": "profile", "p-brings": "sala i ciasta"}).status_code == 302
    assert api.post(f"/partners/{ORG}", data={"form": "log", "l-on": "2026-02-01", "l-kind": "meeting",
                                              "l-note": "spotkanie"}).status_code == 302
    assert "spotkanie" in api.get(f"/partners/{ORG}").get_data(as_text=True)
    assert api.get("/partners").status_code == 200


def test_the_progress_form_refuses_more_than_100_percent_and_saves_a_valid_one(api, community):
    with community.db.transaction() as s:
        plan_id = h.create_plan(s, "Plan", NOW.date().replace(month=1, day=1), NOW.date().replace(month=12, day=31),
                                NOW)
        goal_id = h.add_goal(s, plan_id, "Cel", NOW)
        action_id = h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Działanie"}, NOW)
    assert api.get(f"/actions/{action_id}/progress").status_code == 200
    bad = api.post(f"/actions/{action_id}/progress", data={"status": "in_progress", "percent_done": "120"})
    assert bad.status_code == 422 and "Od 0 do 100." in bad.get_data(as_text=True)
    assert api.post(f"/actions/{action_id}/progress", data={"status": "in_progress",
                                                             "percent_done": "60"}).status_code == 302
    with community.db.transaction() as s:
        assert h.get_action(s, action_id)["percent_done"] == 60


def test_the_activity_pages_name_the_village_and_give_a_helper_s_hours_with_a_decimal_comma(api, community):
    from wspolnota.transport import Event

    start = (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    end = (NOW + timedelta(days=3, hours=3)).strftime("%Y-%m-%dT%H:%M")
    created = api.post("/activities", data={"kind": "meeting", "title": "Spotkanie sołeckie", "village": "belno",
                                            "starts_at": start, "ends_at": end, "helpers_wanted": "1"})
    activity_id = created.headers["Location"].rsplit("/", 1)[-1]
    with community.db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", ORG, {"volunteer_id": ORG, "provider_type": "volunteer",
                                                                "villages": ["belno"]}, "volunteers"))
        h.record_attendance(s, community.outbox, activity_id, [], {ORG: 2.5}, NOW + timedelta(days=4))
    page = api.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert "Belno" in page and " · belno" not in page
    assert "2,5 godz." in page and f'href="/volunteers/wykonawcy/{ORG}"' in page
    assert "Belno" in api.get(f"/activities/{activity_id}/attendance").get_data(as_text=True)
