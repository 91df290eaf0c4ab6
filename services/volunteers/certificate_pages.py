"""Hours by month on the provider's card, the certificate of volunteering (PDF) and the hours export (CSV, XLSX):
the staff pages and their API (certificates.py has the rules).

The card's hours section shows the chosen year (`?rok=2026`) as a chart with a table beside it, and one period
form with a button per document: each posts to its own URL, answers with the file, or shows the card again with
the Polish errors beside the form (422).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, request
from flask.views import MethodView
from flask_babel import gettext
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy.orm import Session

from services.volunteers import certificates, forms, schemas, signed_in
from services.volunteers.hours_view import PeriodForm
from services.volunteers.pages import rerender_profile
from services.volunteers.schemas import Day, one_of
from wspolnota import errors
from wspolnota.auth import current_user
from wspolnota.web import current_parts

MEDIA = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

bp = Blueprint("certificates", __name__)


class Period(schemas.PolishSchema):
    since = Day(required=True, metadata={"description": "first day of the period (Europe/Warsaw), included"})
    until = Day(required=True, metadata={"description": "last day of the period, included; not after today"})


class ExportQuery(Period):
    format = schemas.Str(load_default="csv", validate=one_of(["csv", "xlsx"]))


# --- the documents ------------------------------------------------------------------------------------------
def download(body: bytes, kind: str, name: str) -> Response:
    return Response(body, mimetype=MEDIA[kind], headers={
        "Content-Disposition": f'attachment; filename="{name}.{kind}"', "Cache-Control": "no-store"})


def issuer_name() -> str:
    """The name printed under "Wystawił(a)": the signed-in staff member's own name."""
    user = current_user()
    return str(user["name"]) if user else signed_in.staff_actor()


def make_certificate(session: Session, provider_id: str, since: date, until: date) -> bytes:
    return certificates.certificate_pdf(session, provider_id, since, until, issuer_name(),
                                        actor=signed_in.staff_actor(), settings=signed_in.settings(),
                                        issued_on=signed_in.today())


def make_export(session: Session, provider_id: str, since: date, until: date, kind: str) -> bytes:
    rows = certificates.export_rows(session, provider_id, since, until, signed_in.staff_actor(), kind.upper(),
                                    signed_in.today())
    return certificates.to_csv(rows) if kind == "csv" else certificates.to_xlsx(rows, "Godziny wolontariatu")


def file_name(kind: str, provider_id: str, since: date, until: date) -> str:
    what = "zaswiadczenie-wolontariat" if kind == "pdf" else "godziny"
    return f"{what}-{provider_id[:8]}-{since:%Y%m%d}-{until:%Y%m%d}"


def period_post(volunteer_id: str, kind: str):  # type: ignore[no-untyped-def]
    """One period form, one document: the file, or the card again with the errors beside the form."""
    form = PeriodForm()
    if form.validate_on_submit():
        data = forms.load(Period(), form)
        if data is not None:
            try:
                with current_parts().db.transaction() as session:
                    if kind == "pdf":
                        body = make_certificate(session, volunteer_id, data["since"], data["until"])
                    else:
                        body = make_export(session, volunteer_id, data["since"], data["until"], kind)
            except errors.NotFound:
                abort(404)
            except errors.Invalid as err:
                forms.apply_errors(form, err.errors)
            except errors.DomainError as err:  # refused (not a volunteer, no hours), or the font is missing
                form.form_errors.append(err.message)
            else:
                return download(body, kind, file_name(kind, volunteer_id, data["since"], data["until"]))
    flash(gettext("Nie przygotowano dokumentu — komunikat jest przy formularzu okresu."), "error")
    return rerender_profile(volunteer_id, period_form=form)


@bp.post("/wykonawcy/<volunteer_id>/zaswiadczenie")
def certificate(volunteer_id):  # type: ignore[no-untyped-def]
    """The certificate of volunteering for the chosen period (PDF), audited."""
    return period_post(volunteer_id, "pdf")


@bp.post("/wykonawcy/<volunteer_id>/godziny/eksport")
def hours_export(volunteer_id):  # type: ignore[no-untyped-def]
    """The ledger's entries of the chosen period as CSV or XLSX (the button's `format`), audited."""
    kind = request.form.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        abort(400)
    return period_post(volunteer_id, kind)


# --- the API ------------------------------------------------------------------------------------------------
api = ApiBlueprint("certificates_api", __name__, url_prefix="/api/volunteers",
                   description="Zaświadczenie o wolontariacie (PDF) i eksport godzin (CSV, XLSX); każde wydanie "
                               "jest rejestrowane.")


def api_run(use_case: Any, *args: Any) -> Any:
    try:
        with current_parts().db.transaction() as session:
            return use_case(session, *args)
    except errors.DomainError as err:
        errors.api_error(err.status, **err.answer())


@api.route("/<volunteer_id>/certificate")
class CertificateDocument(MethodView):
    @api.arguments(Period, location="query")
    @api.response(200, description="application/pdf: the certificate, issued by the signed-in account")
    @api.alt_response(409, description="not a volunteer (paid neighbour, organisation, staff), data erased, "
                                       "or no hours in the period")
    @api.alt_response(503, description="the PDF font (DejaVu Sans, CERTIFICATE_FONT_DIR) is not installed")
    def get(self, args, volunteer_id):  # type: ignore[no-untyped-def]
        """The certificate of volunteering (art. 44) for a period: scope of the work, hours, visits and
        activities. Audited as `certificate_issued`."""
        body = api_run(make_certificate, volunteer_id, args["since"], args["until"])
        return download(body, "pdf", file_name("pdf", volunteer_id, args["since"], args["until"]))


@api.route("/<volunteer_id>/hours/export")
class HoursExport(MethodView):
    @api.arguments(ExportQuery, location="query")
    @api.response(200, description="text/csv (semicolons, decimal commas) or XLSX: date, kind, scope, hours, "
                                   "visit or activity id")
    def get(self, args, volunteer_id):  # type: ignore[no-untyped-def]
        """The provider's ledger entries in a period, for programmes such as Korpus Solidarności. Audited as
        `hours_exported`."""
        kind = args["format"]
        body = api_run(make_export, volunteer_id, args["since"], args["until"], kind)
        return download(body, kind, file_name(kind, volunteer_id, args["since"], args["until"]))
