"""Every safety decision names the signed-in person, and criminal-record details are shown only to those who need
them: who checked, recorded and verified is the account at the keyboard, never typed text; Kamilka details are
for the organiser, the director and the admin, every read of them is audited, and the audit log has a page and
an API for the auditor."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from services.volunteers.db import audit_log, credentials, volunteers
from tests.unit.volunteers.conftest import TODAY, clean_kamilka_check, csrf_token, hidden, make_app, person
from wspolnota.testing import signed_in

ANNA = "Anna Nowak (a.nowak)"  # how the audit log names the organiser signed in below
DETAILS = ("nie figuruje", "KRK okazano", "sprawdził(a)")  # what the profile page shows of a Kamilka check


@pytest.fixture
def signed_app(db) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The service with sign-in switched on, as in production."""
    app = make_app(db, SECRET_KEY="accountability", SMTP_HOST="127.0.0.1", SMTP_PORT=9)
    yield app
    app.extensions["db"].dispose()


def as_role(app: Flask, role: str, login: str | None = None, name: str | None = None) -> Any:
    return signed_in(app.test_client(), role, login, name)


@pytest.fixture
def organiser(signed_app: Flask) -> Any:
    return as_role(signed_app, "osl", "a.nowak", "Anna Nowak")


def entries(db, action: str | None = None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    query = sa.select(audit_log).order_by(audit_log.c.id)
    if action:
        query = query.where(audit_log.c.action == action)
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def stored_credentials(db) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(credentials).order_by(credentials.c.recorded_at)).mappings()]


def verified_by(db, volunteer_id: str) -> str | None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(sa.select(volunteers.c.verified_by).where(volunteers.c.id == volunteer_id)).scalar()


def a_cleared_volunteer(client: Any) -> str:
    """A verified volunteer with a written agreement and a clean Kamilka check: may work with minors."""
    created = client.post("/api/volunteers", json=person())
    assert created.status_code == 201, created.json
    volunteer_id = str(created.json["id"])
    for body in ({"kind": "agreement", "valid_from": TODAY.isoformat(), "written": True},
                 clean_kamilka_check(TODAY)):
        response = client.post(f"/api/volunteers/{volunteer_id}/credentials", json=body)
        assert response.status_code == 201, response.json
    return volunteer_id


# --- who checked, recorded, verified: the signed-in account ---------------------------------------------------


def test_a_kamilka_check_entered_on_the_page_is_checked_and_recorded_by_the_signed_in_organiser(
        organiser, db) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = organiser.post("/api/volunteers", json=person()).json["id"]
    page = organiser.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    assert 'name="checked_by"' not in page and 'name="recorded_by"' not in page  # nothing to type a name into
    response = organiser.post(f"/wykonawcy/{volunteer_id}/uprawnienia", data={
        "csrf_token": csrf_token(page), "submission": hidden(page, "submission"), "kind": "kamilka_check",
        "register_checked_on": TODAY.isoformat(), "register_result": "not_listed", "krk_seen_on": TODAY.isoformat(),
        "countries_last_20_years": "PL", "checked_by": "Ktoś Zupełnie Inny", "recorded_by": "Ktoś Zupełnie Inny"})
    assert response.status_code == 302, response.get_data(as_text=True)
    [check] = stored_credentials(db)
    assert check["details"]["checked_by"] == ANNA and check["recorded_by"] == ANNA
    [entry] = entries(db, "credential_recorded")
    assert (entry["actor"], entry["volunteer_id"]) == (ANNA, volunteer_id) and "kamilka_check" in entry["detail"]
    assert entry["at"] is not None


def test_the_api_refuses_a_typed_checker_or_recorder_and_records_the_signed_in_account(
        organiser, db) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = organiser.post("/api/volunteers", json=person()).json["id"]
    url = f"/api/volunteers/{volunteer_id}/credentials"
    typed = organiser.post(url, json={**clean_kamilka_check(TODAY), "checked_by": "Ktoś Inny", "recorded_by": "Ktoś"})
    assert typed.status_code == 422
    assert typed.json["errors"]["json"]["checked_by"] == ["Nieznane pole."]
    assert typed.json["errors"]["json"]["recorded_by"] == ["Nieznane pole."]
    assert stored_credentials(db) == []
    ok = organiser.post(url, json=clean_kamilka_check(TODAY))
    assert ok.status_code == 201, ok.json
    assert ok.json["recorded_by"] == ANNA and ok.json["details"]["checked_by"] == ANNA
    licence = organiser.post(url, json={"kind": "driving_licence", "valid_from": "2010-05-01"})
    assert licence.status_code == 201 and licence.json["recorded_by"] == ANNA
    assert [e["actor"] for e in entries(db, "credential_recorded")] == [ANNA, ANNA]


