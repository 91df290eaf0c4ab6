"""Matching's JSON API (flask-smorest): the proposals, one match, and the staff decisions on them.

Every decision is taken by the signed-in account (`staff_actor`), never by a name in the body. Domain
refusals become the shared error answers (wspolnota.errors): an unknown match 404, a refused action 409.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.matching import actions, model, review, schemas, series, store
from services.matching.db import proposals
from wspolnota.errors import NotFound, Refused
from wspolnota.web import current_parts

STAFF_ACTOR = "personel CUS (bez logowania)"  # written only when no one is signed in (a test app without sign-in)
NO_MATCH = "Nie ma takiego dopasowania."

blp = Blueprint("matching_api", __name__, url_prefix="/api", description="Dopasowania: przegląd i kaskada")


def staff_actor() -> str:
    """Who decides: the signed-in account, never a name typed into a form or a JSON body."""
    from wspolnota.auth import actor_name

    return actor_name(STAFF_ACTOR)


def run(action: Callable[..., Any], *args: Any) -> Any:
    """One use case in one transaction, under matching's writer lock; an unknown match is NotFound (404)."""
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            store.lock(session)
            return action(session, parts.outbox, *args)
    except model.MatchNotFound as err:
        raise NotFound(NO_MATCH) from err


@contextmanager
def refused_as_409() -> Iterator[None]:
    try:
        yield
    except model.NotAllowed as err:
        raise Refused(str(err)) from err


def proposal(match_id: str) -> sa.RowMapping:
    with current_parts().db.engine.connect() as conn:
        return conn.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().one()


@blp.route("/proposals")
class ProposalCollection(MethodView):
    @blp.response(200, schemas.ProposalOut(many=True),
                  headers={"X-Total-Count": {"description": "all matching rows; the body holds the newest 200",
                                             "schema": {"type": "integer"}}})
    def get(self):  # type: ignore[no-untyped-def]
        query = sa.select(proposals).order_by(proposals.c.created_at.desc()).limit(200)
        count = sa.select(sa.func.count()).select_from(proposals)
        if request.args.get("status"):
            query = query.where(proposals.c.status == request.args["status"])
            count = count.where(proposals.c.status == request.args["status"])
        with current_parts().db.engine.connect() as conn:
            rows, total = conn.execute(query).mappings().all(), conn.execute(count).scalar_one()
        return rows, 200, {"X-Total-Count": str(total)}


@blp.route("/matches/<match_id>")
class MatchItem(MethodView):
    @blp.response(200, schemas.MatchDetailOut)
    def get(self, match_id):  # type: ignore[no-untyped-def]
        with current_parts().db.transaction() as session:
            try:
                return dict(store.get_match(session, match_id))
            except model.MatchNotFound as err:
                raise NotFound(NO_MATCH) from err


@blp.route("/matches/<match_id>/approve", methods=["POST"])
@blp.arguments(schemas.ApproveIn)
@blp.response(200, schemas.ProposalOut)
def api_approve(body, match_id):  # type: ignore[no-untyped-def]
    """The reviewer is the signed-in account; a `reviewer` in the body is refused (422)."""
    parts = current_parts()
    with refused_as_409():
        run(review.approve, match_id, staff_actor(), parts.clock(), parts.settings)
    return proposal(match_id)


@blp.route("/matches/<match_id>/reject", methods=["POST"])
@blp.arguments(schemas.RejectIn)
@blp.response(200, schemas.ProposalOut)
def api_reject(body, match_id):  # type: ignore[no-untyped-def]
    """The reviewer is the signed-in account; a `reviewer` in the body is refused (422)."""
    with refused_as_409():
        run(review.reject, match_id, body["reason"], staff_actor(), current_parts().clock())
    return proposal(match_id)


@blp.route("/matches/<match_id>/pick", methods=["POST"])
@blp.arguments(schemas.PickIn)
@blp.response(201, schemas.ProposalOut)
def api_pick(body, match_id):  # type: ignore[no-untyped-def]
    """The reviewer is the signed-in account; a `reviewer` in the body is refused (422)."""
    parts = current_parts()
    with refused_as_409():
        new = run(review.pick, match_id, body["volunteer_id"], staff_actor(), parts.clock(), parts.settings)
    return proposal(new["id"])


@blp.route("/matches/<match_id>/complete", methods=["POST"])
@blp.arguments(schemas.CompleteIn)
@blp.response(200, schemas.ProposalOut)
def api_complete(body, match_id):  # type: ignore[no-untyped-def]
    with refused_as_409():
        run(actions.complete_match, match_id, body["hours"], current_parts().clock())
    return proposal(match_id)


@blp.route("/matches/<match_id>/step-back", methods=["POST"])
@blp.arguments(schemas.StepBackIn)
@blp.response(200, schemas.StepBackOut)
def api_step_back(body, match_id):  # type: ignore[no-untyped-def]
    """The provider steps back from this accepted visit (`visit`) or from its whole series (`series`): the
    visit(s) are cancelled and re-offered, the organiser is told (urgent at short notice). The same step-back
    again changes nothing (`repeated: true`). Recorded under the signed-in account."""
    parts = current_parts()
    with refused_as_409():
        return run(series.step_back, match_id, body["volunteer_id"], body["scope"], body["reason"], staff_actor(),
                   parts.clock(), parts.settings)


@blp.route("/step-backs")
class StepBackCollection(MethodView):
    @blp.response(200, schemas.StepBackOut(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """The latest step-backs, newest first (what the organiser follows up)."""
        with current_parts().db.transaction() as session:
            return [{**r, "repeated": False} for r in series.recent_step_backs(session, 100)]


@blp.route("/moderation/<category>", methods=["PUT"])
@blp.arguments(schemas.ModerationIn)
@blp.response(200, schemas.ModerationIn)
def api_moderation(body, category):  # type: ignore[no-untyped-def]
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            actions.set_moderation(session, category, body["mode"], staff_actor(), parts.clock())
    except model.NotAllowed as err:
        raise NotFound(str(err)) from err  # an unknown category
    return body
