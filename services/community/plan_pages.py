"""Staff pages of the organising plan, activities, self-help groups and partners, and the public registration page.

Module-level Flask blueprints over `current_parts()`. A submitted form goes through the API's schema and the same
use case as the JSON API; its errors come back beside the fields (422) and nothing is half-written.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session

from contracts import community as contract
from services.community import animation, plan
from services.community import plan_forms as f
from services.community import plan_handlers as h
from services.community import plan_schemas as s
from services.community.db_plan import groups, plans
from services.community.plan_api import public_registration_allowed
from wspolnota.auth import actor_name
from wspolnota.errors import DomainError, Invalid, NotFound
from wspolnota.web import current_parts

pages = Blueprint("community_plan", __name__)
public_pages = Blueprint("community_public", __name__)


def _now() -> datetime:
    return current_parts().clock()


def _read(action: Callable[[Session], Any]) -> Any:
    try:
        with current_parts().db.transaction() as session:
            return action(session)
    except NotFound as err:
        from flask import abort

        abort(404, err.message)


def _submit(form: FlaskForm, schema: Schema, action: Callable[[Session, dict[str, Any]], Any],
            skip: tuple[str, ...] = ()) -> tuple[bool, Any]:
    """Validate with the API's schema, run the use case in one transaction; errors go beside the fields."""
    if not form.validate_on_submit():
        return False, None
    try:
        data = schema.load(f.body(form, skip=skip))
        with current_parts().db.transaction() as session:
            return True, action(session, data)
    except ValidationError as err:
        f.attach_errors(form, err.messages)  # type: ignore[arg-type]
    except DomainError as err:
        f.attach_errors(form, err.errors, err.message)
    return False, None


def _form_page(template: str, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), 422 if request.method == "POST" else 200


def _outbox():  # type: ignore[no-untyped-def]
    outbox = current_parts().outbox
    assert outbox is not None
    return outbox


# --- the plan ------------------------------------------------------------------------------------------------
@pages.route("/plans", methods=["GET", "POST"])
def plan_list():  # type: ignore[no-untyped-def]
    form = f.PlanForm()
    if request.method == "POST":
        ok, plan_id = _submit(form, s.PlanCreate(), lambda session, d: h.create_plan(
            session, d["title"], d["starts_on"], d["ends_on"], _now()))
        if ok:
            flash("Utworzono projekt planu.")
            return redirect(url_for("community_plan.plan_page", plan_id=plan_id))
    rows = _read(lambda session: [dict(r) for r in session.execute(
        sa.select(plans).order_by(plans.c.starts_on.desc())).mappings()])
    return _form_page("community/plan/plans.html", plans=rows, form=form, status_pl=plan.PLAN_STATUS_PL)


def _plan_context(plan_id: str) -> dict[str, Any]:
    view = _read(lambda session: h.plan_view(session, plan_id))
    return {"plan": view, "status_pl": plan.PLAN_STATUS_PL, "action_status_pl": plan.ACTION_STATUS_PL,
            "source_pl": plan.SOURCE_PL}


@pages.route("/plans/<plan_id>", methods=["GET", "POST"])
def plan_page(plan_id: str):  # type: ignore[no-untyped-def]
    form = f.GoalForm()
    if request.method == "POST":
        ok, _ = _submit(form, s.GoalCreate(), lambda session, d: h.add_goal(
            session, plan_id, d["title"], _now(), d["description"], d["diagnosis_ref"]))
        if ok:
            flash("Dodano cel.")
            return redirect(url_for("community_plan.plan_page", plan_id=plan_id))
    return _form_page("community/plan/plan.html", goal_form=form, **_plan_context(plan_id))