def test_the_openapi_document_offers_no_field_for_a_typed_name(organiser) -> None:  # type: ignore[no-untyped-def]
    spec = organiser.get("/api/openapi.json").json
    bodies = [op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
              for path in spec["paths"].values() for op in path.values() if isinstance(op, dict) and "requestBody" in op]
    typed = {(body, field) for body in bodies for field in spec["components"]["schemas"][body].get("properties", {})
             if field in ("checked_by", "recorded_by", "verified_by")}
    assert bodies and typed == set()  # no request body has a field for who checked, recorded or verified


def test_verifying_on_the_page_records_the_signed_in_account_and_an_audit_entry(
        organiser, db) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = organiser.post("/api/volunteers", json=person(verified=False)).json["id"]
    page = organiser.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    assert 'name="verified_by"' not in page
    response = organiser.post(f"/wykonawcy/{volunteer_id}/weryfikacja",
                              data={"csrf_token": csrf_token(page), "verified_by": "Ktoś Zupełnie Inny"})
    assert response.status_code == 302
    assert verified_by(db, volunteer_id) == ANNA
    [entry] = entries(db, "verify")
    assert (entry["actor"], entry["volunteer_id"]) == (ANNA, volunteer_id)
    assert ANNA in organiser.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)


def test_verifying_through_the_api_takes_no_name_and_records_the_signed_in_account(
        organiser, db) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = organiser.post("/api/volunteers", json=person(verified=False)).json["id"]
    url = f"/api/volunteers/{volunteer_id}/verify"
    typed = organiser.post(url, json={"verified_by": "Ktoś Inny"})
    assert typed.status_code == 422 and typed.json["errors"]["json"]["verified_by"] == ["Nieznane pole."]
    assert verified_by(db, volunteer_id) is None
    assert organiser.post(url).status_code == 200
    assert verified_by(db, volunteer_id) == ANNA
    assert [(e["actor"], e["volunteer_id"]) for e in entries(db, "verify")] == [(ANNA, volunteer_id)]


def test_a_provider_registered_as_verified_through_the_api_is_verified_by_the_signed_in_account(
        organiser, db) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = organiser.post("/api/volunteers", json=person()).json["id"]
    assert verified_by(db, volunteer_id) == ANNA
    assert [(e["actor"], e["volunteer_id"]) for e in entries(db, "verify")] == [(ANNA, volunteer_id)]


def test_an_erasure_through_the_api_names_the_signed_in_account(organiser, db) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = organiser.post("/api/volunteers", json=person()).json["id"]
    assert organiser.post(f"/api/volunteers/{volunteer_id}/erase").status_code == 200
    [entry] = entries(db, "erase")
    assert (entry["actor"], entry["volunteer_id"]) == (ANNA, volunteer_id)


# --- criminal-record details: organiser, director, admin; everyone else sees yes/no and a date ----------------


@pytest.mark.parametrize("role", ["osl", "director", "admin"])
def test_the_roles_that_need_them_see_the_kamilka_details_on_the_page_and_each_view_is_audited(
        signed_app, organiser, db, role: str) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = a_cleared_volunteer(organiser)
    reader = as_role(signed_app, role, "r.czytelnik", "Roman Czytelnik")
    page = reader.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    assert all(text in page for text in DETAILS) and ANNA in page
    until = (TODAY + timedelta(days=365)).strftime("%d.%m.%Y")
    assert f"Może pracować z małoletnimi: tak, do {until}" in page
    [entry] = entries(db, "kamilka_read")
    assert (entry["actor"], entry["volunteer_id"]) == ("Roman Czytelnik (r.czytelnik)", volunteer_id)
    assert "karta wykonawcy" in entry["detail"]


@pytest.mark.parametrize("role", ["social_worker", "ipus_coordinator", "auditor"])
def test_other_roles_see_only_whether_the_person_may_work_with_minors_and_until_when(
        signed_app, organiser, db, role: str) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = a_cleared_volunteer(organiser)
    reader = as_role(signed_app, role)
    page = reader.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    until = (TODAY + timedelta(days=365)).strftime("%d.%m.%Y")
    assert f"Może pracować z małoletnimi: tak, do {until}" in page
    assert not any(text in page for text in DETAILS)
    assert 'name="register_result"' not in page
    assert entries(db, "kamilka_read") == []


