"""The needs service's staff pages: needs, residents, support packages, reference data and the audit log.

Forms are Flask-WTF with CSRF; a use case's Invalid or Refused is shown beside the form, a NotFound is the
app's 404 (wspolnota/errors.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.needs import feedback, forms, handlers, model, resident_notices, schemas
from services.needs.api import LIST_FILTERS, PER_PAGE, db, filtered_needs, outbox
from services.needs.db import audit_log, need_matches, needs, residents, submissions, support_packages
from wspolnota.i18n import translate

STATUS_PL = model.STATUS_PL

pages = Blueprint("needs", __name__)


def run(action: Callable[[Session], Any]) -> Any:
    with db().transaction() as session:
        return action(session)


@pages.get("/")
def index():  # type: ignore[no-untyped-def]
    filters = {k: request.args.get(k, "").strip() for k in LIST_FILTERS}
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with db().engine.connect() as conn:
        rows, total = filtered_needs(conn, filters, page, PER_PAGE)
    pages_total = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template("needs/index.html", needs=rows, filters=filters, page=page, total=total,
                           pages_total=pages_total, statuses=model.STATUSES)


def _need_form_page(form: forms.NeedForm, need: dict[str, Any] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    with db().engine.connect() as conn:
        known = conn.execute(sa.select(residents.c.ref).order_by(residents.c.ref)).scalars().all()
        plans = conn.execute(sa.select(support_packages.c.plan_ref).where(support_packages.c.status == "open")
                             .order_by(support_packages.c.plan_ref)).scalars().all()
    return render_template("needs/need_form.html", form=form, need=need, known_refs=known,
                           plans=plans), status


@pages.route("/needs/new", methods=["GET", "POST"])
def new_need():  # type: ignore[no-untyped-def]
    form = forms.NeedForm()
    if request.method == "GET":
        form.resident_ref.data = request.args.get("resident_ref", "")
        form.plan_ref.data = request.args.get("plan_ref", "")
        if request.args.get("kind") == "recurring":
            form.kind.data = "recurring"
        return _need_form_page(form)
    if not form.validate_on_submit():
        return _need_form_page(form, status=422)
    body = forms.to_need_body(form)
    schema = schemas.RecurringNeedCreate() if "recurrence" in body else schemas.NeedCreate()
    try:
        data = schema.load(body)
    except ValidationError as err:
        forms.attach_errors(form, err.messages)  # type: ignore[arg-type]
        return _need_form_page(form, status=422)
    key = form.submission_id.data
    try:
        with db().transaction() as session:
            if "recurrence" in data:
                _, rows = handlers.register_series(session, outbox(), data, submission_key=key)
                first = rows[0]
                flash(gettext("Zapisano potrzebę cykliczną: %(count)s terminów.", count=len(rows)))
            else:
                first = handlers.register_need(session, outbox(), data, submission_key=key)
                flash("Zapisano potrzebę.")
    except handlers.Invalid as err:
        forms.attach_errors(form, err.errors)
        return _need_form_page(form, status=422)
    except (handlers.DuplicateSubmission, IntegrityError):
        with db().engine.connect() as conn:
            existing = conn.execute(sa.select(submissions.c.need_id)
                                    .where(submissions.c.key == (key or "")[:64])).scalar()
        return render_template("needs/duplicate.html", need_id=existing), 409
    return redirect(url_for("needs.need_page", need_id=first["id"]))


@pages.get("/needs/<need_id>")
def need_page(need_id: str):  # type: ignore[no-untyped-def]
    def load(session: Session) -> dict[str, Any]:
        need = handlers.get_need(session, need_id)
        handlers.audit.record(session, "read", "need", need_id, ["description"])
        return {
            "need": need, "history": handlers.timeline_of(session, need_id),
            "matches": session.execute(sa.select(need_matches).where(need_matches.c.need_id == need_id)
                                       .order_by(need_matches.c.updated_at)).mappings().all(),
            "resident": handlers.resident_by_ref(session, need["resident_ref"]),
            "feedback": feedback.of_need(session, need_id), "call_form": feedback.call_form(session, need_id),
        }
    context = run(load)
    status_form = forms.StatusForm()
    allowed = model.TRANSITIONS[context["need"]["status"]] & model.STAFF_TARGETS - {model.CANCELLED}
    status_form.status.choices = forms.opts((s, STATUS_PL[s]) for s in model.STATUSES if s in allowed)
    return render_template("needs/need.html", status_form=status_form, cancel_form=forms.CancelForm(),
                           score_pl=feedback.SCORE_PL,
                           editable=context["need"]["status"] in model.EDITABLE,
                           cancellable=model.can_transition(context["need"]["status"], model.CANCELLED),
                           **context)


@pages.route("/needs/<need_id>/edit", methods=["GET", "POST"])
def edit_need(need_id: str):  # type: ignore[no-untyped-def]
    need = run(lambda s: handlers.get_need(s, need_id))
    form = forms.NeedEditForm()
    if request.method == "GET":
        _fill(form, need)
        return _need_form_page(form, need)
    if not form.validate_on_submit():
        return _need_form_page(form, need, 422)
    body = forms.to_need_body(form)
    changes = {k: body[k] for k in ("category", "village", "description", "window_start", "window_end",
                                    "duration_minutes", "urgency", "slots", "involves_minor",
                                    "requirements", "waived_requirements", "continuity", "moderation",
                                    "personal_care", "installation_work", "skills", "relatives")}
    try:
        with db().transaction() as session:
            handlers.update_need(session, outbox(), need_id, changes)
    except handlers.Invalid as err:
        forms.attach_errors(form, err.errors)
        return _need_form_page(form, need, 422)
    except model.InvalidTransition as err:
        form.form_errors.append(err.message)
        return _need_form_page(form, need, 409)
    flash("Zapisano zmiany.")
    return redirect(url_for("needs.need_page", need_id=need_id))


@pages.route("/needs/<need_id>/cancel", methods=["GET", "POST"])
def cancel_need(need_id: str):  # type: ignore[no-untyped-def]
    form = forms.CancelForm()
    need = run(lambda s: handlers.get_need(s, need_id))
    if request.method == "POST" and form.validate_on_submit():
        try:
            with db().transaction() as session:
                handlers.cancel_need(session, outbox(), need_id, (form.reason.data or "").strip()[:500])
            flash("Potrzeba została anulowana.")
            return redirect(url_for("needs.need_page", need_id=need_id))
        except model.InvalidTransition as err:
            form.form_errors.append(err.message)
            return render_template("needs/cancel.html", form=form, need=need), 409
    return render_template("needs/cancel.html", form=form, need=need), (422 if form.errors else 200)


@pages.post("/needs/<need_id>/status")
def need_status(need_id: str):  # type: ignore[no-untyped-def]
    form = forms.StatusForm()
    form.status.choices = forms.opts((s, STATUS_PL[s]) for s in model.STATUSES)
    if not form.validate_on_submit():
        flash("Nie udało się zmienić statusu: formularz jest nieprawidłowy.")
        return redirect(url_for("needs.need_page", need_id=need_id))
    try:
        with db().transaction() as session:
            handlers.change_status(session, outbox(), need_id, form.status.data, (form.reason.data or "")[:500])
        flash(gettext("Nowy status: %(status)s.", status=translate(STATUS_PL[form.status.data])))
    except model.InvalidTransition as err:
        flash(err.message)
    return redirect(url_for("needs.need_page", need_id=need_id))


# residents -----------------------------------------------------------------------------------------
@pages.get("/residents")
def resident_list():  # type: ignore[no-untyped-def]
    with db().engine.connect() as conn:
        rows = conn.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village)
                            .order_by(residents.c.ref)).mappings().all()
    return render_template("needs/residents.html", residents=rows)


def _resident_body(form: forms.ResidentForm) -> dict[str, Any]:
    return {"name": (form.name.data or "").strip(), "address": (form.address.data or "").strip(),
            "village": form.village.data, "phone": (form.phone.data or "").strip(),
            "email": (form.email.data or "").strip(), "preferred_channel": form.preferred_channel.data,
            "notes": form.notes.data or "", "legal_basis": form.legal_basis.data,
            "consent_date": form.consent_date.data.isoformat() if form.consent_date.data else None,
            "notice_channel": form.notice_channel.data or "none",
            "notice_consent_date": form.notice_consent_date.data.isoformat() if form.notice_consent_date.data else None}


@pages.route("/residents/new", methods=["GET", "POST"])
def new_resident():  # type: ignore[no-untyped-def]
    form = forms.ResidentForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            data = schemas.ResidentCreate().load(_resident_body(form))
            notices = resident_notices.take(data)
            with db().transaction() as session:
                row = handlers.create_resident(session, data)
                resident_notices.apply(session, outbox(), row["id"], notices)
            flash(gettext("Zapisano mieszkańca %(ref)s.", ref=row["ref"]))
            return redirect(url_for("needs.resident_card", resident_id=row["id"]))
        except ValidationError as err:
            forms.attach_errors(form, err.messages)  # type: ignore[arg-type]
        except handlers.Invalid as err:
            forms.attach_errors(form, err.errors)
    status = 422 if request.method == "POST" else 200
    return render_template("needs/resident_form.html", form=form, resident=None), status


@pages.get("/residents/<resident_id>")
def resident_card(resident_id: str):  # type: ignore[no-untyped-def]
    def load(session: Session) -> dict[str, Any]:
        resident = handlers.read_resident(session, resident_id)
        return {
            "resident": resident,
            "needs": session.execute(sa.select(needs).where(needs.c.resident_ref == resident["ref"])
                                     .order_by(needs.c.window_start.desc()).limit(50)).mappings().all(),
            "reads": session.execute(sa.select(audit_log).where(
                audit_log.c.subject == "resident", audit_log.c.subject_id == resident_id)
                .order_by(audit_log.c.id.desc()).limit(20)).mappings().all(),
            "erasure": session.execute(sa.select(audit_log).where(
                audit_log.c.subject == "resident", audit_log.c.subject_id == resident_id,
                audit_log.c.action == "erase")).mappings().first(),
        }
    context = run(load)
    return render_template("needs/resident.html", **context)


@pages.route("/residents/<resident_id>/erase", methods=["GET", "POST"])
def erase_resident(resident_id: str):  # type: ignore[no-untyped-def]
    """Confirmation step (what will happen, a reason, a tick), then the erasure itself."""
    form = forms.EraseResidentForm()
    preview = run(lambda s: handlers.erasure_preview(s, resident_id))
    if preview["erased_at"] is not None:
        flash(gettext("Dane osobowe tego mieszkańca zostały już usunięte."))
        return redirect(url_for("needs.resident_card", resident_id=resident_id))
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with db().transaction() as session:
                    done = handlers.erase_resident(session, outbox(), resident_id, form.reason.data or "")
                flash(gettext("Usunięto dane osobowe mieszkańca %(ref)s; anulowane potrzeby: %(count)s.",
                              ref=done["ref"], count=len(done["cancelled_needs"])))
                return redirect(url_for("needs.resident_card", resident_id=resident_id))
            except handlers.Refused as err:
                form.form_errors.append(err.message)
                return render_template("needs/erase.html", form=form, preview=preview), 409
        return render_template("needs/erase.html", form=form, preview=preview), 422
    return render_template("needs/erase.html", form=form, preview=preview)


@pages.route("/residents/<resident_id>/edit", methods=["GET", "POST"])
def edit_resident(resident_id: str):  # type: ignore[no-untyped-def]
    form = forms.ResidentForm()
    if request.method == "GET":
        resident = run(lambda s: handlers.read_resident(s, resident_id))
        if resident["erased_at"] is not None:
            flash(gettext("Dane osobowe tego mieszkańca zostały już usunięte."))
            return redirect(url_for("needs.resident_card", resident_id=resident_id))
        form.process(data=resident)
        return render_template("needs/resident_form.html", form=form, resident=resident)
    resident = run(lambda s: handlers.resident_by_id(s, resident_id))
    if form.validate_on_submit():
        try:
            data = schemas.ResidentCreate().load(_resident_body(form))
            notices = resident_notices.take(data)
            with db().transaction() as session:
                handlers.update_resident(session, resident_id, data)
                resident_notices.apply(session, outbox(), resident_id, notices)
            flash("Zapisano zmiany.")
            return redirect(url_for("needs.resident_card", resident_id=resident_id))
        except ValidationError as err:
            forms.attach_errors(form, err.messages)  # type: ignore[arg-type]
        except handlers.Invalid as err:
            forms.attach_errors(form, err.errors)
        except handlers.Refused as err:
            flash(err.message)
            return redirect(url_for("needs.resident_card", resident_id=resident_id))
    return render_template("needs/resident_form.html", form=form, resident=resident), 422


# support packages ----------------------------------------------------------------------------------
@pages.get("/packages")
def package_list():  # type: ignore[no-untyped-def]
    def load(session: Session) -> list[dict[str, Any]]:
        refs = session.execute(sa.select(support_packages.c.plan_ref)
                               .order_by(support_packages.c.opened_at.desc())).scalars().all()
        return [handlers.package_summary(session, ref) for ref in refs]
    return render_template("needs/packages.html", packages=run(load))


@pages.route("/packages/new", methods=["GET", "POST"])
def new_package():  # type: ignore[no-untyped-def]
    form = forms.PackageForm()
    if request.method == "GET":
        form.resident_ref.data = request.args.get("resident_ref", "")
    if request.method == "POST" and form.validate_on_submit():
        body = {"plan_ref": (form.plan_ref.data or "").strip(),
                "resident_ref": (form.resident_ref.data or "").strip(), "village": form.village.data,
                "start_date": form.start_date.data.isoformat(), "end_date": form.end_date.data.isoformat(),
                "note": form.note.data or ""}
        try:
            data = schemas.PackageCreate().load(body)
            with db().transaction() as session:
                handlers.open_package(session, outbox(), data)
            flash("Otwarto pakiet wsparcia.")
            return redirect(url_for("needs.package_page", plan_ref=data["plan_ref"]))
        except ValidationError as err:
            forms.attach_errors(form, err.messages)  # type: ignore[arg-type]
        except handlers.Invalid as err:
            forms.attach_errors(form, err.errors)
    status = 422 if request.method == "POST" else 200
    return render_template("needs/package_form.html", form=form), status


@pages.get("/packages/<path:plan_ref>")
def package_page(plan_ref: str):  # type: ignore[no-untyped-def]
    def load(session: Session) -> dict[str, Any]:
        return {"package": handlers.package_summary(session, plan_ref),
                "needs": session.execute(sa.select(needs).where(needs.c.plan_ref == plan_ref)
                                         .order_by(needs.c.window_start)).mappings().all()}
    context = run(load)
    return render_template("needs/package.html", close_form=forms.ClosePackageForm(), **context)


@pages.post("/packages/<path:plan_ref>/close")
def close_package(plan_ref: str):  # type: ignore[no-untyped-def]
    form = forms.ClosePackageForm()
    if form.validate_on_submit():
        try:
            with db().transaction() as session:
                handlers.close_package(session, outbox(), plan_ref, (form.reason.data or "")[:500])
            flash("Zamknięto pakiet wsparcia.")
        except model.InvalidTransition as err:
            flash(err.message)
    else:
        flash("Nie udało się zamknąć pakietu: formularz jest nieprawidłowy.")
    return redirect(url_for("needs.package_page", plan_ref=plan_ref))


# reference data and audit --------------------------------------------------------------------------
@pages.get("/reference")
def reference_page():  # type: ignore[no-untyped-def]
    return render_template("needs/reference.html")


@pages.get("/audit")
def audit_page():  # type: ignore[no-untyped-def]
    with db().engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(200)).mappings().all()
    return render_template("needs/audit.html", entries=rows)


def _fill(form: forms.NeedForm, need: dict[str, Any]) -> None:
    local = {k: need[k].astimezone(model.WARSAW).replace(tzinfo=None) for k in ("window_start", "window_end")}
    form.process(data={
        **need, **local, "kind": "one_off", "requirements": [c for c in need["explicit_requirements"].split(",") if c],
        "waived_requirements": [c for c in need["waived_requirements"].split(",") if c],
        "plan_ref": need["plan_ref"] or "", "skills": ", ".join(need["skills"] or []),
        "relatives": "\n".join(need["relatives"] or []),
    })
