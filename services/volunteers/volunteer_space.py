"""The volunteer's own space, behind the front door at /volunteers/wolontariusz/: sign-in by link, the home page,
availability, absences, pause and resume, where and how they help. Phone-first, Polish, no JavaScript.

Public endpoints for wspolnota.access (no staff role): who may do what here is the volunteer's own session
(services/volunteers/sign_in.py), checked by `signed_in_volunteer`. Every change runs the same use case as a
staff edit (handlers.py) in one transaction, with an audit entry naming the volunteer (`sign_in.actor`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.volunteers import forms, handlers, hours, schemas, self_forms, sign_in, signed_in
from services.volunteers.db import availability_exceptions, offers
from wspolnota import errors, reference
from wspolnota.web import current_parts

bp = Blueprint("volunteer_space", __name__, url_prefix="/wolontariusz")
RATE_WINDOW_S = 3600
EXCEPTION_REASONS_PL = {"holiday": "urlop / wyjazd", "sick": "choroba", "other": "inna przyczyna"}
LINK_PROBLEMS = {
    "used": "Ten link został już użyty. Każdy link logowania działa tylko raz.",
    "expired": "Ten link wygasł. Link logowania jest ważny tylko przez krótki czas.",
    "unknown": "Ten link jest nieprawidłowy albo nie działa już dla tego konta.",
}


def secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def cookie_path() -> str:
    return f"{request.script_root}{bp.url_prefix}"


def now() -> Any:
    return current_parts().clock()


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(f"volunteers/self/{template}", volunteer=g.get("volunteer"),
                           villages_pl=reference.villages(), categories_pl=reference.categories(),
                           weekdays=self_forms.WEEKDAYS, reasons_pl=EXCEPTION_REASONS_PL, **context), status


@bp.before_request
def load_volunteer() -> None:
    settings = signed_in.settings()
    with current_parts().db.transaction() as session:
        g.volunteer = sign_in.session_volunteer(session, secret(), request.cookies.get(sign_in.COOKIE), now(),
                                                settings.volunteer_session_days)
    g.volunteer_session_read = True


@bp.after_request
def private(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"  # a shared phone's back button shows nothing personal
    if (request.cookies.get(sign_in.COOKIE) and g.get("volunteer_session_read") and g.get("volunteer") is None
            and not g.get("signed_in_now")):
        response.delete_cookie(sign_in.COOKIE, path=cookie_path())  # an ended session: drop the dead cookie
    return response


def signed_in_volunteer() -> sa.RowMapping:
    volunteer = g.get("volunteer")
    if volunteer is None:
        abort(redirect(url_for(".sign_in_page")))
    return volunteer  # type: ignore[no-any-return]


# --- signing in ------------------------------------------------------------------------------------------------
@bp.route("/logowanie", methods=["GET", "POST"])
def sign_in_page():  # type: ignore[no-untyped-def]
    if g.get("volunteer") is not None and request.method == "GET":
        return redirect(url_for(".home"))
    form = self_forms.SignInForm()
    if request.method == "GET":
        return page("sign_in.html", form=form)[0]
    if not form.validate_on_submit():
        return page("sign_in.html", 400, form=form)
    settings = signed_in.settings()
    parts = current_parts()
    at = now()
    if not sign_in.allow(parts.db, f"source|{request.remote_addr}", settings.volunteer_sign_in_per_source_per_hour,
                         RATE_WINDOW_S, at):
        return page("too_many.html", 429)
    try:
        who = sign_in.parse_identifier(form.identifier.data)
    except sign_in.BadIdentifier as err:
        form.identifier.errors = [str(err)]
        return page("sign_in.html", 422, form=form)
    if not sign_in.allow(parts.db, f"address|{who.value}", settings.volunteer_sign_in_per_address_per_hour,
                         RATE_WINDOW_S, at):
        return page("too_many.html", 429)  # the same for a known and an unknown address
    assert parts.outbox is not None
    with parts.db.transaction() as session:
        sign_in.request_links(session, parts.outbox, who, at, settings.volunteer_sign_in_link_minutes)
    return redirect(url_for(".link_sent", kanal=who.channel))


@bp.get("/logowanie/wyslano")
def link_sent():  # type: ignore[no-untyped-def]
    channel = "sms" if request.args.get("kanal") == "sms" else "email"
    return page("link_sent.html", channel=channel, minutes=signed_in.settings().volunteer_sign_in_link_minutes)[0]


@bp.route("/wejscie/<token>", methods=["GET", "POST"])
def use_link(token: str):  # type: ignore[no-untyped-def]
    """GET shows a button and uses nothing up (mail scanners open links); the button's POST signs in."""
    form = self_forms.ButtonForm()
    at = now()
    try:
        with current_parts().db.transaction() as session:
            if request.method == "GET":
                sign_in.check(session, secret(), token, at)
                return page("use_link.html", form=form)[0]
            if not form.validate_on_submit():
                return page("use_link.html", 400, form=form)
            volunteer = sign_in.redeem(session, secret(), token, at)
            cookie = sign_in.session_value(secret(), volunteer, at)
    except sign_in.LinkUnusable as err:
        return page("link_unusable.html", 410, problem=LINK_PROBLEMS[err.reason])
    g.volunteer, g.signed_in_now = volunteer, True
    response = redirect(url_for(".home"))
    response.set_cookie(sign_in.COOKIE, cookie, max_age=signed_in.settings().volunteer_session_days * 86400,
                        path=cookie_path(), httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


@bp.post("/wyloguj")
def sign_out():  # type: ignore[no-untyped-def]
    if self_forms.ButtonForm().validate_on_submit():
        g.volunteer = None
        response = redirect(url_for(".sign_in_page"))
        response.delete_cookie(sign_in.COOKIE, path=cookie_path())
        return response
    abort(400)


@bp.post("/wyloguj-wszedzie")
def sign_out_everywhere():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    if not self_forms.ButtonForm().validate_on_submit():
        abort(400)
    with current_parts().db.transaction() as session:
        sign_in.sign_out_everywhere(session, volunteer["id"])
    g.volunteer = None
    response = redirect(url_for(".sign_in_page"))
    response.delete_cookie(sign_in.COOKIE, path=cookie_path())
    return response


def read_audited(session: Any, volunteer_id: str, where: str) -> None:
    """The volunteer read their own data: audited as every read of personal data is."""
    handlers.audit(session, sign_in.actor(volunteer_id), "self_read", volunteer_id, where)


# --- the home page ---------------------------------------------------------------------------------------------
def live_offers(session: Any, volunteer_id: str) -> list[sa.RowMapping]:
    return list(session.execute(sa.select(offers).where(offers.c.volunteer_id == volunteer_id,
                                                        offers.c.status.in_(["published", "draft"]))
                                .order_by(offers.c.created_at)).mappings())


def offered_categories(rows: list[sa.RowMapping]) -> list[str]:
    return sorted({c for o in rows for c in o["categories"] or []})


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    today = signed_in.today()
    with current_parts().db.transaction() as session:
        given = hours.summary(session, volunteer["id"], today)
        absences = absence_rows(session, volunteer["id"], today)
        categories = offered_categories(live_offers(session, volunteer["id"]))
        read_audited(session, volunteer["id"], "strona główna wolontariusza")
    return page("home.html", hours=given, absences=absences, categories=categories, today=today,
                form=self_forms.ButtonForm())[0]


def absence_rows(session: Any, volunteer_id: str, today: Any) -> list[sa.RowMapping]:
    return list(session.execute(sa.select(availability_exceptions).where(
        availability_exceptions.c.volunteer_id == volunteer_id, availability_exceptions.c.ends_on >= today)
        .order_by(availability_exceptions.c.starts_on)).mappings())


# --- changes: the staff use cases, audited with the volunteer as the actor ------------------------------------
def change(volunteer_id: str, use_case: Callable[..., Any], action: str, detail: str) -> str | None:
    """Run a use case for the volunteer in one transaction with its audit entry; a refusal's Polish message."""
    parts = current_parts()
    assert parts.outbox is not None
    try:
        with parts.db.transaction() as session:
            use_case(session, parts.outbox)
            handlers.audit(session, sign_in.actor(volunteer_id), action, volunteer_id, detail)
    except errors.NotFound:
        abort(404)
    except (errors.Refused, errors.Invalid) as err:
        return err.message or str(err)
    return None


@bp.route("/dostepnosc", methods=["GET", "POST"])
def availability():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    today = signed_in.today()
    stored = list(volunteer["weekly_slots"] or [])
    status = 200
    if request.method == "POST":
        form = self_forms.weekly_form(stored, formdata=request.form)
        status = 422
        if form.validate_on_submit():
            if save_slots(volunteer["id"], form):
                flash("Zapisano dostępność.", "info")
                return redirect(url_for(".availability"))
        elif form.csrf_token.errors:
            status = 400
    else:
        form = self_forms.weekly_form(stored)
    with current_parts().db.transaction() as session:
        absences = absence_rows(session, volunteer["id"], today)
        read_audited(session, volunteer["id"], "dostępność (strona wolontariusza)")
    return page("availability.html", status, form=form, absence_form=self_forms.AbsenceForm(formdata=None),
                absences=absences, button=self_forms.ButtonForm(formdata=None), today=today)


def save_slots(volunteer_id: str, form: Any) -> bool:
    try:
        slots, fields = self_forms.weekly_slots(form)
    except ValueError:
        return False
    try:
        data = schemas.VolunteerUpdate().load({"weekly_slots": slots}, partial=True)
    except ValidationError as err:
        given: Any = err.messages
        for index, messages in (given.get("weekly_slots", {}) if isinstance(given, dict) else {}).items():
            if isinstance(index, int) and index < len(fields):
                fields[index].errors = list(fields[index].errors or []) + list(_flat(messages))
            else:
                form.form_errors.append(" ".join(_flat(messages)))
        return False
    problem = change(volunteer_id, lambda s, o: handlers.update_volunteer(s, o, volunteer_id, data,
                                                                          today=signed_in.today()),
                     "self_update", "dostępność tygodniowa (strona wolontariusza)")
    if problem:
        form.form_errors.append(problem)
        return False
    return True


def _flat(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flat(v)]
    if isinstance(value, list):
        return [m for v in value for m in _flat(v)]
    return [str(value)]


@bp.post("/nieobecnosci")
def add_absence():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    form = self_forms.AbsenceForm()
    if form.validate_on_submit():
        data = forms.load(schemas.AvailabilityException(), form)
        if data is not None:
            if data["starts_on"] < signed_in.today():
                form.starts_on.errors = ["Nieobecność nie może zaczynać się w przeszłości."]
            else:
                problem = change(volunteer["id"], lambda s, o: handlers.add_exception(
                    s, o, volunteer["id"], data, today=signed_in.today()), "self_absence_add",
                    f"nieobecność {data['starts_on']:%d.%m.%Y}–{data['ends_on']:%d.%m.%Y} (strona wolontariusza)")
                if problem is None:
                    flash("Zapisano nieobecność.", "info")
                    return redirect(url_for(".availability"))
                form.form_errors.append(problem)
    today = signed_in.today()
    with current_parts().db.transaction() as session:
        absences = absence_rows(session, volunteer["id"], today)
    status = 400 if form.csrf_token.errors else 422
    return page("availability.html", status, form=self_forms.weekly_form(list(volunteer["weekly_slots"] or [])),
                absence_form=form, absences=absences, button=self_forms.ButtonForm(formdata=None), today=today)


@bp.post("/nieobecnosci/<exception_id>/usun")
def delete_absence(exception_id: str):  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    if not self_forms.ButtonForm().validate_on_submit():
        abort(400)
    problem = change(volunteer["id"], lambda s, o: handlers.delete_exception(
        s, o, volunteer["id"], exception_id, today=signed_in.today()), "self_absence_delete",
        "usunięcie nieobecności (strona wolontariusza)")
    flash(problem or "Usunięto nieobecność.", "error" if problem else "info")
    return redirect(url_for(".availability"))


@bp.post("/przerwa")
def pause():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    if not self_forms.ButtonForm().validate_on_submit():
        abort(400)
    problem = change(volunteer["id"], lambda s, o: handlers.pause(s, o, volunteer["id"], by_volunteer=True),
                     "self_pause", "przerwa (strona wolontariusza)")
    flash(problem or "Masz przerwę — nie zaproponujemy Ci nowych zadań, dopóki jej nie zakończysz.",
          "error" if problem else "info")
    return redirect(url_for(".home"))


@bp.post("/wznowienie")
def resume():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    if not self_forms.ButtonForm().validate_on_submit():
        abort(400)
    problem = change(volunteer["id"], lambda s, o: handlers.resume(s, o, volunteer["id"], by_volunteer=True),
                     "self_resume", "koniec przerwy (strona wolontariusza)")
    flash(problem or "Witamy z powrotem — znów możesz dostawać propozycje zadań.", "error" if problem else "info")
    return redirect(url_for(".home"))


@bp.route("/gdzie-i-jak", methods=["GET", "POST"])
def where():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    with current_parts().db.transaction() as session:
        current = offered_categories(live_offers(session, volunteer["id"]))
        read_audited(session, volunteer["id"], "miejscowości i kontakt (strona wolontariusza)")
    if request.method == "GET":
        form = self_forms.WhereForm(formdata=None)
        form.fill(dict(volunteer), current)
        return page("where.html", form=form)[0]
    form = self_forms.WhereForm()
    if not form.validate_on_submit():
        return page("where.html", 400, form=form)
    data = load_where(form)
    categories = form.categories.data or []
    if data is not None and categories_ok(form, categories):
        problem = change(volunteer["id"], lambda s, o: save_where(s, o, volunteer, data, categories, current),
                         "self_update", "miejscowości, kategorie, kontakt (strona wolontariusza)")
        if problem is None:
            flash("Zapisano zmiany.", "info")
            return redirect(url_for(".home"))
        form.form_errors.append(problem)
    return page("where.html", 422, form=form)


def load_where(form: self_forms.WhereForm) -> dict[str, Any] | None:
    try:
        return schemas.VolunteerUpdate().load(form.profile_data(), partial=True)  # type: ignore[no-any-return]
    except ValidationError as err:
        messages = dict(err.messages)  # type: ignore[arg-type]
        if "quiet_hours" in messages:
            form.quiet_start.errors = ["Wybierz obie godziny ciszy albo zostaw obie puste."]
            messages.pop("quiet_hours")
        forms.apply_errors(form, messages)
        return None


def categories_ok(form: self_forms.WhereForm, categories: list[str]) -> bool:
    known = reference.categories()
    if not categories or len(categories) > 14 or any(c not in known for c in categories):
        form.categories.errors = ["Wybierz od 1 do 14 kategorii. Jeśli chcesz odpocząć, zrób przerwę."]
        return False
    return True


def save_where(session: Any, outbox: Any, volunteer: sa.RowMapping, data: dict[str, Any], categories: list[str],
               current: list[str]) -> None:
    """The profile through the staff edit's use case; the categories through the offers' use cases: a verified
    person's published offers are withdrawn and published again with the new categories (a new one for a year if
    there was none); a person not yet verified changes the draft that waits for staff."""
    volunteer_id = volunteer["id"]
    handlers.update_volunteer(session, outbox, volunteer_id, data, today=signed_in.today())
    if sorted(categories) == sorted(current):
        return
    at = handlers.now()
    if volunteer["verified_at"] is None:
        drafts = session.execute(sa.select(offers.c.id).where(offers.c.volunteer_id == volunteer_id,
                                                               offers.c.status == "draft")).scalars().all()
        if drafts:
            session.execute(sa.update(offers).where(offers.c.id.in_(drafts)).values(categories=categories))
        else:
            session.execute(sa.insert(offers).values(
                id=forms.new_token(), volunteer_id=volunteer_id, categories=categories, villages=data["villages"],
                available_from=at, available_to=at + timedelta(days=365), weekly_slots=[], standing=False,
                status="draft", created_at=at))
        return
    published = [o for o in live_offers(session, volunteer_id)
                 if o["status"] == "published" and o["available_to"] > at]
    for offer in published:
        handlers.withdraw_offer(session, outbox, offer["id"])
        handlers.publish_offer(session, outbox, volunteer_id, {
            "categories": categories, "villages": data["villages"], "available_from": max(offer["available_from"], at),
            "available_to": offer["available_to"], "weekly_slots": offer["weekly_slots"] or [],
            "standing": bool(offer["standing"])})
    if not published:
        handlers.publish_offer(session, outbox, volunteer_id, {
            "categories": categories, "villages": data["villages"], "available_from": at,
            "available_to": at + timedelta(days=365), "weekly_slots": volunteer["weekly_slots"] or []})
