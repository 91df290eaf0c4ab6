"""Requests for help over HTTP (services/needs/resident_requests.py has the rules):

- the public form `/prosba` (no account, the public layout, rate-limited, honeypot, form token) and its thanks page;
- the staff pages: the triage queue `/prosby`, the phone intake `/prosby/nowa`, one request `/prosby/<id>` (an
  audited read; a new request goes into triage), "turn into a need" `/prosby/<id>/potrzeba` (a resident record made
  or picked and a need registered by the existing use cases, in one transaction with the link) and "close with a
  reason" `/prosby/<id>/zamknij`;
- the staff API `GET /api/requests` (the dashboard: ids, codes and times, never personal data);
- the internal API `GET /internal/requests/<id>/contact` (notify's sender, bearer token; every read audited).
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from services.needs import audit, clock, handlers, model, schemas
from services.needs import resident_requests as rr
from services.needs.api import db, outbox
from services.needs.concern_pages import check_service_token
from services.needs.db import residents
from services.needs.forms import MultiCheckboxField, PolishForm, attach_errors, opts
from wspolnota import config, errors, reference
from wspolnota.web import current_parts

log = logging.getLogger("services.needs")

public = Blueprint("needs_requests_public", __name__)
pages = Blueprint("needs_requests", __name__)
api = Blueprint("needs_requests_api", __name__, url_prefix="/api/requests")
internal = Blueprint("needs_requests_internal", __name__, url_prefix="/internal/requests")

TOO_MANY = "Wysłano stąd zbyt wiele próśb w ciągu godziny. Spróbuj ponownie później albo zadzwoń do nas."
EXPIRED = "Formularz wygasł — odśwież stronę i wyślij go jeszcze raz."


def _villages() -> list[tuple[str, str]]:
    return [("", "— wybierz —")] + sorted(((c, v["name"]) for c, v in reference.villages().items()),
                                          key=lambda cv: cv[1])


class RequestForm(PolishForm):
    """The public form: plain words, no WTForms validators (the use case judges every field in Polish)."""

    submission = HiddenField()
    for_whom = RadioField(_l("Kto potrzebuje pomocy?"), choices=opts(list(rr.FOR_WHOM_PL.items())),
                          validate_choice=False)
    requester_name = StringField(_l("Twoje imię i nazwisko"), render_kw={"autocomplete": "name",
                                                                         "maxlength": rr.MAX_NAME})
    person_name = StringField(_l("Imię i nazwisko osoby, która potrzebuje pomocy"),
                              description=_l("Wypełnij, gdy prosisz za kogoś z rodziny lub za sąsiada."),
                              render_kw={"maxlength": rr.MAX_NAME})
    village = SelectField(_l("Miejscowość, w której potrzebna jest pomoc"), validate_choice=False)
    address = StringField(_l("Ulica i numer domu (nieobowiązkowo)"), render_kw={"autocomplete": "street-address",
                                                                                "maxlength": rr.MAX_ADDRESS})
    help_kinds = MultiCheckboxField(_l("W czym pomóc? (można zaznaczyć kilka)"),
                                    choices=opts(list(rr.HELP_KINDS_PL.items())), validate_choice=False)
    details = TextAreaField(_l("Opisz krótko, czego potrzeba"), render_kw={"rows": 4, "maxlength": rr.MAX_DETAILS})
    urgency = RadioField(_l("Na kiedy potrzebna jest pomoc?"), choices=opts(list(rr.URGENCY_PL.items())),
                         validate_choice=False)
    phone = StringField(_l("Telefon"), description=_l("Np. 601 202 303. Podaj telefon lub e-mail."),
                        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"})
    email = StringField(_l("E-mail"), render_kw={"type": "email", "autocomplete": "email"})
    reply_channel = RadioField(_l("Jak mamy odpowiedzieć?"), choices=opts(list(rr.REPLY_PL.items())),
                               validate_choice=False, description=_l("Bez wyboru: SMS, gdy podasz telefon."))
    consent = BooleanField(_l("Zgadzam się na przetwarzanie podanych danych, aby CUS rozpatrzył prośbę "
                              "i zorganizował pomoc (informacja powyżej)."))
    website = StringField(_l("Nie wypełniaj tego pola"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.village.choices = opts(_villages())


class IntakeForm(RequestForm):
    """Staff writing down a phone call: the same fields, said to the caller."""

    requester_name = StringField(_l("Imię i nazwisko dzwoniącego"), render_kw={"maxlength": rr.MAX_NAME})
    consent = BooleanField(_l("Dzwoniący wysłuchał informacji o przetwarzaniu danych i zgodził się na nie."))


class CloseForm(PolishForm):
    reason = SelectField(_l("Powód zamknięcia (dostanie go wnioskodawca)"),
                         choices=opts([("", "— wybierz —"), *rr.CLOSE_REASON_PL.items()]), validate_choice=False)
    note = TextAreaField(_l("Notatka dla CUS (nie jest wysyłana)"), validators=[Optional()],
                         render_kw={"rows": 3, "maxlength": rr.MAX_NOTE})


class ConvertForm(PolishForm):
    """Turn a request into a need: the resident (picked by pseudonym, or a new record from the request) and the
    need's one-off terms, judged by the same schemas and use cases as the need form."""

    submission_id = HiddenField()
    resident = RadioField(_l("Mieszkaniec"), choices=opts([("new", "nowa karta mieszkańca z danych prośby"),
                                                           ("existing", "mieszkaniec ma już kartę (pseudonim)")]),
                          default="new", validate_choice=False)
    resident_ref = StringField(_l("Pseudonim mieszkańca (gdy ma już kartę)"), validators=[Optional()])
    r_name = StringField(_l("Imię i nazwisko mieszkańca"), validators=[Optional()])
    r_address = StringField(_l("Adres"), validators=[Optional()])
    r_phone = StringField(_l("Telefon"), validators=[Optional()])
    r_email = StringField(_l("E-mail"), validators=[Optional()])
    r_channel = SelectField(_l("Preferowany kontakt"), choices=opts(list(schemas.CHANNEL_PL.items())),
                            validate_choice=False)
    r_legal_basis = SelectField(_l("Podstawa prawna przetwarzania"),
                                choices=opts(list(schemas.LEGAL_BASIS_PL.items())), default="art6_1_e",
                                validate_choice=False)
    category = SelectField(_l("Kategoria"), validate_choice=False)
    village = SelectField(_l("Miejscowość"), validate_choice=False)
    description = TextAreaField(_l("Opis (widoczny tylko w CUS)"), validators=[Optional()])
    window_start = DateTimeLocalField(_l("Początek terminu"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    window_end = DateTimeLocalField(_l("Koniec terminu"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    duration_minutes = IntegerField(_l("Czas trwania (minuty)"), default=60, validators=[Optional()])
    urgency = SelectField(_l("Pilność"), choices=opts([("normal", "zwykła"), ("high", "wysoka"),
                                                       ("urgent", "pilna (w ciągu 24 h)")]),
                          default="normal", validate_choice=False)
    slots = IntegerField(_l("Liczba potrzebnych osób"), default=1, validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.category.choices = opts([("", "— wybierz —")] + [(c, v["name"])
                                                             for c, v in reference.categories().items()])
        self.village.choices = opts(_villages())
        if not self.submission_id.data:
            self.submission_id.data = uuid.uuid4().hex


def form_data(form: RequestForm) -> dict[str, Any]:
    return {"for_whom": form.for_whom.data, "requester_name": form.requester_name.data,
            "person_name": form.person_name.data, "village": form.village.data, "address": form.address.data,
            "help_kinds": form.help_kinds.data or [], "details": form.details.data, "urgency": form.urgency.data,
            "phone": form.phone.data, "email": form.email.data, "reply_channel": form.reply_channel.data,
            "consent": bool(form.consent.data)}


def show_errors(form: Any, found: dict[str, Any]) -> None:
    for name, message in found.items():
        field = getattr(form, name, None)
        messages = [message] if isinstance(message, str) else list(message)
        if field is None or name in ("submission", "csrf_token"):
            form.form_errors.extend(messages)
        else:
            field.errors = list(field.errors or []) + messages


def centre() -> dict[str, str]:
    return {"name": config.get("CENTRE_NAME"), "phone": config.get("CENTRE_PHONE"),
            "address": config.get("CENTRE_ADDRESS")}


def _take(form: RequestForm, channel: str, taken_by: str) -> tuple[rr.Submitted | None, int]:
    """Validate and store; (None, status) with the errors on the form when refused."""
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            form.form_errors.append(EXPIRED)
        return None, 400
    try:
        with db().transaction() as session:
            done = rr.submit(session, outbox(), form_data(form), submission_key=form.submission.data or "",
                             channel=channel, taken_by=taken_by)
    except errors.Invalid as err:
        show_errors(form, err.errors)
        return None, 422
    return done, 201


# --- the public form -------------------------------------------------------------------------------------------
@public.route("/prosba", methods=["GET", "POST"])
def public_request():  # type: ignore[no-untyped-def]
    form = RequestForm()
    status = 200
    if request.method == "GET":
        form.submission.data = uuid.uuid4().hex
    else:
        if not rr.allow_public(db(), request.remote_addr or "", current_parts().clock()):
            form.form_errors.append(TOO_MANY)
            return render_template("needs/public/request_form.html", form=form, notice=rr.notice(),
                                   centre=centre(), too_many=True), 429, {"Retry-After": "3600"}
        if (form.website.data or "").strip():
            log.info("public request form: honeypot filled, nothing stored")
            return redirect(url_for(".public_request_done"))
        done, status = _take(form, rr.ONLINE, "")
        if done is not None:
            log.info("request %s received online (%s)", done.request["id"], "new" if done.created else "again")
            return redirect(url_for(".public_request_done"))
    return render_template("needs/public/request_form.html", form=form, notice=rr.notice(), centre=centre(),
                           too_many=False), status


@public.get("/prosba/dziekujemy")
def public_request_done():  # type: ignore[no-untyped-def]
    return render_template("needs/public/request_done.html", centre=centre(),
                           days=config.get("NEEDS_REQUEST_RETENTION_DAYS"))


# --- the staff pages --------------------------------------------------------------------------------------------
def age_pl(since: datetime, now: datetime) -> str:
    """'2 dni 3 godz.', '5 godz. 10 min', '12 min': how long a request has waited."""
    minutes = max(int((now - since).total_seconds() // 60), 0)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return (f"{days} dzień" if days == 1 else f"{days} dni") + (f" {hours} godz." if hours else "")
    if hours:
        return f"{hours} godz." + (f" {mins} min" if mins else "")
    return f"{mins} min"


def _labels() -> dict[str, Any]:
    return {"request_status_pl": rr.STATUS_PL, "request_channel_pl": rr.CHANNEL_PL,
            "for_whom_pl": rr.FOR_WHOM_PL, "help_kinds_pl": rr.HELP_KINDS_PL, "request_urgency_pl": rr.URGENCY_PL,
            "close_reason_pl": rr.CLOSE_REASON_PL, "reply_pl": rr.REPLY_PL}


@pages.get("/prosby")
def request_queue():  # type: ignore[no-untyped-def]
    shown = request.args.get("status", "open")
    statuses = rr.OPEN if shown == "open" else (shown,) if shown in rr.STATUSES else None
    if statuses is None:
        abort(404)
    now = clock.now()
    with db().transaction() as session:
        rows = rr.listed(session, statuses)
        counts = dict(session.execute(sa.select(rr.resident_requests.c.status, sa.func.count())
                                      .group_by(rr.resident_requests.c.status)).all())
    for row in rows:
        row["age"] = age_pl(row["created_at"], now)
        row["kinds"] = [k for k in row["help_kinds"].split(",") if k]
    return render_template("needs/requests.html", rows=rows, shown=shown, counts=counts, **_labels())


@pages.route("/prosby/nowa", methods=["GET", "POST"])
def request_intake():  # type: ignore[no-untyped-def]
    """Staff write down a request phoned in (channel "phone", taken by the signed-in person)."""
    form = IntakeForm()
    if request.method == "GET":
        form.submission.data = uuid.uuid4().hex
        return render_template("needs/request_intake.html", form=form, notice=rr.notice())
    done, status = _take(form, rr.PHONE, audit.current_actor())
    if done is None:
        return render_template("needs/request_intake.html", form=form, notice=rr.notice()), status
    flash("Zapisano prośbę — jest w kolejce do rozpatrzenia." if done.created else "Ta prośba była już zapisana.")
    return redirect(url_for(".request_page", request_id=done.request["id"]))


def _request_page(request_id: str, close_form: CloseForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    with db().transaction() as session:
        row = rr.read(session, request_id, purpose="strona prośby mieszkańca")
    row["kinds"] = [k for k in row["help_kinds"].split(",") if k]
    return render_template("needs/request.html", req=row, close_form=close_form or CloseForm(),
                           age=age_pl(row["created_at"], clock.now()), **_labels()), status


@pages.get("/prosby/<request_id>")
def request_page(request_id: str):  # type: ignore[no-untyped-def]
    return _request_page(request_id)


@pages.post("/prosby/<request_id>/zamknij")
def close_request(request_id: str):  # type: ignore[no-untyped-def]
    form = CloseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db().transaction() as session:
            rr.close(session, outbox(), request_id, form.reason.data, form.note.data)
    except errors.Invalid as err:
        show_errors(form, err.errors)
        return _request_page(request_id, form, 422)
    except handlers.Refused as err:
        form.form_errors.append(err.message)
        return _request_page(request_id, form, 409)
    flash("Prośba zamknięta — wnioskodawca dostanie wiadomość z powodem.")
    return redirect(url_for(".request_queue"))


def _prefill(form: ConvertForm, row: dict[str, Any]) -> None:
    tomorrow = clock.now().astimezone(model.WARSAW).replace(hour=9, minute=0, second=0, microsecond=0,
                                                            tzinfo=None) + timedelta(days=1)
    suggested = rr.need_prefill(row)
    form.category.data, form.village.data = suggested["category"], suggested["village"]
    form.urgency.data, form.description.data = suggested["urgency"], suggested["description"]
    form.r_name.data = row["person_name"] or row["requester_name"]
    form.r_address.data = row["address"]
    form.r_phone.data, form.r_email.data = row["phone"], row["email"]
    form.r_channel.data = "sms" if row["reply_channel"] == "sms" else "email"
    form.window_start.data = tomorrow
    form.window_end.data = tomorrow + timedelta(days=2, hours=8)


def _need_body(form: ConvertForm, ref: str, channel: str) -> dict[str, Any]:
    def aware(value: datetime | None) -> str | None:
        return value.replace(tzinfo=model.WARSAW).isoformat() if value else None

    return {"resident_ref": ref, "category": form.category.data, "village": form.village.data,
            "description": form.description.data or "", "window_start": aware(form.window_start.data),
            "window_end": aware(form.window_end.data), "duration_minutes": form.duration_minutes.data,
            "urgency": form.urgency.data, "slots": form.slots.data,
            "source": "phone" if channel == rr.PHONE else "staff_form"}


def _resident_body(form: ConvertForm, village: str) -> dict[str, Any]:
    return {"name": form.r_name.data or "", "address": form.r_address.data or "", "village": village,
            "phone": form.r_phone.data or "", "email": form.r_email.data or "",
            "preferred_channel": form.r_channel.data, "legal_basis": form.r_legal_basis.data}


RESIDENT_FIELDS = {"name": "r_name", "address": "r_address", "phone": "r_phone", "email": "r_email",
                   "preferred_channel": "r_channel", "legal_basis": "r_legal_basis", "consent_date": "r_legal_basis",
                   "village": "village", "ref": "resident_ref"}


@pages.route("/prosby/<request_id>/potrzeba", methods=["GET", "POST"])
def convert_request(request_id: str):  # type: ignore[no-untyped-def]
    """Turn the request into a need: a resident record made (from the request) or picked, then the need."""
    with db().transaction() as session:
        row = rr.read(session, request_id, purpose="zamiana prośby w potrzebę")
    form = ConvertForm()

    def again(status: int):  # type: ignore[no-untyped-def]
        return render_template("needs/request_convert.html", form=form, req=row, **_labels()), status

    if row["status"] not in rr.OPEN:
        flash(rr.DECIDED)
        return redirect(url_for(".request_page", request_id=request_id))
    if request.method == "GET":
        _prefill(form, row)
        return again(200)
    if not form.validate_on_submit():
        return again(400 if form.csrf_token.errors else 422)
    existing = form.resident.data == "existing"
    ref = (form.resident_ref.data or "").strip()
    problems: dict[str, Any] = {}
    if existing and not ref:
        problems["resident_ref"] = "Podaj pseudonim mieszkańca, np. M-7K3QXA."
    try:
        need = schemas.NeedCreate().load(_need_body(form, ref or "M-NOWY00", row["channel"]))
    except ValidationError as err:
        problems.update(err.messages)  # type: ignore[arg-type]
    resident: dict[str, Any] | None = None
    if not existing:
        try:
            resident = schemas.ResidentCreate().load(_resident_body(form, form.village.data or ""))
        except ValidationError as err:
            for name, messages in err.messages.items():  # type: ignore[union-attr]
                problems.setdefault(RESIDENT_FIELDS.get(str(name), "r_name"), messages)
    if problems:
        attach_errors(form, problems)
        return again(422)
    try:
        with db().transaction() as session:
            if resident is not None:
                ref = handlers.create_resident(session, resident)["ref"]
            elif session.execute(sa.select(residents.c.id).where(residents.c.ref == ref)).first() is None:
                raise errors.Invalid({"resident_ref": "Nie ma mieszkańca o takim pseudonimie."})
            made = handlers.register_need(session, outbox(), {**need, "resident_ref": ref},
                                          submission_key=form.submission_id.data)
            rr.mark_converted(session, outbox(), request_id, made["id"], ref)
    except errors.Invalid as err:
        attach_errors(form, err.errors)
        return again(422)
    except handlers.Refused as err:
        form.form_errors.append(err.message)
        return again(409)
    except (handlers.DuplicateSubmission, IntegrityError):
        form.form_errors.append("Ten formularz został już wysłany.")
        return again(409)
    flash("Zapisano potrzebę z prośby — wnioskodawca dostanie wiadomość, że organizujemy pomoc.")
    return redirect(url_for("needs.need_page", need_id=made["id"]))


# --- the staff API (the dashboard) ------------------------------------------------------------------------------
@api.get("")
def request_list():  # type: ignore[no-untyped-def]
    """Requests waiting for a decision (new and in triage), oldest first: ids, codes and times only."""
    with db().transaction() as session:
        rows = rr.listed(session, rr.OPEN)
    return jsonify([{"id": r["id"], "status": r["status"], "channel": r["channel"], "village": r["village"],
                     "help_kinds": [k for k in r["help_kinds"].split(",") if k], "urgency": r["urgency"],
                     "created_at": r["created_at"].isoformat()} for r in rows])


# --- the internal API (notify's sender) ------------------------------------------------------------------------
@internal.get("/<request_id>/contact")
def requester_contact(request_id: str):  # type: ignore[no-untyped-def]
    """{request_id, phone, email, reply_channel, status}: where the requester hears back. 404 once erased."""
    caller = check_service_token()
    try:
        with db().transaction() as session:
            found = rr.contact(session, request_id, caller)
    except errors.NotFound:
        errors.api_error(404, "Nie ma takiej prośby albo jej dane zostały usunięte.")
    return jsonify(found)


def install(app: Any, csrf: Any) -> None:
    """Called by app.create_app: the two APIs are CSRF-exempt (a bearer token, a read), the pages are not."""
    for blueprint in (internal, api):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(public)
    app.register_blueprint(pages)