@pages.route("/plans/<plan_id>/actions/new", methods=["GET", "POST"])
def new_action(plan_id: str):  # type: ignore[no-untyped-def]
    context = _plan_context(plan_id)
    partners = [(p["org_id"], p["label"]) for p in _read(h.partner_network) if p["active"]]
    form = f.ActionForm(context["plan"]["goals"], partners)
    if request.method == "POST":
        ok, _ = _submit(form, s.ActionCreate(), lambda session, d: h.add_action(session, plan_id, d, _now()))
        if ok:
            flash("Dodano działanie.")
            return redirect(url_for("community_plan.plan_page", plan_id=plan_id))
    return _form_page("community/plan/action_form.html", form=form, **context)


@pages.route("/plans/<plan_id>/indicators/new", methods=["GET", "POST"])
def new_indicator(plan_id: str):  # type: ignore[no-untyped-def]
    context = _plan_context(plan_id)
    form = f.IndicatorForm(context["plan"]["goals"])
    if request.method == "POST":
        ok, _ = _submit(form, s.IndicatorCreate(), lambda session, d: h.add_indicator(session, plan_id, d, _now()))
        if ok:
            flash("Dodano wskaźnik.")
            return redirect(url_for("community_plan.plan_page", plan_id=plan_id))
    return _form_page("community/plan/indicator_form.html", form=form, **context)


@pages.route("/actions/<action_id>/progress", methods=["GET", "POST"])
def action_progress(action_id: str):  # type: ignore[no-untyped-def]
    action = _read(lambda session: h.get_action(session, action_id))
    form = f.ProgressForm(data=None if request.method == "POST" else action)
    if request.method == "POST":
        ok, _ = _submit(form, s.ActionProgress(), lambda session, d: h.set_action_progress(
            session, action_id, d["status"], d["percent_done"], _now(), automatic=d["automatic"]))
        if ok:
            flash("Zapisano postęp działania.")
            return redirect(url_for("community_plan.plan_page", plan_id=action["plan_id"]))
    return _form_page("community/plan/progress_form.html", form=form, action=action)


@pages.post("/plans/<plan_id>/approve")
def approve_plan(plan_id: str):  # type: ignore[no-untyped-def]
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            with current_parts().db.transaction() as session:
                version = h.approve_plan(session, _outbox(), plan_id, actor_name("?"), _now())
            flash(f"Zatwierdzono wersję {version} planu.")
        except DomainError as err:
            flash(err.message)
    return redirect(url_for("community_plan.plan_page", plan_id=plan_id))


@pages.get("/plans/<plan_id>/versions/<version>")
def plan_version(plan_id: str, version: str):  # type: ignore[no-untyped-def]
    row = _read(lambda session: h.approved_version(session, plan_id, h.number_in_path(version)))
    return render_template("community/plan/version.html", version=row, plan_id=plan_id,
                           action_status_pl=plan.ACTION_STATUS_PL)


@pages.get("/plans/<plan_id>/report/<year>")
def yearly_report(plan_id: str, year: str):  # type: ignore[no-untyped-def]
    report = _read(lambda session: h.yearly_report(session, plan_id, h.number_in_path(year)))
    return render_template("community/plan/report.html", plan=report, action_status_pl=plan.ACTION_STATUS_PL,
                           source_pl=plan.SOURCE_PL)


# --- activities ---------------------------------------------------------------------------------------------
@pages.route("/activities", methods=["GET", "POST"])
def activity_list():  # type: ignore[no-untyped-def]
    from services.community.db_plan import plan_actions

    actions = _read(lambda session: [dict(r) for r in session.execute(
        sa.select(plan_actions.c.id, plan_actions.c.title).order_by(plan_actions.c.title)).mappings()])
    form = f.ActivityForm(actions)
    if request.method == "POST":
        ok, ids = _submit(form, s.ActivityCreate(), lambda session, d: h.schedule_activity(
            session, _outbox(), d, _now()))
        if ok:
            flash("Zaplanowano zajęcia.")
            return redirect(url_for("community_plan.activity_page", activity_id=ids[0]))
    upcoming = _read(lambda session: h.upcoming_activities(session, _now()))
    return _form_page("community/plan/activities.html", activities=upcoming, form=form, kind_pl=animation.KIND_PL,
                      places_pl=animation.places_pl)


