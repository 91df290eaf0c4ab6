"""Survey answers as CSV and XLSX: one row per response, one column per question (no contact details)."""
from __future__ import annotations

import csv
import io
from typing import Any

from services.community import model
from services.community.labels import village_name


def table(survey: dict[str, Any], responses: list[dict[str, Any]]) -> list[list[Any]]:
    questions = survey["questions"]
    header = ["odpowiedź", "miejscowość", "sposób", "data"] + [f"{q['position']}. {q['text']}" for q in questions]
    rows: list[list[Any]] = [header]
    for number, r in enumerate(responses, start=1):
        row: list[Any] = [number, village_name(r["village"]), model.CHANNEL_PL.get(r["channel"], r["channel"]),
                          r["created_at"].strftime("%Y-%m-%d %H:%M")]
        for q in questions:
            a = r["answers"].get(q["id"])
            if a is None:
                row.append("")
            elif q["kind"] in model.CHOICE_KINDS:
                row.append("; ".join(q["options"][i] for i in a.get("choices") or [] if i < len(q["options"])))
            elif q["kind"] in (model.SCALE, model.NUMBER):
                row.append(a.get("number"))
            else:
                row.append(a.get("text") or "")
        rows.append(row)
    return rows


def _safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula is kept as text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens Polish letters right


def to_xlsx(rows: list[list[Any]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Odpowiedzi"  # type: ignore[union-attr]
    for row in rows:
        sheet.append([_safe(v) for v in row])  # type: ignore[union-attr]
    book.properties.title = title[:200]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
