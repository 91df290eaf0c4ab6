"""Headless Debian chromium: a staff member reads a proposal's explanation and approves it by keyboard."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.unit.matching.matching_service import MatchingService

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing and CI must run the browser tests", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def matching(tmp_path: Path) -> Iterator[MatchingService]:
    service = MatchingService(tmp_path)
    yield service
    service.close()


@pytest.fixture
def base_url(matching: MatchingService) -> Iterator[str]:
    from services.matching.app import create_app

    app = create_app({"DATABASE_URL": matching.service.db.url, "MATCHING_CLOCK": lambda: matching.now,
                      "MATCHING_SETTINGS": matching.settings})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)
    app.extensions["db"].dispose()


@pytest.fixture
def page() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        tab = browser.new_page(locale="pl-PL", timezone_id="Europe/Warsaw")
        tab.set_default_timeout(20_000)
        yield tab
        browser.close()


def test_staff_read_the_explanation_and_approve_a_proposal_by_keyboard(matching, base_url, page) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(base_url + "/")
    page.get_by_role("link", name="Przejrzyj i zdecyduj").click()
    page.get_by_role("heading", name="Lejek warunków").wait_for()
    assert page.get_by_role("cell", name="dojazd (koszt)").is_visible()
    assert "Drugi w kolejności" in page.content()
    page.screenshot(path=str(ARTIFACTS / "matching-explanation.png"), full_page=True)

    page.get_by_label("Zatwierdzający (opcjonalnie)").focus()
    page.keyboard.type("Anna (OSL)")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Propozycję zatwierdzono i wysłano ofertę do wykonawcy.").wait_for()
    page.screenshot(path=str(ARTIFACTS / "matching-queue-after-approval.png"), full_page=True)
    offered = matching.match_of(need_id, "offered")
    assert offered["reviewer"] == "Anna (OSL)"
