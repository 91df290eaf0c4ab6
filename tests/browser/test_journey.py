"""The organiser's day in real Chromium against the real system: every service in its own processes on the real
broker (tansu or Kafka, see tests/conftest.py), behind the one front-door address.

Sign in as the OSL → record a need on the form → the proposal appears in the review queue → approve it →
the offer e-mail lands in notify's test inbox ("Skrzynka testowa") → open a report. A screenshot of every step
is kept in test-artifacts/journey-*.png.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.stack import Stack
from tests.browser.conftest import OSL_LOGIN, OSL_PASSWORD
from wspolnota.testing import WRITTEN_AGREEMENT, wait_until

pytestmark = pytest.mark.e2e  # starts service processes; part of `make test`

VOLUNTEER_EMAIL = "jan.sasiad@example.pl"
# tomorrow at 10:00 Warsaw time, outside any quiet hours
START = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def add_volunteer_with_offer(stack: Stack) -> None:
    """A verified volunteer in Zagnańsk who can do shopping tomorrow (staff entered through the API)."""
    volunteer = stack.post("/volunteers/api/volunteers", {"name": "Jan Sąsiad", "email": VOLUNTEER_EMAIL,
                                                           "phone": "+48 600 000 002", "villages": ["zagnansk"]})
    assert volunteer.status_code == 201, volunteer.text
    agreement = stack.post(f"/volunteers/api/volunteers/{volunteer.json()['id']}/credentials", WRITTEN_AGREEMENT)
    assert agreement.status_code == 201, agreement.text
    offer = stack.post(f"/volunteers/api/volunteers/{volunteer.json()['id']}/offers", {
        "categories": ["ZAK"], "available_from": START.isoformat(),
        "available_to": (START + timedelta(hours=8)).isoformat()})
    assert offer.status_code == 201, offer.text


def reload_until(page: Any, url: str, text: str, timeout_s: float, what: str) -> None:
    def shows() -> bool:
        page.goto(url)
        return text in page.content()

    wait_until(shows, timeout_s, interval_s=1.0, message=what)


def test_the_organiser_signs_in_approves_a_proposal_sees_the_offer_sent_and_opens_a_report(
        stack: Stack, browser: Any, artifacts: Path) -> None:
    add_volunteer_with_offer(stack)
    page = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw",
                               viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)

    # 1. one address, one sign-in
    page.goto(f"{stack.url}/")
    assert "/auth/login" in page.url
    page.get_by_label("Login").fill(OSL_LOGIN)
    page.get_by_label("Hasło").fill(OSL_PASSWORD)
    page.screenshot(path=str(artifacts / "journey-1-sign-in.png"))
    page.get_by_role("button", name="Zaloguj się").click()
    page.wait_for_url(f"{stack.url}/")
    assert "Anna Organizatorka" in page.content()
    page.screenshot(path=str(artifacts / "journey-2-dashboard.png"), full_page=True)

    # 2. record a need on the form, in Warsaw time
    local = START.astimezone(ZoneInfo("Europe/Warsaw"))
    page.goto(f"{stack.url}/needs/needs/new")
    page.get_by_label("Mieszkaniec (pseudonim)").fill("M-JOURNEY")
    page.get_by_label("Kategoria").select_option(label="Zakupy i sprawunki")
    page.get_by_label("Miejscowość").select_option(label="Zagnańsk")
    page.get_by_label("Początek terminu", exact=True).fill(local.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Koniec terminu", exact=True).fill((local + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Czas trwania (minuty)").fill("60")
    page.get_by_role("button", name="Zapisz potrzebę").click()
    page.wait_for_selector("text=Zapisano potrzebę.")
    page.screenshot(path=str(artifacts / "journey-3-need-recorded.png"), full_page=True)

    # 3. the proposal reaches the review queue; the organiser reads why and approves it
    reload_until(page, f"{stack.url}/matching/", "Przejrzyj i zdecyduj", 120, "the proposal in the review queue")
    page.screenshot(path=str(artifacts / "journey-4-review-queue.png"), full_page=True)
    page.get_by_role("link", name=re.compile("Przejrzyj i zdecyduj")).first.click()
    assert page.locator("h1").inner_text() == "Dopasowanie: Zakupy i sprawunki, Zagnańsk"
    page.screenshot(path=str(artifacts / "journey-5-proposal.png"), full_page=True)
    page.get_by_role("button", name="Zatwierdź i wyślij ofertę").click()
    page.wait_for_selector("text=Propozycję zatwierdzono i wysłano ofertę do wykonawcy.")
    page.screenshot(path=str(artifacts / "journey-6-approved.png"), full_page=True)

    # 4. notify sent the offer to the volunteer: it is in the test inbox
    reload_until(page, f"{stack.url}/notify/skrzynka", VOLUNTEER_EMAIL, 120, "the offer e-mail in the test inbox")
    assert page.locator("h1").inner_text() == "Skrzynka testowa"
    page.screenshot(path=str(artifacts / "journey-7-test-inbox.png"), full_page=True)

    # 5. a report: the needs-and-potential diagnosis, then the same page in English
    page.goto(f"{stack.url}/matching/raporty")
    assert page.locator("h1").count() == 1
    page.screenshot(path=str(artifacts / "journey-8-reports.png"), full_page=True)
    page.goto(f"{stack.url}/matching/raporty/potrzeby-i-potencjal")
    assert "Zagnańsk" in page.content()
    page.screenshot(path=str(artifacts / "journey-9-report-needs-and-potential.png"), full_page=True)
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Sign out" in page.content()
    page.screenshot(path=str(artifacts / "journey-10-report-in-english.png"), full_page=True)
