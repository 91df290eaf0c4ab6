"""Notify's pages: the ledger with failure alerts and the test inbox (staff), and the provider's answer page
behind a signed link (public: the link is the credential, and its answers stay Polish HTML pages)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from services.notify import ledger
from services.notify.db import sink_messages
from services.notify.links import LinkExpired, LinkInvalid, hide_tokens, read_token
from services.notify.messages import activity_name, category_name, village_name, when
from services.notify.responses import (
    DECLINE_REASONS,
    STEP_BACK_REASONS,
    AlreadyAnswered,
    AlreadySteppedBack,
    find_offer,
    respond,
    step_back,
)
from wspolnota.errors import api_error
from wspolnota.web import current_parts

bp = Blueprint("notify", __name__)

STATUS_PL = {"recorded": "w panelu", "pending": "czeka", "sending": "w trakcie wysyłki", "sent": "wysłane",
             "failed": "nieudane", "cancelled": "anulowane", "skipped": "pominięte (brak adresu)"}
CHANNEL_PL = {"panel": "panel", "email": "e-mail", "sms": "SMS", "webhook": "system CUS"}


class ResponseForm(FlaskForm):
    reason = SelectField("Powód odmowy", default="", choices=[
        SelectChoice("", "— wybierz —"), *(SelectChoice(code, label) for code, label in DECLINE_REASONS.items())])
    accept = SubmitField("Przyjmuję zadanie")
    accept_series = SubmitField("Przyjmuję cały cykl (co tydzień do końca planu)")  # an occurrence of a series
    decline = SubmitField("Nie mogę pomóc")

    def validate_reason(self, field: SelectField) -> None:
        if self.decline.data and not field.data:
            raise ValidationError("Wybierz powód odmowy.")


class StepBackForm(FlaskForm):
    """An accepted visit the provider can no longer make, or the whole series they leave: a reason from the list."""

    reason = SelectField("Powód rezygnacji", default="", choices=[
        SelectChoice("", "— wybierz —"), *(SelectChoice(code, label) for code, label in STEP_BACK_REASONS.items())])
    visit = SubmitField("Nie mogę przyjść")
    series = SubmitField("Rezygnuję z cyklu")

    def validate_reason(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError("Wybierz powód rezygnacji.")


class ActionForm(FlaskForm):
    """A button that changes state: CSRF-protected, nothing else."""


@bp.record_once
def _template_helpers(state: BlueprintSetupState) -> None:
    state.app.add_template_filter(hide_tokens, "hide_tokens")
    state.app.jinja_env.globals.update(STATUS_PL=STATUS_PL, CHANNEL_PL=CHANNEL_PL, category_name=category_name,
                                       village_name=village_name, when=when, activity_name=activity_name)


# -- staff ----------------------------------------------------------------------------------------------------
@bp.get("/")
def index() -> str:
    db = current_parts().db
    return render_template("notify/index.html", notifications=ledger.latest(db, 200),
                           alerts=ledger.open_alerts(db), form=ActionForm())


@bp.post("/nieudane/<notification_id>/ponow")
def retry_failed(notification_id: str) -> Any:
    if not ActionForm().validate_on_submit():
        api_error(400)
    parts = current_parts()
    retried = ledger.retry_failed(parts.db, notification_id, parts.clock())
    flash("Powiadomienie wróciło do kolejki wysyłki." if retried else "To powiadomienie nie czeka na ponowienie.")
    return redirect(url_for("notify.index"))


@bp.post("/nieudane/<notification_id>/zalatwione")
def resolve_failed(notification_id: str) -> Any:
    if not ActionForm().validate_on_submit():
        api_error(400)
    parts = current_parts()
    ledger.resolve_failed(parts.db, notification_id, parts.clock())
    flash("Alert oznaczony jako załatwiony.")
    return redirect(url_for("notify.index"))


@bp.get("/skrzynka")
def test_inbox() -> str:
    with current_parts().db.engine.connect() as conn:
        rows = conn.execute(sa.select(sink_messages).order_by(sink_messages.c.received_at.desc())
                            .limit(200)).mappings().all()
    return render_template("notify/inbox.html", messages=rows)


# -- the provider's signed link (public) ----------------------------------------------------------------------
def _closed(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("notify/response_closed.html", title=title, message=message), status


@bp.route("/o/<token>", methods=["GET", "POST"])
def provider_response(token: str) -> Any:
    parts = current_parts()
    settings = parts.settings
    try:
        claim = read_token(settings.link_secret, token, settings.link_max_age_h * 3600)
    except LinkExpired:
        return _closed("Link wygasł", "Ten link jest już nieważny. Jeśli chcesz pomóc, zadzwoń do CUS.", 410)
    except LinkInvalid:
        return _closed("Nieprawidłowy link", "Tego linku nie rozpoznajemy. Sprawdź, czy został skopiowany "
                                             "w całości.", 404)
    offer = find_offer(parts.db, claim.offer_id)
    if offer is None:
        return _closed("Nieprawidłowy link", "Nie znaleźliśmy tej prośby.", 404)
    if offer.answer is not None:
        return _answered(offer, token)
    closed = offer.closed_message(parts.clock())
    if closed is not None:
        return _closed("Prośba jest już nieaktualna", closed, 410)
    form = ResponseForm()
    if form.validate_on_submit():
        answer = "accept" if form.accept.data or form.accept_series.data else "decline"
        scope = "series" if form.accept_series.data else "visit"
        try:
            respond(parts.db, parts.outbox, offer, answer, form.reason.data or "", now=parts.clock(),  # type: ignore[arg-type]
                    scope=scope)
        except AlreadyAnswered:
            pass
        return redirect(url_for("notify.provider_response", token=token, zapisano=1))
    action = "choose" if "wybor" in request.args else claim.action
    status = 400 if "csrf_token" in form.errors else 422 if form.errors else 200
    return render_template("notify/response.html", offer=offer, form=form, action=action), status


def _answered(offer: Any, token: str) -> Any:
    """The answer already given; for an accepted visit still ahead, the way to step back from it (or from the
    whole series accepted with it)."""
    parts = current_parts()
    now = parts.clock()
    form = StepBackForm(prefix="sb")
    attempted = request.method == "POST" and ("sb-visit" in request.form or "sb-series" in request.form)
    leave_visit, leave_series = offer.may_leave_visit(now), offer.may_leave_series()
    if attempted and (leave_visit or leave_series) and form.validate_on_submit():
        scope = "series" if form.series.data and leave_series else "visit"
        if scope == "visit" and not leave_visit:
            return redirect(url_for("notify.provider_response", token=token))
        try:
            step_back(parts.db, parts.outbox, offer, scope, form.reason.data or "", now=now)  # type: ignore[arg-type]
        except AlreadySteppedBack:
            pass
        return redirect(url_for("notify.provider_response", token=token, zapisano=1))
    status = (400 if "csrf_token" in form.errors else 422 if form.errors else 200) if attempted else 200
    return render_template("notify/response_done.html", offer=offer, answer=offer.answer,
                           again="zapisano" not in request.args, step_form=form, leave_visit=leave_visit,
                           leave_series=leave_series), status
