"""Headless Debian chromium: a staff member creates a need through the form, fixing one validation error."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.needs.db import make_db, needs
from services.needs.model import WARSAW

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing and CI must run the browser tests", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    from services.needs.app import create_app

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    app = create_app({"DATABASE_URL": url})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", url
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


def test_staff_create_a_need_through_the_form_after_fixing_a_validation_error(server, page) -> None:  # type: ignore[no-untyped-def]
    base, db_url = server
    start = (datetime.now(WARSAW) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{base}/needs/new")
    page.get_by_label("Mieszkaniec (pseudonim)").fill("M-CHROM1")
    page.get_by_label("Kategoria").select_option(label="Transport i towarzyszenie")
    page.get_by_label("Miejscowość").select_option(label="Samsonów")
    page.get_by_label("Opis (widoczny tylko w CUS)").fill("<b>Dowóz</b> do przychodni w Kielcach")
    page.get_by_label("Początek terminu", exact=True).fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Koniec terminu", exact=True).fill((start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))  # before the start
    page.get_by_label("Czas trwania (minuty)").fill("90")
    page.get_by_role("button", name="Zapisz potrzebę").click()

    error = page.locator("#window_end-bledy")
    assert error.inner_text() == "Koniec okna musi być po jego początku."
    assert page.get_by_label("Koniec terminu", exact=True).get_attribute("aria-invalid") == "true"
    assert "window_end-bledy" in (page.get_by_label("Koniec terminu", exact=True).get_attribute("aria-describedby") or "")
    page.screenshot(path=str(ARTIFACTS / "needs-form-validation-error.png"), full_page=True)
    with sa.create_engine(db_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(needs)).scalar_one() == 0

    page.get_by_label("Koniec terminu", exact=True).fill((start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Koniec terminu", exact=True).press("Enter")  # keyboard submit

    page.wait_for_url(f"{base}/needs/*")
    assert page.locator("#status-potrzeby").inner_text() == "otwarta"
    assert page.get_by_text("Zapisano potrzebę.").is_visible()
    assert page.locator("#opis").inner_text() == "<b>Dowóz</b> do przychodni w Kielcach"  # shown, not rendered
    assert "prawo jazdy" in page.content()
    page.screenshot(path=str(ARTIFACTS / "needs-form-created.png"), full_page=True)
    with sa.create_engine(db_url).connect() as conn:
        row = conn.execute(sa.select(needs)).mappings().one()
    assert (row["village"], row["category"], row["duration_minutes"]) == ("samsonow", "TRN", 90)
    assert row["window_start"].astimezone(WARSAW).hour == 10
