"""Reports and the village map on a small known projection: the numbers, the exports, the SVG, the errors.

The world below is folded in through projection.apply with chosen event times (the real projection path),
plus match rows in the lifecycle states the reports read. Default period: the 12 weeks to Thursday
26.11.2026 (07.09–26.11.2026).
"""
from __future__ import annotations

import csv
import io
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from contracts.matching import TOPIC
from services.matching import actions, projection, reports
from services.matching.app import create_app
from services.matching.db import open_needs, proposals, unmet_needs
from wspolnota.testing import signed_in

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class World:
    """Builds the projection and the match lifecycle straight into matching's database."""

    def __init__(self, matching: Any):
        self.service = matching.service
        self.ids: dict[str, str] = {}

    def id(self, name: str) -> str:
        return self.ids.setdefault(name, str(uuid.uuid4()))

    def apply(self, event_type: str, key: str, data: dict[str, Any], when: datetime) -> None:
        with self.service.db.transaction() as session:
            projection.apply(session, str(uuid.uuid4()), event_type, key, data, when)

    def provider(self, name: str, kind: str, home: str, categories: list[str], villages: list[str],
                 **over: Any) -> None:
        vid = self.id(name)
        self.apply("VolunteerRegistered", vid, {"volunteer_id": vid, "provider_type": kind, "villages": [home],
                                                "home_village": home, "radius_km": 0, "verified": True, **over},
                   at("2026-08-01T08:00:00"))
        self.apply("OfferPublished", vid, {
            "offer_id": str(uuid.uuid4()), "volunteer_id": vid, "categories": categories, "villages": villages,
            "available_from": "2026-08-01T00:00:00+00:00", "available_to": "2026-12-31T00:00:00+00:00"},
            at("2026-08-01T08:00:00"))

    def need(self, name: str, category: str, village: str, registered: str, starts: str, minutes: int = 60,
             urgent: bool = False) -> None:
        nid, start = self.id(name), at(starts)
        self.apply("NeedRegistered", nid, {
            "need_id": nid, "resident_ref": "R-1", "category": category, "village": village,
            "window_start": start.isoformat(), "window_end": (start + timedelta(hours=4)).isoformat(),
            "duration_minutes": minutes, "urgent": urgent, "slots": 1}, at(registered))

    def match(self, name: str, need: str, provider: str, status: str, created: str, updated: str) -> str:
        mid = self.id(name)
        with self.service.db.transaction() as session:
            row = session.execute(sa.select(open_needs.c.category, open_needs.c.village, open_needs.c.window_start)
                                  .where(open_needs.c.need_id == self.id(need))).one()
            session.execute(sa.insert(proposals).values(
                id=mid, need_id=self.id(need), volunteer_id=self.id(provider), offer_id=str(uuid.uuid4()),
                category=row.category, village=row.village, window_start=row.window_start, status=status,
                reason="test", created_at=at(created), updated_at=at(updated)))
        return mid

    def accepted(self, match: str, provider: str, when: str) -> None:
        self.apply("ProviderResponded", self.id(match), {"match_id": self.id(match),
                                                         "volunteer_id": self.id(provider), "response": "accept"},
                   at(when))

    def match_completed(self, match: str, need: str, provider: str, hours: float) -> None:
        with self.service.db.transaction() as session:
            self.service.outbox.add(session, TOPIC, "MatchCompleted", self.id(need), {
                "match_id": self.id(match), "need_id": self.id(need), "volunteer_id": self.id(provider),
                "hours": hours})

    def unmet(self, need: str, code: str) -> None:
        with self.service.db.transaction() as session:
            session.execute(sa.insert(unmet_needs).values(need_id=self.id(need), missing_slots=1, code=code,
                                                          reason="test", funnel={}, at=NOW))


