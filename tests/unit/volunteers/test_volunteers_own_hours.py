"""The volunteer's own hours page: the year's months as chart and table, totals, and their own certificate (PDF)
and export (CSV) for a period, each audited with the volunteer as the actor; CSRF and Polish errors for bad input;
nobody else's hours."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from services.volunteers.db import audit_log
from tests.unit.volunteers.test_volunteers_certificates import a_season_of_help, pdf_text
from tests.unit.volunteers.test_volunteers_own_pages import post
from tests.unit.volunteers.test_volunteers_sign_in import Volunteers, text
from wspolnota.db import Database


@pytest.fixture
def v(db: Database) -> Volunteers:
    return Volunteers(db)


@pytest.fixture
def me(v: Volunteers) -> tuple[str, Any]:
    volunteer_id = v.register()
    a_season_of_help(v.db, volunteer_id)
    return volunteer_id, v.signed_in_client(volunteer_id)


def actions(db: Database, volunteer_id: str) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [(r.action, r.actor) for r in conn.execute(
            sa.select(audit_log.c.action, audit_log.c.actor).where(audit_log.c.volunteer_id == volunteer_id))]


PERIOD = {"since": "2030-11-01", "until": "2030-12-31"}


def test_the_hours_page_shows_the_months_of_the_year_asked_for_and_is_audited(v: Volunteers, me: Any) -> None:
    volunteer_id, client = me
    page = client.get("/wolontariusz/godziny?rok=2030")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="hours-by-month-t"' in html and "Godziny w miesiącach roku 2030" in html
    assert "/wolontariusz/godziny?rok=2029" in html and volunteer_id not in html.split("<main")[-1].split("rok=")[0]
    assert ("self_read", f"wolontariusz:{volunteer_id}") in actions(v.db, volunteer_id)
    assert "Godziny w miesiącach roku 2031" in text(client.get("/wolontariusz/godziny?rok=abc"))


def test_the_volunteer_downloads_their_own_certificate_issued_in_the_centres_name(v: Volunteers, me: Any) -> None:
    volunteer_id, client = me
    response = post(client, "/wolontariusz/godziny", "/wolontariusz/godziny/zaswiadczenie", PERIOD)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = " ".join(pdf_text(response.data).split())
    assert "Łączna liczba godzin świadczeń w tym okresie: 10." in body
    assert "wygenerowany samodzielnie przez wolontariusza" in body
    assert ("certificate_issued", f"wolontariusz:{volunteer_id}") in actions(v.db, volunteer_id)


def test_the_volunteer_exports_their_own_hours_as_csv(v: Volunteers, me: Any) -> None:
    volunteer_id, client = me
    response = post(client, "/wolontariusz/godziny", "/wolontariusz/godziny/eksport", PERIOD)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.decode("utf-8-sig").splitlines()[0].startswith("data;rodzaj")
    assert ("hours_exported", f"wolontariusz:{volunteer_id}") in actions(v.db, volunteer_id)


@pytest.mark.parametrize("period, message", [
    ({"since": "2030-12-31", "until": "2030-11-01"}, None),
    ({"since": "", "until": "2030-11-01"}, None),
    ({"since": "zły", "until": "2030-11-01"}, None),
    ({"since": "2020-01-01", "until": "2020-02-01"}, "nie ma zapisanych godzin"),
])
def test_a_bad_period_gets_a_polish_error_and_no_document(v: Volunteers, me: Any, period: dict[str, str],
                                                          message: str | None) -> None:
    volunteer_id, client = me
    for action in ("/wolontariusz/godziny/zaswiadczenie", "/wolontariusz/godziny/eksport"):
        response = post(client, "/wolontariusz/godziny", action, period)
        if message is None or action.endswith("zaswiadczenie"):
            assert response.status_code == 422, action
            assert 'class="errors"' in response.get_data(as_text=True) or "error" in response.get_data(as_text=True)
    if message:
        assert message.lower() in text(post(client, "/wolontariusz/godziny", "/wolontariusz/godziny/zaswiadczenie",
                                             period)).lower()
    assert ("certificate_issued", f"wolontariusz:{volunteer_id}") not in actions(v.db, volunteer_id)


def test_documents_need_the_csrf_token_and_a_signed_in_volunteer(v: Volunteers, me: Any) -> None:
    _, client = me
    assert client.post("/wolontariusz/godziny/zaswiadczenie", data=PERIOD).status_code == 400
    anonymous = v.app.test_client()
    assert anonymous.get("/wolontariusz/godziny").status_code == 302
    assert anonymous.post("/wolontariusz/godziny/eksport", data=PERIOD).status_code in (302, 400)


def test_the_hours_page_reads_in_english(v: Volunteers, me: Any) -> None:
    from tests.unit.test_i18n import polish_left

    _, client = me
    html = client.get("/wolontariusz/godziny?lang=en").get_data(as_text=True)
    assert polish_left(html, {"Zofia", "Wiśniewska", "Polski", "Solidarności"}) == []  # a programme's name
