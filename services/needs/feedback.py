"""Residents' feedback on visits, as the needs service takes it.

- Staff log a call with the resident on the need's page (`POST /needs/<need_id>/ocena`): a score (1 dobrze,
  2 średnio, 3 źle — the scale of the SMS request), the visit it is about and an optional note. The note stays here
  (`resident_feedback`; every read audited); the bus carries `FeedbackGiven {feedback_id, match_id, need_id,
  source: "resident_call", score}`.
- The internal API `GET /internal/matches/<match_id>/feedback-contact` (bearer INTERNAL_SERVICE_TOKEN) answers
  notify's sender, at send time of the feedback request SMS, whether the match's resident consented to SMS
  (preferred channel "sms" and a phone, not erased) and the phone only then: {match_id, need_id, sms, phone}.
  Every answer is audited with the actor "notify".
"""
from __future__ import annotations

import hmac
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from contracts import needs as need_contract
from services.needs import audit, clock
from services.needs.api import db, outbox
from services.needs.db import need_matches, needs, resident_feedback, residents
from services.needs.handlers import Invalid, NotFound
from wspolnota import errors
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("services.needs")
SUBJECT = "resident_feedback"
MAX_NOTE = 2000
SCORES = (1, 2, 3)
SCORE_PL = {1: "dobrze", 2: "średnio", 3: "źle"}
BAD_SCORE = "Wybierz ocenę: dobrze, średnio albo źle."
BAD_MATCH = "Wybierz wizytę tej potrzeby."
NOTE_LONG = f"Notatka może mieć najwyżej {MAX_NOTE} znaków."

internal = Blueprint("needs_feedback_internal", __name__, url_prefix="/internal/matches")
pages = Blueprint("needs_feedback", __name__)


def log_call(session: Session, outbox: Outbox, *, feedback_id: str, need_id: str, match_id: str, score: Any,
             note: Any, actor: str) -> bool:
    """Store a call's feedback and publish FeedbackGiven in one transaction; False: this id was stored already."""
    try:
        feedback_id = str(uuid.UUID(str(feedback_id)))
    except ValueError as err:
        raise Invalid({"score": BAD_SCORE}) from err
    try:
        score = int(score)
    except (TypeError, ValueError) as err:
        raise Invalid({"score": BAD_SCORE}) from err
    if score not in SCORES:
        raise Invalid({"score": BAD_SCORE})
    text = str(note or "").strip()
    if len(text) > MAX_NOTE:
        raise Invalid({"note": NOTE_LONG})
    if session.execute(sa.select(needs.c.id).where(needs.c.id == need_id)).first() is None:
        raise NotFound(need_id)
    known = session.execute(sa.select(need_matches.c.match_id).where(
        need_matches.c.need_id == need_id, need_matches.c.match_id == match_id,
        need_matches.c.was_accepted.is_(True))).first()
    if known is None:
        raise Invalid({"match_id": BAD_MATCH})
    if session.execute(sa.select(resident_feedback.c.id).where(resident_feedback.c.id == feedback_id)).first():
        return False
    session.execute(sa.insert(resident_feedback).values(id=feedback_id, need_id=need_id, match_id=match_id,
                                                        score=score, note=text, logged_by=actor[:200],
                                                        created_at=clock.now()))
    audit.record(session, "create", SUBJECT, feedback_id, ["score", "note"], actor)
    outbox.add(session, need_contract.TOPIC, "FeedbackGiven", match_id, {
        "feedback_id": feedback_id, "match_id": match_id, "need_id": need_id, "source": "resident_call",
        "score": score})
    return True


def of_need(session: Session, need_id: str) -> list[dict[str, Any]]:
    """The need's logged calls with their notes (a read of personal data when there are any: audited)."""
    rows = [dict(r) for r in session.execute(sa.select(resident_feedback).where(
        resident_feedback.c.need_id == need_id).order_by(resident_feedback.c.created_at)).mappings()]
    if any(r["note"] for r in rows):
        audit.record(session, "read", SUBJECT, need_id, ["note"])
    return rows