def build_world(matching: Any) -> World:
    """The known world of these tests (also used by the browser test)."""
    w = World(matching)
    w.provider("V1", "volunteer", "zagnansk", ["ZAK", "TOW"], ["zagnansk"])
    w.provider("V2", "volunteer", "samsonow", ["ZAK"], ["samsonow", "kaniow"])
    w.provider("P1", "partner_organisation", "belno", ["TOW"], ["belno", "zagnansk"])
    w.provider("V3", "volunteer", "zagnansk", ["ZAK"], ["zagnansk"], paused=True)  # on a break: not available
    # week of 02.11: two needs, matched after 6 h and 24 h
    w.need("N1", "ZAK", "zagnansk", "2026-11-02T08:00:00", "2026-11-03T09:00:00")
    w.match("M1", "N1", "V1", "completed", "2026-11-02T09:00:00", "2026-11-03T12:00:00")
    w.accepted("M1", "V1", "2026-11-02T14:00:00")
    w.match_completed("M1", "N1", "V1", 1.5)
    w.need("N2", "TOW", "zagnansk", "2026-11-03T10:00:00", "2026-11-05T10:00:00", minutes=120)
    w.match("M2", "N2", "P1", "completed", "2026-11-03T11:00:00", "2026-11-05T15:00:00")
    w.accepted("M2", "P1", "2026-11-04T10:00:00")
    w.apply("NeedCompleted", w.id("N2"), {"need_id": w.id("N2"), "visits": 1, "hours": 3.0}, at("2026-11-05T15:00:00"))
    # week of 09.11: one match from before answers were kept (no time, hours estimated), one need nobody could do
    w.need("N3", "ZAK", "samsonow", "2026-11-10T09:00:00", "2026-11-12T09:00:00", minutes=90)
    w.match("M3", "N3", "V2", "completed", "2026-11-10T10:00:00", "2026-11-12T12:00:00")
    w.need("N4", "KOR", "kajetanow", "2026-11-10T10:00:00", "2026-11-11T15:00:00")
    w.unmet("N4", "no_feasible_provider")
    # week of 23.11: one urgent need still waiting, one accepted after 2 h, one cancelled
    w.need("N5", "ZAK", "zagnansk", "2026-11-24T08:00:00", "2026-11-27T09:00:00", urgent=True)
    w.need("N6", "TOW", "belno", "2026-11-24T08:00:00", "2026-11-28T09:00:00")
    w.apply("NeedCancelled", w.id("N6"), {"need_id": w.id("N6"), "reason": ""}, at("2026-11-24T09:00:00"))
    w.need("N7", "ZAK", "zagnansk", "2026-11-25T07:00:00", "2026-11-26T12:00:00")
    w.match("M7", "N7", "V1", "accepted", "2026-11-25T08:00:00", "2026-11-25T09:00:00")
    # August, outside the default period
    w.need("N8", "ZAK", "zagnansk", "2026-08-01T08:00:00", "2026-08-03T09:00:00")
    w.match("M8", "N8", "V1", "completed", "2026-08-01T09:00:00", "2026-08-03T12:00:00")
    w.match_completed("M8", "N8", "V1", 2.0)
    return w


@pytest.fixture
def world(matching) -> World:  # type: ignore[no-untyped-def]
    return build_world(matching)


@pytest.fixture
def facts(matching, world) -> reports.Facts:  # type: ignore[no-untyped-def]
    return reports.load_facts(matching.service.db, NOW)


@pytest.fixture
def client(matching):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "SECRET_KEY": "test", "MATCHING_CLOCK": lambda: NOW})
    yield app.test_client()
    app.extensions["db"].dispose()


PERIOD = reports.default_period(NOW)


def rows_by_first_column(report: reports.Report) -> dict[str, list[Any]]:
    return {row[0]: row[1:] for row in report.table.rows}


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", page, flags=re.S)]


# --- the period -----------------------------------------------------------------------------------------

def test_the_default_period_is_the_last_twelve_weeks_in_warsaw_time() -> None:
    assert (PERIOD.first, PERIOD.last) == (date(2026, 9, 7), date(2026, 11, 26))
    assert len(PERIOD.weeks()) == 12
    assert PERIOD.start == datetime(2026, 9, 6, 22, 0, tzinfo=UTC)  # midnight in Warsaw (CEST)
    assert PERIOD.end == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # after the last day (CET)


@pytest.mark.parametrize(("args", "field", "message"), [
    ({"od": "26.11.2026"}, "od", "Podaj datę w formacie RRRR-MM-DD"),
    ({"do": "2026-02-30"}, "do", "Podaj datę w formacie RRRR-MM-DD"),
    ({"od": "2026-11-20", "do": "2026-11-01"}, "od", "Data początkowa nie może być późniejsza niż końcowa."),
    ({"od": "2020-01-01", "do": "2026-01-01"}, "do", "Okres może obejmować najwyżej 2 lata."),
])
def test_a_bad_period_is_refused_with_a_polish_message(client, args, field, message) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/raporty/pokrycie", query_string=args)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert f'id="okres-{field}" name="{field}"' in page and f'aria-describedby="okres-{field}-blad"' in page
    export = client.get("/raporty/pokrycie/eksport.csv", query_string=args)
    assert export.status_code == 400 and message in export.get_data(as_text=True)


