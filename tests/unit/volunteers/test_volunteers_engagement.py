"""Milestones (10, 50, 100 hours; a year since the first hour) computed from the hours ledger, shown on the staff
card and a list page; the volunteer's own switch for thank-you messages and nudges, audited, CSRF-protected and
handed to notify with the contact."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from services.volunteers.db import audit_log, hours_ledger, volunteers
from services.volunteers.engagement import HOUR_MILESTONES, YEAR, reached
from tests.unit.volunteers.conftest import NOW, TODAY
from tests.unit.volunteers.test_volunteers_sign_in import Volunteers, text
from wspolnota.db import Database


def test_hour_milestones_fall_on_the_day_the_running_total_reached_them_and_the_year_on_its_anniversary() -> None:
    entries = [(date(2029, 12, 1), 6.0), (date(2030, 1, 5), 4.0), (date(2030, 2, 1), 45.0), (date(2030, 3, 1), 0.0)]
    got = [(m["code"], m["reached_on"]) for m in reached(entries, date(2031, 1, 16))]
    assert got == [(10, date(2030, 1, 5)), (50, date(2030, 2, 1)), (YEAR, date(2030, 12, 1))]
    assert reached(entries, date(2030, 1, 4)) == []
    assert reached([(date(2028, 2, 29), 1.0)], date(2029, 3, 1))[0]["reached_on"] == date(2029, 2, 28)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.dates(date(2025, 1, 1), date(2031, 1, 16)), st.floats(0, 30)), max_size=30))
def test_an_hour_milestone_is_reached_exactly_when_the_total_is_at_least_it(entries: list[tuple[date, float]]) -> None:
    today = date(2031, 1, 16)
    codes = [m["code"] for m in reached(entries, today)]
    total = sum(h for _, h in entries if h > 0)
    assert [c for c in codes if c != YEAR] == [m for m in HOUR_MILESTONES if total + 1e-9 >= m]
    days = sorted(d for d, h in entries if h > 0)
    if not days or (today - days[0]).days < 365:
        assert YEAR not in codes
    elif (today - days[0]).days >= 366:
        assert YEAR in codes


@pytest.fixture
def v(db: Database) -> Volunteers:
    return Volunteers(db)


def give(db: Database, volunteer_id: str, *days_hours: tuple[date, float]) -> None:
    with db.engine.begin() as conn:
        for i, (day, given_hours) in enumerate(days_hours):
            conn.execute(sa.insert(hours_ledger).values(
                provider_id=volunteer_id, source="visit", source_id=f"m-{volunteer_id[:4]}-{i}", hours=given_hours,
                on_date=day, event_id=f"e-{volunteer_id[:4]}-{i}", event_time=NOW, recorded_at=NOW))


def test_the_staff_card_and_the_list_show_milestones(v: Volunteers) -> None:
    zofia = v.register()
    give(v.db, zofia, (TODAY - timedelta(days=400), 4.0), (TODAY - timedelta(days=10), 8.0))
    card = text(v.staff.get(f"/wykonawcy/{zofia}"))
    assert "Kamienie milowe" in card and "10 godzin pomocy" in card and "rok pomagania" in card
    listed = v.staff.get("/kamienie-milowe").get_data(as_text=True)
    assert "10 godzin pomocy" in listed and "Zofia" in listed  # reached 10 days ago; the year, 35 days ago
    assert "10 godzin pomocy" not in v.staff.get("/kamienie-milowe?dni=5").get_data(as_text=True)
    bad = v.staff.get("/kamienie-milowe?dni=abc").get_data(as_text=True)
    assert "Liczba dni musi być liczbą od 1 do 3660" in bad


def test_the_volunteer_switches_thanks_and_nudges_off_and_notify_hears_it_with_the_contact(v: Volunteers) -> None:
    volunteer_id = v.register()
    client = v.signed_in_client(volunteer_id)
    page = client.get("/wolontariusz/wiadomosci").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="engagement_messages"', page)
    token = dict(re.findall(r'<input[^>]*name="(csrf_token)"[^>]*value="([^"]*)"', page))
    assert client.post("/wolontariusz/wiadomosci", data={}).status_code == 400  # no CSRF token
    assert client.post("/wolontariusz/wiadomosci", data=token).status_code == 302  # the box left unticked: off
    with v.db.engine.connect() as conn:
        assert conn.execute(sa.select(volunteers.c.engagement_messages).where(
            volunteers.c.id == volunteer_id)).scalar() is False
        assert ("self_update", "podziękowania i przypomnienia: wyłączone") in [
            (r.action, r.detail) for r in conn.execute(sa.select(audit_log.c.action, audit_log.c.detail))]
    contact = v.staff.get(f"/internal/volunteers/{volunteer_id}/contact",
                          headers={"Authorization": "Bearer dev-only-internal-token"})
    assert contact.status_code == 200 and contact.json["engagement_messages"] is False
    assert client.post("/wolontariusz/wiadomosci", data={**token, "engagement_messages": "y"}).status_code == 302
    assert "Będziemy wysyłać podziękowania" in text(client.get("/wolontariusz/wiadomosci"))


def test_the_engagement_pages_read_in_english(v: Volunteers) -> None:
    from tests.unit.test_i18n import polish_left

    volunteer_id = v.register()
    client = v.signed_in_client(volunteer_id)
    pages: dict[str, Any] = {p: client.get(f"{p}?lang=en").get_data(as_text=True)
                             for p in ("/wolontariusz/wiadomosci", "/wolontariusz/niepokoj")}
    for path, html in pages.items():
        assert polish_left(html, {"Zofia", "Wiśniewska", "Polski"}) == [], path
