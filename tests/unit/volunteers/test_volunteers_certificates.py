"""Hours by month, the certificate of volunteering (PDF) and the hours export: months counted on the Warsaw
calendar, periods checked, the scope of the work named in Polish, only volunteers certified, every issue audited,
and bad input answered with field errors (API) or Polish messages beside the form (pages)."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from services.volunteers import certificates, handlers, hours
from services.volunteers.db import hours_ledger
from tests.unit.volunteers.conftest import NOW, TODAY, csrf_token, make_app, register
from wspolnota.db import Database
from wspolnota.testing import signed_in
from wspolnota.transport import Event

ACTIVITY = "aaaaaaaa-1111-4222-8333-444444444444"
NEED = "dddddddd-1111-4222-8333-444444444444"
MATCHES = [f"cccccccc-1111-4222-8333-44444444444{i}" for i in range(10)]


def completed(provider_id: str, given: float, at: datetime, match_id: str = MATCHES[0],
              category: str | None = "ZAK") -> Event:
    data: dict[str, Any] = {"match_id": match_id, "need_id": NEED, "volunteer_id": provider_id, "hours": given}
    if category is not None:
        data["category"] = category
    return Event("MatchCompleted", NEED, data, "matching", time=at)


def participation(provider_id: str, given: float, held_on: str, kind: str | None = "workshop",
                  activity_id: str = ACTIVITY) -> Event:
    data: dict[str, Any] = {"activity_id": activity_id, "provider_id": provider_id, "hours": given,
                            "held_on": held_on}
    if kind is not None:
        data["kind"] = kind
    return Event("ParticipationRecorded", provider_id, data, "community", time=NOW)


def handle(db: Database, *events: Event) -> None:
    table = handlers.handlers(None)  # type: ignore[arg-type]  # the consumed events write no outbox rows
    for event in events:
        with db.transaction() as session:
            table[event.type](session, event)


def a_season_of_help(db: Database, volunteer: str) -> None:
    """Two shopping visits, one companionship visit, a workshop and a visit from an older event (no category)."""
    handle(db, completed(volunteer, 2, datetime(2030, 11, 3, 10, tzinfo=UTC), MATCHES[0]),
           completed(volunteer, 1.5, datetime(2030, 11, 20, 10, tzinfo=UTC), MATCHES[1]),
           completed(volunteer, 3, datetime(2030, 12, 5, 10, tzinfo=UTC), MATCHES[2], category="TOW"),
           participation(volunteer, 2.5, "2030-12-12"),
           completed(volunteer, 1, datetime(2030, 12, 20, 10, tzinfo=UTC), MATCHES[3], category=None))


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def month_hours(db: Database, volunteer: str, year: int) -> list[float]:
    with db.transaction() as session:
        return [m["hours"] for m in hours.by_month(session, volunteer, year)["months"]]


# --- hours by month ------------------------------------------------------------------------------------------
def test_a_visit_completed_late_at_night_counts_in_the_warsaw_month(db, client) -> None:
    volunteer = register(client)
    # 23:30 UTC on 31 January is already 1 February in Warsaw; 22:30 UTC on 28 February is still February
    handle(db, completed(volunteer, 2, datetime(2031, 1, 31, 23, 30, tzinfo=UTC), MATCHES[0]),
           completed(volunteer, 1, datetime(2031, 2, 28, 22, 30, tzinfo=UTC), MATCHES[1]),
           completed(volunteer, 4, datetime(2030, 12, 31, 23, 30, tzinfo=UTC), MATCHES[2]))
    assert month_hours(db, volunteer, 2031)[:3] == [4, 3, 0]
    assert month_hours(db, volunteer, 2030) == [0] * 12


def test_a_month_counts_visits_and_activities_apart(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    with db.transaction() as session:
        year = hours.by_month(session, volunteer, 2030)
    november, december = year["months"][10], year["months"][11]
    assert november == {"month": 11, "hours": 3.5, "visit_hours": 3.5, "activity_hours": 0, "visits": 2,
                        "activities": 0}
    assert december == {"month": 12, "hours": 6.5, "visit_hours": 4, "activity_hours": 2.5, "visits": 2,
                        "activities": 1}
    assert (year["year"], year["hours"], year["visits"], year["activities"]) == (2030, 10, 4, 1)


def test_the_hours_api_gives_the_months_of_the_year_asked_for_and_keeps_its_fields(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    body = client.get(f"/api/volunteers/{volunteer}/hours?year=2030").json
    assert (body["year"], body["this_year"], body["total"]) == (2031, 0, 10)  # `year` stays the current year
    assert body["by_month"]["year"] == 2030 and len(body["by_month"]["months"]) == 12
    assert body["by_month"]["months"][11]["hours"] == 6.5
    assert {e["category"] for e in body["entries"]} == {"ZAK", "TOW", "workshop", None}
    assert client.get(f"/api/volunteers/{volunteer}/hours").json["by_month"]["year"] == 2031


@pytest.mark.parametrize("year", ["dwa tysiące", "1999", "2101", ""])
def test_a_bad_year_gets_a_field_error(db, client, year) -> None:
    volunteer = register(client)
    response = client.get(f"/api/volunteers/{volunteer}/hours?year={year}")
    assert response.status_code == 422
    [message] = response.json["errors"]["query"]["year"]
    assert message in ("Niepoprawna liczba całkowita.", "Rok od 2000 do 2100.")


# --- the scope of the work -----------------------------------------------------------------------------------
def test_the_ledger_keeps_the_category_of_a_visit_and_the_kind_of_an_activity(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    with db.transaction() as session:
        entries = hours.between(session, volunteer, date(2030, 1, 1), date(2030, 12, 31))
        scope = hours.scope(entries)
    assert [(e["category"], e["scope"]) for e in entries] == [
        ("ZAK", "Zakupy i sprawunki"), ("ZAK", "Zakupy i sprawunki"), ("TOW", "Towarzystwo"),
        ("workshop", "warsztat"), (None, "pomoc bez podanej kategorii")]
    assert scope == [
        {"source": "visit", "scope": "Zakupy i sprawunki", "count": 2, "hours": 3.5},
        {"source": "visit", "scope": "Towarzystwo", "count": 1, "hours": 3},
        {"source": "visit", "scope": "pomoc bez podanej kategorii", "count": 1, "hours": 1},
        {"source": "activity", "scope": "warsztat", "count": 1, "hours": 2.5}]


def test_a_correction_may_bring_the_category_an_older_event_lacked(db, client) -> None:
    volunteer = register(client)
    handle(db, completed(volunteer, 1, NOW, category=None), completed(volunteer, 1.5, NOW + timedelta(hours=1)))
    with db.engine.connect() as conn:
        assert conn.execute(hours_ledger.select()).mappings().one()["category"] == "ZAK"


# --- periods -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("since", "until", "expected"), [
    (date(2030, 1, 1), date(2030, 12, 31), {}),
    (TODAY, TODAY, {}),  # one day, ending today
    (None, None, {"since": "Podaj pierwszy dzień okresu.", "until": "Podaj ostatni dzień okresu."}),
    (date(2030, 12, 31), date(2030, 1, 1), {"since": "Pierwszy dzień okresu nie może być późniejszy niż ostatni."}),
    (date(2031, 1, 1), TODAY + timedelta(days=1),
     {"until": "Okres nie może kończyć się w przyszłości (dziś jest 16.01.2031)."}),
    (date(1999, 12, 31), date(2030, 1, 1), {"since": "Okres może zaczynać się najwcześniej 01.01.2000."}),
])
def test_a_period_has_both_ends_in_order_and_not_in_the_future(since, until, expected) -> None:
    assert certificates.period_errors(since, until, TODAY) == expected


# --- the certificate -----------------------------------------------------------------------------------------
def issue(db: Database, volunteer: str, since: date = date(2030, 11, 1), until: date = date(2030, 12, 31),
          **kw: Any) -> bytes:
    app = make_app(db, AUTH_DISABLED=True)
    with app.app_context(), db.transaction() as session:
        return certificates.certificate_pdf(session, volunteer, since, until, "Anna Organizatorka",
                                            issued_on=TODAY, **kw)


def test_the_certificate_names_the_volunteer_the_period_the_scope_and_the_hours(db, client) -> None:
    volunteer = register(client, name="Zofia Wiśniewska-Łęcka")
    a_season_of_help(db, volunteer)
    text = pdf_text(issue(db, volunteer))
    for expected in ("ZAŚWIADCZENIE", "o wykonywaniu świadczeń przez wolontariusza", "art. 44",
                     "Centrum Usług Społecznych w Zagnańsku", "ul. Turystyczna 86, 26-050 Zagnańsk",
                     "Zagnańsk, dnia 16.01.2031 r.", "Zofia Wiśniewska-Łęcka", "od 01.11.2030 r. do 31.12.2030 r.",
                     "Zakupy i sprawunki", "Towarzystwo", "Warsztat", "zajęcia w społeczności",
                     "Łączna liczba godzin świadczeń w tym okresie: 10.",
                     "Liczba wizyt u mieszkańców: 4; liczba zajęć w społeczności lokalnej: 1.",
                     "Wystawił(a): Anna Organizatorka", "(podpis i pieczęć)"):
        assert expected in text, expected


def test_the_certificate_counts_only_the_period_chosen(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    text = pdf_text(issue(db, volunteer, date(2030, 12, 1), date(2030, 12, 15)))
    assert "Łączna liczba godzin świadczeń w tym okresie: 5,5." in text
    assert "Zakupy i sprawunki" not in text and "Towarzystwo" in text


def test_the_centres_name_and_address_come_from_the_settings(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    app = make_app(db, AUTH_DISABLED=True, CENTRE_NAME="Gminny Ośrodek Pomocy Społecznej w Ćmielowie",
                   CENTRE_ADDRESS="ul. Źródlana 1, 27-440 Ćmielów", CENTRE_PLACE="Ćmielów")
    with app.app_context(), db.transaction() as session:
        text = pdf_text(certificates.certificate_pdf(session, volunteer, date(2030, 11, 1), date(2030, 12, 31),
                                                     "Anna Organizatorka", issued_on=TODAY))
    assert "Gminny Ośrodek Pomocy Społecznej w Ćmielowie" in text and "ul. Źródlana 1, 27-440 Ćmielów" in text
    assert "Ćmielów, dnia 16.01.2031 r." in text


@pytest.mark.parametrize("provider_type", ["paid_neighbour", "partner_organisation", "staff"])
def test_only_volunteers_get_a_certificate_of_volunteering(db, client, provider_type) -> None:
    extra = {"organisation_kind": "kgw", "contact_person": "Maria Nowak"} if provider_type == "partner_organisation" \
        else {}
    provider = register(client, provider_type=provider_type, **extra)
    a_season_of_help(db, provider)
    with pytest.raises(certificates.errors.Refused, match="tylko wolontariuszom"):
        issue(db, provider)


def test_no_certificate_for_a_period_without_hours(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    with pytest.raises(certificates.errors.Refused, match="nie ma zapisanych godzin"):
        issue(db, volunteer, date(2030, 1, 1), date(2030, 10, 31))


def test_a_missing_font_is_a_clear_error_not_a_broken_pdf(db, client, tmp_path: Path) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    app = make_app(db, AUTH_DISABLED=True, CERTIFICATE_FONT_DIR=str(tmp_path))
    with app.app_context(), db.transaction() as session:
        with pytest.raises(certificates.FontMissing, match="fonts-dejavu-core") as err:
            certificates.certificate_pdf(session, volunteer, date(2030, 11, 1), date(2030, 12, 31), "Anna",
                                         issued_on=TODAY)
    assert str(tmp_path / "DejaVuSans.ttf") in err.value.message


# --- pages ---------------------------------------------------------------------------------------------------
def organiser(db: Database) -> Any:
    app = make_app(db, SECRET_KEY="certificates")
    return signed_in(app.test_client(), "osl", login="anna.org", name="Anna Organizatorka")


def period_form(client: Any, volunteer: str, **data: str) -> dict[str, str]:
    page = client.get(f"/wykonawcy/{volunteer}").get_data(as_text=True)
    return {"csrf_token": csrf_token(page), **data}


def test_the_provider_card_shows_the_months_as_a_chart_and_a_table(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    page = client.get(f"/wykonawcy/{volunteer}?rok=2030").get_data(as_text=True)
    assert "Godziny w miesiącach roku 2030" in page
    assert re.search(r'<svg [^>]*role="img"', page) and "<title>gru: 6,5 godz.</title>" in page
    assert "<th scope=\"row\">grudzień</th><td>4,0</td><td>2,5</td><td>6,5</td><td>3</td>" in page
    assert "Pobierz zaświadczenie (PDF)" in page and "Eksport godzin (CSV)" in page


def test_a_bad_year_on_the_card_is_explained_in_polish(db, client) -> None:
    volunteer = register(client)
    page = client.get(f"/wykonawcy/{volunteer}?rok=abc").get_data(as_text=True)
    assert "Rok musi być liczbą od 2000 do 2100 — pokazano bieżący rok." in page
    assert "Godziny w miesiącach roku 2031" in page


def test_staff_download_the_certificate_from_the_card_and_the_issue_is_audited(db, client) -> None:
    volunteer = register(client, name="Zofia Wiśniewska")
    a_season_of_help(db, volunteer)
    staff = organiser(db)
    response = staff.post(f"/wykonawcy/{volunteer}/zaswiadczenie",
                          data=period_form(staff, volunteer, since="2030-11-01", until="2030-12-31"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "Zofia Wiśniewska" in text and "Wystawił(a): Anna Organizatorka" in text
    with db.transaction() as session:
        [entry] = handlers.audit_entries(session, volunteer, certificates.CERTIFICATE_ISSUED)
    assert entry["actor"] == "Anna Organizatorka (anna.org)"
    assert entry["detail"] == "zaświadczenie o wolontariacie za okres 01.11.2030–31.12.2030"


@pytest.mark.parametrize(("data", "message"), [
    ({"since": "2030-12-31", "until": "2030-01-01"}, "Pierwszy dzień okresu nie może być późniejszy niż ostatni."),
    ({"since": "2031-01-01", "until": "2031-02-01"}, "Okres nie może kończyć się w przyszłości"),
    ({"since": "1.11.2030", "until": "2030-12-31"}, "Niepoprawna data (RRRR-MM-DD)."),
    ({"since": "", "until": "2030-12-31"}, "To pole jest wymagane."),
    ({"since": "2030-01-01", "until": "2030-10-31"}, "W wybranym okresie nie ma zapisanych godzin"),
])
def test_a_bad_period_on_the_card_is_shown_beside_the_form_in_polish(db, client, data, message) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    staff = organiser(db)
    response = staff.post(f"/wykonawcy/{volunteer}/zaswiadczenie", data=period_form(staff, volunteer, **data))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert message in page and "Nie przygotowano dokumentu" in page
    with db.transaction() as session:
        assert handlers.audit_entries(session, volunteer, certificates.CERTIFICATE_ISSUED) == []


def test_a_paid_neighbours_card_offers_the_export_but_no_certificate(db, client) -> None:
    neighbour = register(client, provider_type="paid_neighbour")
    page = client.get(f"/wykonawcy/{neighbour}").get_data(as_text=True)
    assert "Eksport godzin (CSV)" in page and "Pobierz zaświadczenie (PDF)" not in page
    assert "Zaświadczenie o wolontariacie wydaje się tylko wolontariuszom." in page


def test_the_hours_export_lists_each_entry_of_the_period_and_is_audited(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    staff = organiser(db)
    response = staff.post(f"/wykonawcy/{volunteer}/godziny/eksport", data=period_form(
        staff, volunteer, since="2030-12-01", until="2030-12-31", format="csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["data", "rodzaj", "zakres", "godziny", "nr wizyty lub zajęć"],
        ["2030-12-05", "wizyta u mieszkańca", "Towarzystwo", "3", MATCHES[2]],
        ["2030-12-12", "zajęcia w społeczności lokalnej", "warsztat", "2,5", ACTIVITY],
        ["2030-12-20", "wizyta u mieszkańca", "pomoc bez podanej kategorii", "1", MATCHES[3]]]
    xlsx = staff.post(f"/wykonawcy/{volunteer}/godziny/eksport", data=period_form(
        staff, volunteer, since="2030-12-01", until="2030-12-31", format="xlsx"))
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[3]][1:4] == ["zajęcia w społeczności lokalnej", "warsztat", 2.5]
    with db.transaction() as session:
        entries = handlers.audit_entries(session, volunteer, certificates.HOURS_EXPORTED)
    assert [e["detail"] for e in entries] == ["eksport godzin (XLSX) za okres 01.12.2030–31.12.2030",
                                              "eksport godzin (CSV) za okres 01.12.2030–31.12.2030"]


# --- API -----------------------------------------------------------------------------------------------------
def test_the_certificate_api_answers_a_pdf(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    response = client.get(f"/api/volunteers/{volunteer}/certificate?since=2030-11-01&until=2030-12-31")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Łączna liczba godzin świadczeń w tym okresie: 10." in pdf_text(response.data)


@pytest.mark.parametrize(("query", "location", "field", "message"), [
    ("since=2030-11-01", "query", "until", "To pole jest wymagane."),
    ("since=jutro&until=2030-12-31", "query", "since", "Niepoprawna data (RRRR-MM-DD)."),
    ("since=2030-12-31&until=2030-11-01", "json", "since", "Pierwszy dzień okresu nie może być późniejszy niż ostatni."),
    ("since=2030-12-01&until=2031-12-31", "json", "until", "Okres nie może kończyć się w przyszłości (dziś jest 16.01.2031)."),
])
def test_a_bad_period_in_the_api_gets_field_errors(db, client, query, location, field, message) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    for path in ("certificate", "hours/export"):
        response = client.get(f"/api/volunteers/{volunteer}/{path}?{query}")
        assert response.status_code == 422, path
        assert response.json["errors"][location][field] == [message]


def test_the_api_refuses_a_certificate_for_a_paid_neighbour_and_a_missing_font(db, client, tmp_path) -> None:
    neighbour = register(client, provider_type="paid_neighbour")
    refused = client.get(f"/api/volunteers/{neighbour}/certificate?since=2030-11-01&until=2030-12-31")
    assert refused.status_code == 409 and "tylko wolontariuszom" in refused.json["message"]
    volunteer = register(client, email="jan@example.pl")
    a_season_of_help(db, volunteer)
    fontless = make_app(db, AUTH_DISABLED=True, CERTIFICATE_FONT_DIR=str(tmp_path)).test_client()
    missing = fontless.get(f"/api/volunteers/{volunteer}/certificate?since=2030-11-01&until=2030-12-31")
    assert missing.status_code == 503 and "fonts-dejavu-core" in missing.json["message"]
    assert client.get("/api/volunteers/00000000-0000-4000-8000-000000000000/certificate"
                      "?since=2030-11-01&until=2030-12-31").status_code == 404


def test_the_export_api_answers_csv_or_xlsx_and_rejects_another_format(db, client) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    base = f"/api/volunteers/{volunteer}/hours/export?since=2030-11-01&until=2030-12-31"
    assert client.get(base).mimetype == "text/csv"
    assert client.get(base + "&format=xlsx").data[:2] == b"PK"
    bad = client.get(base + "&format=pdf")
    assert bad.status_code == 422 and bad.json["errors"]["query"]["format"] == ["Niedozwolona wartość: pdf."]


@pytest.mark.parametrize(("role", "allowed"), [("osl", True), ("director", True), ("admin", True),
                                                ("social_worker", False), ("ipus_coordinator", False),
                                                ("auditor", False)])
def test_documents_about_a_volunteer_are_for_the_staff_who_keep_the_register(db, client, role, allowed) -> None:
    volunteer = register(client)
    a_season_of_help(db, volunteer)
    guarded = signed_in(make_app(db, SECRET_KEY="certificates").test_client(), role)
    query = "?since=2030-11-01&until=2030-12-31"
    for path in ("certificate", "hours/export"):
        status = guarded.get(f"/api/volunteers/{volunteer}/{path}{query}").status_code
        assert status == (200 if allowed else 403), (path, status)
    assert make_app(db, SECRET_KEY="certificates").test_client().get(
        f"/api/volunteers/{volunteer}/certificate{query}").status_code == 401
    card = guarded.get(f"/wykonawcy/{volunteer}").get_data(as_text=True)
    assert "Godziny w miesiącach roku 2031" in card  # every role reads the hours
    assert ("Zaświadczenie i eksport godzin" in card) is allowed  # only those who may issue see the form