# --- the numbers ------------------------------------------------------------------------------------------

def test_the_heat_map_sets_needs_against_available_providers_per_village_and_category(facts) -> None:  # type: ignore[no-untyped-def]
    report = reports.heat_report(facts, PERIOD)
    grid = report.heat["grid"]
    found = {(v, c): (cell.needs, cell.providers, cell.level) for (v, c), cell in grid.items()
             if cell.needs or cell.providers}
    assert found == {
        ("zagnansk", "ZAK"): (3, 1, "tight"),  # N1, N5, N7 (N8 is in August); V1 (V3 is paused)
        ("zagnansk", "TOW"): (1, 2, "ok"),  # N2; V1 and the partner (N6 was cancelled)
        ("samsonow", "ZAK"): (1, 1, "ok"),
        ("kajetanow", "KOR"): (1, 0, "gap"),
        ("kaniow", "ZAK"): (0, 1, "potential"),
        ("belno", "TOW"): (0, 1, "potential"),
    }
    assert len(report.table.rows) == 6


def test_coverage_and_median_time_to_match_per_week(facts) -> None:  # type: ignore[no-untyped-def]
    report = reports.coverage_report(facts, PERIOD)
    weeks = rows_by_first_column(report)
    assert len(weeks) == 12
    # needs, matched, waiting, without provider, coverage %, median hours, matches without a known time
    assert weeks["02.11.2026"] == [2, 2, 0, 0, 100.0, 15.0, 0]
    assert weeks["09.11.2026"] == [2, 1, 0, 1, 50.0, None, 1]
    assert weeks["23.11.2026"] == [2, 1, 1, 0, 50.0, 2.0, 0]
    assert weeks["16.11.2026"] == [0, 0, 0, 0, None, None, 0]


def test_hours_per_month_by_provider_type(facts) -> None:  # type: ignore[no-untyped-def]
    report = reports.hours_report(facts, PERIOD)
    months = rows_by_first_column(report)
    assert list(months) == ["wrzesień 2026", "październik 2026", "listopad 2026"]
    # visits, total, volunteers, paid neighbours, partners, staff, estimated
    assert months["listopad 2026"] == [3, 6.0, 3.0, 0.0, 3.0, 0.0, 1]  # 1.5 reported + 3.0 from NeedCompleted + 1.5 planned
    assert months["wrzesień 2026"][:2] == [0, 0.0]
    august = reports.hours_report(facts, reports.Period(date(2026, 8, 1), date(2026, 8, 31)))
    assert august.table.rows == [["sierpień 2026", 1, 2.0, 2.0, 0.0, 0.0, 0.0, 0]]


def test_partners_contributions_by_pseudonym_without_residents_data(world, facts) -> None:  # type: ignore[no-untyped-def]
    report = reports.partners_report(facts, PERIOD)
    assert report.table.rows == [[f"Organizacja {world.id('P1')[:8]}", "—", 1, 3.0, "TOW", "Zagnańsk"]]
    assert "R-1" not in repr(report.table.rows)


def test_unmet_needs_by_village_and_category(facts) -> None:  # type: ignore[no-untyped-def]
    report = reports.unmet_report(facts, PERIOD)
    # all, window passed, still waiting, urgent, most common reason
    assert report.table.rows == [
        ["Kajetanów", "Korepetycje i odrabianie lekcji", 1, 1, 0, 0, "brak wykonawcy spełniającego warunki"],
        ["Zagnańsk", "Zakupy i sprawunki", 1, 0, 1, 1, "—"],
    ]


def test_the_map_counts_waiting_needs_and_providers_serving_each_village(facts) -> None:  # type: ignore[no-untyped-def]
    places, rows = reports.map_places(facts)
    counts = {p.code: (p.needs, p.providers) for p in places if p.needs or p.providers}
    assert counts == {"zagnansk": (1, 2), "samsonow": (0, 1), "kaniow": (0, 1), "belno": (0, 1)}
    assert len(places) == len(rows) == 23
    assert ["Zagnańsk", 1, 2, 1] in [r[:4] for r in rows]  # V1 lives there (V3 too, but is on a break)


# --- the pages, the charts and the exports --------------------------------------------------------------

