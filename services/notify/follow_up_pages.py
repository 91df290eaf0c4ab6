"""The public pages behind the "did it happen?" (`/w/<token>`) and "is it still needed?" (`/p/<token>`) links:
phone-first, Polish, no account (the signed link is the credential), rate-limited per client address
(NOTIFY_LINK_PAGES_PER_MINUTE, wspolnota/ratelimit.py). Use cases in follow_ups.py."""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField

from services.notify import follow_ups
from services.notify.db import link_rate_windows
from services.notify.links import LinkExpired, LinkInvalid, read_token
from wspolnota import ratelimit
from wspolnota.web import current_parts

bp = Blueprint("notify_checks", __name__)
WINDOW_S = 60


class VisitCheckForm(FlaskForm):
    minutes = StringField("Ile minut trwała wizyta?", render_kw={"inputmode": "numeric", "autocomplete": "off",
                                                                 "maxlength": 3})
    happened = SubmitField("Tak, odbyła się")
    not_happened = SubmitField("Nie odbyła się")


class NeedCheckForm(FlaskForm):
    still = SubmitField("Nadal potrzebna")
    gone = SubmitField("Już niepotrzebna")


def _page(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("notify/response_closed.html", title=title, message=message), status


def _limited() -> tuple[str, int] | None:
    """Too many requests from this address in the current minute: a Polish page, 429."""
    parts = current_parts()
    client = hashlib.sha256((request.remote_addr or "?").encode()).hexdigest()[:32]
    count = ratelimit.count_request(parts.db, link_rate_windows, client, WINDOW_S, parts.clock().timestamp())
    if count is None or count > parts.settings.link_pages_per_minute:
        return _page("Zbyt wiele prób", "Spróbuj ponownie za minutę.", 429)
    return None


def _claim(token: str, action: str) -> tuple[str | None, tuple[str, int] | None]:
    """The check id the link names, or the page saying why the link does not work."""
    settings = current_parts().settings
    try:
        claim = read_token(settings.link_secret, token, settings.check_link_max_age_h * 3600)
    except LinkExpired:
        return None, _page("Link wygasł", "Ten link jest już nieważny. Jeśli chcesz coś przekazać, zadzwoń do CUS.",
                           410)
    except LinkInvalid:
        return None, _page("Nieprawidłowy link", "Tego linku nie rozpoznajemy. Sprawdź, czy został skopiowany "
                                                 "w całości.", 404)
    if claim.action != action:
        return None, _page("Nieprawidłowy link", "Tego linku nie rozpoznajemy. Sprawdź, czy został skopiowany "
                                                 "w całości.", 404)
    return claim.offer_id, None


USED = "Odpowiedź na to pytanie została już zapisana — nic więcej nie trzeba robić. Dziękujemy!"


@bp.route("/w/<token>", methods=["GET", "POST"])
def visit_check(token: str) -> Any:
    """"Czy wizyta się odbyła?": "Tak, odbyła się" with the minutes (5–600), or "Nie odbyła się"."""
    limited = _limited()
    if limited:
        return limited
    check_id, refused = _claim(token, follow_ups.VISIT_CHECK)
    if refused:
        return refused
    parts = current_parts()
    check = follow_ups.find_visit_check(parts.db, str(check_id))
    if check is None:
        return _page("Nieprawidłowy link", "Nie znaleźliśmy tej wizyty.", 404)
    if check.answer is not None:
        if "zapisano" in request.args:
            return render_template("notify/visit_check_done.html", answer=check.answer)
        return _page("Link został już użyty", USED, 410)
    if check.decided:
        return _page("Wizyta jest już rozliczona", "Ta wizyta została już potwierdzona albo odwołana — nic więcej "
                                                   "nie trzeba robić. Dziękujemy!", 410)
    form = VisitCheckForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        elif form.happened.data or form.not_happened.data:
            happened = bool(form.happened.data)
            minutes, error = follow_ups.check_minutes(form.minutes.data) if happened else (None, None)
            if error:
                form.minutes.errors = [error]
                status = 422
            else:
                try:
                    follow_ups.answer_visit(parts.db, parts.outbox, check, happened, minutes,  # type: ignore[arg-type]
                                           now=parts.clock())
                except follow_ups.AlreadyAnswered:
                    return _page("Link został już użyty", USED, 410)
                return redirect(url_for("notify_checks.visit_check", token=token, zapisano=1))
        else:
            status = 400
    return render_template("notify/visit_check.html", check=check, form=form), status


@bp.route("/p/<token>", methods=["GET", "POST"])
def need_check(token: str) -> Any:
    """"Czy potrzeba jest nadal aktualna?": "Nadal potrzebna" or "Już niepotrzebna"."""
    limited = _limited()
    if limited:
        return limited
    check_id, refused = _claim(token, follow_ups.NEED_CHECK)
    if refused:
        return refused
    parts = current_parts()
    check = follow_ups.find_need_check(parts.db, str(check_id))
    if check is None:
        return _page("Nieprawidłowy link", "Nie znaleźliśmy tej potrzeby.", 404)
    if check.answer is not None:
        if "zapisano" in request.args:
            return render_template("notify/need_check_done.html", answer=check.answer)
        return _page("Link został już użyty", USED, 410)
    if check.decided:
        return _page("Potrzeba jest już zamknięta", "Ta potrzeba została już zrealizowana albo odwołana — nic "
                                                    "więcej nie trzeba robić.", 410)
    form = NeedCheckForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and (form.still.data or form.gone.data):
            try:
                follow_ups.answer_need(parts.db, parts.outbox, check, bool(form.still.data),  # type: ignore[arg-type]
                                       now=parts.clock())
            except follow_ups.AlreadyAnswered:
                return _page("Link został już użyty", USED, 410)
            return redirect(url_for("notify_checks.need_check", token=token, zapisano=1))
        status = 400
    return render_template("notify/need_check.html", check=check, form=form), status
