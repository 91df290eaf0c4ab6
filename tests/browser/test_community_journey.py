"""The community organiser's journey in real Chromium against the real system: every service in its own processes
on the real broker (bench/stack.py), behind the one front-door address.

Sign in as the organiser → build a survey → a resident answers it on a phone → the results → a plan with an
action and an indicator of volunteer hours → a workshop with children needing a helper → a Kamilka-cleared
volunteer gets the offer (notify's test inbox) and accepts by the link → the helper shows on the activity → two
residents registered → once the workshop has started, attendance and the helper's hours recorded → the hours on
the volunteer's profile and the plan's indicator moved. A screenshot of every step is kept in
test-artifacts/community-journey-*.png.

The workshop starts a few minutes after it is scheduled: helpers are offered and residents register before an
activity starts, attendance is recorded after it started, and the system runs on the wall clock.
"""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.stack import Stack
from tests.browser.conftest import OSL_LOGIN, OSL_PASSWORD
from wspolnota.localtime import WARSAW
from wspolnota.testing import WRITTEN_AGREEMENT, wait_until

pytestmark = pytest.mark.e2e  # starts service processes; part of `make test`

VOLUNTEER_EMAIL = "zofia.pomocna@example.pl"
VILLAGE, VILLAGE_NAME = "zagnansk", "Zagnańsk"
LEAD = timedelta(minutes=3)  # from scheduling the workshop to its start: the offer, the answer, two registrations
PHONE = {"width": 390, "height": 844}


def kamilka_check() -> dict[str, Any]:
    today = datetime.now(WARSAW).date().isoformat()
    return {"kind": "kamilka_check", "register_checked_on": today, "register_result": "not_listed",
            "krk_seen_on": today, "countries_last_20_years": ["PL"]}


def add_cleared_volunteer(stack: Stack) -> str:
    """A volunteer in the village with a written agreement and a Kamilka check, free for the next hours."""
    volunteer = stack.post("/volunteers/api/volunteers", {"name": "Zofia Pomocna", "email": VOLUNTEER_EMAIL,
                                                           "phone": "+48 600 000 017", "villages": [VILLAGE]})
    assert volunteer.status_code == 201, volunteer.text
    vid = str(volunteer.json()["id"])
    for credential in (WRITTEN_AGREEMENT, kamilka_check()):
        added = stack.post(f"/volunteers/api/volunteers/{vid}/credentials", credential)
        assert added.status_code == 201, added.text
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    offer = stack.post(f"/volunteers/api/volunteers/{vid}/offers", {
        "categories": ["TOW"], "available_from": (now + timedelta(minutes=1)).isoformat(),
        "available_to": (now + timedelta(hours=6)).isoformat()})
    assert offer.status_code == 201, offer.text
    return vid


def reload_until(page: Any, url: str, shows: Any, timeout_s: float, what: str) -> None:
    """Reload the page until `shows` (a text, or a predicate on the page) holds."""
    def holds() -> bool:
        page.goto(url)
        return shows in page.content() if isinstance(shows, str) else bool(shows(page))

    wait_until(holds, timeout_s, interval_s=1.0, message=what)


def add_question(page: Any, kind: str, text: str, options: str = "", low: str = "", high: str = "") -> None:
    page.get_by_label("Rodzaj pytania").select_option(label=kind)
    page.get_by_label("Treść pytania").fill(text)
    page.get_by_label("Odpowiedź wymagana").check()
    if options:
        page.get_by_label("Odpowiedzi do wyboru (każda w osobnym wierszu)").fill(options)
    if low:
        page.get_by_label("Najmniejsza wartość (skala, liczba)").fill(low)
        page.get_by_label("Największa wartość (skala, liczba)").fill(high)
    page.get_by_role("button", name="Dodaj pytanie").click()
    page.wait_for_selector("text=Dodano pytanie.")


