"""Matching's staff pages (Polish): the review queue, a match with its explanation and the staff decisions,
and the moderation mode of each category. The actor of every decision is the signed-in account."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from contracts import community as community_contract
from contracts import matching as match_contract
from contracts.matching import STEP_BACK_REASONS
from services.matching import actions, confirmations, feedback, forms, helpers, model, review, series
from services.matching.api import run, staff_actor
from services.matching.db import moderation, open_needs, proposals, unmet_needs
from services.matching.solver import HELD
from wspolnota import reference
from wspolnota.errors import NotFound
from wspolnota.web import current_parts, one_decimal

QUEUE_ORDER = (proposals.c.urgent.desc(), proposals.c.window_start, proposals.c.created_at)

bp = Blueprint("matching", __name__)


def page_context() -> dict[str, Any]:
    return {"categories": reference.categories(), "villages": reference.villages(), "statuses": forms.STATUSES_PL,
            "reasons": forms.REASONS_PL}


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    parts = current_parts()
    with parts.db.engine.connect() as conn:
        queue = conn.execute(sa.select(proposals).where(proposals.c.status == model.PROPOSED)
                             .order_by(*QUEUE_ORDER)).mappings().all()
        offered = conn.execute(sa.select(proposals).where(proposals.c.status == model.OFFERED)
                               .order_by(proposals.c.deadline)).mappings().all()
        unmet = conn.execute(sa.select(unmet_needs, open_needs.c.category, open_needs.c.village,
                                       open_needs.c.window_start, open_needs.c.urgent)
                             .join(open_needs, open_needs.c.need_id == unmet_needs.c.need_id)
                             .where(open_needs.c.status == "open", open_needs.c.window_end > parts.clock())
                             .order_by(open_needs.c.urgent.desc(), open_needs.c.window_start)).mappings().all()
        recent = conn.execute(sa.select(proposals).where(proposals.c.status.not_in(
            (model.PROPOSED, model.OFFERED))).order_by(proposals.c.updated_at.desc()).limit(30)).mappings().all()
        helper_activities = helpers.overview(conn, parts.clock())
    with parts.db.transaction() as session:
        stepped_back = series.recent_step_backs(session, 20)
    held = [dict(u, propose_from=u["window_start"] - timedelta(hours=parts.settings.hold_hours))
            for u in unmet if u["code"] == HELD]
    unmet = [u for u in unmet if u["code"] != HELD]
    return render_template("matching/index.html", queue=queue, offered=offered, unmet=unmet, held=held,
                           recent=recent, helper_activities=helper_activities, stepped_back=stepped_back,
                           step_back_reasons=STEP_BACK_REASONS, step_back_scopes=forms.STEP_BACK_SCOPES_PL,
                           **page_context(),
                           **helper_context())


def helper_context() -> dict[str, Any]:
    return {"activity_kinds": community_contract.ACTIVITY_KIND_LABELS, "helper_statuses": forms.HELPER_STATUSES_PL,
            "reason_label": match_contract.reason_label}


@bp.get("/pomocnicy/<activity_id>")
def helper_activity(activity_id: str):  # type: ignore[no-untyped-def]
    """One activity's helper places: every offer (provider, status, deadline) and why places are still missing."""
    parts = current_parts()
    with parts.db.transaction() as session:
        activity = helpers.detail(session, activity_id, parts.clock(), parts.settings)
    if activity is None:
        raise NotFound()
    return render_template("matching/helper_activity.html", activity=activity, now=parts.clock(),
                           **page_context(), **helper_context())


def match_page(match_id: str, approve_form: Any = None, reject_form: Any = None, pick_form: Any = None,
               complete_form: Any = None, status: int = 200, not_done_form: Any = None) -> Any:
    with current_parts().db.engine.connect() as conn:
        row = conn.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().first()
        if row is None:
            raise NotFound()
        need = conn.execute(sa.select(open_needs).where(open_needs.c.need_id == row["need_id"])).mappings().first()
        history = conn.execute(sa.select(proposals).where(proposals.c.need_id == row["need_id"])
                               .order_by(proposals.c.created_at)).mappings().all()
        given = feedback.of_match(conn, match_id)
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
                           not_done_form=not_done_form or forms.NotDoneForm(prefix="notdone"),
                           rules_pl=forms.RULES_PL, terms_pl=forms.TERMS_PL, sources_pl=forms.SOURCES_PL,
                           feedback=given, feedback_pl=feedback.SCORE_PL, feedback_sources=feedback.SOURCE_PL,
                           seen_form=feedback.SeenForm(formdata=None), **page_context()), status


