"""Bad input, as any staff system meets it: a clear Polish error, nothing stored, nothing published."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.volunteers.conftest import (
    TODAY,
    clean_kamilka_check,
    count,
    csrf_token,
    hidden,
    person,
    register,
)
from tests.unit.volunteers.test_volunteers_forms import form_page, self_registration

SCRIPT = "<script>alert('x')</script>"
SQL = "Robert'); DROP TABLE volunteers;--"
TEMPLATE = "{{ 7*7 }}"
OVERLAP = [{"weekday": 2, "start": "10:00", "end": "12:00"}, {"weekday": 2, "start": "11:00", "end": "13:00"}]
BACKWARDS = [{"weekday": 2, "start": "12:00", "end": "10:00"}]


def nothing_stored_or_published(db) -> None:  # type: ignore[no-untyped-def]
    assert count(db, "volunteers") == 0
    assert count(db, "outbox") == 0


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"name": None}, "name", "To pole jest wymagane."),
    ({"villages": None}, "villages", "To pole jest wymagane."),
    ({"name": "Z"}, "name", "Długość od 2 do 120 znaków."),
    ({"name": "Z" * 121}, "name", "Długość od 2 do 120 znaków."),
    ({"notes": "x" * 2001}, "notes", "Najwyżej 2000 znaków."),
    ({"email": "zofia@"}, "email", "Niepoprawny adres e-mail."),
    ({"email": "zofia example.pl"}, "email", "Niepoprawny adres e-mail."),
    ({"phone": "12345"}, "phone", "Niepoprawny numer telefonu (9 cyfr, opcjonalnie z +48)."),
    ({"phone": "+48 601 202 30a"}, "phone", "Niepoprawny numer telefonu (9 cyfr, opcjonalnie z +48)."),
    ({"villages": ["atlantyda"]}, "villages", "Nieznana miejscowość: atlantyda."),
    ({"home_village": "atlantyda"}, "home_village", "Nieznana miejscowość: atlantyda."),
    ({"villages": []}, "villages", "Wybierz od 1 do 30 miejscowości."),
    ({"provider_type": "wizard"}, "provider_type", "Niedozwolona wartość: wizard."),
    ({"radius_km": 500}, "radius_km", "Promień od 0 do 50 km."),
    ({"radius_km": "daleko"}, "radius_km", "Niepoprawna liczba."),
    ({"languages": ["polski"]}, "languages", "Kod języka ISO 639-1, np. pl, uk."),
    ({"weekly_slots": OVERLAP}, "weekly_slots", "Przedziały dostępności w tym samym dniu nakładają się."),
    ({"weekly_slots": BACKWARDS}, "weekly_slots", "Koniec przedziału musi być później niż jego początek."),
    ({"weekly_slots": [{"weekday": 7, "start": "10:00", "end": "11:00"}]}, "weekly_slots",
     "Dzień tygodnia od 0 (pon.) do 6 (niedz.)."),
    ({"weekly_slots": [{"weekday": 1, "start": "25:00", "end": "26:00"}]}, "weekly_slots", "Godzina GG:MM."),
    ({"provider_type": "partner_organisation", "organisation_kind": "osp"}, "contact_person",
     "Organizacja partnerska musi mieć osobę kontaktową."),
    ({"is_admin": True}, "is_admin", "Nieznane pole."),
])
def test_a_bad_registration_is_refused_field_by_field(client, db, body, field, message) -> None:  # type: ignore[no-untyped-def]
    payload = {k: v for k, v in person(**body).items() if v is not None}
    response = client.post("/api/volunteers", json=payload)
    assert response.status_code == 422
    assert message in str(response.json["errors"]["json"][field])
    nothing_stored_or_published(db)


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"kind": "first_aid", "valid_from": "2026-05-01", "valid_until": "2026-04-30"}, "valid_until",
     "Data ważności nie może być wcześniejsza niż data wydania."),
    ({"kind": "first_aid"}, "valid_from", "To pole jest wymagane."),
    ({"kind": "first_aid", "valid_from": "1 maja"}, "valid_from", "Niepoprawna data (RRRR-MM-DD)."),
    ({"kind": "passport", "valid_from": "2026-05-01"}, "kind", "Niedozwolona wartość: passport."),
    ({"kind": "nnw_insurance", "valid_from": "2026-05-01"}, "valid_until", "Podaj datę końca ubezpieczenia."),
    ({"kind": "agreement", "valid_from": "2026-05-01", "valid_until": "2026-12-31"}, "written",
     "Porozumienie na ponad 30 dni (lub bezterminowe) wymaga formy pisemnej."),
    (clean_kamilka_check(TODAY, register_checked_on=None), "register_checked_on", "To pole jest wymagane."),
    (clean_kamilka_check(TODAY, checked_by="Anna Nowak"), "checked_by", "Nieznane pole."),  # the signed-in account
    (clean_kamilka_check(TODAY, krk_seen_on=None), "krk_seen_on", "To pole jest wymagane."),
    (clean_kamilka_check(TODAY + timedelta(days=1)), "register_checked_on", "Data nie może być z przyszłości."),
    (clean_kamilka_check(TODAY, countries_last_20_years=["PL", "IE"]), "foreign_record_seen_on",
     "Osoba mieszkała za granicą"),
    (clean_kamilka_check(TODAY, register_result="maybe"), "register_result", "Niedozwolona wartość: maybe."),
])
def test_a_bad_credential_is_refused_and_nothing_is_recorded(client, db, body, field, message) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = register(client)
    payload = {k: v for k, v in body.items() if v is not None}
    response = client.post(f"/api/volunteers/{volunteer_id}/credentials", json=payload)
    assert response.status_code == 422
    assert message in str(response.json["errors"]["json"][field])
    assert count(db, "credentials") == 0 and count(db, "outbox") == 1  # only the registration


def test_a_bad_offer_or_absence_is_refused(client, db) -> None:
    volunteer_id = register(client)
    start = datetime.now(UTC)
    backwards = client.post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["ZAK"], "available_from": start.isoformat(), "available_to": (start - timedelta(hours=1)).isoformat()})
    assert "Koniec dostępności musi być po jej początku." in str(backwards.json["errors"]["json"]["available_to"])
    unknown = client.post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["XYZ"], "available_from": start.isoformat(), "available_to": (start + timedelta(hours=1)).isoformat()})
    assert "Nieznana kategoria: XYZ." in str(unknown.json["errors"]["json"]["categories"])
    absence = client.post(f"/api/volunteers/{volunteer_id}/exceptions", json={"starts_on": "2026-12-24",
                                                                              "ends_on": "2026-12-20"})
    assert "Koniec nie może być przed początkiem." in str(absence.json["errors"]["json"]["ends_on"])
    assert count(db, "offers") == 0 and count(db, "availability_exceptions") == 0 and count(db, "outbox") == 1


def test_an_unknown_provider_is_a_404(client) -> None:
    assert client.get("/api/volunteers/8b0f0c3e-0000-4000-8000-000000000000").status_code == 404
    assert client.post("/api/volunteers/8b0f0c3e-0000-4000-8000-000000000000/pause").status_code == 404


def test_the_same_email_cannot_be_registered_twice(client, db) -> None:
    register(client)
    again = client.post("/api/volunteers", json=person(email="ZOFIA@example.pl", name="Inna Zofia"))
    assert again.status_code == 409 and again.json["message"] == "Ten adres e-mail jest już zarejestrowany."
    assert count(db, "volunteers") == 1 and count(db, "outbox") == 1


def test_injection_strings_are_stored_verbatim_and_shown_inert(client, db) -> None:
    volunteer_id = register(client, name=SQL, notes=f"{SCRIPT} {TEMPLATE}", skills=[SCRIPT[:50]])
    assert count(db, "volunteers") == 1  # the table is still there
    profile = client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    listing = client.get("/").get_data(as_text=True)
    for page in (profile, listing):
        assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in profile
    assert "{{ 7*7 }}" in profile and ">49<" not in profile
    assert "Robert&#39;); DROP TABLE volunteers;--" in listing


# --- the same mistakes through the forms ---------------------------------------------------------------


@pytest.mark.parametrize(("over", "message"), [
    ({"name": ""}, "To pole jest wymagane."),
    ({"email": "oksana@@example"}, "Niepoprawny adres e-mail."),
    ({"phone": "601-20"}, "Niepoprawny numer telefonu"),
    ({"villages": ["atlantyda"]}, "Nieznana miejscowość: atlantyda."),
    ({"villages": []}, "Wybierz co najmniej jedną miejscowość."),
    ({"consent": ""}, "Bez zgody nie możemy przyjąć zgłoszenia."),
    ({"notes": "x" * 2001}, "Najwyżej 2000 znaków."),
    ({"weekly_slots": "kiedyś wieczorem"}, "Wiersz 1: nieczytelny zapis"),
    ({"weekly_slots": "pon 10:00-12:00\npon 11:30-13:00"}, "Przedziały dostępności w tym samym dniu nakładają się."),
    ({"weekly_slots": "wt 18:00-16:00"}, "Koniec przedziału musi być później niż jego początek."),
])
def test_the_public_form_shows_polish_errors_and_stores_nothing(client, db, over, message) -> None:  # type: ignore[no-untyped-def]
    data = {k: v for k, v in {**form_page(client, "/zglos-sie"), **self_registration(**over)}.items() if v != ""}
    response = client.post("/zglos-sie", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html and 'aria-invalid="true"' in html
    nothing_stored_or_published(db)
    assert count(db, "confirmation_mails") == 0


def test_a_double_submitted_self_registration_stores_and_publishes_once(client, db) -> None:
    data = {**form_page(client, "/zglos-sie"), **self_registration()}
    first, second = client.post("/zglos-sie", data=data), client.post("/zglos-sie", data=data)
    assert first.status_code == second.status_code == 302
    assert count(db, "volunteers") == 1 and count(db, "outbox") == 1 and count(db, "confirmation_mails") == 1


def test_a_double_submitted_staff_form_stores_and_publishes_once(client, db) -> None:
    data = {**form_page(client, "/wykonawcy/nowy"), "provider_type": "volunteer", "name": "Jan Kos",
            "email": "jan@example.pl", "phone": "601202303", "villages": ["umer"], "preferred_channel": "email",
            "languages": ["pl"]}
    assert client.post("/wykonawcy/nowy", data=data).status_code == 302
    again = client.post("/wykonawcy/nowy", data=data, follow_redirects=True)
    assert "Ten formularz został już wysłany" in again.get_data(as_text=True)
    assert count(db, "volunteers") == 1 and count(db, "outbox") == 1


def test_a_staff_credential_form_expiring_before_issue_shows_the_error_by_the_field(client, db) -> None:
    volunteer_id = register(client)
    page = client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    response = client.post(f"/wykonawcy/{volunteer_id}/uprawnienia", data={
        "csrf_token": csrf_token(page), "submission": hidden(page, "submission"), "kind": "first_aid",
        "valid_from": "2026-05-01", "valid_until": "2026-04-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="valid_until-err"' in html and "Data ważności nie może być wcześniejsza niż data wydania." in html
    assert count(db, "credentials") == 0 and count(db, "outbox") == 1


def test_a_double_submitted_credential_form_records_once(client, db) -> None:
    volunteer_id = register(client)
    page = client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "submission": hidden(page, "submission"), "kind": "first_aid",
            "valid_from": "2026-05-01", "valid_until": "2028-04-01"}
    client.post(f"/wykonawcy/{volunteer_id}/uprawnienia", data=data)
    client.post(f"/wykonawcy/{volunteer_id}/uprawnienia", data=data)
    assert count(db, "credentials") == 1 and count(db, "outbox") == 2


def test_turning_a_provider_into_an_organisation_needs_a_contact_person(client, db) -> None:
    volunteer_id = register(client)
    response = client.patch(f"/api/volunteers/{volunteer_id}", json={"provider_type": "partner_organisation"})
    assert response.status_code == 409 and "osobę kontaktową" in response.json["message"]
    assert count(db, "outbox") == 1
