"""Well-being call series over HTTP (services/needs/calls.py has the rules):

- the internal API (Authorization: Bearer <INTERNAL_SERVICE_TOKEN>): `POST /internal/call-outcomes` (the volunteers
  service sends a volunteer's outcome; the same again answers 200 instead of 201) and
  `GET /internal/call-series/<id>/recipient` (notify's sender asks where an escalation goes, at send time);
- the staff API `GET /api/call-series/attention` (the front door's dashboard: ids, pseudonyms and dates only);
- the staff pages `/rozmowy`: the list, setting a series up, one series (outcomes, counts, a chart, escalations,
  review, extend, end).
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Optional

from services.needs import audit, calls, model
from services.needs.api import db, outbox
from services.needs.concern_pages import check_service_token, field_errors
from services.needs.forms import REQUIRED, MultiCheckboxField, PolishForm, opts
from services.needs.handlers import DuplicateSubmission, Refused
from wspolnota import charts, errors

log = logging.getLogger("services.needs")

internal = Blueprint("needs_calls_internal", __name__, url_prefix="/internal")
api = Blueprint("needs_calls_api", __name__, url_prefix="/api/call-series")
pages = Blueprint("needs_calls", __name__)


# --- the internal API -------------------------------------------------------------------------------------------
@internal.post("/call-outcomes")
def record_outcome():  # type: ignore[no-untyped-def]
    """{match_id, volunteer_id, outcome, minutes?, category? (needs_something), text? (needs_something, worrying)}:
    201 recorded, 200 the same outcome again, 409 not their call / another outcome / too early, 422 field errors."""
    caller = check_service_token()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        errors.api_error(422, "Oczekiwano obiektu JSON.", errors={"json": {"_schema": ["Oczekiwano obiektu JSON."]}})
    problems: dict[str, list[str]] = {}
    for name, message in (("volunteer_id", "Niepoprawny identyfikator wolontariusza."),
                          ("match_id", "Niepoprawny identyfikator rozmowy.")):
        try:
            uuid.UUID(str(body.get(name) or ""))
        except ValueError:
            problems[name] = [message]
    for name in ("text", "category"):
        if body.get(name) is not None and not isinstance(body.get(name), str):
            problems[name] = ["Oczekiwano tekstu."]
    if problems:
        errors.api_error(422, "Niepoprawne dane rozmowy.", errors={"json": problems})
    try:
        with db().transaction() as session:
            done = calls.record_outcome(session, outbox(), match_id=str(body["match_id"]),
                                        volunteer_id=str(body["volunteer_id"]), outcome=body.get("outcome"),
                                        minutes=body.get("minutes"), category=body.get("category"),
                                        text=body.get("text"))
    except errors.Invalid as err:
        return field_errors(err), 422
    except errors.DomainError as err:
        errors.api_error(err.status, err.message)
    log.info("call outcome for match %s through %s (%s)", body["match_id"], caller, "new" if done.created else "again")
    row = done.outcome
    return jsonify({"match_id": row["match_id"], "outcome": row["outcome"], "minutes": row["minutes"],
                    "created": done.created}), 201 if done.created else 200


@internal.get("/call-series/<series_id>/recipient")
def recipient(series_id: str):  # type: ignore[no-untyped-def]
    """Where notify sends an escalation: {"email": the resident's social worker, or "" (then the organiser)}."""
    check_service_token()
    with db().transaction() as session:
        try:
            email = calls.recipient(session, series_id)
        except errors.NotFound:
            errors.api_error(404, "Nie ma takiego cyklu rozmów.")
    return jsonify({"series_id": series_id, "email": email})


# --- the staff API ----------------------------------------------------------------------------------------------
@api.get("/attention")
def attention():  # type: ignore[no-untyped-def]
    """Open escalations and active series past their review date: kind, ids, pseudonym, since (never the purpose)."""
    with db().transaction() as session:
        return jsonify(calls.attention(session))


# --- the staff pages --------------------------------------------------------------------------------------------
class SetUpForm(PolishForm):
    submission_id = HiddenField()
    resident_ref = StringField(_l("Mieszkaniec (pseudonim)"), validators=[InputRequired(_l(REQUIRED))],
                               description=_l("np. M-7K3QXA — bez imienia i nazwiska"))
    plan_ref = StringField(_l("Pakiet wsparcia (numer IPUS)"), validators=[InputRequired(_l(REQUIRED))])
    weekdays = MultiCheckboxField(_l("Dni rozmów"), coerce=int, choices=opts(list(enumerate(model.WEEKDAYS_PL))),
                                  validators=[Optional()])
    time_from = TimeField(_l("Dzwonić od godziny"), validators=[InputRequired(_l(REQUIRED))])
    time_to = TimeField(_l("do godziny"), validators=[InputRequired(_l(REQUIRED))])
    duration_minutes = IntegerField(_l("Czas rozmowy (minuty)"), default=calls.DEFAULT_MINUTES,
                                    validators=[InputRequired(_l(REQUIRED))])
    starts_on = DateField(_l("Pierwszy dzień"), validators=[InputRequired(_l(REQUIRED))])
    until = DateField(_l("Ostatni dzień (najwyżej pół roku)"), validators=[InputRequired(_l(REQUIRED))])
    review_on = DateField(_l("Data przeglądu"), validators=[InputRequired(_l(REQUIRED))])
    purpose = TextAreaField(_l("Czemu mają służyć rozmowy (widoczne tylko w CUS)"),
                            render_kw={"rows": 4, "maxlength": calls.MAX_TEXT})


class ReviewForm(PolishForm):
    until = DateField(_l("Nowy ostatni dzień"), validators=[Optional()])
    review_on = DateField(_l("Następny przegląd"), validators=[Optional()])


class ButtonForm(PolishForm):
    pass


def _put_errors(form: Any, problems: dict[str, Any]) -> None:
    for name, message in problems.items():
        target = getattr(form, name, None)
        text = message if isinstance(message, str) else "; ".join(map(str, message))
        if target is None or not hasattr(target, "errors"):
            form.form_errors.append(text)
        else:
            target.errors = [*list(target.errors or []), text]


@pages.get("/rozmowy")
def series_list():  # type: ignore[no-untyped-def]
    with db().transaction() as session:
        rows = calls.listed(session)
    return render_template("needs/call_series_list.html", rows=rows, status_pl=calls.STATUS_PL)


@pages.route("/rozmowy/nowy", methods=["GET", "POST"])
def set_up():  # type: ignore[no-untyped-def]
    form = SetUpForm()
    if request.method == "GET":
        form.submission_id.data = str(uuid.uuid4())
        form.resident_ref.data = request.args.get("resident_ref", "")[:64]
        form.plan_ref.data = request.args.get("plan_ref", "")[:64]
        return render_template("needs/call_series_form.html", form=form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return render_template("needs/call_series_form.html", form=form), 422
    if not form.weekdays.data:
        form.weekdays.errors = ["Wybierz co najmniej jeden dzień tygodnia."]
        return render_template("needs/call_series_form.html", form=form), 422
    try:
        with db().transaction() as session:
            series_id, rows = calls.set_up(
                session, outbox(), resident_ref=(form.resident_ref.data or "").strip(),
                plan_ref=(form.plan_ref.data or "").strip(), weekdays=form.weekdays.data,
                time_from=form.time_from.data, time_to=form.time_to.data, starts_on=form.starts_on.data,
                until=form.until.data, review_on=form.review_on.data, purpose=form.purpose.data or "",
                duration_minutes=int(form.duration_minutes.data or calls.DEFAULT_MINUTES),
                actor=audit.current_actor(), submission_key=form.submission_id.data or None)
    except errors.Invalid as err:
        _put_errors(form, err.errors)
        return render_template("needs/call_series_form.html", form=form), 422
    except DuplicateSubmission:
        flash("Ten formularz został już wysłany.")
        return redirect(url_for(".series_list"))
    except Refused as err:
        form.form_errors.append(err.message)
        return render_template("needs/call_series_form.html", form=form), 409
    flash(f"Ustawiono cykl rozmów (liczba terminów: {len(rows)}).")
    return redirect(url_for(".series_page", series_id=series_id))


def _series_page(series_id: str, form: ReviewForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    with db().transaction() as session:
        try:
            found = calls.summary(session, series_id, purpose_read_by=audit.current_actor())
        except errors.NotFound:
            abort(404)
    labels = [calls.OUTCOME_PL[c] for c in calls.OUTCOMES]
    chart = charts.columns("call-outcomes", "Wyniki rozmów", labels, [found["counts"][c] for c in calls.OUTCOMES],
                           fmt=lambda v: str(int(v)))
    return render_template("needs/call_series.html", found=found, chart=chart, outcome_pl=calls.OUTCOME_PL,
                           outcomes=calls.OUTCOMES, status_pl=calls.STATUS_PL, review_form=form or ReviewForm(),
                           button=ButtonForm()), status


@pages.get("/rozmowy/<series_id>")
def series_page(series_id: str):  # type: ignore[no-untyped-def]
    return _series_page(series_id)


@pages.post("/rozmowy/<series_id>/przeglad")
def series_review(series_id: str):  # type: ignore[no-untyped-def]
    """"Przejrzano": the next review date; with a new last day too, the series is extended."""
    form = ReviewForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _series_page(series_id, form, 422)
    try:
        with db().transaction() as session:
            if form.until.data:
                rows = calls.extend(session, outbox(), series_id, form.until.data, form.review_on.data,
                                    audit.current_actor())
                message = f"Przedłużono cykl rozmów (liczba nowych terminów: {len(rows)})."
            else:
                calls.review(session, series_id, form.review_on.data, audit.current_actor())
                message = "Zapisano przegląd cyklu rozmów."
    except errors.NotFound:
        abort(404)
    except errors.Invalid as err:
        _put_errors(form, err.errors)
        return _series_page(series_id, form, 422)
    except Refused as err:
        form.form_errors.append(err.message)
        return _series_page(series_id, form, 409)
    flash(message)
    return redirect(url_for(".series_page", series_id=series_id))


@pages.post("/rozmowy/<series_id>/koniec")
def series_end(series_id: str):  # type: ignore[no-untyped-def]
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        with db().transaction() as session:
            cancelled = calls.end(session, outbox(), series_id, audit.current_actor())
    except errors.NotFound:
        abort(404)
    except Refused as err:
        flash(err.message)
        return redirect(url_for(".series_page", series_id=series_id))
    flash(f"Cykl rozmów zakończony (liczba odwołanych terminów: {cancelled}).")
    return redirect(url_for(".series_page", series_id=series_id))


@pages.post("/rozmowy/<series_id>/eskalacje/<escalation_id>/wyjasnione")
def escalation_resolved(series_id: str, escalation_id: str):  # type: ignore[no-untyped-def]
    if not ButtonForm().validate_on_submit():
        abort(400)
    with db().transaction() as session:
        try:
            done = calls.resolve(session, escalation_id, audit.current_actor())
        except errors.NotFound:
            abort(404)
    flash("Zapisano: sprawa wyjaśniona." if done else "Ktoś już to wyjaśnił.")
    return redirect(url_for(".series_page", series_id=series_id))


def install(app: Any, csrf: Any) -> None:
    """Called by app.create_app: the two APIs are CSRF-exempt (a bearer token, a read), the pages are not."""
    for blueprint in (internal, api):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(pages)
