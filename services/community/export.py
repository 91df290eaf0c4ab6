"""Survey answers as CSV and XLSX: one row per response, one column per question (no contact details)."""
from __future__ import annotations

from typing import Any

from services.community import model
from services.community.labels import village_name
from wspolnota import spreadsheet


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


def to_csv(rows: list[list[Any]]) -> bytes:
    return spreadsheet.csv_bytes(rows, lineterminator="\r\n")


def to_xlsx(rows: list[list[Any]], title: str) -> bytes:
    return spreadsheet.xlsx_bytes(rows, title, "Odpowiedzi")
