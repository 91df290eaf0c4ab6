"""Headless Debian chromium: a staff member reads a proposal's explanation and approves it by keyboard."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.matching.service_harness import MatchingService
from services.matching.api import STAFF_ACTOR


@pytest.fixture
def matching(tmp_path: Path) -> Iterator[MatchingService]:
    service = MatchingService(tmp_path)
    yield service
    service.close()


@pytest.fixture
def base_url(matching: MatchingService, live_server) -> Iterator[str]:
    from services.matching.app import create_app

    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "MATCHING_CLOCK": lambda: matching.now,
                      "MATCHING_SETTINGS": matching.settings})
    yield live_server(app)
    app.extensions["db"].dispose()


def test_staff_read_the_explanation_and_approve_a_proposal_by_keyboard(matching, base_url, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()

    page.goto(base_url + "/")
    page.get_by_role("link", name="Przejrzyj i zdecyduj").click()
    page.get_by_role("heading", name="Lejek warunków").wait_for()
    assert page.get_by_role("cell", name="dojazd (koszt)").is_visible()
    assert "Drugi w kolejności" in page.content()
    page.screenshot(path=str(artifacts / "matching-explanation.png"), full_page=True)

    page.get_by_role("button", name="Zatwierdź i wyślij ofertę").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Propozycję zatwierdzono i wysłano ofertę do wykonawcy.").wait_for()
    page.screenshot(path=str(artifacts / "matching-queue-after-approval.png"), full_page=True)
    offered = matching.match_of(need_id, "offered")
    assert offered["reviewer"] == STAFF_ACTOR  # the signed-in account; sign-in is off in this test app