@pages.route("/activities/<activity_id>", methods=["GET", "POST"])
def activity_page(activity_id: str):  # type: ignore[no-untyped-def]
    form, helper = f.RegistrationForm(prefix="r"), f.HelperForm(prefix="h")
    notice = f.AnnouncementForm(prefix="a")
    if request.method == "POST" and request.form.get("form") == "announcement":
        ok, _ = _submit(notice, s.AnnouncementCreate(), lambda session, d: h.post_announcement(
            session, _outbox(), activity_id, d["text"], actor_name("?"), _now()))
        if ok:
            flash("Wysłano ogłoszenie do uczestników.")
            return redirect(url_for("community_plan.activity_page", activity_id=activity_id))
    elif request.method == "POST" and request.form.get("form") == "helper":
        ok, _ = _submit(helper, s.HelperAdd(), lambda session, d: h.add_helper(session, activity_id, d["provider_id"],
                                                                               _outbox()))
        if ok:
            flash("Dodano pomocnika.")
            return redirect(url_for("community_plan.activity_page", activity_id=activity_id))
    elif request.method == "POST":
        ok, _ = _submit(form, s.RegistrationCreate(), lambda session, d: h.register(
            session, activity_id, d["name"], d["phone"], "staff", _now(), email=d["email"], consent=d["consent"],
            outbox=_outbox()))
        if ok:
            flash("Zapisano uczestnika.")
            return redirect(url_for("community_plan.activity_page", activity_id=activity_id))
    activity = _read(lambda session: h.activity_view(session, activity_id))
    return _form_page("community/plan/activity.html", activity=activity, form=form, helper=helper, notice=notice,
                      erased_name=h.ERASED_NAME, kind_pl=animation.KIND_PL, status_pl=animation.STATUS_PL, places_pl=animation.places_pl)


@pages.route("/activities/<activity_id>/edit", methods=["GET", "POST"])
def edit_activity(activity_id: str):  # type: ignore[no-untyped-def]
    activity = _read(lambda session: h.activity_view(session, activity_id))
    current = {**activity, "starts_at": f.local_input(activity["starts_at"]),
               "ends_at": f.local_input(activity["ends_at"]),
               "capacity": "" if activity["capacity"] is None else str(activity["capacity"]),
               "helpers_wanted": str(activity["helpers_wanted"])}
    form = f.ActivityEditForm(data=None if request.method == "POST" else current)
    if request.method == "POST":
        def change(session: Session, d: dict[str, Any]) -> list[str]:
            if "title" not in d:
                raise Invalid({"title": s.REQUIRED})
            d.setdefault("capacity", None)  # an empty field: no limit
            d.setdefault("description", "")
            d.setdefault("venue", "")
            return h.update_activity(session, _outbox(), activity_id, d, _now())

        ok, changed = _submit(form, s.ActivityUpdate(), change)
        if ok:
            flash("Zapisano zmiany zajęć." if changed else "Nic się nie zmieniło.")
            return redirect(url_for("community_plan.activity_page", activity_id=activity_id))
    return _form_page("community/plan/activity_edit.html", form=form, activity=activity)


@pages.post("/activities/<activity_id>/registrations/<registration_id>/remove")
def remove_registration(activity_id: str, registration_id: str):  # type: ignore[no-untyped-def]
    if FlaskForm().validate_on_submit():
        try:
            with current_parts().db.transaction() as session:
                reason = contract.ERASED if request.form.get("reason") == contract.ERASED else contract.UNREGISTERED
                h.remove_registration(session, _outbox(), activity_id, registration_id, actor_name("?"), _now(),
                                      reason)
            flash("Wypisano uczestnika; jego dane kontaktowe usunięto." if reason == contract.UNREGISTERED
                  else "Usunięto dane uczestnika.")
        except DomainError as err:
            flash(err.message)
    return redirect(url_for("community_plan.activity_page", activity_id=activity_id))