@bp.get("/matches/<match_id>")
def match_detail(match_id: str):  # type: ignore[no-untyped-def]
    return match_page(match_id)


def staff_action(match_id: str, form: Any, action: Callable[..., Any], done: str, form_arg: str) -> Any:
    """Validate the form, run the decision; a refusal is shown beside the buttons (409)."""
    if not form.validate_on_submit():
        return match_page(match_id, status=422, **{form_arg: form})
    try:
        run(action)
    except model.NotAllowed as err:
        form.form_errors.append(str(err))
        return match_page(match_id, status=409, **{form_arg: form})
    flash(done)
    return redirect(url_for(".index"))


@bp.post("/matches/<match_id>/approve")
def approve(match_id: str):  # type: ignore[no-untyped-def]
    parts, form = current_parts(), forms.ApproveForm(prefix="approve")
    return staff_action(match_id, form, lambda s, o: review.approve(
        s, o, match_id, staff_actor(), parts.clock(), parts.settings),
        "Propozycję zatwierdzono i wysłano ofertę do wykonawcy.", "approve_form")


@bp.post("/matches/<match_id>/reject")
def reject(match_id: str):  # type: ignore[no-untyped-def]
    parts, form = current_parts(), forms.RejectForm(prefix="reject")
    return staff_action(match_id, form, lambda s, o: review.reject(
        s, o, match_id, form.reason.data.strip(), staff_actor(), parts.clock()),
        "Propozycję odrzucono; potrzeba wróci do dopasowania.", "reject_form")


@bp.post("/matches/<match_id>/pick")
def pick(match_id: str):  # type: ignore[no-untyped-def]
    parts = current_parts()
    with parts.db.engine.connect() as conn:
        row = conn.execute(sa.select(proposals.c.explanation).where(proposals.c.id == match_id)).first()
    if row is None:
        raise NotFound()
    form = forms.PickForm(prefix="pick")
    form.volunteer_id.choices = [forms.SelectChoice(c["volunteer_id"])
                                 for c in (row.explanation or {}).get("candidates", [])]
    return staff_action(match_id, form, lambda s, o: review.pick(
        s, o, match_id, form.volunteer_id.data, staff_actor(), parts.clock(), parts.settings),
        "Wybrano innego kandydata i wysłano mu ofertę.", "pick_form")


@bp.post("/matches/<match_id>/complete")
def complete(match_id: str):  # type: ignore[no-untyped-def]
    parts, form = current_parts(), forms.CompleteForm(prefix="complete")
    return staff_action(match_id, form, lambda s, o: actions.complete_match(
        s, o, match_id, float(form.hours.data), parts.clock()), "Wizytę oznaczono jako wykonaną.", "complete_form")


@bp.post("/matches/<match_id>/not-happened")
def not_happened(match_id: str):  # type: ignore[no-untyped-def]
    """The visit did not take place (staff; the follow-up of an unanswered "did it happen?")."""
    parts, form = current_parts(), forms.NotDoneForm(prefix="notdone")
    return staff_action(match_id, form, lambda s, o: confirmations.not_happened_by_staff(
        s, o, match_id, staff_actor(), parts.clock()), "Wizytę oznaczono jako nieodbytą.", "not_done_form")


@bp.route("/moderation", methods=["GET", "POST"])
def moderation_page():  # type: ignore[no-untyped-def]
    parts = current_parts()
    if request.method == "POST":
        category = request.form.get("category", "")
        form = forms.ModerationForm(prefix=category)
        if category in reference.categories() and form.validate_on_submit():
            with parts.db.transaction() as session:
                actions.set_moderation(session, category, form.mode.data, staff_actor(), parts.clock())
            flash(gettext("Zapisano tryb moderacji dla kategorii %(category)s.",
                          category=reference.categories()[category]["name"]))
            return redirect(url_for(".moderation_page"))
        flash("Nie zapisano: wybierz kategorię i tryb.")
    with parts.db.engine.connect() as conn:
        modes = dict(conn.execute(sa.select(moderation.c.category, moderation.c.mode)).all())
    rows = []
    for code in reference.categories():
        form = forms.ModerationForm(prefix=code, formdata=None, data={"mode": modes.get(code, "review")})
        rows.append((code, form))
    return render_template("matching/moderation.html", rows=rows, **page_context())
