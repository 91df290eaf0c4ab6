"""The certificate of volunteering (zaświadczenie, art. 44 of the act on public benefit and volunteering) and the
hours export, both from the hours ledger (hours.py) for a period the staff member chooses.

Only providers of type `volunteer` get a certificate: art. 44 speaks of volunteers, who work unpaid under an
agreement with the centre. A paid neighbour (usługi sąsiedzkie) is paid under the social assistance act, a partner
organisation is not a person, and a member of staff works under employment: their hours are not volunteering.
Every certificate and every export is a read of personal data and leaves an entry in the audit log.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from contracts.volunteers import VOLUNTEER
from services.volunteers import handlers, hours
from services.volunteers.settings import Settings
from wspolnota import errors, localtime, spreadsheet

EARLIEST = date(2000, 1, 1)
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
CERTIFICATE_ISSUED, HOURS_EXPORTED = "certificate_issued", "hours_exported"

NOT_A_VOLUNTEER = ("Zaświadczenie o wykonywaniu świadczeń wydaje się tylko wolontariuszom — nie opiekunom "
                   "sąsiedzkim, organizacjom partnerskim ani pracownikom.")
ERASED = "Dane osobowe tego wykonawcy usunięto — nie można wystawić dokumentu z jego nazwiskiem."
NO_HOURS = "W wybranym okresie nie ma zapisanych godzin — zaświadczenie nie miałoby czego poświadczyć."
KIND_PL = {hours.VISIT: "wizyta u mieszkańca", hours.ACTIVITY: "zajęcia w społeczności lokalnej"}


class FontMissing(errors.DomainError):
    """The PDF cannot be made: the TrueType font with Polish letters is not installed."""

    status = 503


def period_errors(since: date | None, until: date | None, today: date) -> dict[str, str]:
    """What is wrong with a period (field → Polish message): both ends given, in order, not in the future."""
    problems: dict[str, str] = {}
    if since is None:
        problems["since"] = "Podaj pierwszy dzień okresu."
    if until is None:
        problems["until"] = "Podaj ostatni dzień okresu."
    if since is None or until is None:
        return problems
    if since < EARLIEST:
        problems["since"] = f"Okres może zaczynać się najwcześniej {EARLIEST:%d.%m.%Y}."
    if until > today:
        problems["until"] = f"Okres nie może kończyć się w przyszłości (dziś jest {today:%d.%m.%Y})."
    if since > until:
        problems["since"] = "Pierwszy dzień okresu nie może być późniejszy niż ostatni."
    return problems


def check_period(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    problems = period_errors(since, until, today)
    if problems:
        raise errors.Invalid(problems)
    assert since is not None and until is not None
    return since, until


def number_pl(value: float) -> str:
    """Hours the Polish way: 12,5 — 0,75 — 3."""
    return f"{round(value, 2):g}".replace(".", ",")


def period_pl(since: date, until: date) -> str:
    return f"od {since:%d.%m.%Y} r. do {until:%d.%m.%Y} r."


@dataclass(frozen=True)
class Certificate:
    """What the certificate says (the PDF is only its layout)."""

    centre_name: str
    centre_address: str
    place: str
    issued_on: date
    issued_by: str
    volunteer_name: str
    since: date
    until: date
    scope: list[dict[str, Any]]
    hours: float
    visits: int
    activities: int


def certificate(session: Session, provider_id: str, since: date, until: date, issued_by: str, *,
                settings: Settings, issued_on: date) -> Certificate:
    """The certificate's content, or NotFound / Invalid (the period) / Refused (not a volunteer, erased, no hours)."""
    provider = handlers.get_volunteer(session, provider_id)
    since, until = check_period(since, until, issued_on)
    if provider["provider_type"] != VOLUNTEER:
        raise errors.Refused(NOT_A_VOLUNTEER)
    if provider["erased_at"] is not None:
        raise errors.Refused(ERASED)
    entries = hours.between(session, provider_id, since, until)
    if not entries:
        raise errors.Refused(NO_HOURS)
    return Certificate(
        centre_name=settings.centre_name, centre_address=settings.centre_address, place=settings.centre_place,
        issued_on=issued_on, issued_by=issued_by, volunteer_name=provider["name"], since=since, until=until,
        scope=hours.scope(entries), hours=round(sum(e["hours"] for e in entries), 2),
        visits=len([e for e in entries if e["source"] == hours.VISIT]),
        activities=len([e for e in entries if e["source"] == hours.ACTIVITY]))


def certificate_pdf(session: Session, provider_id: str, since: date, until: date, issued_by: str, *,
                    actor: str | None = None, settings: Settings | None = None,
                    issued_on: date | None = None) -> bytes:
    """The certificate of volunteering as a PDF, issued today (Warsaw) by `issued_by` (the name printed under
    "Wystawił(a)"); the issue is audited in the name of `actor` (default: `issued_by`). For the staff pages and,
    later, the volunteer's own pages."""
    given = settings or _settings()
    content = certificate(session, provider_id, since, until, issued_by, settings=given,
                          issued_on=issued_on or localtime.today())
    pdf = render_pdf(content, Path(given.certificate_font_dir))
    handlers.audit(session, actor or issued_by, CERTIFICATE_ISSUED, provider_id,
                   f"zaświadczenie o wolontariacie za okres {content.since:%d.%m.%Y}–{content.until:%d.%m.%Y}")
    return pdf


