"""The volunteer's own pages change their availability, absences, pause, villages, categories and contact through
the staff use cases: the same events, an audit entry naming the volunteer, CSRF on every change, Polish errors
and nothing half-written for bad input; the counts on the pages have the right Polish plural form."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.volunteers.db import audit_log, availability_exceptions, hours_ledger, offers, volunteers
from tests.unit.volunteers.conftest import TODAY, Outbox, csrf_token
from tests.unit.volunteers.test_volunteers_sign_in import Volunteers, text
from wspolnota.db import Database


@pytest.fixture
def v(db: Database) -> Volunteers:
    return Volunteers(db)


@pytest.fixture
def me(v: Volunteers) -> tuple[str, Any]:
    volunteer_id = v.register()
    return volunteer_id, v.signed_in_client(volunteer_id)


def post(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def row(db: Database, volunteer_id: str) -> dict[str, Any]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.select(volunteers).where(volunteers.c.id == volunteer_id)).mappings().one())


def audit(db: Database, volunteer_id: str) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [(r.action, r.actor) for r in conn.execute(
            sa.select(audit_log.c.action, audit_log.c.actor).where(audit_log.c.volunteer_id == volunteer_id))]


def empty_week() -> dict[str, str]:
    return {f"d{d}_{r}_{end}": "" for d in range(7) for r in range(2) for end in ("start", "end")}


# --- weekly availability ---------------------------------------------------------------------------------------
def test_the_weekly_picker_saves_slots_through_the_staff_edit_with_its_event_and_an_audit_entry(
        v: Volunteers, me: tuple[str, Any], outbox: Outbox) -> None:
    volunteer_id, client = me
    week = {**empty_week(), "d0_0_start": "16:00", "d0_0_end": "19:00", "d5_0_start": "10:00", "d5_0_end": "13:00",
            "d5_1_start": "15:00", "d5_1_end": "17:30"}
    response = post(client, "/wolontariusz/dostepnosc", "/wolontariusz/dostepnosc", week)
    assert response.status_code == 302
    expected = [{"weekday": 0, "start": "16:00", "end": "19:00"}, {"weekday": 5, "start": "10:00", "end": "13:00"},
                {"weekday": 5, "start": "15:00", "end": "17:30"}]
    assert row(v.db, volunteer_id)["weekly_slots"] == expected
    updated = [data for t, _, data in outbox.all() if t == "VolunteerUpdated"]
    assert updated[-1]["weekly_slots"] == expected
    assert ("self_update", f"wolontariusz:{volunteer_id}") in audit(v.db, volunteer_id)
    page = client.get("/wolontariusz/dostepnosc").get_data(as_text=True)
    assert re.search(r'name="d5_1_end"[^>]*>.*?<option selected value="17:30">', page, re.S)
    home = text(client.get("/wolontariusz/"))
    assert "Sobota: 10:00–13:00" in home and "Poniedziałek: 16:00–19:00" in home


@pytest.mark.parametrize("week, message", [
    ({"d0_0_start": "16:00", "d0_0_end": "15:00"}, "Koniec przedziału musi być później niż jego początek."),
    ({"d0_0_start": "10:00", "d0_0_end": "13:00", "d0_1_start": "12:00", "d0_1_end": "14:00"},
     "Przedziały dostępności w tym samym dniu nakładają się."),
    ({"d2_0_start": "10:00"}, "Wybierz początek i koniec albo zostaw oba puste."),
    ({"d2_0_start": "7:00", "d2_0_end": "11:00"}, "Godzina GG:MM"),
    ({"d2_0_start": "25:00", "d2_0_end": "26:00"}, "Godzina GG:MM"),
    ({"d2_0_start": "<b>", "d2_0_end": "11:00"}, "Godzina GG:MM"),
])
def test_a_bad_week_gets_a_polish_error_and_changes_nothing(v: Volunteers, me: tuple[str, Any], outbox: Outbox,
                                                            week: dict[str, str], message: str) -> None:
    volunteer_id, client = me
    before = outbox.types()
    response = post(client, "/wolontariusz/dostepnosc", "/wolontariusz/dostepnosc", {**empty_week(), **week})
    if message == "Godzina GG:MM" and response.status_code == 302:
        pytest.fail("an unreadable time was accepted")
    assert response.status_code == 422
    assert message in text(response)
    assert row(v.db, volunteer_id)["weekly_slots"] in (None, [])
    assert outbox.types() == before


def test_emptying_the_week_removes_every_slot(v: Volunteers, me: tuple[str, Any]) -> None:
    volunteer_id, client = me
    post(client, "/wolontariusz/dostepnosc", "/wolontariusz/dostepnosc",
         {**empty_week(), "d1_0_start": "08:00", "d1_0_end": "09:00"})
    assert post(client, "/wolontariusz/dostepnosc", "/wolontariusz/dostepnosc", empty_week()).status_code == 302
    assert row(v.db, volunteer_id)["weekly_slots"] == []


def test_every_change_needs_the_csrf_token(v: Volunteers, me: tuple[str, Any], outbox: Outbox) -> None:
    volunteer_id, client = me
    before = outbox.types()
    for path, data in (("/wolontariusz/dostepnosc", {**empty_week(), "d0_0_start": "08:00", "d0_0_end": "09:00"}),
                       ("/wolontariusz/nieobecnosci", {"starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat(),
                                                       "reason": "holiday"}),
                       ("/wolontariusz/przerwa", {}), ("/wolontariusz/wznowienie", {}),
                       ("/wolontariusz/gdzie-i-jak", {"villages": ["belno"], "categories": ["ZAK"]}),
                       ("/wolontariusz/nieobecnosci/x/usun", {}), ("/wolontariusz/wyloguj", {})):
        assert client.post(path, data=data).status_code == 400, path
    assert outbox.types() == before and row(v.db, volunteer_id)["paused"] is False
    assert client.get("/wolontariusz/").status_code == 200
    refused = client.post("/wolontariusz/przerwa", data={}).get_data(as_text=True)
    assert "Formularz wygasł" in refused and 'href="/needs/"' not in refused and "Wróć na moją stronę" in refused


# --- absences --------------------------------------------------------------------------------------------------
def test_an_absence_is_added_and_deleted_with_the_profile_event_each_time(v: Volunteers, me: tuple[str, Any],
                                                                          outbox: Outbox) -> None:
    volunteer_id, client = me
    start, end = TODAY + timedelta(days=3), TODAY + timedelta(days=10)
    added = post(client, "/wolontariusz/dostepnosc", "/wolontariusz/nieobecnosci",
                 {"starts_on": start.isoformat(), "ends_on": end.isoformat(), "reason": "sick"})
    assert added.status_code == 302
    updated = [data for t, _, data in outbox.all() if t == "VolunteerUpdated"]
    assert updated[-1]["unavailable"] == [{"starts_on": start.isoformat(), "ends_on": end.isoformat()}]
    assert "sick" not in outbox.raw()  # the reason (health data) stays here
    page = client.get("/wolontariusz/dostepnosc")
    assert f"{start:%d.%m.%Y}–{end:%d.%m.%Y} (choroba)" in text(page)
    assert "Zaplanowana nieobecność: 1" in text(client.get("/wolontariusz/"))
    with v.db.engine.connect() as conn:
        absence_id = conn.execute(sa.select(availability_exceptions.c.id)).scalar_one()
    deleted = post(client, "/wolontariusz/dostepnosc", f"/wolontariusz/nieobecnosci/{absence_id}/usun", {})
    assert deleted.status_code == 302
    updated = [data for t, _, data in outbox.all() if t == "VolunteerUpdated"]
    assert updated[-1]["unavailable"] == []
    assert {"self_absence_add", "self_absence_delete"} <= {a for a, _ in audit(v.db, volunteer_id)}


@pytest.mark.parametrize("data, message", [
    ({"starts_on": "", "ends_on": "", "reason": "holiday"}, "To pole jest wymagane."),
    ({"starts_on": "jutro", "ends_on": "2031-02-01", "reason": "holiday"}, "Niepoprawna data"),
    ({"starts_on": "2031-02-10", "ends_on": "2031-02-01", "reason": "holiday"}, ""),
    ({"starts_on": "2031-02-01", "ends_on": "2031-02-03", "reason": "wakacje"}, "Niedozwolona wartość"),
    ({"starts_on": "2030-12-01", "ends_on": "2031-02-03", "reason": "holiday"},
     "Nieobecność nie może zaczynać się w przeszłości."),
])
def test_a_bad_absence_gets_a_polish_error_and_nothing_is_written(v: Volunteers, me: tuple[str, Any],
                                                                  data: dict[str, str], message: str) -> None:
    _, client = me
    response = post(client, "/wolontariusz/dostepnosc", "/wolontariusz/nieobecnosci", data)
    assert response.status_code == 422
    assert message in text(response)
    with v.db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(availability_exceptions)).scalar() == 0


def test_nobody_deletes_another_persons_absence(v: Volunteers, me: tuple[str, Any]) -> None:
    _, client = me
    other = v.register(email="jan@example.pl", phone="602 000 111")
    v.staff.post(f"/api/volunteers/{other}/exceptions", json={
        "starts_on": (TODAY + timedelta(days=1)).isoformat(), "ends_on": (TODAY + timedelta(days=2)).isoformat(),
        "reason": "holiday"})
    with v.db.engine.connect() as conn:
        absence_id = conn.execute(sa.select(availability_exceptions.c.id)).scalar_one()
    assert post(client, "/wolontariusz/dostepnosc", f"/wolontariusz/nieobecnosci/{absence_id}/usun",
                {}).status_code == 404
    with v.db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(availability_exceptions)).scalar() == 1


# --- pause and resume ------------------------------------------------------------------------------------------
def test_a_volunteer_pauses_and_resumes_with_the_usual_events(v: Volunteers, me: tuple[str, Any],
                                                               outbox: Outbox) -> None:
    volunteer_id, client = me
    assert post(client, "/wolontariusz/", "/wolontariusz/przerwa", {}).status_code == 302
    assert row(v.db, volunteer_id)["paused"] is True
    assert "Przerwa" in text(client.get("/wolontariusz/"))
    assert post(client, "/wolontariusz/", "/wolontariusz/wznowienie", {}).status_code == 302
    assert row(v.db, volunteer_id)["paused"] is False
    assert [t for t in outbox.types() if t.startswith("Volunteer")][-2:] == ["VolunteerPaused", "VolunteerResumed"]
    assert {"self_pause", "self_resume"} <= {a for a, _ in audit(v.db, volunteer_id)}


def test_a_pause_staff_set_is_not_the_volunteers_to_end(v: Volunteers, me: tuple[str, Any],
                                                        outbox: Outbox) -> None:
    volunteer_id, client = me
    assert v.staff.post(f"/api/volunteers/{volunteer_id}/pause").status_code in (200, 204)
    home = text(client.get("/wolontariusz/"))
    assert "Tę przerwę ustalił pracownik CUS" in home and "Zakończ przerwę" not in home
    before = outbox.types()
    response = post(client, "/wolontariusz/", "/wolontariusz/wznowienie", {})
    assert response.status_code == 302
    assert "skontaktuj się z organizatorem" in text(client.get("/wolontariusz/"))
    assert row(v.db, volunteer_id)["paused"] is True and outbox.types() == before


def test_a_safety_review_pause_stays_after_the_volunteers_own_pause(v: Volunteers, me: tuple[str, Any]) -> None:
    """The person paused themselves, then an adverse Kamilka result paused them pending review: they cannot
    end that pause."""
    from tests.unit.volunteers.conftest import clean_kamilka_check

    volunteer_id, client = me
    post(client, "/wolontariusz/", "/wolontariusz/przerwa", {})
    check = clean_kamilka_check(TODAY - timedelta(days=1), register_result="listed")
    assert v.staff.post(f"/api/volunteers/{volunteer_id}/credentials", json=check).status_code == 201
    post(client, "/wolontariusz/", "/wolontariusz/wznowienie", {})
    assert row(v.db, volunteer_id)["paused"] is True


# --- where and how -----------------------------------------------------------------------------------------------
def where_form(**over: Any) -> dict[str, Any]:
    return {"villages": ["belno", "zagnansk"], "home_village": "belno", "radius_km": "7,5",
            "categories": ["ZAK", "TOW"], "preferred_channel": "sms", "quiet_start": "21:00",
            "quiet_end": "07:00", **over}


def test_villages_radius_channel_and_quiet_hours_go_through_the_staff_edit(v: Volunteers, me: tuple[str, Any],
                                                                           outbox: Outbox) -> None:
    volunteer_id, client = me
    response = post(client, "/wolontariusz/gdzie-i-jak", "/wolontariusz/gdzie-i-jak", where_form())
    assert response.status_code == 302, text(response)
    saved = row(v.db, volunteer_id)
    assert (saved["villages"], saved["home_village"], saved["radius_km"], saved["preferred_channel"],
            saved["quiet_hours"]) == (["belno", "zagnansk"], "belno", 7.5, "sms", "21:00-07:00")
    updated = [data for t, _, data in outbox.all() if t == "VolunteerUpdated"][-1]
    assert (updated["villages"], updated["radius_km"]) == (["belno", "zagnansk"], 7.5)
    assert "21:00-07:00" not in outbox.raw() and "quiet" not in outbox.raw()
    page = client.get("/wolontariusz/gdzie-i-jak").get_data(as_text=True)
    assert re.search(r'value="sms"[^>]*checked|checked[^>]*value="sms"', page)


def test_categories_of_a_verified_volunteer_are_published_as_an_offer_and_republished_when_changed(
        v: Volunteers, me: tuple[str, Any], outbox: Outbox) -> None:
    volunteer_id, client = me
    post(client, "/wolontariusz/gdzie-i-jak", "/wolontariusz/gdzie-i-jak", where_form(categories=["ZAK"]))
    published = [d for t, _, d in outbox.all() if t == "OfferPublished"]
    assert [(d["volunteer_id"], d["categories"]) for d in published] == [(volunteer_id, ["ZAK"])]
    post(client, "/wolontariusz/gdzie-i-jak", "/wolontariusz/gdzie-i-jak", where_form(categories=["ZAK", "TOW"]))
    assert outbox.types()[-2:] == ["OfferWithdrawn", "OfferPublished"]
    assert sorted(outbox.all()[-1][2]["categories"]) == ["TOW", "ZAK"]
    with v.db.engine.connect() as conn:
        live = conn.execute(sa.select(offers.c.categories).where(offers.c.status == "published")).scalars().all()
    assert [sorted(c) for c in live] == [["TOW", "ZAK"]]
    before = len(outbox.types())
    post(client, "/wolontariusz/gdzie-i-jak", "/wolontariusz/gdzie-i-jak", where_form(categories=["TOW", "ZAK"]))
    assert "Offer" not in " ".join(outbox.types()[before:])  # the same categories: no new offer


@pytest.mark.parametrize("over, field_message", [
    ({"villages": []}, "Wybierz od 1 do 30 miejscowości."),
    ({"villages": ["atlantyda"]}, "Nieznana miejscowość"),
    ({"radius_km": "100"}, "Promień od 0 do 50 km."),
    ({"radius_km": "daleko"}, "Niepoprawna liczba."),
    ({"categories": []}, "Wybierz od 1 do 14 kategorii."),
    ({"categories": ["XXX"]}, "Wybierz od 1 do 14 kategorii."),
    ({"preferred_channel": "golab"}, "Niedozwolona wartość"),
    ({"quiet_start": "21:00", "quiet_end": ""}, "Wybierz obie godziny ciszy albo zostaw obie puste."),
    ({"home_village": "atlantyda"}, "Nieznana miejscowość"),
])
def test_bad_where_and_how_gets_a_polish_error_and_nothing_is_written(v: Volunteers, me: tuple[str, Any],
                                                                      outbox: Outbox, over: dict[str, Any],
                                                                      field_message: str) -> None:
    volunteer_id, client = me
    before, saved = outbox.types(), row(v.db, volunteer_id)
    response = post(client, "/wolontariusz/gdzie-i-jak", "/wolontariusz/gdzie-i-jak", where_form(**over))
    assert response.status_code == 422
    assert field_message in text(response)
    assert outbox.types() == before and row(v.db, volunteer_id) == saved


# --- the home page -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("visits, shown", [(1, "1 wizyta"), (2, "2 wizyty"), (5, "5 wizyt"), (22, "22 wizyty"),
                                           (12, "12 wizyt")])
def test_the_home_page_counts_visits_with_the_polish_plural(v: Volunteers, me: tuple[str, Any], visits: int,
                                                            shown: str) -> None:
    volunteer_id, client = me
    from tests.unit.volunteers.conftest import NOW

    with v.db.engine.begin() as conn:
        for i in range(visits):
            conn.execute(sa.insert(hours_ledger).values(
                provider_id=volunteer_id, source="visit", source_id=f"m-{i}", hours=1.5, on_date=date(2031, 1, 2),
                event_id=f"e-{i}", event_time=NOW, recorded_at=NOW))
    home = text(client.get("/wolontariusz/"))
    assert f" {shown}" in home
    assert "Aktywny(-a)" in home


def test_the_link_sent_page_counts_minutes_with_the_polish_plural(db: Database) -> None:
    for minutes, shown in ((1, "1 minutę"), (2, "2 minuty"), (15, "15 minut"), (22, "22 minuty")):
        v = Volunteers(db, VOLUNTEER_SIGN_IN_LINK_MINUTES=minutes)
        assert f"ważny przez {shown}." in text(v.app.test_client().get("/wolontariusz/logowanie/wyslano"))


def test_the_volunteers_pages_read_in_english_with_no_polish_interface_text_left(v: Volunteers,
                                                                                me: tuple[str, Any]) -> None:
    from tests.unit.test_i18n import polish_left

    _, client = me
    post(client, "/wolontariusz/dostepnosc", "/wolontariusz/nieobecnosci", {
        "starts_on": (TODAY + timedelta(days=1)).isoformat(), "ends_on": (TODAY + timedelta(days=2)).isoformat(),
        "reason": "holiday"})
    post(client, "/wolontariusz/dostepnosc", "/wolontariusz/dostepnosc",
         {**empty_week(), "d2_0_start": "10:00", "d2_0_end": "12:00"})
    pages = {path: client.get(f"{path}?lang=en").get_data(as_text=True) for path in (
        "/wolontariusz/", "/wolontariusz/dostepnosc", "/wolontariusz/gdzie-i-jak")}
    anonymous = v.app.test_client()
    for path in ("/wolontariusz/logowanie", "/wolontariusz/logowanie/wyslano", "/wolontariusz/wejscie/zly.link"):
        pages[path] = anonymous.get(f"{path}?lang=en").get_data(as_text=True)
    for path, html in pages.items():
        assert '<html lang="en">' in html, path
        assert polish_left(html, {"Zofia", "Wiśniewska", "Polski"}) == [], path
    assert "Wednesday" in pages["/wolontariusz/"] and "Absence planned: 1" in pages["/wolontariusz/"]
