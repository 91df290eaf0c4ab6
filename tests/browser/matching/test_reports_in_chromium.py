"""Headless Debian chromium: staff open the reports (heat map, charts, period filter) and the village map."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.matching.service_harness import MatchingService
from tests.unit.matching.test_reports import NOW, build_world


@pytest.fixture
def matching(tmp_path: Path) -> Iterator[MatchingService]:
    service = MatchingService(tmp_path)
    build_world(service)
    yield service
    service.close()


@pytest.fixture
def base_url(matching: MatchingService, live_server) -> Iterator[str]:
    from services.matching.app import create_app

    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "MATCHING_CLOCK": lambda: NOW})
    yield live_server(app)
    app.extensions["db"].dispose()


def test_staff_open_the_reports_change_the_period_and_see_the_map(base_url, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    blocked = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(base_url + "/raporty")
    page.get_by_role("link", name="Potrzeby a dostępni wykonawcy (mapa cieplna)").click()
    page.get_by_role("heading", name="Mapa cieplna: potrzeby / dostępni wykonawcy").wait_for()
    assert page.locator("table.heatmap td.heat-gap").count() == 1
    assert page.locator("table.heatmap td.heat-tight").inner_text().startswith("3/1")
    page.screenshot(path=str(artifacts / "reports-heat-map.png"), full_page=True)

    page.goto(base_url + "/raporty/pokrycie")
    assert page.locator("svg[role=img]").count() == 2
    assert page.locator("svg.line-chart circle.point").count() == 3
    page.screenshot(path=str(artifacts / "reports-coverage.png"), full_page=True)

    page.goto(base_url + "/raporty/godziny")
    page.get_by_label("Od dnia").fill("2026-08-01")
    page.get_by_label("Od dnia").press("Enter")  # the period form works from the keyboard
    page.wait_for_url("**od=2026-08-01**")
    assert page.locator("svg.bar-chart rect.bar").count() == 4  # August to November
    page.screenshot(path=str(artifacts / "reports-hours.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator("form.period").is_visible()  # print-friendly: no forms, no navigation
    assert not page.get_by_role("link", name="CSV").is_visible()
    page.screenshot(path=str(artifacts / "reports-hours-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.goto(base_url + "/raporty/godziny?od=2026-12-01&do=2026-11-01")
    assert page.get_by_role("alert").inner_text().startswith("Popraw okres raportu")
    page.screenshot(path=str(artifacts / "reports-bad-period.png"), full_page=True)

    page.goto(base_url + "/mapa")
    page.get_by_role("img", name="Mapa miejscowości gminy Zagnańsk").wait_for()
    assert page.locator("svg.village-map g.village").count() == 23
    assert page.locator("svg.village-map circle.marker").count() == 5
    page.screenshot(path=str(artifacts / "reports-village-map.png"), full_page=True)
    assert blocked == []
