"""The staff's call list, "Do zadzwonienia": residents' notices for residents without a mobile phone
(services/notify/resident_notices.py). The list shows what to say and when; the phone (and the volunteer's first
name) only on opening one task — read then from the needs service (an audited read naming the staff member) and
the volunteers service. "Zadzwoniono" / "Nie udało się" mark it; attempts are counted.
`GET /api/calls?due=today|all` gives the dashboard the open tasks without any contact."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm

from services.notify import resident_notices as rn
from services.notify.channels import PermanentFailure, TemporaryFailure
from services.notify.contacts import ResidentContacts, VolunteerContacts
from wspolnota.auth import actor_name
from wspolnota.errors import api_error
from wspolnota.web import current_parts

pages = Blueprint("notify_calls", __name__)
api = Blueprint("notify_calls_api", __name__, url_prefix="/api/calls")
STAFF_WITHOUT_SIGN_IN = "pracownik CUS (bez logowania)"


class MarkForm(FlaskForm):
    """The two buttons of an open task (CSRF only; the button's name says which)."""


def _script(body: str, name: str | None = None) -> str:
    return body.replace(rn.FIRST_NAME, name or gettext("[imię wolontariusza — po otwarciu zadania]"))


@pages.get("/do-zadzwonienia")
def call_list() -> str:
    parts = current_parts()
    now = parts.clock()
    open_tasks = [{**t, "script": _script(t["body"]), "due_today": t["due_at"] <= rn.due_today_end(now)}
                  for t in rn.calls(parts.db)]
    closed = [*rn.calls(parts.db, status=rn.CALL_DONE, limit=20), *rn.calls(parts.db, status=rn.CALL_UNREACHABLE,
                                                                            limit=20)]
    return render_template("notify/calls.html", tasks=open_tasks, closed=closed, kind_pl=rn.KIND_PL,
                           status_pl=rn.CALL_STATUS_PL, now=now)


@pages.route("/do-zadzwonienia/<task_id>", methods=["GET", "POST"])
def call_task(task_id: str) -> Any:
    parts = current_parts()
    form = MarkForm()
    if request.method == "POST" and not form.validate_on_submit():
        abort(400)
    task = rn.call(parts.db, task_id)
    if task is None:
        abort(404)
    assert task is not None
    if request.method == "POST":
        reached = "called" in request.form
        status = rn.mark_call(parts.db, task_id, reached, actor_name(STAFF_WITHOUT_SIGN_IN), parts.clock())
        if status is None:
            flash(gettext("To zadanie jest już zamknięte."))
        elif status == rn.CALL_DONE:
            flash(gettext("Zapisano: zadzwoniono."))
        elif status == rn.CALL_UNREACHABLE:
            flash(gettext("Nie udało się dodzwonić po raz kolejny — zadanie zamknięte; porozmawiaj z pracownikiem "
                          "socjalnym mieszkańca."))
        else:
            flash(gettext("Zapisano próbę — zadanie czeka na kolejną."))
        return redirect(url_for(".call_list"))
    settings = parts.settings
    phone, problem = "", ""
    if task["status"] == rn.CALL_OPEN:
        try:
            contact = ResidentContacts(settings.needs_internal_url, settings.internal_service_token,
                                       settings.http_timeout_s).fetch(
                task["resident_ref"], f"zadanie do zadzwonienia {task_id}", actor_name(STAFF_WITHOUT_SIGN_IN))
            phone = contact.phone if contact.channel == "call" or contact.channel == "sms" else ""
            if not phone:
                problem = gettext("Mieszkaniec nie zgadza się już na powiadomienia — nie dzwoń; zamknij zadanie.")
        except (TemporaryFailure, PermanentFailure) as err:
            problem = gettext("Nie udało się odczytać telefonu: %(reason)s", reason=str(err))
    name = None
    if task["match_id"]:
        try:
            name = rn.volunteer_first_name(parts.db, task["match_id"], VolunteerContacts(
                settings.volunteers_internal_url, settings.internal_service_token, settings.http_timeout_s))
        except TemporaryFailure:
            name = None
    return render_template("notify/call.html", task=task, script=_script(task["body"], name), phone=phone,
                           problem=problem, form=form, kind_pl=rn.KIND_PL, status_pl=rn.CALL_STATUS_PL)


@api.get("")
def calls_due() -> Any:
    """Open call tasks (no phone, no name): `?due=today` (default) those due by the end of today in Warsaw,
    overdue ones included; `?due=all` every open one."""
    due = request.args.get("due", "today")
    if due not in ("today", "all"):
        api_error(422, "Niepoprawny filtr.", errors={"query": {"due": ["Dozwolone: today, all."]}})
    parts = current_parts()
    until = rn.due_today_end(parts.clock()) if due == "today" else None
    return jsonify([{"id": t["id"], "kind": t["kind"], "due_at": t["due_at"].isoformat(), "attempts": t["attempts"],
                     "need_id": t["need_id"]} for t in rn.calls(parts.db, until=until)])


def install(app: Any) -> None:
    app.register_blueprint(pages)
    app.register_blueprint(api)