def test_the_organiser_diagnoses_plans_animates_and_sees_a_volunteer_s_hours_move_the_plan(
        stack: Stack, browser: Any, artifacts: Path) -> None:
    volunteer_id = add_cleared_volunteer(stack)
    shot = iter(range(1, 100))

    def screenshot(page: Any, name: str) -> None:
        page.screenshot(path=str(artifacts / f"community-journey-{next(shot):02d}-{name}.png"), full_page=True)

    page = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw",
                               viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    base = f"{stack.url}/community"

    # 1. one address, one sign-in
    page.goto(f"{stack.url}/")
    page.get_by_label("Login").fill(OSL_LOGIN)
    page.get_by_label("Hasło").fill(OSL_PASSWORD)
    page.get_by_role("button", name="Zaloguj się").click()
    page.wait_for_url(f"{stack.url}/")
    assert "Anna Organizatorka" in page.content()

    # 2. the diagnosis: a survey built and published
    page.goto(f"{base}/ankiety/nowa")
    page.get_by_label("Tytuł ankiety").fill("Czego potrzebuje Zagnańsk?")
    page.get_by_role("button", name="Utwórz ankietę").click()
    page.wait_for_selector("text=Utworzono ankietę. Dodaj pytania.")
    add_question(page, "jednokrotny wybór", "Czy chce Pan/Pani warsztatów rękodzieła?", "tak\nnie")
    add_question(page, "skala", "Jak ocenia Pan/Pani życie we wsi?", low="1", high="5")
    page.get_by_role("button", name="Opublikuj ankietę").click()
    page.wait_for_selector("text=Ankieta jest opublikowana — link publiczny działa.")
    public_url = page.locator("#link-publiczny").inner_text()
    survey_url = page.url
    assert public_url.startswith(stack.url), public_url  # the public link goes through the front door
    screenshot(page, "survey-published")

    # 3. a resident answers on a phone, without an account
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="pl-PL",
                                timezone_id="Europe/Warsaw")
    mobile = phone.new_page()
    mobile.set_default_timeout(30_000)
    mobile.goto(public_url)
    assert "/auth/login" not in mobile.url
    assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    mobile.get_by_label("Miejscowość, w której Pan/Pani mieszka *").select_option(label=VILLAGE_NAME)
    mobile.get_by_role("radio", name="tak", exact=True).check()
    mobile.get_by_role("radio", name="4", exact=True).check()
    screenshot(mobile, "survey-on-a-phone")
    mobile.get_by_role("button", name="Wyślij odpowiedzi").click()
    mobile.wait_for_selector("text=Dziękujemy!")
    screenshot(mobile, "survey-thanks")
    phone.close()

    # 4. the results
    page.goto(survey_url.rstrip("/") + "/wyniki")
    assert page.locator("[data-count=responses]").inner_text() == "1"
    assert page.locator("svg[role=img]").count() == 2
    screenshot(page, "survey-results")

    # 5. the plan: a goal, an action answering the diagnosis, an indicator of volunteer hours
    year = datetime.now(WARSAW).year
    page.goto(f"{base}/plans")
    page.get_by_label("Nazwa planu").fill(f"Plan organizowania społeczności {year}–{year + 1}")
    page.get_by_label("Początek okresu").fill(f"{year}-01-01")
    page.get_by_label("Koniec okresu").fill(f"{year + 1}-12-31")
    page.get_by_role("button", name="Utwórz projekt planu").click()
    page.wait_for_selector("text=Utworzono projekt planu.")
    page.get_by_label("Cel", exact=True).fill("Aktywni mieszkańcy Zagnańska")
    page.get_by_label("Wniosek z diagnozy, na który odpowiada").fill("Mieszkańcy chcą warsztatów rękodzieła")
    page.get_by_role("button", name="Dodaj cel").click()
    page.wait_for_selector("text=Dodano cel.")
    plan_url = page.url
    page.get_by_role("link", name="Dodaj działanie").click()
    page.get_by_label("Działanie", exact=True).fill("Warsztaty rękodzieła")
    page.get_by_label("Miejscowości (żadna: cała gmina)").select_option(VILLAGE)
    page.get_by_label("Grupa docelowa").fill("rodziny z dziećmi")
    page.get_by_role("button", name="Dodaj działanie").click()
    page.wait_for_selector("text=Dodano działanie.")
    page.goto(plan_url)
    page.get_by_role("link", name="Dodaj wskaźnik").click()
    page.get_by_label("Wskaźnik", exact=True).fill("Godziny pracy wolontariuszy")
    page.get_by_label("Jednostka").fill("godz.")
    page.get_by_label("Skąd wartość").select_option(label="godziny pracy wolontariuszy")
    page.get_by_label("Wartość bazowa").fill("0")
    page.get_by_label("Wartość docelowa").fill("10")
    page.get_by_role("button", name="Dodaj wskaźnik").click()
    page.wait_for_selector("text=Dodano wskaźnik.")
    page.goto(plan_url)
    indicator = page.locator("tr", has_text="Godziny pracy wolontariuszy")
    assert "0%" in indicator.inner_text()
    screenshot(page, "plan-before")

    # 6. a workshop with children under the action, needing one helper, starting in a few minutes
    starts = (datetime.now(WARSAW) + LEAD + timedelta(minutes=1)).replace(second=0, microsecond=0)
    page.goto(f"{base}/activities")
    page.get_by_label("Rodzaj", exact=True).select_option(label="warsztat")
    page.get_by_label("Tytuł").fill("Warsztaty rękodzieła dla rodzin")
    page.get_by_label("Miejscowość").select_option(label=VILLAGE_NAME)
    page.get_by_label("Miejsce (np. świetlica, remiza OSP)").fill("Świetlica wiejska")
    page.get_by_label("Początek", exact=True).fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Koniec", exact=True).fill((starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Liczba miejsc (puste: bez limitu)").fill("12")
    page.get_by_label("Potrzebni wolontariusze (liczba)").fill("1")
    page.get_by_label("Z udziałem dzieci (pomocnicy po sprawdzeniu z ustawy Kamilka)").check()
    page.get_by_label("Działanie planu").select_option(label="Warsztaty rękodzieła")
    screenshot(page, "workshop-form")
    page.get_by_role("button", name="Zaplanuj").click()
    page.wait_for_selector("text=Zaplanowano zajęcia.")
    activity_url = page.url
    assert page.locator("#helpers-missing").inner_text() == "Brakuje pomocników: 1"
    assert f"· {VILLAGE_NAME}, Świetlica wiejska ·" in page.content()
    screenshot(page, "workshop-scheduled")

    # 7. the volunteer gets the offer (notify's test inbox) and accepts by the signed link
    reload_until(page, f"{stack.url}/notify/skrzynka", "Pomogę:", 120, "the helper offer in the test inbox")
    offer = page.locator("tr", has_text=VOLUNTEER_EMAIL).filter(has_text="Pomogę:").first
    screenshot(page, "offer-in-the-test-inbox")
    link = re.search(r"Pomogę: (\S+)", offer.inner_text())
    assert link is not None, offer.inner_text()
    volunteer_tab = browser.new_context(viewport=PHONE, is_mobile=True, locale="pl-PL",
                                        timezone_id="Europe/Warsaw").new_page()
    volunteer_tab.goto(link.group(1))
    assert "Anna Organizatorka" not in volunteer_tab.content()  # no one else's session through the front door
    assert volunteer_tab.get_by_role("link", name="Potrzeby").count() == 0  # no staff navigation for a volunteer
    screenshot(volunteer_tab, "offer-opened-by-the-volunteer")
    volunteer_tab.get_by_role("button", name="Przyjmuję zadanie").click()
    volunteer_tab.wait_for_load_state()
    screenshot(volunteer_tab, "offer-accepted")
    volunteer_tab.context.close()

    # 8. the helper shows on the activity
    reload_until(page, activity_url, lambda p: p.locator("#helpers-missing").inner_text() == "Brakuje pomocników: 0",
                 120, "the accepted helper on the activity")
    assert volunteer_id in page.locator("ul.helpers").inner_text()
    screenshot(page, "helper-on-the-workshop")

    # 9. two residents registered by staff
    assert datetime.now(WARSAW) < starts - timedelta(seconds=20), "the offer and its answer took longer than LEAD"
    for name in ("Maria Kowalczyk", "Tomasz Wróbel"):
        page.get_by_label("Imię i nazwisko").fill(name)
        page.get_by_role("button", name="Zapisz", exact=True).click()
        page.wait_for_selector("text=Zapisano uczestnika.")
    assert "Zapisani (2)" in page.content()
    screenshot(page, "residents-registered")

    # 10. once the workshop has started: attendance and the helper's hours
    time.sleep(max(0.0, (starts - datetime.now(WARSAW)).total_seconds() + 2))
    page.get_by_role("link", name="Lista obecności").click()
    page.get_by_label("Maria Kowalczyk").check()
    page.get_by_label("Tomasz Wróbel").check()
    page.get_by_label(volunteer_id).fill("2,5")
    screenshot(page, "attendance-list")
    page.get_by_role("button", name="Zapisz obecność").click()
    page.wait_for_selector("text=Zapisano obecność.")
    assert "2,5 godz." in page.locator("ul.helpers").inner_text()
    screenshot(page, "attendance-recorded")

    # 11. the hours reach the volunteer's profile in the volunteers service (an event on the bus)
    def activity_hours(p: Any) -> str:
        return str(p.locator("table.hours tr", has_text="Zajęcia w społeczności lokalnej").inner_text())

    reload_until(page, f"{stack.url}/volunteers/wykonawcy/{volunteer_id}",
                 lambda p: "2,5" in activity_hours(p), 120, "the helper's hours on the volunteer's profile")
    page.locator("#godziny").scroll_into_view_if_needed()
    screenshot(page, "volunteer-hours")

    # 12. the plan's indicator moved: 2.5 of 10 hours
    page.goto(plan_url)
    indicator = page.locator("tr", has_text="Godziny pracy wolontariuszy")
    assert "2,5" in indicator.inner_text(), indicator.inner_text()
    assert indicator.locator("progress").get_attribute("value") == "25"
    screenshot(page, "plan-indicator-moved")
