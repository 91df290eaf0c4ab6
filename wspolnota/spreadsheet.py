"""CSV and XLSX exports the way a Polish spreadsheet opens them, safe against formula injection.

Every service's exports (survey answers, hours, reports) go through here: semicolons, a UTF-8 BOM so Excel reads
Polish letters, and text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) kept as text.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; anything else stays as it is."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_bytes(rows: Iterable[Iterable[Any]], cell: Callable[[Any], Any] = safe_cell,
              lineterminator: str = "\r\n") -> bytes:
    """Rows as CSV with semicolons and a BOM; `cell` formats each value (it must keep formulas out)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator=lineterminator)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Iterable[Iterable[Any]], title: str, sheet_title: str,
               date_columns: Iterable[int] = ()) -> bytes:
    """Rows as one XLSX sheet (formulas kept out); `date_columns` (0-based) shown as YYYY-MM-DD."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title  # type: ignore[union-attr]
    for row in rows:
        sheet.append([safe_cell(v) for v in row])  # type: ignore[union-attr]
    for column in date_columns:
        for cells in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):  # type: ignore[union-attr]
            for c in cells:
                c.number_format = "yyyy-mm-dd"
    book.properties.title = title[:200]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