def visits_of(session: Session, need_id: str) -> list[str]:
    return [r[0] for r in session.execute(sa.select(need_matches.c.match_id).where(
        need_matches.c.need_id == need_id, need_matches.c.was_accepted.is_(True)).order_by(need_matches.c.updated_at))]


class CallForm(FlaskForm):
    feedback_id = HiddenField()
    match_id = SelectField(_l("Wizyta"), choices=[])
    score = RadioField(_l("Jak mieszkaniec ocenia wizytę"), choices=[
        SelectChoice("1", _l("dobrze")), SelectChoice("2", _l("średnio")), SelectChoice("3", _l("źle"))])
    note = TextAreaField(_l("Notatka z rozmowy (nieobowiązkowa)"), render_kw={"rows": 3, "maxlength": MAX_NOTE})


def call_form(session: Session, need_id: str, formdata: Any = None) -> CallForm:
    form = CallForm(formdata=formdata) if formdata is not None else CallForm(formdata=None)
    form.match_id.choices = [SelectChoice(m, m[:8]) for m in visits_of(session, need_id)]
    if not form.feedback_id.data:
        form.feedback_id.data = str(uuid.uuid4())
    return form


@pages.post("/needs/<need_id>/ocena")
def log_call_page(need_id: str):  # type: ignore[no-untyped-def]
    """Staff log the resident's feedback after a call; a double submit (same hidden id) is stored once."""
    with db().transaction() as session:
        form = call_form(session, need_id, request.form)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash("Nie zapisano oceny: wybierz wizytę i ocenę.")
        return redirect(url_for("needs.need_page", need_id=need_id) + "#ocena")
    try:
        with db().transaction() as session:
            log_call(session, outbox(), feedback_id=form.feedback_id.data or "", need_id=need_id,
                     match_id=form.match_id.data or "", score=form.score.data, note=form.note.data,
                     actor=audit.current_actor())
    except errors.Invalid as err:
        flash("Nie zapisano oceny: " + "; ".join(str(v) for v in err.errors.values()))
        return redirect(url_for("needs.need_page", need_id=need_id) + "#ocena")
    flash("Zapisano ocenę wizyty z rozmowy z mieszkańcem.")
    return redirect(url_for("needs.need_page", need_id=need_id) + "#ocena")


@internal.get("/<match_id>/feedback-contact")
def feedback_contact(match_id: str):  # type: ignore[no-untyped-def]
    """Whether the match's resident takes SMS (and the phone only then), for notify's feedback request."""
    expected = str(current_app.config.get("INTERNAL_SERVICE_TOKEN") or "")
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        log.warning("internal feedback-contact API: refused a request without a valid service token")
        return jsonify({"code": 401, "message": "Wymagany token usługi."}), 401
    with db().transaction() as session:
        row = session.execute(
            sa.select(need_matches.c.need_id, residents.c.phone, residents.c.preferred_channel,
                      residents.c.erased_at)
            .join(needs, needs.c.id == need_matches.c.need_id)
            .join(residents, residents.c.ref == needs.c.resident_ref)
            .where(need_matches.c.match_id == match_id)).mappings().first()
        if row is None:
            return jsonify({"code": 404, "message": "Nie ma takiej wizyty."}), 404
        sms = bool(row["erased_at"] is None and row["preferred_channel"] == "sms" and row["phone"])
        audit.record(session, "read", "resident", match_id, ["phone"] if sms else ["preferred_channel"], "notify",
                     "prośba o ocenę wizyty (SMS)")
    return jsonify({"match_id": match_id, "need_id": row["need_id"], "sms": sms, "phone": row["phone"] if sms else ""})


def install(app: Any, csrf: Any) -> None:
    csrf.exempt(internal)
    app.register_blueprint(internal)
    app.register_blueprint(pages)

