"""The shared fixed-window counter (wspolnota/ratelimit.py) and the export cells (wspolnota/spreadsheet.py)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from wspolnota import ratelimit, spreadsheet
from wspolnota.db import Database, transport_tables


def service(path: Path) -> tuple[Database, sa.Table]:
    metadata = sa.MetaData()
    outbox, processed = transport_tables(metadata)
    table = ratelimit.windows_table(metadata, "windows")
    db = Database("example", f"sqlite:///{path / 'example.db'}", metadata, outbox, processed)
    metadata.create_all(db.engine)
    return db, table


def test_requests_count_per_key_and_window_and_old_windows_go(tmp_path: Path) -> None:
    db, table = service(tmp_path)
    assert [ratelimit.count_request(db, table, "a", 60, 120.0 + i) for i in range(3)] == [1, 2, 3]
    assert ratelimit.count_request(db, table, "b", 60, 125.0) == 1  # another key counts apart
    assert ratelimit.count_request(db, table, "a", 60, 180.0) == 1  # the next window starts again
    assert ratelimit.count_request(db, table, "a", 60, 300.0) == 1
    with db.engine.connect() as conn:  # windows older than the previous one are gone
        assert sorted(conn.execute(sa.select(table.c.window_start).distinct()).scalars()) == [300]


def test_the_key_column_may_have_another_name(tmp_path: Path) -> None:
    metadata = sa.MetaData()
    outbox, processed = transport_tables(metadata)
    table = ratelimit.windows_table(metadata, "clients", key_column="client_id", key_length=36)
    db = Database("example", f"sqlite:///{tmp_path / 'c.db'}", metadata, outbox, processed)
    metadata.create_all(db.engine)
    assert [ratelimit.count_request(db, table, "client-1", 60, 5.0) for _ in range(2)] == [1, 2]


@given(st.text(max_size=20))
def test_no_cell_starts_a_formula(text: str) -> None:
    cell = spreadsheet.safe_cell(text)
    assert cell[:1] not in spreadsheet.FORMULA_STARTS
    assert cell in (text, "'" + text)


def test_csv_has_a_bom_semicolons_and_keeps_formulas_out() -> None:
    body = spreadsheet.csv_bytes([["a", "b"], ["=SUM(A1)", "zażółć"]])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["a", "b"], ["'=SUM(A1)", "zażółć"]]


def test_xlsx_keeps_formulas_out() -> None:
    book = load_workbook(io.BytesIO(spreadsheet.xlsx_bytes([["x"], ["@cmd"]], "Tytuł", "Arkusz")))
    sheet = book["Arkusz"]
    assert sheet["A2"].value == "'@cmd" and book.properties.title == "Tytuł"