def test_a_person_found_in_the_register_shows_as_no_to_everyone_and_the_finding_only_to_the_organiser(
        signed_app, organiser, db) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = organiser.post("/api/volunteers", json=person()).json["id"]
    organiser.post(f"/api/volunteers/{volunteer_id}/credentials",
                   json=clean_kamilka_check(TODAY, register_result="listed"))
    worker = as_role(signed_app, "social_worker").get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    assert "Może pracować z małoletnimi: nie" in worker and "FIGURUJE W REJESTRZE" not in worker
    assert as_role(signed_app, "social_worker").get(f"/api/volunteers/{volunteer_id}").json[
        "may_work_with_minors"] is False
    assert "FIGURUJE W REJESTRZE" in organiser.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["osl", "director", "admin"])
def test_the_credentials_api_gives_the_kamilka_details_to_the_roles_that_need_them_and_audits_it(
        signed_app, organiser, db, role: str) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = a_cleared_volunteer(organiser)
    reader = as_role(signed_app, role, "r.czytelnik", "Roman Czytelnik")
    listed = reader.get(f"/api/volunteers/{volunteer_id}/credentials").json
    [check] = [c for c in listed if c["kind"] == "kamilka_check"]
    assert check["details"]["register_result"] == "not_listed" and check["details"]["checked_by"] == ANNA
    [entry] = entries(db, "kamilka_read")
    assert (entry["actor"], entry["volunteer_id"]) == ("Roman Czytelnik (r.czytelnik)", volunteer_id)
    assert "API" in entry["detail"]


@pytest.mark.parametrize("role", ["social_worker", "ipus_coordinator", "auditor"])
def test_the_credentials_api_gives_other_roles_no_criminal_record_details(
        signed_app, organiser, db, role: str) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = a_cleared_volunteer(organiser)
    reader = as_role(signed_app, role)
    listed = reader.get(f"/api/volunteers/{volunteer_id}/credentials")
    assert listed.status_code == 200
    assert [c["kind"] for c in listed.json] == ["agreement"]
    body = listed.get_data(as_text=True)
    assert "not_listed" not in body and "krk_seen_on" not in body and "checked_by" not in body
    profile = reader.get(f"/api/volunteers/{volunteer_id}").json
    assert profile["may_work_with_minors"] is True
    assert profile["may_work_with_minors_until"] == (TODAY + timedelta(days=365)).isoformat()
    assert entries(db, "kamilka_read") == []


# --- the audit log: a staff page and an API --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "director", "admin"])
def test_the_auditor_director_and_admin_read_the_audit_log_on_a_page_and_through_the_api(
        signed_app, organiser, role: str) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = a_cleared_volunteer(organiser)
    organiser.get(f"/wykonawcy/{volunteer_id}")
    reader = as_role(signed_app, role)
    page = reader.get("/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Rejestr czynności i odczytów danych" in html and ANNA in html and "kamilka_read" in html
    log = reader.get("/api/audit", query_string={"volunteer_id": volunteer_id})
    assert log.status_code == 200
    assert {"credential_recorded", "kamilka_read", "profile_read", "verify"} <= {e["action"] for e in log.json}
    assert all(e["volunteer_id"] == volunteer_id and e["actor"] and e["at"] for e in log.json)
    only_reads = reader.get("/api/audit", query_string={"action": "kamilka_read"}).json
    assert [e["actor"] for e in only_reads] == [ANNA]


@pytest.mark.parametrize("role", ["osl", "social_worker", "ipus_coordinator"])
def test_other_roles_may_not_read_the_audit_log(signed_app, role: str) -> None:  # type: ignore[no-untyped-def]
    reader = as_role(signed_app, role)
    assert reader.get("/audit").status_code == 403
    assert reader.get("/api/audit").status_code == 403
    assert signed_app.test_client().get("/api/audit").status_code == 401


def test_a_bad_audit_query_is_refused_field_by_field(signed_app) -> None:  # type: ignore[no-untyped-def]
    refused = as_role(signed_app, "auditor").get("/api/audit", query_string={"limit": "0"})
    assert refused.status_code == 422 and refused.json["errors"]["query"]["limit"] == ["Od 1 do 1000 wpisów."]


def test_the_audit_log_and_the_restricted_profile_read_in_english(signed_app, organiser) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.test_i18n import polish_left

    volunteer_id = a_cleared_volunteer(organiser)
    organiser.get(f"/wykonawcy/{volunteer_id}")
    log = as_role(signed_app, "auditor").get("/audit?lang=en").get_data(as_text=True)
    assert "Log of actions and data reads" in log and polish_left(log, {"Zofia", "Wiśniewska"}) == []
    card = as_role(signed_app, "social_worker").get(f"/wykonawcy/{volunteer_id}?lang=en").get_data(as_text=True)
    assert "May work with minors: yes, until" in card and "Only the community organiser (OSL)" in card
    assert polish_left(card, {"Zofia", "Wiśniewska"}) == []