def test_the_heat_map_page_shows_every_cell_with_its_number_and_a_text_label(client, world) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/raporty/potrzeby-i-potencjal").get_data(as_text=True)
    cells = re.findall(r'<td class="heat heat-(\w+)"', page)
    assert len(cells) == 23 * 15  # villages × categories (TEL, the well-being call, included)
    assert cells.count("gap") == 1 and cells.count("tight") == 1
    assert re.search(r'heat-tight"[^>]*>\s*3/1 <span aria-hidden="true">!</span><span class="visually-hidden"> — '
                     r'mniej wykonawców niż potrzeb', page)


def test_the_charts_are_well_formed_accessible_svg(client, world) -> None:  # type: ignore[no-untyped-def]
    coverage, median = svgs(client.get("/raporty/pokrycie").get_data(as_text=True))
    for chart in (coverage, median):
        assert chart.get("role") == "img"
        assert chart.find(f"{SVG}title").text and chart.find(f"{SVG}desc").text
        assert chart.get("aria-labelledby").split() == [chart.find(f"{SVG}title").get("id"),
                                                       chart.find(f"{SVG}desc").get("id")]
    assert len(coverage.findall(f".//{SVG}circle[@class='point']")) == 3  # the three weeks with needs
    assert len(median.findall(f".//{SVG}rect[@class='bar']")) == 2  # the two weeks with a known time
    [hours] = svgs(client.get("/raporty/godziny").get_data(as_text=True))
    bars = hours.findall(f".//{SVG}rect[@class='bar']")
    assert [b.find(f"{SVG}title").text for b in bars] == ["wrzesień 2026: 0 h", "październik 2026: 0 h",
                                                          "listopad 2026: 6 h"]
    [partners] = svgs(client.get("/raporty/partnerzy").get_data(as_text=True))
    assert len(partners.findall(f".//{SVG}rect[@class='bar']")) == 1
    [unmet] = svgs(client.get("/raporty/niezaspokojone").get_data(as_text=True))
    assert len(unmet.findall(f".//{SVG}rect[@class='bar']")) == 2


def test_the_village_map_is_svg_with_a_marker_per_count_a_label_per_village_and_a_table(client, world) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/mapa").get_data(as_text=True)
    [drawing] = svgs(page)
    assert len(drawing.findall(f".//{SVG}g[@class='village']")) == 23
    assert len(drawing.findall(f".//{SVG}circle[@class='marker needs']")) == 1
    assert len(drawing.findall(f".//{SVG}circle[@class='marker providers']")) == 4
    labels = [t.text for t in drawing.findall(f".//{SVG}text[@class='label']")]
    assert "Zagnańsk" in labels and "Tumlin-Węgle" in labels
    assert drawing.find(f".//{SVG}g[@class='legend']") is not None
    assert "<th scope=\"row\">Zagnańsk</th><td class=\"num\">1</td><td class=\"num\">2</td><td class=\"num\">1</td>" in page


