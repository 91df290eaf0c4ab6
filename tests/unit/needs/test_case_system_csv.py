"""CSV import (all rows or none, row-level report, encodings, size) and the export of delivered support."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest

from services.needs import csvio
from services.needs.model import WARSAW
from tests.unit.needs.conftest import TOMORROW
from tests.unit.needs.test_case_system_api import case_need, headers, new_key, open_package, post_need

DAY = TOMORROW.astimezone(WARSAW).strftime("%d.%m.%Y")
HEADER = "external_id;plan_ref;resident_ref;category;village;date;time_from;time_to;duration_minutes;urgency;description"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


GOOD = csv_text(f"POM-1;IPUS/2026/7;;ZAK;Zagnańsk;{DAY};09:00;12:00;60;zwykła;Zakupy, potem apteka w Kołomaniu",
                f"POM-2;IPUS/2026/8;M-OSOBA02;Transport i towarzyszenie;Samsonów;{DAY};08:00;13:00;120;wysoka;"
                "Przychodnia — Kołomań")


@pytest.fixture
def plan(needs) -> None:  # type: ignore[no-untyped-def]
    open_package(needs)


def upload(needs, raw: bytes, encoding: str = "auto"):  # type: ignore[no-untyped-def]
    """The staff page: take the form's CSRF token, send the file."""
    html = needs.page("/case-system")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html).group(1)
    return needs.client.post("/case-system/import", data={"csrf_token": token, "encoding": encoding,
                                                          "file": (io.BytesIO(raw), "potrzeby.csv")},
                             content_type="multipart/form-data")


def api_import(needs, token: str, raw: bytes, key: str = "plik-1", encoding: str = "auto"):  # type: ignore[no-untyped-def]
    return needs.client.post(f"/api/case-system/imports?encoding={encoding}", data=raw,
                             headers={**headers(token, key), "Content-Type": "text/csv"})


def descriptions(needs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r["village"]: r["description"] for r in needs.rows("needs")}


# --- good files in both encodings ------------------------------------------------------------------------
@pytest.mark.parametrize("encoding, raw", [
    ("UTF-8 with BOM", GOOD.encode("utf-8-sig")),
    ("UTF-8", GOOD.encode("utf-8")),
    ("Windows-1250", GOOD.encode("cp1250")),
])
def test_a_good_file_imports_every_row_with_its_polish_letters_intact(needs, plan, encoding, raw) -> None:  # type: ignore[no-untyped-def]
    response = upload(needs, raw)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Zaimportowano potrzeby: 2" in needs.page("/case-system")
    assert descriptions(needs) == {"zagnansk": "Zakupy, potem apteka w Kołomaniu",
                                   "samsonow": "Przychodnia — Kołomań"}
    by_plan = {r["plan_ref"]: r for r in needs.rows("needs")}
    assert by_plan["IPUS/2026/7"]["resident_ref"] == "M-PLAN07"  # from the plan's package
    assert by_plan["IPUS/2026/8"]["category"] == "TRN" and by_plan["IPUS/2026/8"]["urgency"] == "high"
    assert {r["source"] for r in needs.rows("needs")} == {"case_system"}
    assert len(needs.published("NeedRegistered")) == 2


def test_the_same_file_uploaded_again_creates_no_duplicates(needs, plan) -> None:  # type: ignore[no-untyped-def]
    upload(needs, GOOD.encode("utf-8"))
    again = upload(needs, GOOD.encode("cp1250"))
    assert again.status_code == 302
    assert "Pominięto już zaimportowane: 2" in needs.page("/case-system")
    assert needs.count("needs") == 2 and len(needs.published("NeedRegistered")) == 2


def test_the_api_imports_a_file_and_replays_the_answer_for_the_same_idempotency_key(needs, plan) -> None:  # type: ignore[no-untyped-def]
    token = new_key(needs)
    first = api_import(needs, token, GOOD.encode("cp1250"))
    assert first.status_code == 201 and first.json["imported"] == 2 and first.json["encoding"] == "cp1250"
    again = api_import(needs, token, GOOD.encode("cp1250"))
    assert again.get_data() == first.get_data() and needs.count("needs") == 2
    other_file = api_import(needs, token, GOOD.encode("utf-8"))
    assert other_file.status_code == 409


