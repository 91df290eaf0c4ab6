"""The staff page of the case-system exchange (`/case-system`, sign-in as usual): import a CSV file, download
what a plan delivered, and (administrators) add or revoke the case system's API keys."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from services.needs import apikeys, audit, caseapi, csvio, forms
from services.needs.db import api_clients, case_system_needs, needs, support_packages
from wspolnota.web import current_parts


class ImportForm(forms.PolishForm):
    file = FileField(_l("Plik CSV z potrzebami"))
    encoding = SelectField(_l("Kodowanie znaków"), default="auto", choices=forms.opts([
        ("auto", _l("wykryj (UTF-8, a gdy nie pasuje — Windows-1250)")), ("utf-8", "UTF-8"),
        ("cp1250", _l("Windows-1250 (Excel, „CSV rozdzielany średnikami”)"))]))


class ClientForm(forms.PolishForm):
    name = StringField(_l("Nazwa klienta"), validators=[InputRequired(_l("To pole jest wymagane.")), Length(max=100)])
    scopes = forms.MultiCheckboxField(_l("Uprawnienia"), validators=[InputRequired(_l("Wybierz co najmniej jedno."))],
                                      choices=forms.opts([(apikeys.NEEDS_WRITE, _l("needs:write — zapis potrzeb")),
                                                          (apikeys.NEEDS_READ, _l("needs:read — odczyt potrzeb")),
                                                          (apikeys.EXPORTS_READ, _l("exports:read — eksport"))]))
    rate_limit = IntegerField(_l("Limit żądań na minutę"), default=apikeys.DEFAULT_RATE_LIMIT,
                              validators=[InputRequired(_l("To pole jest wymagane.")), NumberRange(min=1, max=10_000)])


def may_manage_keys() -> bool:
    from wspolnota.access import ADMIN
    from wspolnota.auth import auth_disabled, current_user

    user = current_user()
    return auth_disabled(current_app) or bool(user and user["role"] == ADMIN)


pages = Blueprint("case_system", __name__)


def hub(form: ImportForm | None = None, status: int = 200, report: list[csvio.RowError] | None = None,
        form_error: str = "", client_form: ClientForm | None = None, new_token: str = "") -> Any:
    with current_parts().db.engine.connect() as conn:
        plans = list(conn.execute(sa.select(support_packages.c.plan_ref, support_packages.c.resident_ref,
                                            support_packages.c.status)
                                  .order_by(support_packages.c.opened_at.desc())).mappings())
        # plans the case system cited without a package here still have deliveries to export
        plans += conn.execute(sa.select(needs.c.plan_ref, sa.func.min(needs.c.resident_ref).label("resident_ref"),
                                        sa.literal("").label("status"))
                              .join(case_system_needs, case_system_needs.c.need_id == needs.c.id)
                              .where(needs.c.plan_ref.not_in(sa.select(support_packages.c.plan_ref)))
                              .group_by(needs.c.plan_ref).order_by(needs.c.plan_ref)).mappings().all()
        clients = conn.execute(sa.select(api_clients.c.name, api_clients.c.key_prefix, api_clients.c.scopes,
                                         api_clients.c.rate_limit_per_minute, api_clients.c.revoked_at,
                                         api_clients.c.last_used_at)
                               .order_by(api_clients.c.created_at)).mappings().all()
    html = render_template(
        "needs/case_system.html", form=form or ImportForm(formdata=None), plans=plans, clients=clients,
        report=report, form_error=form_error, columns=csvio.COLUMNS, required=csvio.REQUIRED_COLUMNS,
        max_rows=int(caseapi.setting("CASE_SYSTEM_CSV_MAX_ROWS")),
        client_form=client_form or ClientForm(formdata=None), revoke_form=forms.PolishForm(formdata=None),
        may_manage_keys=may_manage_keys(), new_token=new_token)
    return Response(html, status, headers={"Cache-Control": "no-store"} if new_token else {})


@pages.get("/case-system")
def case_system():  # type: ignore[no-untyped-def]
    return hub(ImportForm())


@pages.post("/case-system/import")
def import_csv():  # type: ignore[no-untyped-def]
    form = ImportForm()
    if not form.validate_on_submit():
        return hub(form, 400 if form.csrf_token.errors else 422)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [_("Wybierz plik CSV.")]
        return hub(form, 422)
    raw = upload.read()
    who = audit.current_actor()
    try:
        with current_parts().db.transaction() as session:
            result = caseapi.run_import(session, raw, form.encoding.data, f"csv: {who}", who)
    except csvio.ImportRejected as err:
        return hub(form, 422, report=err.errors)
    flash(_("Zaimportowano potrzeby: %(n)s. Pominięto już zaimportowane: %(s)s.",
            n=len(result.imported), s=len(result.skipped)))
    return redirect(url_for("case_system.case_system"))


@pages.get("/case-system/delivered.csv")
def delivered_csv():  # type: ignore[no-untyped-def]
    return caseapi.delivered_response(request.args.get("plan_ref", ""))


@pages.errorhandler(RequestEntityTooLarge)
def _too_large(_err):  # type: ignore[no-untyped-def]
    return hub(status=413, form_error=_(caseapi.TOO_LARGE))


@pages.post("/case-system/clients")
def add_client():  # type: ignore[no-untyped-def]
    """Admin only (wspolnota/access.py): a new key, shown on this one answer and never again."""
    form = ClientForm()
    if not form.validate_on_submit():
        return hub(status=422, client_form=form)
    try:
        with current_parts().db.transaction() as session:
            row, token = apikeys.add_client(session, form.name.data or "", form.scopes.data or [],
                                            form.rate_limit.data or apikeys.DEFAULT_RATE_LIMIT)
            audit.record(session, "create", "api_client", row["name"][:64], ["scopes", "rate_limit"])
    except apikeys.KeyCommandError:
        form.name.errors = [_("Klient o tej nazwie już istnieje albo nazwa jest za długa.")]
        return hub(status=422, client_form=form)
    return hub(status=201, new_token=token)


@pages.post("/case-system/clients/<name>/revoke")
def revoke_client(name: str):  # type: ignore[no-untyped-def]
    form = forms.PolishForm()
    if not form.validate_on_submit():
        return hub(status=400)
    try:
        with current_parts().db.transaction() as session:
            apikeys.revoke_client(session, name)
            audit.record(session, "update", "api_client", name[:64], ["revoked_at"])
    except apikeys.KeyCommandError:
        abort(404)
    flash(_("Unieważniono klucz API klienta %(name)s.", name=name))
    return redirect(url_for("case_system.case_system"))