def test_the_csv_export_parses_back_to_the_report_table(client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/raporty/pokrycie/eksport.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="pokrycie_2026-09-07_2026-11-26.csv"' in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:2] == ["Tydzień (od poniedziałku)", "Zgłoszone potrzeby"]
    assert len(rows) == 13
    assert ["02.11.2026", "2", "2", "0", "0", "100", "15", "0"] in rows
    assert ["09.11.2026", "2", "1", "0", "1", "50", "", "1"] in rows


def test_the_xlsx_export_parses_back_with_numbers_as_numbers(client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/raporty/godziny/eksport.xlsx", query_string={"od": "2026-08-01", "do": "2026-11-30"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book["Dane"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["Miesiąc", "Wizyty", "Godziny razem"]
    assert rows[1][:3] == ["sierpień 2026", 1, 2.0]
    assert rows[4][:3] == ["listopad 2026", 3, 6.0]
    info = {r[0]: r[1] for r in book["Informacje"].iter_rows(values_only=True)}
    assert info["Okres od"] == "01.08.2026" and info["Raport"] == "Godziny pomocy w miesiącach"


def test_every_report_page_offers_both_exports_and_a_print_stylesheet(client, world) -> None:  # type: ignore[no-untyped-def]
    index = client.get("/raporty").get_data(as_text=True)
    for slug in reports.BUILDERS:
        assert f"/raporty/{slug}?od=2026-09-07&amp;do=2026-11-26" in index
        page = client.get(f"/raporty/{slug}").get_data(as_text=True)
        assert f"/raporty/{slug}/eksport.csv?od=2026-09-07&amp;do=2026-11-26" in page
        assert f"/raporty/{slug}/eksport.xlsx?od=2026-09-07&amp;do=2026-11-26" in page
        assert "reports.css" in page and "Tabela danych" in page
        assert client.get(f"/raporty/{slug}/eksport.xlsx").status_code == 200
    css = client.get("/static/reports.css").get_data(as_text=True)
    assert "@media print" in css and "break-before: page" in css


@pytest.mark.parametrize("url", [f"/raporty/{slug}" for slug in reports.BUILDERS] + ["/mapa"])
def test_without_data_each_page_says_brak_danych(client, url) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    assert "brak danych" in response.get_data(as_text=True).lower()


def test_an_unknown_report_is_not_found(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/raporty/nieznany").status_code == 404
    assert client.get("/raporty/nieznany/eksport.csv").status_code == 404


def test_the_auditor_and_the_director_may_read_reports_but_not_anonymous_callers(matching, world) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "SECRET_KEY": "test",
                      "MATCHING_CLOCK": lambda: NOW})
    try:
        assert app.test_client().get("/raporty/godziny").status_code == 302
        for role in ("auditor", "director", "social_worker"):
            client = signed_in(app.test_client(), role)
            assert client.get("/raporty/godziny").status_code == 200
            assert client.get("/raporty/partnerzy/eksport.csv").status_code == 200
            assert client.get("/mapa").status_code == 200
            assert client.post("/raporty/godziny").status_code in (403, 405)
    finally:
        app.extensions["db"].dispose()


# --- through the running service -------------------------------------------------------------------------

def test_a_match_made_and_completed_by_the_service_shows_its_time_to_match_and_hours(matching) -> None:  # type: ignore[no-untyped-def]

    volunteer = matching.volunteer()
    need_id = matching.need()
    matching.approve(matching.match_of(need_id)["id"])
    match = matching.match_of(need_id, "offered")
    matching.respond(match["id"], volunteer, "accept")
    matching.act(actions.complete_match, match["id"], 2.5, matching.now)
    facts = reports.load_facts(matching.service.db, NOW)
    assert match["id"] in facts.accepted_at  # the provider's "yes" is kept although the match moved on
    assert facts.visit_hours(dict(match)) == (2.5, False)
    hours = rows_by_first_column(reports.hours_report(facts, PERIOD))
    assert hours["listopad 2026"][:3] == [1, 2.5, 2.5]


def test_the_hours_of_a_confirmed_visit_outlive_the_outbox_purge(matching) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa


    volunteer = matching.volunteer()
    need_id = matching.need()  # planned for one hour
    matching.approve(matching.match_of(need_id)["id"])
    match = matching.match_of(need_id, "offered")
    matching.respond(match["id"], volunteer, "accept")
    matching.act(actions.complete_match, match["id"], 2.5, matching.now)
    db = matching.service.db
    with db.transaction() as session:  # what the relay's purge does after OUTBOX_RETENTION_HOURS
        session.execute(sa.delete(db.outbox))
    facts = reports.load_facts(db, NOW)
    [done] = [m for m in facts.matches if m["id"] == match["id"]]
    assert facts.visit_hours(done) == (2.5, False)
    assert rows_by_first_column(reports.hours_report(facts, PERIOD))["listopad 2026"][:3] == [1, 2.5, 2.5]


def test_the_kept_answers_survive_a_projection_rebuild_and_are_not_replayed(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = matching.need()
    matching.approve(matching.match_of(need_id)["id"])
    match = matching.match_of(need_id, "offered")
    matching.respond(match["id"], volunteer, "accept")
    with matching.service.db.transaction() as session:
        replayed = projection.rebuild(session)
    assert replayed == 3  # VolunteerRegistered, OfferPublished, NeedRegistered — the answer is only kept
    assert match["id"] in reports.load_facts(matching.service.db, NOW).accepted_at


def test_exported_text_never_becomes_a_spreadsheet_formula() -> None:
    table = reports.Table(["Organizacja", "Godziny"], [["=HYPERLINK(\"http://x\")", 1.5], ["KGW Belno", 2.0]])
    rows = list(csv.reader(io.StringIO(reports.to_csv(table).decode("utf-8-sig")), delimiter=";"))
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "1,50"]
    book = load_workbook(io.BytesIO(reports.to_xlsx("t", PERIOD, table, NOW)))
    assert book["Dane"]["A2"].value == "'=HYPERLINK(\"http://x\")" and book["Dane"]["A2"].data_type == "s"
    assert book["Dane"]["B3"].value == 2.0
