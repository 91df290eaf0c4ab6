"""Concerns over HTTP (services/needs/concerns.py has the rules):

- the internal API (Authorization: Bearer <INTERNAL_SERVICE_TOKEN>): `POST /internal/concerns` (the volunteers
  service sends a volunteer's report; the same id again answers the first report, 200 instead of 201) and
  `GET /internal/concerns/<id>/recipient` (notify's sender asks where the message goes, at send time);
- the staff API `GET /api/concerns` (the front door's dashboard: ids, pseudonyms and times, never the text);
- the staff pages: the list, one concern (its text: an audited read) with "Przyjmuję", the phone intake form and
  the resident's assigned social worker.
"""
from __future__ import annotations

import hmac
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from services.needs import audit, clock, concerns
from services.needs.api import db, outbox
from services.needs.db import residents
from services.needs.handlers import Refused
from wspolnota import errors

log = logging.getLogger("services.needs")

internal = Blueprint("needs_concerns_internal", __name__, url_prefix="/internal/concerns")
api = Blueprint("needs_concerns_api", __name__, url_prefix="/api/concerns")
pages = Blueprint("needs_concerns", __name__)


# --- the internal API -------------------------------------------------------------------------------------
def check_service_token() -> str:
    expected = current_app.config.get("INTERNAL_SERVICE_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        log.warning("internal concerns API: refused a request without a valid service token")
        errors.api_error(401, "Wymagany token usługi.")
    return request.headers.get("X-Service-Name", "service")[:50]


def field_errors(err: errors.DomainError) -> Any:
    return jsonify({"code": err.status, "status": "Unprocessable Entity", "message": err.message or "",
                    "errors": {"json": {k: v if isinstance(v, list) else [v] for k, v in err.errors.items()}}})


@internal.post("")
def report():  # type: ignore[no-untyped-def]
    """A volunteer's concern: {id (uuid, the form's), text, urgent?, volunteer_id, match_id?}. 201 stored,
    200 the same report again, 409 not their visit or the id used for another text, 422 field errors."""
    caller = check_service_token()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        errors.api_error(422, "Oczekiwano obiektu JSON.", errors={"json": {"_schema": ["Oczekiwano obiektu JSON."]}})
    volunteer_id = str(body.get("volunteer_id") or "")
    problems: dict[str, list[str]] = {}
    try:
        uuid.UUID(volunteer_id)
    except ValueError:
        problems["volunteer_id"] = ["Niepoprawny identyfikator wolontariusza."]
    match_id = body.get("match_id") or None
    if match_id is not None and (not isinstance(match_id, str) or len(match_id) > 36):
        problems["match_id"] = ["Niepoprawny identyfikator wizyty."]
    urgent = body.get("urgent", True)
    if not isinstance(urgent, bool):
        problems["urgent"] = ["Pole urgent przyjmuje true albo false."]
    if not isinstance(body.get("text", ""), str):
        problems["text"] = [concerns.TEXT_EMPTY]
    kind = body.get("kind", "concern")
    if kind not in concerns.KINDS:
        problems["kind"] = [concerns.BAD_KIND]
    if problems:
        errors.api_error(422, "Niepoprawne dane zgłoszenia.", errors={"json": problems})
    try:
        with db().transaction() as session:
            done = concerns.report(session, outbox(), concern_id=str(body.get("id") or ""), text=body.get("text"),
                                   reported_by=concerns.VOLUNTEER_ACTOR + volunteer_id, channel="volunteer_space",
                                   urgent=urgent, match_id=match_id, volunteer_id=volunteer_id, kind=kind)
    except errors.Invalid as err:
        return field_errors(err), 422
    except errors.DomainError as err:
        errors.api_error(err.status, err.message)
    log.info("concern %s reported through %s (%s)", done.concern["id"], caller, "new" if done.created else "again")
    return jsonify({"id": done.concern["id"], "created": done.created}), 201 if done.created else 200


@internal.get("/<concern_id>/recipient")
def recipient(concern_id: str):  # type: ignore[no-untyped-def]
    """Where notify sends the message: {"email": the resident's social worker, or "" (then the organiser)}."""
    check_service_token()
    with db().transaction() as session:
        try:
            email = concerns.recipient(session, concern_id)
        except errors.NotFound:
            errors.api_error(404, "Nie ma takiego zgłoszenia.")
    return jsonify({"concern_id": concern_id, "email": email})


# --- the staff API ----------------------------------------------------------------------------------------
def listed_out(row: dict[str, Any]) -> dict[str, Any]:
    def iso(name: str) -> str | None:
        return row[name].isoformat() if row.get(name) else None

    return {"id": row["id"], "need_id": row["need_id"], "resident_ref": row["resident_ref"],
            "channel": row["channel"], "urgent": bool(row["urgent"]), "created_at": row["created_at"].isoformat(),
            "acknowledged_at": iso("acknowledged_at"), "kind": row.get("kind") or "concern",
            "due_at": iso("due_at"), "overdue": concerns.overdue(row, clock.now()),
            "escalated_at": iso("escalated_at"), "closed_at": iso("closed_at")}


@api.get("")
def concern_list():  # type: ignore[no-untyped-def]
    """Concerns without their text: `?status=open` (default) the unacknowledged ones, `?status=all` the latest."""
    status = request.args.get("status", "open")
    if status not in ("open", "all"):
        errors.api_error(422, "Niepoprawny filtr.", errors={"query": {"status": ["Dozwolone: open, all."]}})
    with db().transaction() as session:
        rows = concerns.listed(session, only_open=status == "open")
    return jsonify([listed_out(r) for r in rows])


# --- the staff pages --------------------------------------------------------------------------------------
KIND_CHOICES = [SelectChoice("concern", _l("Niepokój o mieszkańca")),
                SelectChoice("incident", _l("Zdarzenie (incydent) podczas wizyty")),
                SelectChoice("safeguarding", _l("Ochrona — podejrzenie krzywdzenia lub zaniedbania"))]
CHANNEL_CHOICES = [SelectChoice("phone", _l("Telefon — zgłasza mieszkaniec, rodzina, sąsiad albo wolontariusz")),
                   SelectChoice("staff", _l("Własna obserwacja pracownika CUS"))]


class IntakeForm(FlaskForm):
    concern_id = HiddenField()
    channel = RadioField(_l("Skąd zgłoszenie"), choices=CHANNEL_CHOICES, default="phone")
    kind = RadioField(_l("Rodzaj zgłoszenia"), choices=KIND_CHOICES, default="concern")
    resident_ref = StringField(_l("Mieszkaniec (pseudonim, np. M-1A2B3C; puste: zgłoszenie ogólne)"))
    text = TextAreaField(_l("Co niepokoi zgłaszającego"), render_kw={"rows": 6, "maxlength": concerns.MAX_TEXT})
    urgent = BooleanField(_l("Pilne"), default=True)


class CloseForm(FlaskForm):
    outcome = TextAreaField(_l("Co zostało zrobione (wynik, podjęte działania)"),
                            render_kw={"rows": 4, "maxlength": concerns.MAX_TEXT})


class SocialWorkerForm(FlaskForm):
    social_worker_email = StringField(_l("E-mail przypisanego pracownika socjalnego"),
                                      render_kw={"type": "email", "autocomplete": "off"})


class ButtonForm(FlaskForm):
    pass


@pages.get("/zgloszenia")
def concern_page_list():  # type: ignore[no-untyped-def]
    with db().transaction() as session:
        open_rows = concerns.listed(session, only_open=True)
        recent = [r for r in concerns.listed(session, only_open=False, limit=50) if r["acknowledged_at"]]
    now = clock.now()
    return render_template("needs/concerns.html", open_rows=open_rows, recent=recent,
                           channel_pl=concerns.CHANNEL_PL, kind_pl=concerns.KIND_PL,
                           overdue={r["id"] for r in open_rows if concerns.overdue(r, now)})


def render_concern(concern_id: str, close_form: CloseForm | None = None, status: int = 200,
                   problem: str = "") -> Any:
    with db().transaction() as session:
        concern = concerns.read(session, concern_id, purpose="strona zgłoszenia niepokoju")
    return render_template("needs/concern.html", concern=concern, form=ButtonForm(),
                           close_form=close_form or CloseForm(formdata=None), channel_pl=concerns.CHANNEL_PL,
                           kind_pl=concerns.KIND_PL, overdue=concerns.overdue(concern, clock.now()),
                           problem=problem), status


@pages.get("/zgloszenia/<concern_id>")
def concern_page(concern_id: str):  # type: ignore[no-untyped-def]
    return render_concern(concern_id)


@pages.post("/zgloszenia/<concern_id>/zamkniete")
def close(concern_id: str):  # type: ignore[no-untyped-def]
    """The outcome (action taken) of an acknowledged concern; the concern is closed."""
    form = CloseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db().transaction() as session:
            done = concerns.close(session, concern_id, form.outcome.data, audit.current_actor())
    except errors.Invalid as err:
        form.outcome.errors = [str(err.errors.get("outcome", ""))]
        return render_concern(concern_id, form, 422)
    except Refused as err:
        return render_concern(concern_id, form, 409, err.message)
    flash("Zgłoszenie zamknięte — zapisano, co zostało zrobione." if done else "To zgłoszenie ktoś już zamknął.")
    return redirect(url_for(".concern_page", concern_id=concern_id))


@pages.post("/zgloszenia/<concern_id>/przyjete")
def acknowledge(concern_id: str):  # type: ignore[no-untyped-def]
    if not ButtonForm().validate_on_submit():
        abort(400)
    with db().transaction() as session:
        done = concerns.acknowledge(session, concern_id, audit.current_actor())
    flash("Zgłoszenie przyjęte." if done else "To zgłoszenie ktoś już przyjął.")
    return redirect(url_for(".concern_page", concern_id=concern_id))


def due_hours() -> dict[str, int]:
    return {"due_urgent": concerns.due_hours(True), "due_other": concerns.due_hours(False)}


@pages.route("/zgloszenia/nowe", methods=["GET", "POST"])
def intake():  # type: ignore[no-untyped-def]
    """Staff write down a concern phoned in (by a resident, a relative, a neighbour, a volunteer: channel
    "phone") or their own observation (channel "staff"), of any kind."""
    form = IntakeForm()
    if request.method == "GET":
        form.concern_id.data = str(uuid.uuid4())
        form.resident_ref.data = request.args.get("resident_ref", "")[:64]
        return render_template("needs/concern_form.html", form=form, **due_hours())
    if not form.validate_on_submit():
        return render_template("needs/concern_form.html", form=form, **due_hours()), 400
    try:
        with db().transaction() as session:
            done = concerns.report(session, outbox(), concern_id=form.concern_id.data or str(uuid.uuid4()),
                                   text=form.text.data,
                                   reported_by=audit.current_actor(), channel=form.channel.data or "phone",
                                   urgent=bool(form.urgent.data), kind=form.kind.data,
                                   resident_ref=(form.resident_ref.data or "").strip() or None)
    except errors.Invalid as err:
        for name, message in err.errors.items():
            target = getattr(form, "text" if name == "id" else name, form.text)
            target.errors = [message] if isinstance(message, str) else list(message)
        return render_template("needs/concern_form.html", form=form, **due_hours()), 422
    except errors.NotFound:
        form.resident_ref.errors = ["Nie ma mieszkańca o takim pseudonimie."]
        return render_template("needs/concern_form.html", form=form, **due_hours()), 422
    except Refused as err:
        form.form_errors.append(err.message)
        return render_template("needs/concern_form.html", form=form, **due_hours()), 409
    flash("Zapisano zgłoszenie — pracownik socjalny mieszkańca dostanie powiadomienie.")
    return redirect(url_for(".concern_page", concern_id=done.concern["id"]))


@pages.route("/residents/<resident_id>/pracownik-socjalny", methods=["GET", "POST"])
def social_worker(resident_id: str):  # type: ignore[no-untyped-def]
    """The resident's assigned social worker (staff e-mail); concerns about the resident go there first."""
    def current(session: Session) -> sa.RowMapping | None:
        return session.execute(sa.select(residents.c.id, residents.c.ref, residents.c.social_worker_email,
                                         residents.c.erased_at).where(residents.c.id == resident_id)
                               ).mappings().first()

    with db().transaction() as session:
        resident = current(session)
    if resident is None:
        abort(404)
    form = SocialWorkerForm()
    if request.method == "GET":
        form.social_worker_email.data = resident["social_worker_email"]
        return render_template("needs/social_worker.html", form=form, resident=resident)
    if not form.validate_on_submit():
        return render_template("needs/social_worker.html", form=form, resident=resident), 400
    try:
        with db().transaction() as session:
            concerns.set_social_worker(session, resident_id, form.social_worker_email.data, audit.current_actor())
    except errors.Invalid as err:
        form.social_worker_email.errors = [str(err.errors.get("social_worker_email", ""))]
        return render_template("needs/social_worker.html", form=form, resident=resident), 422
    except Refused as err:
        form.form_errors.append(err.message)
        return render_template("needs/social_worker.html", form=form, resident=resident), 409
    flash("Zapisano pracownika socjalnego mieszkańca.")
    return redirect(url_for("needs.resident_card", resident_id=resident_id))


def install(app: Any, csrf: Any) -> None:
    """Called by app.create_app: the two APIs are CSRF-exempt (a bearer token, a read), the pages are not."""
    for blueprint in (internal, api):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(pages)