# --- bad rows: a report, and nothing imported ------------------------------------------------------------
BAD = csv_text(f"POM-1;IPUS/2026/7;;ZAK;Zagnańsk;{DAY};09:00;12:00;60;;dobry wiersz",
               "POM-2;IPUS/2026/7;;ZAKUPY;Zagnańsk;31.02.2026;9-10;12:00;godzina;;zły wiersz",
               f"POM-3;IPUS/2026/7;;ZAK;Kołomań;{DAY};12:00;10:00;60;bardzo;zły wiersz",
               f"POM-1;IPUS/2026/7;;ZAK;Zagnańsk;{DAY};09:00;12:00;60;;powtórzony identyfikator")


def expected_report() -> set[tuple[int, str]]:
    return {(3, "category"), (3, "date"), (3, "time_from"), (3, "duration_minutes"),
            (4, "village"), (4, "urgency"), (5, "external_id")}


def test_a_file_with_bad_rows_imports_nothing_and_the_page_lists_row_column_and_a_polish_message(needs, plan) -> None:  # type: ignore[no-untyped-def]
    response = upload(needs, BAD.encode("cp1250"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nic nie zaimportowano" in html
    cells = set(re.findall(r"<tr><td>(\d+)</td><td>([a-z_]+)</td>", html))
    assert {(int(r), c) for r, c in cells} == expected_report()
    for message in ("Nieznana kategoria: ZAKUPY.", "Nieprawidłowa data; wpisz DD.MM.RRRR",
                    "Nieznana miejscowość: Kołomań.", "Ten identyfikator był już w wierszu 2."):
        assert message in html
    assert needs.count("needs") == 0 and needs.count("outbox") == 1  # only the package's SupportPackageOpened
    assert needs.count("case_system_needs") == 0


def test_the_api_answers_a_bad_file_with_422_and_the_rows_at_fault(needs, plan) -> None:  # type: ignore[no-untyped-def]
    response = api_import(needs, new_key(needs), BAD.encode("utf-8"))
    assert response.status_code == 422
    assert {(e["row"], e["column"]) for e in response.json["errors"]["rows"]} == expected_report()
    assert needs.count("needs") == 0 and needs.count("idempotency_keys") == 0


def test_a_row_the_need_rules_refuse_stops_the_whole_file(needs, plan) -> None:  # type: ignore[no-untyped-def]
    raw = csv_text(f"A-1;IPUS/2026/7;;ZAK;Zagnańsk;{DAY};09:00;12:00;60;;",
                   f"A-2;IPUS/2026/7;;ZAK;Zagnańsk;{DAY};09:00;09:30;60;;okno krótsze niż wizyta",
                   f"A-3;IPUS/2026/7;M-KTOSINNY;ZAK;Zagnańsk;{DAY};09:00;12:00;60;;plan innej osoby",
                   "A-4;IPUS/2026/7;;ZAK;Zagnańsk;01.02.2020;09:00;12:00;60;;dawno temu").encode("utf-8")
    response = api_import(needs, new_key(needs), raw)
    assert {(e["row"], e["column"]) for e in response.json["errors"]["rows"]} == {
        (3, "duration_minutes"), (4, "resident_ref"), (5, "date")}
    assert needs.count("needs") == 0 and len(needs.published("NeedRegistered")) == 0


@pytest.mark.parametrize("text, message", [
    ("plan_ref;category\r\nIPUS/2026/7;ZAK\r\n", "Brak wymaganej kolumny „date”."),
    (HEADER + ";kolor\r\n", "Nieznana kolumna „kolor”."),
    (HEADER + "\r\n;;;;;;;;;;\r\n", "Plik nie zawiera żadnego wiersza z potrzebą."),
    ("", "Plik jest pusty."),
])
def test_a_file_without_the_agreed_columns_or_rows_is_refused(needs, plan, text, message) -> None:  # type: ignore[no-untyped-def]
    response = upload(needs, text.encode("utf-8"))
    assert response.status_code == 422 and message in response.get_data(as_text=True)


# --- encodings, size, row count ---------------------------------------------------------------------------
def test_bytes_that_are_neither_utf8_nor_windows_1250_get_a_clear_polish_error(needs, plan) -> None:  # type: ignore[no-untyped-def]
    raw = GOOD.encode("utf-8").replace("Zagnańsk".encode(), b"Zagna\x98sk")
    response = upload(needs, raw)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "bajt 0x98 nie jest znakiem ani w UTF-8, ani w Windows-1250" in html and "CSV UTF-8" in html
    assert needs.count("needs") == 0


def test_a_windows_1250_file_sent_as_utf8_is_refused_rather_than_garbled(needs, plan) -> None:  # type: ignore[no-untyped-def]
    response = upload(needs, GOOD.encode("cp1250"), encoding="utf-8")
    assert response.status_code == 422
    assert "Plik nie jest zapisany w UTF-8 (bajt 0xF1)" in response.get_data(as_text=True)  # ń in cp1250
    assert needs.count("needs") == 0
    assert upload(needs, GOOD.encode("cp1250"), encoding="cp1250").status_code == 302
    assert descriptions(needs)["zagnansk"] == "Zakupy, potem apteka w Kołomaniu"


def test_a_binary_file_is_not_taken_for_csv(needs, plan) -> None:  # type: ignore[no-untyped-def]
    response = upload(needs, b"PK\x03\x04\x00\x00arkusz.xlsx")
    assert response.status_code == 422 and "bajty zerowe" in response.get_data(as_text=True)


def test_an_oversize_file_gets_a_clear_polish_message_and_nothing_is_read(needs, plan) -> None:  # type: ignore[no-untyped-def]
    raw = GOOD.encode("utf-8") + b"#" * (1024 * 1024)
    page = upload(needs, raw)
    assert page.status_code == 413 and "Plik jest za duży: najwyżej 1 MB" in page.get_data(as_text=True)
    api = api_import(needs, new_key(needs), raw)
    assert api.status_code == 413 and api.json["message"].startswith("Plik jest za duży")
    assert needs.count("needs") == 0


def test_a_file_over_the_row_limit_is_refused_whole(needs, plan) -> None:  # type: ignore[no-untyped-def]
    needs.app.config["CASE_SYSTEM_CSV_MAX_ROWS"] = 3
    rows = [f"L-{i};IPUS/2026/7;;ZAK;Zagnańsk;{DAY};09:00;12:00;60;;" for i in range(4)]
    response = upload(needs, csv_text(*rows).encode("utf-8"))
    assert response.status_code == 422 and "Za dużo wierszy: najwyżej 3" in response.get_data(as_text=True)
    assert needs.count("needs") == 0


def test_decoding_prefers_utf8_and_falls_back_to_windows_1250() -> None:
    assert csvio.decode("Zagnańsk".encode("utf-8-sig")) == ("Zagnańsk", "utf-8")
    assert csvio.decode("Kołomań".encode("cp1250")) == ("Kołomań", "cp1250")
    with pytest.raises(csvio.ImportRejected) as refused:
        csvio.decode(b"a;b\r\nc;\x81\r\n")
    assert refused.value.errors[0].row == 2


# --- export of delivered support ------------------------------------------------------------------------
def read_export(body: bytes) -> list[dict[str, Any]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows Polish letters
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_export_lists_each_completed_visit_with_hours_dates_and_a_provider_pseudonym(needs, plan) -> None:  # type: ignore[no-untyped-def]
    token = new_key(needs)
    first = post_need(needs, token, case_need()).json
    second = post_need(needs, token, case_need(external_id="POM-2", window_start=(TOMORROW + timedelta(days=1)).isoformat(),
                                               window_end=(TOMORROW + timedelta(days=1, hours=4)).isoformat()),
                       key="klucz-2").json
    post_need(needs, token, case_need(external_id="POM-3"), key="klucz-3")  # not delivered yet
    helper, other = "33333333-4444-4555-8666-777777777777", "44444444-5555-4666-8777-888888888888"
    needs.match_event("MatchAccepted", first["id"], "aaaaaaaa-0000-4000-8000-000000000001", volunteer_id=helper)
    needs.match_event("MatchCompleted", first["id"], "aaaaaaaa-0000-4000-8000-000000000001", volunteer_id=helper,
                      hours=1.5)
    needs.match_event("MatchCompleted", second["id"], "aaaaaaaa-0000-4000-8000-000000000002", volunteer_id=other,
                      hours=2.0)

    response = needs.client.get("/api/case-system/delivered?plan_ref=IPUS/2026/7", headers=headers(token, None))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_export(response.get_data())
    assert [(r["need_id"], r["visits"], r["hours"]) for r in rows] == [(first["id"], "1", "1.5"),
                                                                      (second["id"], "1", "2.0")]
    assert rows[0]["visit_date"] == TOMORROW.astimezone(WARSAW).date().isoformat()
    assert rows[0]["completed_at"] and rows[0]["plan_ref"] == "IPUS/2026/7" and rows[0]["category"] == "ZAK"
    assert re.fullmatch(r"W-[A-Z2-7]{8}", rows[0]["provider"]) and rows[0]["provider"] != rows[1]["provider"]
    assert helper not in response.get_data(as_text=True)
    assert csvio.provider_pseudonym(helper, "klucz") == csvio.provider_pseudonym(helper, "klucz")  # stable

    staff = needs.client.get("/case-system/delivered.csv?plan_ref=IPUS/2026/7")
    assert staff.status_code == 200 and read_export(staff.get_data()) == rows
    assert "attachment" in staff.headers["Content-Disposition"]
    assert 'href="/case-system/delivered.csv?plan_ref=IPUS/2026/7"' in needs.page("/case-system")


def test_an_unknown_plan_has_nothing_to_export(needs) -> None:  # type: ignore[no-untyped-def]
    token = new_key(needs)
    assert needs.client.get("/api/case-system/delivered?plan_ref=IPUS/NIE/MA",
                            headers=headers(token, None)).status_code == 404
    assert needs.client.get("/api/case-system/delivered", headers=headers(token, None)).status_code == 422


def test_the_example_file_offered_on_the_page_follows_the_documented_columns(needs) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/static/case-system-example.csv"' in needs.page("/case-system")
    raw = needs.client.get("/static/case-system-example.csv").get_data()
    text, used = csvio.decode(raw)
    rows = csvio.read_rows(text)
    assert used == "utf-8" and len(rows) == 2
    assert [csvio.row_body(cells)[1] for _, cells in rows] == [{}, {}]  # every cell readable
    assert csvio.row_body(rows[0][1])[0]["village"] == "zagnansk"


def test_a_plan_known_only_from_imported_needs_can_be_exported_from_the_page(needs, plan) -> None:  # type: ignore[no-untyped-def]
    upload(needs, GOOD.encode("utf-8"))  # POM-2 cites IPUS/2026/8, which has no package here
    page = needs.page("/case-system")
    assert 'href="/case-system/delivered.csv?plan_ref=IPUS/2026/8"' in page and "bez pakietu w CUS" in page
    assert needs.client.get("/case-system/delivered.csv?plan_ref=IPUS/2026/8").status_code == 200


def test_a_known_row_whose_cells_went_bad_is_still_reported(needs, plan) -> None:  # type: ignore[no-untyped-def]
    upload(needs, GOOD.encode("utf-8"))
    broken = GOOD.replace(f"{DAY};09:00", "wczoraj;09:00")
    response = upload(needs, broken.encode("utf-8"))
    assert response.status_code == 422 and "Nieprawidłowa data" in response.get_data(as_text=True)
    assert needs.count("needs") == 2


def test_empty_trailing_cells_are_harmless_but_values_beyond_the_header_are_not(needs, plan) -> None:  # type: ignore[no-untyped-def]
    row = f"POM-1;IPUS/2026/7;;ZAK;Zagnańsk;{DAY};09:00;12:00;60;;Zakupy"
    assert upload(needs, csv_text(row + ";;;").encode("cp1250")).status_code == 302
    refused = upload(needs, csv_text(row.replace("POM-1", "POM-9") + ";nadmiarowa").encode("cp1250"))
    assert refused.status_code == 422 and "sprawdź separator" in refused.get_data(as_text=True)
    assert needs.count("needs") == 1
