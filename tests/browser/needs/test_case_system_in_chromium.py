"""Headless Debian chromium: staff upload a Windows-1250 CSV with a bad row, read the Polish report, nothing
is imported; the corrected file goes in."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.needs.db import make_db, needs
from services.needs.model import WARSAW

HEADER = "external_id;plan_ref;resident_ref;category;village;date;time_from;time_to;duration_minutes;description"


@pytest.fixture
def server(tmp_path: Path, live_server) -> Iterator[tuple[str, str]]:
    from services.needs.app import create_app

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True})
    yield live_server(app), url
    app.extensions["db"].dispose()


def count_needs(db_url: str) -> int:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(needs)).scalar_one()
    engine.dispose()
    return total


def test_staff_see_which_row_of_a_csv_file_is_wrong_and_nothing_is_imported_until_it_is_fixed(server, page, artifacts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base, db_url = server
    day = (datetime.now(WARSAW) + timedelta(days=3)).strftime("%d.%m.%Y")
    good = f"POM-1;IPUS/2026/9;M-PRZEG01;ZAK;Zagnańsk;{day};09:00;12:00;60;Zakupy"
    bad = f"POM-2;IPUS/2026/9;M-PRZEG01;ZAK;Kołomań;{day};09:00;12:00;60;Apteka"
    file = tmp_path / "potrzeby.csv"
    file.write_bytes("\r\n".join([HEADER, good, bad, ""]).encode("cp1250"))

    page.goto(f"{base}/")
    page.get_by_role("link", name="System dziedzinowy (CSV)").click()
    page.get_by_label("Plik CSV z potrzebami").set_input_files(str(file))
    page.get_by_role("button", name="Importuj").click()

    report = page.locator("#raport-bledow")
    assert "Nic nie zaimportowano" in report.inner_text()
    assert report.locator("tbody tr").count() == 1
    assert report.locator("tbody tr td").all_inner_texts() == ["3", "village", "Nieznana miejscowość: Kołomań."]
    page.screenshot(path=str(artifacts / "needs-case-system-csv-report.png"), full_page=True)
    assert count_needs(db_url) == 0

    file.write_bytes("\r\n".join([HEADER, good, bad.replace("Kołomań", "Samsonów"), ""]).encode("cp1250"))
    page.get_by_label("Plik CSV z potrzebami").set_input_files(str(file))
    page.get_by_label("Kodowanie znaków").select_option("cp1250")
    page.get_by_role("button", name="Importuj").click()
    assert "Zaimportowano potrzeby: 2" in page.get_by_role("status").first.inner_text()
    assert count_needs(db_url) == 2
