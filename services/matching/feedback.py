"""Feedback on visits, for the organiser: every `FeedbackGiven` (the volunteer from their space, a call staff
logged in needs, a resident's SMS reply code through notify) is kept once per `feedback_id` with the match's
category, so the match page lists it, the report "oceny" (reports.feedback_report) counts it by month and category, and the dashboard lists
the score 3 ("źle" / "potrzebna interwencja") nobody has marked as seen. Scores and codes only: notes stay in the
service where they were typed.

- `GET /api/feedback?status=unseen` (default; score 3 not yet seen) or `?status=all` (the latest 200): ids, codes,
  times — what the dashboard reads.
- `POST /matches/<match_id>/oceny/<feedback_id>/przeczytane` (staff, CSRF): marks a feedback as seen, by the
  signed-in account.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from services.matching.db import feedback, open_needs, proposals
from wspolnota import errors
from wspolnota.transport import Event
from wspolnota.web import current_parts

SCORES = (1, 2, 3)
SCORE_PL = {1: _l("dobrze"), 2: _l("średnio / były trudności"), 3: _l("źle / potrzebna interwencja")}
SOURCE_PL = {"volunteer": _l("wolontariusz"), "resident_sms": _l("mieszkaniec (SMS)"),
             "resident_call": _l("mieszkaniec (rozmowa z pracownikiem)")}
SLUG = "oceny"

api = Blueprint("matching_feedback_api", __name__, url_prefix="/api/feedback")
pages = Blueprint("matching_feedback", __name__)


# -- the consumer ------------------------------------------------------------------------------------------------
def on_feedback_given(session: Session, event: Event) -> None:
    """Keep one row per feedback id (a redelivery or a replay changes nothing)."""
    d = event.data
    if session.execute(sa.select(feedback.c.feedback_id).where(
            feedback.c.feedback_id == d["feedback_id"])).first() is not None:
        return
    category = session.execute(sa.select(proposals.c.category).where(proposals.c.id == d["match_id"])).scalar()
    need_id = d.get("need_id") or session.execute(sa.select(proposals.c.need_id).where(
        proposals.c.id == d["match_id"])).scalar()
    if category is None and need_id:
        category = session.execute(sa.select(open_needs.c.category).where(open_needs.c.need_id == need_id)).scalar()
    session.execute(sa.insert(feedback).values(feedback_id=d["feedback_id"], match_id=d["match_id"], need_id=need_id,
                                               category=category, source=d["source"], score=int(d["score"]),
                                               given_at=event.time))


# -- reads -------------------------------------------------------------------------------------------------------
def of_match(conn: Connection, match_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.select(feedback).where(feedback.c.match_id == match_id)
                                          .order_by(feedback.c.given_at)).mappings()]


def rows_between(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.select(feedback).where(feedback.c.given_at >= start,
                                                                     feedback.c.given_at < end)).mappings()]


def out(row: dict[str, Any]) -> dict[str, Any]:
    return {"feedback_id": row["feedback_id"], "match_id": row["match_id"], "need_id": row["need_id"],
            "category": row["category"], "source": row["source"], "score": row["score"],
            "given_at": row["given_at"].isoformat(), "seen_at": row["seen_at"].isoformat() if row["seen_at"] else None}


@api.get("")
def feedback_list():  # type: ignore[no-untyped-def]
    status = request.args.get("status", "unseen")
    if status not in ("unseen", "all"):
        errors.api_error(422, "Niepoprawny filtr.", errors={"query": {"status": ["Dozwolone: unseen, all."]}})
    query = sa.select(feedback)
    if status == "unseen":
        query = query.where(feedback.c.score == 3, feedback.c.seen_at.is_(None)).order_by(feedback.c.given_at)
    else:
        query = query.order_by(feedback.c.given_at.desc())
    with current_parts().db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query.limit(200)).mappings()]
    return jsonify([out(r) for r in rows])


class SeenForm(FlaskForm):
    pass


@pages.post("/matches/<match_id>/oceny/<feedback_id>/przeczytane")
def mark_seen(match_id: str, feedback_id: str):  # type: ignore[no-untyped-def]
    from services.matching.api import staff_actor

    if not SeenForm().validate_on_submit():
        abort(400)
    parts = current_parts()
    with parts.db.transaction() as session:
        found = session.execute(sa.select(feedback.c.seen_at).where(
            feedback.c.feedback_id == feedback_id, feedback.c.match_id == match_id)).first()
        if found is None:
            abort(404)
        if found[0] is None:
            session.execute(sa.update(feedback).where(feedback.c.feedback_id == feedback_id)
                            .values(seen_by=staff_actor()[:100], seen_at=parts.clock()))
    flash(_("Oznaczono ocenę jako przeczytaną."))
    return redirect(url_for("matching.match_detail", match_id=match_id) + "#oceny")


def install(app: Any, csrf: Any) -> None:
    csrf.exempt(api)
    app.register_blueprint(api)
    app.register_blueprint(pages)
