"""Staff pages (Polish, CSRF-protected forms) and the JSON API of the review queue."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bench.matching.service_harness import NOW, MatchingService
from services.matching.api import STAFF_ACTOR
from services.matching.app import create_app
from services.matching.settings import Settings


@pytest.fixture
def client(matching):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True, "SECRET_KEY": "test",
                      "MATCHING_CLOCK": lambda: matching.now, "MATCHING_SETTINGS": matching.settings})
    return app.test_client()


def csrf(page: str, prefix: str) -> str:
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)


def test_the_queue_and_the_explanation_are_in_polish(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    matching.need(category="KOR")  # nobody may tutor: shown with the reason
    queue = client.get("/").get_data(as_text=True)
    assert "Do przeglądu (1)" in queue and "Zakupy i sprawunki" in queue
    assert "Potrzeby bez wykonawcy (1)" in queue and "Żaden wykonawca nie spełnia warunków" in queue
    page = client.get(f"/matches/{matching.match_of(need_id)['id']}").get_data(as_text=True)
    for words in ("Lejek warunków", "Składniki oceny", "dojazd (koszt)", "Drugi w kolejności",
                  "Zatwierdź i wyślij ofertę", "Powód odrzucenia", "Inny kandydat"):
        assert words in page


def test_the_proposed_provider_the_runner_up_and_the_candidates_link_to_their_records(matching, client) -> None:  # type: ignore[no-untyped-def]
    near = matching.volunteer()
    other = matching.volunteer(village="kajetanow", radius_km=15)
    proposal = matching.match_of(matching.need())
    assert proposal["volunteer_id"] == near
    page = client.get(f"/matches/{proposal['id']}").get_data(as_text=True)
    assert f'href="/volunteers/wykonawcy/{near}"' in page  # the volunteers service's record, behind the front door
    assert page.count(f'href="/volunteers/wykonawcy/{other}"') == 2  # as the runner-up and as a candidate
    [row] = re.findall(r'<h3 id="kandydaci">.*?<tbody>(.*?)</tbody>', page, re.S)
    [candidate] = proposal["explanation"]["candidates"]
    assert other[:8] in row and "3,0 km" in row and f"<td>{candidate['cost']}</td>" in row


def test_distances_have_a_decimal_comma_in_polish_and_a_point_in_english(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    other = matching.volunteer(village="kajetanow", radius_km=15)  # 3.0 km from the need
    proposal = matching.match_of(matching.need())
    polish = client.get(f"/matches/{proposal['id']}?lang=pl").get_data(as_text=True)
    english = client.get(f"/matches/{proposal['id']}?lang=en").get_data(as_text=True)
    assert "<td>3,0 km</td>" in polish and f"{other[:8]} — 3,0 km, koszt" in polish
    assert "<td>3.0 km</td>" in english and f"{other[:8]} — 3.0 km, cost" in english
    assert "3,0" not in english


def test_a_form_without_its_csrf_token_is_refused(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    response = client.post(f"/matches/{proposal['id']}/approve", data={})
    assert response.status_code in (400, 422)
    assert matching.match_of(need_id)["status"] == "proposed"


def test_staff_approve_through_the_form(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    page = client.get(f"/matches/{proposal['id']}").get_data(as_text=True)
    response = client.post(f"/matches/{proposal['id']}/approve",
                           data={"approve-csrf_token": csrf(page, "approve")})
    assert response.status_code == 302
    offered = matching.match_of(need_id, "offered")
    assert offered["reviewer"] == STAFF_ACTOR  # sign-in is off in this app: the placeholder, never typed text
    assert "Propozycję zatwierdzono" in client.get("/").get_data(as_text=True)


def test_rejecting_without_a_reason_shows_a_polish_message_next_to_the_field(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    page = client.get(f"/matches/{proposal['id']}").get_data(as_text=True)
    response = client.post(f"/matches/{proposal['id']}/reject",
                           data={"reject-csrf_token": csrf(page, "reject"), "reject-reason": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="reject-reason-bledy"' in body and "Podaj powód odrzucenia." in body
    assert matching.match_of(need_id)["status"] == "proposed"


def test_staff_pick_another_candidate_through_the_form(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    other = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    page = client.get(f"/matches/{proposal['id']}").get_data(as_text=True)
    response = client.post(f"/matches/{proposal['id']}/pick",
                           data={"pick-csrf_token": csrf(page, "pick"), "pick-volunteer_id": other})
    assert response.status_code == 302
    assert matching.match_of(need_id, "offered")["volunteer_id"] == other


def test_moderation_of_a_category_is_set_on_its_page(matching, client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/moderation").get_data(as_text=True)
    response = client.post("/moderation", data={"category": "ZAK", "ZAK-csrf_token": csrf(page, "ZAK"),
                                                "ZAK-mode": "auto"})
    assert response.status_code == 302
    matching.volunteer()
    need_id = matching.need()
    assert matching.match_of(need_id, "offered")


def test_the_api_rejects_with_a_reason_and_refuses_one_without(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    missing = client.post(f"/api/matches/{proposal['id']}/reject", json={})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]["json"]
    done = client.post(f"/api/matches/{proposal['id']}/reject", json={"reason": "Konflikt interesów"})
    assert done.status_code == 200 and done.json["status"] == "rejected"
    detail = client.get(f"/api/matches/{proposal['id']}").json
    assert detail["decision_reason"] == "Konflikt interesów" and "funnel" in detail["explanation"]


def test_the_api_refuses_to_pick_a_provider_who_fails_a_rule(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(categories=("KOR",), credentials=[
        {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-06-30"}])
    unchecked = matching.volunteer(categories=("KOR",))
    need_id = matching.need(category="KOR")
    proposal = matching.match_of(need_id)
    response = client.post(f"/api/matches/{proposal['id']}/pick", json={"volunteer_id": unchecked})
    assert response.status_code == 409 and "Kamilka" in response.json["message"]
    assert client.get("/api/matches/00000000-0000-0000-0000-000000000000").status_code == 404


def test_staff_mark_an_accepted_visit_done_with_its_hours(matching, client) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = matching.need()
    matching.approve(matching.match_of(need_id)["id"])
    offered = matching.match_of(need_id, "offered")
    matching.respond(offered["id"], volunteer, "accept")
    page = client.get(f"/matches/{offered['id']}").get_data(as_text=True)
    token = csrf(page, "complete")
    wrong = client.post(f"/matches/{offered['id']}/complete", data={"complete-csrf_token": token, "complete-hours": "30"})
    assert wrong.status_code == 422 and "od 0 do 24" in wrong.get_data(as_text=True)
    not_a_number = client.post(f"/matches/{offered['id']}/complete",
                               data={"complete-csrf_token": token, "complete-hours": "półtorej"})
    assert not_a_number.status_code == 422 and "Podaj liczbę" in not_a_number.get_data(as_text=True)
    done = client.post(f"/matches/{offered['id']}/complete", data={"complete-csrf_token": token, "complete-hours": "1,5"})
    assert done.status_code == 302
    matching.system.pump()
    assert matching.events("MatchCompleted")[0]["hours"] == 1.5


def test_the_proposal_list_says_how_many_there_are_beyond_the_newest_200(matching, client) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from services.matching.db import proposals

    matching.volunteer()
    template = dict(matching.match_of(matching.need()))
    with matching.service.db.transaction() as session:  # 204 more proposals than the body may carry
        session.execute(sa.insert(proposals), [{**template, "id": f"extra-{i:03d}"} for i in range(204)])
    response = client.get("/api/proposals?status=proposed")
    assert len(response.get_json()) == 200 and response.headers["X-Total-Count"] == "205"
    assert client.get("/api/proposals?status=offered").headers["X-Total-Count"] == "0"


def test_held_needs_have_their_own_list_with_the_time_of_their_proposal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    matching = MatchingService(tmp_path, Settings(resolve_interval=timedelta(0), hold_hours=48,
                                                         hold_min_providers=2))
    try:
        matching.volunteer()
        matching.volunteer()
        visit = NOW.replace(hour=9) + timedelta(days=5)  # 9:00 UTC = 10:00 in Warsaw
        matching.need(start=visit)
        matching.need(category="KOR")  # nobody may tutor: still listed as unmet
        app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                          "SECRET_KEY": "test", "MATCHING_CLOCK": lambda: matching.now,
                          "MATCHING_SETTINGS": matching.settings})
        page = app.test_client().get("/").get_data(as_text=True)
        assert "Potrzeby bez wykonawcy (1)" in page and "Odłożone do bliższego terminu (1)" in page
        held = page[page.index('id="odlozone"'):page.index('id="ostatnie"')]
        assert "Zakupy i sprawunki" in held and "01.12.2026 10:00" in held and "29.11.2026 10:00" in held
    finally:
        matching.close()
