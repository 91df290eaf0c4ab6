"""Headless Debian chromium: a staff member creates a need through the form, fixing one validation error."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.needs.db import make_db, needs
from services.needs.model import WARSAW


@pytest.fixture
def server(tmp_path: Path, live_server) -> Iterator[tuple[str, str]]:
    from services.needs.app import create_app

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True})
    yield live_server(app), url
    app.extensions["db"].dispose()


def test_staff_create_a_need_through_the_form_after_fixing_a_validation_error(server, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    base, db_url = server
    start = (datetime.now(WARSAW) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)

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
    page.screenshot(path=str(artifacts / "needs-form-validation-error.png"), full_page=True)
    with sa.create_engine(db_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(needs)).scalar_one() == 0

    page.get_by_label("Koniec terminu", exact=True).fill((start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Koniec terminu", exact=True).press("Enter")  # keyboard submit

    page.wait_for_url(f"{base}/needs/*")
    assert page.locator("#status-potrzeby").inner_text() == "otwarta"
    assert page.get_by_text("Zapisano potrzebę.").is_visible()
    assert page.locator("#opis").inner_text() == "<b>Dowóz</b> do przychodni w Kielcach"  # shown, not rendered
    assert "prawo jazdy" in page.content()
    page.screenshot(path=str(artifacts / "needs-form-created.png"), full_page=True)
    with sa.create_engine(db_url).connect() as conn:
        row = conn.execute(sa.select(needs)).mappings().one()
    assert (row["village"], row["category"], row["duration_minutes"]) == ("samsonow", "TRN", 90)
    assert row["window_start"].astimezone(WARSAW).hour == 10
