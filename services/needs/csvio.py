"""CSV files exchanged with a case system that has no API (docs/case-system.md).

Import: every row is checked before anything is stored; one bad row and nothing is imported, and the
report names the row, the column and what is wrong, in Polish. Export: the support delivered in a plan
(visits, hours, provider pseudonym, dates), from what MatchCompleted events told this service.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.needs import caseneeds, handlers, model
from services.needs.caseneeds import PLAN_MISSING
from services.needs.db import need_matches, needs
from wspolnota import reference
from wspolnota.transport.outbox import Outbox

ENCODINGS = ("auto", "utf-8", "cp1250")
MAX_ROWS = 1000
COLUMNS = ("external_id", "plan_ref", "resident_ref", "category", "village", "date", "time_from", "time_to",
           "duration_minutes", "urgency", "slots", "involves_minor", "description")
REQUIRED_COLUMNS = ("plan_ref", "category", "date", "time_from", "time_to", "duration_minutes")
# where a field error of the need's schema belongs in the file
FIELD_COLUMN = {"window_start": "date", "window_end": "time_to", "waived_requirements": "category",
                "requirements": "category", "_schema": "plan_ref"}
PAST = ("minęło", "przeszłości")


@dataclass(frozen=True)
class RowError:
    row: int  # line of the file, the header being line 1
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRejected(Exception):
    """Nothing was imported; `errors` say why, row by row."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


@dataclass
class ImportResult:
    imported: list[str]  # new need ids
    skipped: list[str]  # external ids imported before (re-uploads create no duplicates)
    encoding: str


# --- bytes to text ----------------------------------------------------------------------------------------
def _line_of(raw: bytes, pos: int) -> int:
    return raw[:pos].count(b"\n") + 1


def decode(raw: bytes, choice: str = "auto") -> tuple[str, str]:
    """The file's text and the encoding it was read in: UTF-8 (BOM or not) first, then Windows-1250."""
    if not raw.strip():
        raise ImportRejected([RowError(1, "", "Plik jest pusty.")])
    if b"\x00" in raw:
        raise ImportRejected([RowError(_line_of(raw, raw.index(b"\x00")), "",
                                       "To nie jest plik tekstowy CSV (zawiera bajty zerowe); zapisz arkusz "
                                       "jako CSV.")])
    if choice in ("auto", "utf-8"):
        try:
            return raw.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as err:
            if choice == "utf-8":
                raise ImportRejected([RowError(_line_of(raw, err.start), "", (
                    f"Plik nie jest zapisany w UTF-8 (bajt 0x{raw[err.start]:02X}). Wybierz kodowanie "
                    "Windows-1250 albo zapisz plik jako „CSV UTF-8”."))]) from None
    try:
        text = raw.decode("cp1250")
    except UnicodeDecodeError as err:
        raise ImportRejected([RowError(_line_of(raw, err.start), "", (
            f"Nie można odczytać pliku: bajt 0x{raw[err.start]:02X} nie jest znakiem ani w UTF-8, ani w "
            "Windows-1250. Zapisz plik w Excelu jako „CSV UTF-8” lub „CSV (rozdzielany średnikami)”."))]) from None
    bad = re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        raise ImportRejected([RowError(text[:bad.start()].count("\n") + 1, "",
                                       "Plik zawiera znaki sterujące; to nie wygląda na plik CSV.")])
    return text, "cp1250"


# --- cells to a need body ---------------------------------------------------------------------------------
def _by_name(items: dict[str, dict[str, Any]]) -> dict[str, str]:
    out = {code.lower(): code for code in items}
    out.update({item["name"].lower(): code for code, item in items.items()})
    return out


URGENCY_WORDS = {"": "normal", "normal": "normal", "zwykła": "normal", "zwykla": "normal", "high": "high",
                 "wysoka": "high", "urgent": "urgent", "pilna": "urgent"}
YES = {"tak", "t", "1", "true", "yes", "y", "x"}
NO = {"", "nie", "n", "0", "false", "no"}


def _date(text: str) -> date:
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("Nieprawidłowa data; wpisz DD.MM.RRRR, np. 03.12.2026.")


def _time(text: str) -> time:
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise ValueError("Nieprawidłowa godzina; wpisz GG:MM, np. 09:30.") from None


