"""The reports read the same figures on SQLite and on PostgreSQL (JSON columns, binary outbox bodies, times)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.matching.service_harness import MatchingService
from services.matching import reports
from tests.unit.matching.test_reports import NOW, PERIOD, build_world, rows_by_first_column

pytestmark = pytest.mark.integration


@pytest.fixture
def matching(tmp_path: Path, new_database: Callable[[], str]) -> Iterator[MatchingService]:
    service = MatchingService(tmp_path, database_url=new_database())
    yield service
    service.close()


def test_every_report_gives_the_known_figures_on_this_database(matching: MatchingService) -> None:
    build_world(matching)
    facts = reports.load_facts(matching.service.db, NOW)
    weeks = rows_by_first_column(reports.coverage_report(facts, PERIOD))
    assert weeks["02.11.2026"] == [2, 2, 0, 0, 100.0, 15.0, 0]
    months = rows_by_first_column(reports.hours_report(facts, PERIOD))
    assert months["listopad 2026"] == [3, 6.0, 3.0, 0.0, 3.0, 0.0, 1]
    heat = reports.heat_report(facts, PERIOD).heat["grid"]
    assert (heat[("zagnansk", "ZAK")].needs, heat[("zagnansk", "ZAK")].providers) == (3, 1)
    assert len(reports.unmet_report(facts, PERIOD).table.rows) == 2
    assert reports.partners_report(facts, PERIOD).table.rows[0][2:4] == [1, 3.0]
    places, _rows = reports.map_places(facts)
    assert {p.code: (p.needs, p.providers) for p in places if p.needs or p.providers} == {
        "zagnansk": (1, 2), "samsonow": (0, 1), "kaniow": (0, 1), "belno": (0, 1)}
