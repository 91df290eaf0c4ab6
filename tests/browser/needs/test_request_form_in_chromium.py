"""Headless Debian chromium at a phone's size (390×844): a resident asks for help on the public form, sees Polish
errors beside the fields for bad input, fixes them, and the request lands in the staff's triage queue; the form
passes axe-core's WCAG 2.1 A/AA checks with and without errors."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.needs import resident_requests as rr
from services.needs.db import make_db, resident_requests
from tests.browser.test_accessibility import axe_violations

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(tmp_path: Path, live_server) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from services.needs.app import create_app

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True})
    yield live_server(app), url
    app.extensions["db"].dispose()


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw", viewport=PHONE,
                                  device_scale_factor=3, is_mobile=True, has_touch=True, bypass_csp=True)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_a_resident_asks_for_help_on_a_phone_fixes_errors_and_the_request_reaches_the_queue(
        server, phone, artifacts) -> None:  # type: ignore[no-untyped-def]
    base, db_url = server
    phone.goto(f"{base}/prosba")
    assert phone.get_by_role("heading", name="Poproś o pomoc").is_visible()
    assert phone.locator("nav[aria-label='Usługi']").count() == 0  # the public header, not the staff navigation
    assert axe_violations(phone) == []
    assert no_sideways_scroll(phone)

    phone.get_by_label("dla sąsiada lub sąsiadki").check()
    phone.get_by_label("Twoje imię i nazwisko").fill("Halina Wymyślona")
    phone.get_by_label("Telefon", exact=True).fill("dzwońcie wieczorem")
    phone.get_by_role("button", name="Wyślij prośbę").click()

    assert phone.locator("#bledy").is_visible()
    assert phone.locator("#person_name-bledy").inner_text() == rr.E_PERSON
    assert phone.locator("#village-bledy").inner_text() == rr.E_VILLAGE
    assert phone.locator("#help_kinds-bledy").inner_text() == rr.E_HELP
    assert phone.locator("#urgency-bledy").inner_text() == rr.E_URGENCY
    assert phone.locator("#phone-bledy").inner_text() == rr.E_PHONE
    assert phone.locator("#consent-bledy").inner_text() == rr.E_CONSENT
    assert phone.get_by_label("Telefon", exact=True).get_attribute("aria-invalid") == "true"
    assert axe_violations(phone) == []
    assert no_sideways_scroll(phone)
    phone.screenshot(path=str(artifacts / "request-form-phone-errors.png"), full_page=True)
    with sa.create_engine(db_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(resident_requests)).scalar_one() == 0

    phone.get_by_label("Imię i nazwisko osoby, która potrzebuje pomocy").fill("Stanisław Wymyślony")
    phone.get_by_label("Miejscowość, w której potrzebna jest pomoc").select_option(label="Samsonów")
    phone.get_by_label("zakupy, apteka, drobne sprawunki").check()
    phone.get_by_label("w tym tygodniu").check()
    phone.get_by_label("Telefon", exact=True).fill("601 202 303")
    phone.get_by_label("Opisz krótko, czego potrzeba").fill("Sąsiad po szpitalu, potrzebuje zakupów i leków.")
    phone.get_by_role("checkbox", name="Zgadzam się").check()
    phone.get_by_role("button", name="Wyślij prośbę").click()

    phone.wait_for_url(f"{base}/prosba/dziekujemy")
    assert phone.get_by_role("heading", name="Dziękujemy — prośba dotarła").is_visible()
    assert axe_violations(phone) == []
    phone.screenshot(path=str(artifacts / "request-form-phone-thanks.png"), full_page=True)

    phone.goto(f"{base}/prosby")  # staff (sign-in switched off in this app) see it in the triage queue
    assert phone.locator("tbody tr").count() == 1
    row = phone.locator("tbody tr").first
    assert "Samsonów" in row.inner_text() and "nowa" in row.inner_text()
    assert "Wymyśl" not in phone.content()  # the queue shows no names
    row.get_by_role("link", name="Otwórz").click()
    assert phone.get_by_text("Stanisław Wymyślony").is_visible()
    with sa.create_engine(db_url).connect() as conn:
        stored = conn.execute(sa.select(resident_requests)).mappings().one()
    assert (stored["status"], stored["village"], stored["for_whom"]) == ("triage", "samsonow", "neighbour")