def _int(text: str) -> int:
    if not re.fullmatch(r"\d{1,5}", text):
        raise ValueError("Wpisz liczbę całkowitą.")
    return int(text)


def row_body(cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The case-system API body one row stands for, and the errors of cells that cannot be read."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {"description": cells.get("description", "")}
    for name in ("external_id", "plan_ref", "resident_ref"):
        if cells.get(name):
            body[name] = cells[name]
    for name in REQUIRED_COLUMNS:
        if not cells.get(name):
            errors[name] = "To pole jest wymagane."
    if cells.get("category"):
        code = _by_name(reference.categories()).get(cells["category"].lower())
        if code is None:
            errors["category"] = f"Nieznana kategoria: {cells['category']}."
        body["category"] = code or cells["category"]
    if cells.get("village"):
        code = _by_name(reference.villages()).get(cells["village"].lower())
        if code is None:
            errors["village"] = f"Nieznana miejscowość: {cells['village']}."
        body["village"] = code or cells["village"]
    urgency = URGENCY_WORDS.get(cells.get("urgency", "").lower())
    if urgency is None:
        errors["urgency"] = "Pilność: zwykła, wysoka albo pilna."
    body["urgency"] = urgency or "normal"
    minor = cells.get("involves_minor", "").lower()
    if minor not in YES | NO:
        errors["involves_minor"] = "Wpisz tak albo nie."
    body["involves_minor"] = minor in YES
    for name in ("duration_minutes", "slots"):
        if cells.get(name):
            try:
                body[name] = _int(cells[name])
            except ValueError as err:
                errors[name] = str(err)
    parsed: dict[str, Any] = {}
    for name, parse in (("date", _date), ("time_from", _time), ("time_to", _time)):
        if cells.get(name):
            try:
                parsed[name] = parse(cells[name])
            except ValueError as err:
                errors[name] = str(err)
    if len(parsed) == 3:
        body["window_start"] = datetime.combine(parsed["date"], parsed["time_from"], model.WARSAW).isoformat()
        body["window_end"] = datetime.combine(parsed["date"], parsed["time_to"], model.WARSAW).isoformat()
    return body, errors


def column_of(field: str, message: str) -> str:
    if field in ("window_start", "window_end") and any(word in message for word in PAST):
        return "date"
    return FIELD_COLUMN.get(field, field)


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return " ".join(_flatten(v) for v in messages.values())
    if isinstance(messages, list):
        return " ".join(_flatten(v) for v in messages)
    return str(messages)


# --- import -------------------------------------------------------------------------------------------------
def read_rows(text: str, max_rows: int = MAX_ROWS) -> list[tuple[int, dict[str, str]]]:
    """(line, cells) of every non-blank row; header problems and too many rows are reported here."""
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRejected([RowError(1, "", "Plik jest pusty.")]) from None
    errors = [RowError(1, h, f"Nieznana kolumna „{h}”.") for h in header if h and h not in COLUMNS]
    errors += [RowError(1, c, f"Brak wymaganej kolumny „{c}”.") for c in REQUIRED_COLUMNS if c not in header]
    if len(set(header)) != len(header):
        errors.append(RowError(1, "", "Nagłówek powtarza nazwę kolumny."))
    if errors:
        raise ImportRejected(errors)
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if any(v.strip() for v in values[len(header):]):  # empty trailing cells (Excel) are harmless
                raise ImportRejected([RowError(reader.line_num, "", (
                    f"Wiersz ma {len(values)} pól, a nagłówek {len(header)}; sprawdź separator i cudzysłowy."))])
            rows.append((reader.line_num, {h: v.strip() for h, v in zip(header, values, strict=False) if h}))
            if len(rows) > max_rows:
                raise ImportRejected([RowError(reader.line_num, "", (
                    f"Za dużo wierszy: najwyżej {max_rows} potrzeb w jednym pliku; podziel plik."))])
    except csv.Error as err:
        raise ImportRejected([RowError(reader.line_num, "", f"Nieprawidłowy CSV: {err}.")]) from None
    if not rows:
        raise ImportRejected([RowError(2, "", "Plik nie zawiera żadnego wiersza z potrzebą.")])
    return rows


def import_needs(session: Session, outbox: Outbox, raw: bytes, origin: str, actor: str, now: datetime,
                 encoding: str = "auto", max_rows: int = MAX_ROWS) -> ImportResult:
    """All rows or none, in the caller's transaction (ImportRejected: the caller rolls back)."""
    text, used = decode(raw, encoding)
    errors: list[RowError] = []
    imported: list[str] = []
    skipped: list[str] = []
    seen: dict[str, int] = {}
    for line, cells in read_rows(text, max_rows):
        body, cell_errors = row_body(cells)
        errors += [RowError(line, column, message) for column, message in cell_errors.items()]
        external_id = body.get("external_id")
        if external_id:
            if external_id in seen:
                errors.append(RowError(line, "external_id", f"Ten identyfikator był już w wierszu {seen[external_id]}."))
                continue
            seen[external_id] = line
        if cell_errors:
            continue
        if external_id and caseneeds.need_by_external_id(session, external_id):
            skipped.append(external_id)  # imported before: a re-upload creates no duplicate
            continue
        try:
            need = caseneeds.create_need(session, outbox, body, origin, actor, now)
        except caseneeds.AlreadyRegistered:  # imported by another upload meanwhile
            skipped.append(str(external_id))
            continue
        except caseneeds.BodyInvalid as err:
            errors += [RowError(line, column_of(field, _flatten(messages)), _flatten(messages))
                       for field, messages in err.messages.items()]
            continue
        imported.append(need["id"])
    if errors:
        raise ImportRejected(errors)
    return ImportResult(imported, skipped, used)


# --- export -------------------------------------------------------------------------------------------------
EXPORT_COLUMNS = ("plan_ref", "need_id", "category", "visit_date", "completed_at", "provider", "visits", "hours")


def provider_pseudonym(volunteer_id: str, key: str) -> str:
    """The same provider always gets the same pseudonym; it cannot be turned back into the id without the key."""
    mac = hmac.new(key.encode(), volunteer_id.encode(), hashlib.sha256).digest()
    return "W-" + base64.b32encode(mac).decode()[:8]


def delivered(session: Session, plan_ref: str, key: str) -> list[dict[str, Any]]:
    """One line per completed visit (match) in the plan, oldest first. NotFound for an unknown plan."""
    known = handlers._package(session, plan_ref) is not None or session.execute(
        sa.select(needs.c.id).where(needs.c.plan_ref == plan_ref).limit(1)).first() is not None
    if not known:
        raise handlers.NotFound(plan_ref, PLAN_MISSING)
    rows = session.execute(
        sa.select(needs.c.plan_ref, needs.c.id, needs.c.category, needs.c.window_start, need_matches.c.updated_at,
                  need_matches.c.volunteer_id, need_matches.c.hours)
        .join(need_matches, need_matches.c.need_id == needs.c.id)
        .where(needs.c.plan_ref == plan_ref, need_matches.c.status == "completed")
        .order_by(needs.c.window_start, need_matches.c.updated_at, need_matches.c.match_id)).all()
    return [{"plan_ref": r.plan_ref, "need_id": r.id, "category": r.category,
             "visit_date": r.window_start.astimezone(model.WARSAW).date().isoformat(),
             "completed_at": r.updated_at.astimezone(model.WARSAW).isoformat(timespec="seconds"),
             "provider": provider_pseudonym(r.volunteer_id, key) if r.volunteer_id else "",
             "visits": 1, "hours": round(float(r.hours), 2)} for r in rows]


def export_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a BOM (Excel then shows Polish letters), `;` between fields, `.` in decimals."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


EXAMPLE = (
    "external_id;plan_ref;resident_ref;category;village;date;time_from;time_to;duration_minutes;urgency;slots;"
    "involves_minor;description\r\n"
    "POM-2026-0001;IPUS/2026/014;M-7K3QXA;ZAK;Zagnańsk;03.12.2026;09:00;12:00;60;zwykła;1;nie;Zakupy w sklepie\r\n"
    "POM-2026-0002;IPUS/2026/015;M-2HJ8PL;TRN;Samsonów;04.12.2026;08:00;13:00;180;wysoka;1;nie;Wizyta w przychodni\r\n"
)
