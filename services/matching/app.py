"""Matching service web app: the review queue and explanations for staff (Polish), and the JSON API."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext
from flask_smorest import Blueprint
from flask_smorest import abort as api_abort
from flask_wtf.csrf import CSRFProtect

from services.matching import engine, forms, reports, schemas
from services.matching.db import make_db, moderation, open_needs, proposals, unmet_needs
from services.matching.handlers import PUBLISHES
from services.matching.solver import HELD
from wspolnota import reference
from wspolnota.transport.outbox import Outbox
from wspolnota.web import create_service_app, make_api, one_decimal

QUEUE_ORDER = (proposals.c.urgent.desc(), proposals.c.window_start, proposals.c.created_at)
STAFF_ACTOR = "personel CUS (bez logowania)"  # written only when no one is signed in (a test app without sign-in)


def staff_actor() -> str:
    """Who decides: the signed-in account, never a name typed into a form or a JSON body."""
    from wspolnota.auth import actor_name

    return actor_name(STAFF_ACTOR)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("matching", db, test_config)
    csrf = CSRFProtect(app)
    outbox = Outbox(db, PUBLISHES)
    settings: engine.Settings = app.config.get("MATCHING_SETTINGS") or engine.Settings.from_env()
    clock: Callable[[], datetime] = app.config.get("MATCHING_CLOCK") or (lambda: datetime.now(UTC))
    api = make_api(app)
    blp = Blueprint("matching_api", __name__, url_prefix="/api", description="Dopasowania: przegląd i kaskada")

    def run(action: Callable[..., Any], *args: Any) -> Any:
        """One use case in one transaction; domain refusals become 404 / 409 with a Polish message."""
        try:
            with db.transaction() as session:
                engine.lock(session)
                return action(session, outbox, *args)
        except engine.MatchNotFound:
            abort(404)

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
            with db.engine.connect() as conn:
                rows, total = conn.execute(query).mappings().all(), conn.execute(count).scalar_one()
            return rows, 200, {"X-Total-Count": str(total)}

    @blp.route("/matches/<match_id>")
    class MatchItem(MethodView):
        @blp.response(200, schemas.MatchDetailOut)
        def get(self, match_id):  # type: ignore[no-untyped-def]
            with db.transaction() as session:
                try:
                    return dict(engine.get_match(session, match_id))
                except engine.MatchNotFound:
                    abort(404)

    def api_action(action: Callable[..., Any], *args: Any) -> Any:
        try:
            run(action, *args)
        except engine.NotAllowed as err:
            api_abort(409, message=str(err))
        with db.engine.connect() as conn:
            return conn.execute(sa.select(proposals).where(proposals.c.id == args[0])).mappings().one()

    @blp.route("/matches/<match_id>/approve", methods=["POST"])
    @blp.arguments(schemas.ApproveIn)
    @blp.response(200, schemas.ProposalOut)
    def api_approve(body, match_id):  # type: ignore[no-untyped-def]
        """The reviewer is the signed-in account; a `reviewer` in the body is refused (422)."""
        return api_action(lambda s, o, m: engine.approve(s, o, m, staff_actor(), clock(), settings), match_id)

    @blp.route("/matches/<match_id>/reject", methods=["POST"])
    @blp.arguments(schemas.RejectIn)
    @blp.response(200, schemas.ProposalOut)
    def api_reject(body, match_id):  # type: ignore[no-untyped-def]
        """The reviewer is the signed-in account; a `reviewer` in the body is refused (422)."""
        return api_action(lambda s, o, m: engine.reject(s, o, m, body["reason"], staff_actor(), clock()), match_id)

    @blp.route("/matches/<match_id>/pick", methods=["POST"])
    @blp.arguments(schemas.PickIn)
    @blp.response(201, schemas.ProposalOut)
    def api_pick(body, match_id):  # type: ignore[no-untyped-def]
        """The reviewer is the signed-in account; a `reviewer` in the body is refused (422)."""
        try:
            new = run(lambda s, o: engine.pick(s, o, match_id, body["volunteer_id"], staff_actor(), clock(),
                                               settings))
        except engine.NotAllowed as err:
            api_abort(409, message=str(err))
        with db.engine.connect() as conn:
            return conn.execute(sa.select(proposals).where(proposals.c.id == new["id"])).mappings().one()

    @blp.route("/matches/<match_id>/complete", methods=["POST"])
    @blp.arguments(schemas.CompleteIn)
    @blp.response(200, schemas.ProposalOut)
    def api_complete(body, match_id):  # type: ignore[no-untyped-def]
        return api_action(lambda s, o, m: engine.complete_match(s, o, m, body["hours"], clock()), match_id)

    @blp.route("/moderation/<category>", methods=["PUT"])
    @blp.arguments(schemas.ModerationIn)
    @blp.response(200, schemas.ModerationIn)
    def api_moderation(body, category):  # type: ignore[no-untyped-def]
        try:
            with db.transaction() as session:
                engine.set_moderation(session, category, body["mode"], staff_actor(), clock())
        except engine.NotAllowed as err:
            api_abort(404, message=str(err))
        return body

    api.register_blueprint(blp)
    csrf.exempt(blp)

    # --- staff pages -----------------------------------------------------------------------------

    def page_context() -> dict[str, Any]:
        return {"categories": reference.categories(), "villages": reference.villages(), "statuses": forms.STATUSES_PL,
                "reasons": forms.REASONS_PL}

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            queue = conn.execute(sa.select(proposals).where(proposals.c.status == engine.PROPOSED)
                                 .order_by(*QUEUE_ORDER)).mappings().all()
            offered = conn.execute(sa.select(proposals).where(proposals.c.status == engine.OFFERED)
                                   .order_by(proposals.c.deadline)).mappings().all()
            unmet = conn.execute(sa.select(unmet_needs, open_needs.c.category, open_needs.c.village,
                                           open_needs.c.window_start, open_needs.c.urgent)
                                 .join(open_needs, open_needs.c.need_id == unmet_needs.c.need_id)
                                 .where(open_needs.c.status == "open", open_needs.c.window_end > clock())
                                 .order_by(open_needs.c.urgent.desc(), open_needs.c.window_start)).mappings().all()
            recent = conn.execute(sa.select(proposals).where(proposals.c.status.not_in(
                (engine.PROPOSED, engine.OFFERED))).order_by(proposals.c.updated_at.desc()).limit(30)).mappings().all()
        held = [dict(u, propose_from=u["window_start"] - timedelta(hours=settings.hold_hours))
                for u in unmet if u["code"] == HELD]
        unmet = [u for u in unmet if u["code"] != HELD]
        return render_template("matching/index.html", queue=queue, offered=offered, unmet=unmet, held=held,
                               recent=recent, **page_context())

    def match_page(match_id: str, approve_form: Any = None, reject_form: Any = None, pick_form: Any = None,
                   complete_form: Any = None, status: int = 200) -> Any:
        with db.engine.connect() as conn:
            row = conn.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().first()
            if row is None:
                abort(404)
            need = conn.execute(sa.select(open_needs).where(open_needs.c.need_id == row["need_id"])).mappings().first()
            history = conn.execute(sa.select(proposals).where(proposals.c.need_id == row["need_id"])
                                   .order_by(proposals.c.created_at)).mappings().all()
        explanation = row["explanation"] or {}
        pick_form = pick_form or forms.PickForm(prefix="pick")
        pick_form.volunteer_id.choices = [
            forms.SelectChoice(c["volunteer_id"], gettext("%(id)s — %(km)s km, koszt %(cost)s", id=c["volunteer_id"][:8],
                                                          km=one_decimal(c["km"]), cost=c["cost"]))
            for c in explanation.get("candidates", [])]
        return render_template("matching/match.html", match=row, need=need, history=history, explanation=explanation,
                               approve_form=approve_form or forms.ApproveForm(prefix="approve"),
                               reject_form=reject_form or forms.RejectForm(prefix="reject"), pick_form=pick_form,
                               complete_form=complete_form or forms.CompleteForm(prefix="complete"),
                               rules_pl=forms.RULES_PL, terms_pl=forms.TERMS_PL, sources_pl=forms.SOURCES_PL,
                               **page_context()), status

    @app.get("/matches/<match_id>")
    def match_detail(match_id: str):  # type: ignore[no-untyped-def]
        return match_page(match_id)

    def staff_action(match_id: str, form: Any, action: Callable[..., Any], done: str, form_arg: str) -> Any:
        if not form.validate_on_submit():
            return match_page(match_id, status=422, **{form_arg: form})
        try:
            run(action)
        except engine.NotAllowed as err:
            form.form_errors.append(str(err))
            return match_page(match_id, status=409, **{form_arg: form})
        flash(done)
        return redirect(url_for("index"))

    @app.post("/matches/<match_id>/approve")
    def approve(match_id: str):  # type: ignore[no-untyped-def]
        form = forms.ApproveForm(prefix="approve")
        return staff_action(match_id, form, lambda s, o: engine.approve(
            s, o, match_id, staff_actor(), clock(), settings),
            "Propozycję zatwierdzono i wysłano ofertę do wykonawcy.", "approve_form")

    @app.post("/matches/<match_id>/reject")
    def reject(match_id: str):  # type: ignore[no-untyped-def]
        form = forms.RejectForm(prefix="reject")
        return staff_action(match_id, form, lambda s, o: engine.reject(
            s, o, match_id, form.reason.data.strip(), staff_actor(), clock()),
            "Propozycję odrzucono; potrzeba wróci do dopasowania.", "reject_form")

    @app.post("/matches/<match_id>/pick")
    def pick(match_id: str):  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            row = conn.execute(sa.select(proposals.c.explanation).where(proposals.c.id == match_id)).first()
        if row is None:
            abort(404)
        form = forms.PickForm(prefix="pick")
        form.volunteer_id.choices = [forms.SelectChoice(c["volunteer_id"])
                                     for c in (row.explanation or {}).get("candidates", [])]
        return staff_action(match_id, form, lambda s, o: engine.pick(
            s, o, match_id, form.volunteer_id.data, staff_actor(), clock(), settings),
            "Wybrano innego kandydata i wysłano mu ofertę.", "pick_form")

    @app.post("/matches/<match_id>/complete")
    def complete(match_id: str):  # type: ignore[no-untyped-def]
        form = forms.CompleteForm(prefix="complete")
        return staff_action(match_id, form, lambda s, o: engine.complete_match(
            s, o, match_id, float(form.hours.data), clock()), "Wizytę oznaczono jako wykonaną.", "complete_form")

    @app.route("/moderation", methods=["GET", "POST"])
    def moderation_page():  # type: ignore[no-untyped-def]
        if request.method == "POST":
            category = request.form.get("category", "")
            form = forms.ModerationForm(prefix=category)
            if category in reference.categories() and form.validate_on_submit():
                with db.transaction() as session:
                    engine.set_moderation(session, category, form.mode.data, staff_actor(), clock())
                flash(gettext("Zapisano tryb moderacji dla kategorii %(category)s.", category=reference.categories()[category]["name"]))
                return redirect(url_for("moderation_page"))
            flash("Nie zapisano: wybierz kategorię i tryb.")
        with db.engine.connect() as conn:
            modes = dict(conn.execute(sa.select(moderation.c.category, moderation.c.mode)).all())
        rows = []
        for code in reference.categories():
            form = forms.ModerationForm(prefix=code, formdata=None, data={"mode": modes.get(code, "review")})
            rows.append((code, form))
        return render_template("matching/moderation.html", rows=rows, **page_context())

    app.register_blueprint(reports.make_blueprint(db, clock))
    return app