@pages.route("/activities/<activity_id>/attendance", methods=["GET", "POST"])
def attendance(activity_id: str):  # type: ignore[no-untyped-def]
    """GET: the printable attendance list; POST: who came and the helpers' hours."""
    form = FlaskForm()
    errors: dict[str, Any] = {}
    message = ""
    if request.method == "POST" and form.validate_on_submit():
        helper_hours: dict[str, Any] = {}
        for key, value in request.form.items():
            if key.startswith("hours-") and value.strip():
                helper_hours[key.removeprefix("hours-")] = value.strip().replace(",", ".")
        try:
            data = s.Attendance().load({"present": request.form.getlist("present"), "helpers": helper_hours})
            with current_parts().db.transaction() as session:
                h.record_attendance(session, _outbox(), activity_id, data["present"], data["helpers"], _now())
            flash("Zapisano obecność.")
            return redirect(url_for("community_plan.activity_page", activity_id=activity_id))
        except ValidationError as err:
            errors = err.messages  # type: ignore[assignment]
        except DomainError as err:
            errors, message = err.errors, err.message
    activity = _read(lambda session: h.activity_view(session, activity_id))
    return render_template("community/plan/attendance.html", activity=activity, form=form, errors=errors,
                           message=message, kind_pl=animation.KIND_PL), 422 if errors or message else 200


@pages.post("/activities/<activity_id>/cancel")
def cancel_activity(activity_id: str):  # type: ignore[no-untyped-def]
    if FlaskForm().validate_on_submit():
        try:
            with current_parts().db.transaction() as session:
                h.cancel_activity(session, _outbox(), activity_id, _now())
            flash("Odwołano zajęcia.")
        except DomainError as err:
            flash(err.message)
    return redirect(url_for("community_plan.activity_page", activity_id=activity_id))


# --- self-help groups ---------------------------------------------------------------------------------------
@pages.route("/groups", methods=["GET", "POST"])
def group_list():  # type: ignore[no-untyped-def]
    form = f.GroupForm()
    if request.method == "POST":
        ok, group_id = _submit(form, s.GroupCreate(), lambda session, d: h.create_group(session, d, _now()))
        if ok:
            flash("Utworzono grupę.")
            return redirect(url_for("community_plan.group_page", group_id=group_id))
    rows = _read(lambda session: [dict(r) for r in session.execute(
        sa.select(groups).order_by(groups.c.active.desc(), groups.c.name)).mappings()])
    return _form_page("community/plan/groups.html", groups=rows, form=form)


@pages.route("/groups/<group_id>", methods=["GET", "POST"])
def group_page(group_id: str):  # type: ignore[no-untyped-def]
    form = f.MemberForm()
    if request.method == "POST" and "joined_on" in request.form:
        ok, _ = _submit(form, s.MemberCreate(), lambda session, d: h.add_member(
            session, group_id, d["name"], d["phone"], d["joined_on"]))
        if ok:
            flash("Dodano członka grupy.")
            return redirect(url_for("community_plan.group_page", group_id=group_id))
    meeting_error = ""
    if request.method == "POST" and "held_on" in request.form and form.validate_on_submit():
        try:
            data = s.MeetingCreate().load({"held_on": request.form["held_on"],
                                           "present": request.form.getlist("present"),
                                           "note": request.form.get("note", "")})
            with current_parts().db.transaction() as session:
                h.record_group_meeting(session, group_id, data["held_on"], data["present"], data["note"], _now())
            flash("Zapisano spotkanie grupy.")
            return redirect(url_for("community_plan.group_page", group_id=group_id))
        except ValidationError as err:
            meeting_error = " ".join(str(m) for ms in err.messages.values() for m in ms)  # type: ignore[union-attr]
        except DomainError as err:
            meeting_error = err.message or " ".join(str(m) for m in err.errors.values())
    group = _read(lambda session: h.group_view(session, group_id))
    failed = bool(form.errors or meeting_error)
    return render_template("community/plan/group.html", group=group, form=form,
                           meeting_error=meeting_error), 422 if failed else 200