def _settings() -> Settings:
    from flask import has_app_context

    if has_app_context():
        from wspolnota.web import current_parts

        given: Settings = current_parts().settings
        return given
    return Settings.from_config()


def font_paths(font_dir: Path) -> tuple[Path, Path]:
    regular, bold = (font_dir / name for name in FONT_FILES)
    missing = [str(p) for p in (regular, bold) if not p.is_file()]
    if missing:
        raise FontMissing(
            "Nie można utworzyć pliku PDF: brak czcionki DejaVu Sans z polskimi literami "
            f"({', '.join(missing)}). Administrator: zainstaluj pakiet fonts-dejavu-core albo wskaż katalog "
            "z czcionkami w CERTIFICATE_FONT_DIR.")
    return regular, bold


def render_pdf(c: Certificate, font_dir: Path) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    regular, bold = font_paths(font_dir)
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_title(f"Zaświadczenie o wykonywaniu świadczeń — {c.volunteer_name}")
    pdf.set_author(c.centre_name)
    pdf.set_creator("Wspólnota")
    pdf.set_lang("pl")
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float = 11, style: str = "", align: str = "L", height: float = 6) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(c.centre_name, 12, "B")
    line(c.centre_address, 10)
    line(f"{c.place}, dnia {c.issued_on:%d.%m.%Y} r.", 10, align="R")
    pdf.ln(12)
    line("ZAŚWIADCZENIE", 16, "B", "C", 8)
    line("o wykonywaniu świadczeń przez wolontariusza", 12, "B", "C")
    line("(art. 44 ustawy z dnia 24 kwietnia 2003 r. o działalności pożytku publicznego i o wolontariacie)",
         9, align="C", height=5)
    pdf.ln(8)
    line(f"{c.centre_name} zaświadcza, że")
    pdf.ln(2)
    line(c.volunteer_name, 13, "B", "C", 8)
    pdf.ln(2)
    line(f"w okresie {period_pl(c.since, c.until)} wykonywał(a) na rzecz naszej jednostki świadczenia "
         "wolontariusza w następującym zakresie:")
    pdf.ln(3)
    _scope_table(pdf, c, width)
    pdf.ln(4)
    line(f"Łączna liczba godzin świadczeń w tym okresie: {number_pl(c.hours)}.", style="B")
    line(f"Liczba wizyt u mieszkańców: {c.visits}; liczba zajęć w społeczności lokalnej: {c.activities}.")
    pdf.ln(4)
    line("Zaświadczenie wydano na prośbę wolontariusza.", 10)
    pdf.ln(16)
    pdf.set_font("DejaVu", "", 10)
    half = width / 2
    pdf.set_x(pdf.l_margin + half)
    pdf.cell(half, 5, "......................................................", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + half)
    pdf.multi_cell(half, 5, f"Wystawił(a): {c.issued_by}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + half)
    pdf.cell(half, 5, "(podpis i pieczęć)", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _scope_table(pdf: Any, c: Certificate, width: float) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font("DejaVu", "", 10)
    heading = FontFace(emphasis="BOLD")
    with pdf.table(width=width, col_widths=(60, 30, 15, 15), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT"),
                   headings_style=heading, line_height=6) as table:
        table.row(["Rodzaj pomocy", "Forma", "Liczba", "Godziny"])
        for s in c.scope:
            table.row([s["scope"][:1].upper() + s["scope"][1:], hours.SOURCE_PL[s["source"]], str(s["count"]), number_pl(s["hours"])])


# --- the hours export ---------------------------------------------------------------------------------------
EXPORT_HEADER = ["data", "rodzaj", "zakres", "godziny", "nr wizyty lub zajęć"]


def export_rows(session: Session, provider_id: str, since: date, until: date, actor: str, what: str,
                today: date) -> list[list[Any]]:
    """The ledger's entries of one provider in a period, one row each (date, kind, scope, hours, source id),
    with a header; audited as a read of personal data."""
    handlers.get_volunteer(session, provider_id)
    since, until = check_period(since, until, today)
    rows: list[list[Any]] = [list(EXPORT_HEADER)]
    for e in hours.between(session, provider_id, since, until):
        rows.append([e["on_date"], KIND_PL[e["source"]], e["scope"], e["hours"], e["source_id"]])
    handlers.audit(session, actor, HOURS_EXPORTED, provider_id,
                   f"eksport godzin ({what}) za okres {since:%d.%m.%Y}–{until:%d.%m.%Y}")
    return rows


def _cell(value: Any) -> Any:
    """Decimal commas and dates as YYYY-MM-DD: Excel in Polish opens it as it is."""
    return number_pl(value) if isinstance(value, float) else value.isoformat() if isinstance(value, date) \
        else spreadsheet.safe_cell(value)


def to_csv(rows: list[list[Any]]) -> bytes:
    return spreadsheet.csv_bytes(rows, _cell)


def to_xlsx(rows: list[list[Any]], title: str) -> bytes:
    return spreadsheet.xlsx_bytes(rows, title, "Godziny", date_columns=(0,))

