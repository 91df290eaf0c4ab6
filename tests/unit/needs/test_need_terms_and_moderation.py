"""What a need asks of its provider (personal care, skills, the resident's relatives) reaches the bus; work on gas
or electrical installations is refused at intake; only a moderator may switch a need's staff review off."""
from __future__ import annotations

import re

import pytest

from tests.unit.needs.conftest import VOLUNTEER, need_body
from tests.unit.needs.test_case_system_api import case_need, headers, new_key, open_package
from tests.unit.needs.test_staff_forms import error_next_to, fields
from wspolnota.testing import signed_in

SON = "0b6f3a52-9c1e-4d7a-8f21-3c5e9d0a7b14"


def field_error(response, name: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.json
    return str(response.json["errors"]["json"][name])  # a list, or per item of a list field


# --- personal care, skills, relatives -------------------------------------------------------------------
def test_personal_care_skills_and_relatives_of_a_need_travel_on_need_registered(needs) -> None:  # type: ignore[no-untyped-def]
    created = needs.register(category="DOM", personal_care=True, skills=["gotowanie", " Obsługa  pralki "],
                             relatives=[SON])
    assert (created["personal_care"], created["skills"], created["relatives"]) == (
        True, ["gotowanie", "Obsługa pralki"], [SON])
    [event] = needs.published("NeedRegistered")
    assert event.data["personal_care"] is True
    assert event.data["skills"] == ["gotowanie", "Obsługa pralki"] and event.data["relatives"] == [SON]


def test_a_need_that_says_nothing_of_them_asks_for_nothing_more(needs) -> None:  # type: ignore[no-untyped-def]
    needs.register()
    [event] = needs.published("NeedRegistered")
    assert (event.data["personal_care"], event.data["skills"], event.data["relatives"]) == (False, [], [])


def test_an_edit_publishes_the_new_terms_on_need_updated(needs) -> None:  # type: ignore[no-untyped-def]
    need_id = needs.register()["id"]
    response = needs.client.patch(f"/api/needs/{need_id}", json={"personal_care": True, "relatives": [VOLUNTEER]})
    assert response.status_code == 200, response.json
    [event] = needs.published("NeedUpdated")
    assert event.data["personal_care"] is True and event.data["relatives"] == [VOLUNTEER]


@pytest.mark.parametrize("over, field, message", [
    ({"skills": ["gotowanie, sprzątanie"]}, "skills", "Jedna umiejętność na pozycję"),
    ({"skills": ["x"]}, "skills", "od 2 do 50 znaków"),
    ({"relatives": ["Jan Kowalski"]}, "relatives", "identyfikator z rejestru wolontariuszy"),
])
def test_bad_skills_or_relatives_get_a_polish_field_error(needs, over, field, message) -> None:  # type: ignore[no-untyped-def]
    assert message in str(field_error(needs.client.post("/api/needs", json=need_body(**over)), field))


def test_the_form_records_personal_care_skills_and_relatives(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.submit("/needs/new", fields(category="DOM", personal_care="y", skills="gotowanie, smartfon",
                                                 relatives=f"{SON}\n{VOLUNTEER}"))
    assert response.status_code == 302
    page = needs.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "tylko opiekun sąsiedzki" in page and "gotowanie, smartfon" in page
    [event] = needs.published("NeedRegistered")
    assert event.data["personal_care"] is True and event.data["relatives"] == [SON, VOLUNTEER]
    edit = needs.page(f"/needs/{event.data['need_id']}/edit")
    assert 'value="gotowanie, smartfon"' in edit and SON in edit


def test_erasing_the_resident_forgets_the_relatives_recorded_on_the_needs(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json={
        "name": "Genowefa Przykładowa", "address": "ul. Wymyślona 1", "village": "lekomin",
        "phone": "+48 600 000 001", "preferred_channel": "phone", "legal_basis": "art6_1_e"}).json
    needs.register(resident_ref=resident["ref"], relatives=[SON])
    assert needs.client.post(f"/api/residents/{resident['id']}/erase", json={"reason": "wniosek 1/2026"}
                             ).status_code == 200
    assert [row["relatives"] for row in needs.rows("needs")] in ([[]], ["[]"])


# --- gas and electrical installations ---------------------------------------------------------------------
def test_installation_work_is_refused_at_intake_by_the_api_with_a_polish_field_error(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.client.post("/api/needs", json=need_body(category="NAP", installation_work=True))
    assert "fachowca z uprawnieniami" in field_error(response, "installation_work")
    assert needs.count("needs") == 0 and needs.published("NeedRegistered") == []


def test_installation_work_is_refused_by_the_staff_form_next_to_the_field(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.submit("/needs/new", fields(category="NAP", installation_work="y"))
    assert response.status_code == 422
    assert "CUS nie zleca prac przy instalacjach gazowych" in error_next_to(response.get_data(as_text=True),
                                                                            "installation_work")
    assert needs.count("needs") == 0


def test_installation_work_is_refused_when_the_case_system_sends_it(needs) -> None:  # type: ignore[no-untyped-def]
    open_package(needs)
    response = needs.client.post("/api/case-system/needs", json=case_need(category="NAP", installation_work=True),
                                 headers=headers(new_key(needs)))
    assert "fachowca" in field_error(response, "installation_work")


# --- who may switch the staff review off ------------------------------------------------------------------
def test_a_case_system_api_key_may_not_create_an_automatically_moderated_need(needs) -> None:  # type: ignore[no-untyped-def]
    open_package(needs)
    response = needs.client.post("/api/case-system/needs", json=case_need(moderation="auto"),
                                 headers=headers(new_key(needs)))
    assert "organizator społeczności lokalnej" in field_error(response, "moderation")
    assert needs.published("NeedRegistered") == []


def test_a_case_system_api_key_may_not_switch_a_need_to_automatic_moderation(needs) -> None:  # type: ignore[no-untyped-def]
    open_package(needs)
    token = new_key(needs)
    need_id = needs.client.post("/api/case-system/needs", json=case_need(), headers=headers(token)).json["id"]
    response = needs.client.put(f"/api/case-system/needs/{need_id}", json={"moderation": "auto"},
                                headers=headers(token, "klucz-2"))
    assert "dyrektor CUS" in field_error(response, "moderation")
    assert needs.client.get(f"/api/needs/{need_id}").json["moderation"] == "review"


def test_a_social_worker_may_not_ask_for_automatic_moderation_through_the_api(needs) -> None:  # type: ignore[no-untyped-def]
    signed_in(needs.client, "social_worker", "as.nowak")
    response = needs.client.post("/api/needs", json=need_body(moderation="auto"))
    assert "administrator" in field_error(response, "moderation")
    assert needs.client.post("/api/needs", json=need_body(moderation="review")).status_code == 201


def test_a_social_worker_is_told_in_polish_on_the_form(needs) -> None:  # type: ignore[no-untyped-def]
    signed_in(needs.client, "social_worker", "as.nowak")
    response = needs.submit("/needs/new", fields(moderation="auto"))
    assert response.status_code == 422
    assert "Automatyczną akceptację propozycji" in error_next_to(response.get_data(as_text=True), "moderation")
    assert needs.count("needs") == 0


def test_a_social_worker_may_not_switch_an_existing_need_to_automatic_moderation(needs) -> None:  # type: ignore[no-untyped-def]
    need_id = needs.register()["id"]
    signed_in(needs.client, "social_worker", "as.nowak")
    response = needs.client.patch(f"/api/needs/{need_id}", json={"moderation": "auto"})
    assert "organizator" in field_error(response, "moderation")


@pytest.mark.parametrize("role", ["osl", "director", "admin"])
def test_an_organiser_director_or_admin_may_ask_for_automatic_moderation(needs, role) -> None:  # type: ignore[no-untyped-def]
    signed_in(needs.client, role)
    response = needs.client.post("/api/needs", json=need_body(moderation="auto"))
    assert response.status_code == 201, response.json
    [event] = needs.published("NeedRegistered")
    assert event.data["moderation"] == "auto"


def test_a_social_worker_editing_an_organiser_s_automatic_need_keeps_its_moderation(needs) -> None:  # type: ignore[no-untyped-def]
    signed_in(needs.client, "osl", "osl.kowalska")
    need_id = needs.register(moderation="auto")["id"]
    signed_in(needs.client, "social_worker", "as.nowak")
    response = needs.client.patch(f"/api/needs/{need_id}", json={"description": "Zakupy i apteka"})
    assert response.status_code == 200 and response.json["moderation"] == "auto"
    page = needs.page(f"/needs/{need_id}/edit")
    hidden = dict(re.findall(r'<input[^>]*name="(csrf_token)"[^>]*value="([^"]*)"', page))
    kept = needs.client.post(f"/needs/{need_id}/edit", data={**fields(), **hidden, "moderation": "auto"})
    assert kept.status_code == 302
