""""Is it still needed?" over HTTP (services/needs/need_checks.py has the rules):

- the internal API (Authorization: Bearer <INTERNAL_SERVICE_TOKEN>): `GET /internal/needs/<id>/check-recipient`
  (notify's sender asks where the question goes, at send time: {"email": the resident's social worker or ""});
- the staff API `GET /api/need-checks/overdue` (the dashboard's "Potrzeby do potwierdzenia": codes and times);
- the staff page `/needs/<id>/sprawdzenie`: the organiser answers an unanswered question with the same two answers
  as the worker's link ("nadal potrzebna" / "już niepotrzebna"), under their signed-in account.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import SubmitField

from services.needs import audit, need_checks
from services.needs.api import db, outbox
from services.needs.concern_pages import check_service_token
from services.needs.handlers import get_need
from wspolnota import errors
from wspolnota.web import current_parts

log = logging.getLogger("services.needs")

internal = Blueprint("needs_checks_internal", __name__, url_prefix="/internal/needs")
api = Blueprint("needs_checks_api", __name__, url_prefix="/api/need-checks")
pages = Blueprint("needs_checks", __name__)


@internal.get("/<need_id>/check-recipient")
def check_recipient(need_id: str):  # type: ignore[no-untyped-def]
    """Where notify sends "is it still needed?": {"email": the resident's social worker, or "" (the organiser)}."""
    check_service_token()
    with db().transaction() as session:
        try:
            email = need_checks.recipient(session, need_id)
        except errors.NotFound:
            errors.api_error(404, "Nie ma takiej potrzeby.")
    return jsonify({"need_id": need_id, "email": email})


@api.get("/overdue")
def overdue():  # type: ignore[no-untyped-def]
    """Questions unanswered for NEEDS_CHECK_ANSWER_DAYS about needs still waiting, the oldest first."""
    with db().transaction() as session:
        return jsonify(need_checks.overdue(session, current_parts().clock()))


class DecideForm(FlaskForm):
    still = SubmitField("Nadal potrzebna")
    gone = SubmitField("Już niepotrzebna")


@pages.route("/needs/<need_id>/sprawdzenie", methods=["GET", "POST"])
def decide(need_id: str):  # type: ignore[no-untyped-def]
    with db().transaction() as session:
        try:
            need = get_need(session, need_id)
        except errors.NotFound:
            abort(404)
        check = need_checks.current(session, need_id)
    form = DecideForm()
    open_check = check is not None and check["answered_at"] is None and need["status"] in need_checks.WAITING
    if form.is_submitted():
        if not form.validate_on_submit() or not (form.still.data or form.gone.data):
            abort(400)
        with db().transaction() as session:
            done = need_checks.answer(session, outbox(), need_id, None, bool(form.still.data),
                                      audit.current_actor())
        flash(("Zapisano: potrzeba nadal aktualna." if form.still.data else "Potrzebę odwołano: już niepotrzebna.")
              if done else "To pytanie ma już odpowiedź albo potrzeba nie czeka już na wykonawcę.")
        return redirect(url_for("needs.need_page", need_id=need_id))
    return render_template("needs/need_check.html", need=need, check=check, open_check=open_check, form=form)


def install(app: Any, csrf: Any) -> None:
    """Called by app.create_app: the two APIs are CSRF-exempt (a bearer token, a read), the page is not."""
    for blueprint in (internal, api):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(pages)