# --- partners -----------------------------------------------------------------------------------------------
@pages.get("/partners")
def partner_list():  # type: ignore[no-untyped-def]
    kind = request.args.get("kind", "")
    kind = kind if kind in h.ORGANISATION_KIND_PL else ""
    network = _read(lambda session: h.partner_network(session, kind or None))
    return render_template("community/plan/partners.html", partners=network, kind=kind,
                           kind_pl=h.ORGANISATION_KIND_PL, status_pl=plan.ACTION_STATUS_PL)


@pages.get("/partners/cooperation")
def partner_cooperation():  # type: ignore[no-untyped-def]
    """Who works with whom: the partners on each plan action, and the actions each pair of partners shares."""
    kind = request.args.get("kind", "")
    kind = kind if kind in h.ORGANISATION_KIND_PL else ""
    network = _read(lambda session: h.partner_network(session, kind or None))
    return render_template("community/plan/partner_cooperation.html", cooperation=h.who_works_with_whom(network),
                           partners=network, kind=kind, kind_pl=h.ORGANISATION_KIND_PL,
                           status_pl=plan.ACTION_STATUS_PL)


@pages.route("/partners/<org_id>", methods=["GET", "POST"])
def partner_page(org_id: str):  # type: ignore[no-untyped-def]
    found = [p for p in _read(h.partner_network) if p["org_id"] == org_id]
    if not found:
        from flask import abort

        abort(404)
    row = found[0]
    profile, agreement, log = (f.PartnerForm(prefix="p", data=None if request.method == "POST" else row),
                               f.AgreementForm(prefix="a"), f.LogForm(prefix="l"))
    which = request.form.get("form", "")
    if request.method == "POST":
        done = False
        if which == "profile":
            done, _ = _submit(profile, s.PartnerProfile(), lambda session, d: h.set_partner_profile(session, org_id, d["brings"], _now()))
        elif which == "agreement":
            done, _ = _submit(agreement, s.AgreementCreate(), lambda session, d: h.add_agreement(
                session, org_id, d["scope"], d["starts_on"], d["ends_on"], d["document_ref"], _now()))
        elif which == "log":
            done, _ = _submit(log, s.LogEntry(), lambda session, d: h.log_cooperation(
                session, org_id, d["on"], d["kind"], d["note"], actor_name("?"), _now()))
        if done:
            flash("Zapisano.")
            return redirect(url_for("community_plan.partner_page", org_id=org_id))
    network = [p for p in _read(h.partner_network) if p["org_id"] == org_id]
    return _form_page("community/plan/partner.html", partner=network[0], profile=profile, agreement=agreement,
                      log=log, log_kind_pl=h.LOG_KIND_PL, kind_pl=h.ORGANISATION_KIND_PL,
                      status_pl=plan.ACTION_STATUS_PL)


# --- the public registration page (no account, rate-limited, phone-first) ------------------------------------
@public_pages.route("/zapisy/<token>", methods=["GET", "POST"])
def public_registration(token: str):  # type: ignore[no-untyped-def]
    activity = _read(lambda session: h.activity_by_token(session, token))
    form = f.RegistrationForm()
    done = False
    if request.method == "POST":
        if not public_registration_allowed(token):
            form.form_errors.append("Zbyt wiele zapisów w krótkim czasie. Spróbuj ponownie za minutę.")
            return render_template("community/plan/public_registration.html", activity=activity, form=form,
                                   done=False, free=None, places_pl=animation.places_pl), 429, {"Retry-After": "60"}
        done, _ = _submit(form, s.RegistrationCreate(), lambda session, d: h.register(
            session, activity["id"], d["name"], d["phone"], "public", _now(), email=d["email"],
            consent=d["consent"], outbox=_outbox()))
    with current_parts().db.transaction() as session:
        free = animation.free_places(activity["capacity"], h.registered_count(session, activity["id"]))
    status = 200 if request.method == "GET" or done else 422
    return render_template("community/plan/public_registration.html", activity=activity, form=form, done=done,
                           free=free, kind_pl=animation.KIND_PL, places_pl=animation.places_pl), status
