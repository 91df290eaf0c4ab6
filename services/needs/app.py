"""Needs service web app: JSON API (OpenAPI at /api/openapi.json, browsable at /api/docs) and staff pages."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext
from flask_smorest import Blueprint
from flask_smorest import abort as api_abort
from flask_wtf.csrf import CSRFError, CSRFProtect
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.needs import casesystem, forms, handlers, model, schemas
from services.needs.db import (
    audit_log,
    make_db,
    need_matches,
    needs,
    residents,
    submissions,
    support_packages,
)
from wspolnota import reference
from wspolnota.db import Database
from wspolnota.i18n import translate
from wspolnota.transport.outbox import Outbox
from wspolnota.web import create_service_app, make_api

STATUS_PL = model.STATUS_PL
PER_PAGE = 25
LIST_FILTERS = ("village", "category", "status", "urgency", "plan_ref")


def nest(errors: dict[str, str]) -> dict[str, Any]:
    """{"recurrence.until": "…"} → {"recurrence": {"until": ["…"]}} (the API's field-error shape)."""
    out: dict[str, Any] = {}
    for key, message in errors.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = [message]
    return out


def filtered_needs(conn: sa.Connection, filters: dict[str, Any], page: int, per_page: int
                   ) -> tuple[list[sa.RowMapping], int]:
    query = sa.select(needs)
    for name in LIST_FILTERS:
        value = filters.get(name)
        if value:
            query = query.where(needs.c[name] == value)
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(needs.c.created_at.desc(), needs.c.id)
                        .limit(per_page).offset((page - 1) * per_page)).mappings().all()
    return list(rows), total


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("needs", db, {"WTF_I18N_ENABLED": False, **(test_config or {})})
    outbox = Outbox(db, handlers.PUBLISHES)
    csrf = CSRFProtect(app)
    api = make_api(app)
    api_blueprint = build_api(db, outbox)
    csrf.exempt(api_blueprint)
    api.register_blueprint(api_blueprint)
    app.register_blueprint(build_pages(db, outbox))
    casesystem.install(app, api, csrf, db, outbox)
    register_docs(app, api)

    @app.context_processor
    def _labels():  # type: ignore[no-untyped-def]
        return {"categories": reference.categories(), "villages": reference.villages(), "status_pl": STATUS_PL,
                "urgency_pl": model.URGENCY_PL, "requirement_pl": model.REQUIREMENT_PL,
                "source_pl": schemas.SOURCE_PL, "moderation_pl": schemas.MODERATION_PL,
                "channel_pl": schemas.CHANNEL_PL, "legal_basis_pl": schemas.LEGAL_BASIS_PL,
                "match_status_pl": model.MATCH_STATUS_PL, "weekdays_pl": model.WEEKDAYS_PL,
                "event_pl": model.event_pl, "rules_pl": model.category_rules_pl}

    @app.errorhandler(CSRFError)
    def _csrf_failed(err):  # type: ignore[no-untyped-def]
        return render_template("needs/csrf.html"), 400

    return app


# --- JSON API ---------------------------------------------------------------------------------------------
def build_api(db: Database, outbox: Outbox) -> Blueprint:
    blp = Blueprint("needs_api", __name__, url_prefix="/api", description="Potrzeby mieszkańców, mieszkańcy, "
                    "pakiety wsparcia (IPUS)")

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        """Domain errors become API answers; the transaction rolls back so nothing is half-written."""
        try:
            with db.transaction() as session:
                yield session
        except handlers.NotFound:
            api_abort(404, message="Nie ma takiego obiektu.")
        except handlers.Invalid as err:
            api_abort(422, errors={"json": nest(err.errors)})
        except model.InvalidTransition as err:
            api_abort(409, message=err.message)
        except handlers.Refused as err:
            api_abort(409, message=err.message)

    def replay(key: str) -> dict[str, Any]:
        with db.engine.connect() as conn:
            need_id = conn.execute(sa.select(submissions.c.need_id).where(submissions.c.key == key[:64])).scalar()
            return dict(conn.execute(sa.select(needs).where(needs.c.id == need_id)).mappings().one())

    @blp.route("/needs")
    class NeedCollection(MethodView):
        @blp.arguments(schemas.NeedQuery, location="query")
        @blp.response(200, schemas.NeedListItem(many=True))
        def get(self, args):  # type: ignore[no-untyped-def]
            """Needs, newest first, filtered and paged (X-Total-Count header)."""
            with db.engine.connect() as conn:
                rows, total = filtered_needs(conn, args, args["page"], args["per_page"])
            return rows, 200, {"X-Total-Count": str(total)}

        @blp.arguments(schemas.NeedCreate)
        @blp.response(201, schemas.NeedOut)
        @blp.alt_response(200, schema=schemas.NeedOut, description="the same Idempotency-Key again")
        def post(self, data):  # type: ignore[no-untyped-def]
            """Register a one-off need. An `Idempotency-Key` header makes retries harmless."""
            key = request.headers.get("Idempotency-Key") or None
            try:
                with unit_of_work() as session:
                    return handlers.register_need(session, outbox, data, submission_key=key)
            except (handlers.DuplicateSubmission, IntegrityError):
                if not key:
                    raise
                return replay(key), 200

    @blp.route("/needs/recurring")
    class RecurringNeeds(MethodView):
        @blp.arguments(schemas.RecurringNeedCreate)
        @blp.response(201, schemas.SeriesOut)
        def post(self, data):  # type: ignore[no-untyped-def]
            """Register a weekly pattern in a support package: one need per occurrence up to `until`."""
            key = request.headers.get("Idempotency-Key") or None
            try:
                with unit_of_work() as session:
                    series_id, rows = handlers.register_series(session, outbox, data, submission_key=key)
            except (handlers.DuplicateSubmission, IntegrityError):
                if not key:
                    raise
                first = replay(key)
                with db.engine.connect() as conn:
                    rows = conn.execute(sa.select(needs).where(needs.c.series_id == first["series_id"])
                                        .order_by(needs.c.window_start)).mappings().all()
                return {"series_id": first["series_id"], "plan_ref": first["plan_ref"], "needs": rows}, 200
            return {"series_id": series_id, "plan_ref": data["plan_ref"], "needs": rows}

    @blp.route("/needs/expire-overdue")
    class ExpireOverdue(MethodView):
        @blp.response(200, schemas.ExpiredOut)
        def post(self):  # type: ignore[no-untyped-def]
            """Mark needs whose window passed without an agreed visit as expired (for a scheduler)."""
            with unit_of_work() as session:
                return {"expired": handlers.expire_overdue(session, outbox)}

    @blp.route("/needs/<need_id>")
    class NeedItem(MethodView):
        @blp.response(200, schemas.NeedOut)
        def get(self, need_id):  # type: ignore[no-untyped-def]
            """One need with its description (the read is audited)."""
            with unit_of_work() as session:
                row = handlers.get_need(session, need_id)
                handlers.audit.record(session, "read", "need", need_id, ["description"])
                return row

        @blp.arguments(schemas.NeedUpdate)
        @blp.response(200, schemas.NeedOut)
        @blp.alt_response(409, description="the need is no longer editable")
        def patch(self, changes, need_id):  # type: ignore[no-untyped-def]
            """Change an open need; publishes NeedUpdated."""
            with unit_of_work() as session:
                return handlers.update_need(session, outbox, need_id, changes)

    @blp.route("/needs/<need_id>/cancel")
    class NeedCancel(MethodView):
        @blp.arguments(schemas.CancelBody)
        @blp.response(200, schemas.NeedOut)
        @blp.alt_response(409, description="not allowed from the current status")
        def post(self, body, need_id):  # type: ignore[no-untyped-def]
            """Cancel a need; publishes NeedCancelled."""
            with unit_of_work() as session:
                return handlers.cancel_need(session, outbox, need_id, body["reason"])

    @blp.route("/needs/<need_id>/status")
    class NeedStatus(MethodView):
        @blp.arguments(schemas.StatusChange)
        @blp.response(200, schemas.NeedOut)
        @blp.alt_response(409, description="the lifecycle does not allow this change")
        def post(self, body, need_id):  # type: ignore[no-untyped-def]
            """Staff status change: in_progress, completed, cancelled, expired, needs_follow_up, open."""
            with unit_of_work() as session:
                return handlers.change_status(session, outbox, need_id, body["status"], body["reason"])

    @blp.route("/needs/<need_id>/timeline")
    class NeedTimeline(MethodView):
        @blp.response(200, schemas.TimelineEntry(many=True))
        def get(self, need_id):  # type: ignore[no-untyped-def]
            """The need's history: registration, edits, status changes and match events."""
            with unit_of_work() as session:
                handlers.get_need(session, need_id)
                return handlers.timeline_of(session, need_id)

    @blp.route("/residents")
    class ResidentCollection(MethodView):
        @blp.response(200, schemas.ResidentSummary(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            """Residents by pseudonym and village only (no personal data in lists)."""
            with db.engine.connect() as conn:
                return conn.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village)
                                    .order_by(residents.c.ref)).mappings().all()

        @blp.arguments(schemas.ResidentCreate)
        @blp.response(201, schemas.ResidentOut)
        def post(self, data):  # type: ignore[no-untyped-def]
            """Register a resident (personal data stays in this service)."""
            with unit_of_work() as session:
                return handlers.create_resident(session, data)

    @blp.route("/residents/<resident_id>")
    class ResidentItem(MethodView):
        @blp.response(200, schemas.ResidentOut)
        def get(self, resident_id):  # type: ignore[no-untyped-def]
            """A resident's personal data; every read lands in the audit log."""
            with unit_of_work() as session:
                return handlers.read_resident(session, resident_id)

        @blp.arguments(schemas.ResidentUpdate(partial=True))
        @blp.response(200, schemas.ResidentOut)
        def patch(self, data, resident_id):  # type: ignore[no-untyped-def]
            with unit_of_work() as session:
                return handlers.update_resident(session, resident_id, data)

    @blp.route("/residents/<resident_id>/erase")
    class ResidentErase(MethodView):
        @blp.arguments(schemas.EraseBody)
        @blp.response(200, schemas.ResidentErasedOut)
        @blp.alt_response(409, description="already erased, or an IPUS package of the resident is still open")
        def post(self, body, resident_id):  # type: ignore[no-untyped-def]
            """RODO art. 17: blank the resident's personal data and free text, keep the pseudonym and the
            statistics, cancel unfinished needs (NeedCancelled "resident_erased"), publish ResidentErased."""
            with unit_of_work() as session:
                return handlers.erase_resident(session, outbox, resident_id, body["reason"])

    @blp.route("/packages")
    class PackageCollection(MethodView):
        @blp.response(200, schemas.PackageOut(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            with unit_of_work() as session:
                refs = session.execute(sa.select(support_packages.c.plan_ref)
                                       .order_by(support_packages.c.opened_at.desc())).scalars().all()
                return [handlers.package_summary(session, ref) for ref in refs]

        @blp.arguments(schemas.PackageCreate)
        @blp.response(201, schemas.PackageOut)
        def post(self, data):  # type: ignore[no-untyped-def]
            """Open a support package for an IPUS; publishes SupportPackageOpened."""
            with unit_of_work() as session:
                handlers.open_package(session, outbox, data)
                return handlers.package_summary(session, data["plan_ref"])

    @blp.route("/packages/<path:plan_ref>")
    class PackageItem(MethodView):
        @blp.response(200, schemas.PackageOut)
        def get(self, plan_ref):  # type: ignore[no-untyped-def]
            """The package with delivered visits and hours (from MatchCompleted events)."""
            with unit_of_work() as session:
                return handlers.package_summary(session, plan_ref)

    @blp.route("/packages/<path:plan_ref>/close")
    class PackageClose(MethodView):
        @blp.arguments(schemas.CancelBody)
        @blp.response(200, schemas.PackageOut)
        @blp.alt_response(409, description="already closed")
        def post(self, body, plan_ref):  # type: ignore[no-untyped-def]
            """Close the package: pending occurrences are cancelled; publishes SupportPackageClosed."""
            with unit_of_work() as session:
                return handlers.close_package(session, outbox, plan_ref, body["reason"])

    @blp.route("/reference")
    class Reference(MethodView):
        @blp.response(200, schemas.ReferenceOut)
        def get(self):  # type: ignore[no-untyped-def]
            """Need categories with their rules, villages of the gmina, requirement codes."""
            return {"categories": list(reference.categories().values()),
                    "villages": list(reference.villages().values()), "requirements": model.REQUIREMENT_PL}

    return blp


def register_docs(app: Flask, api: Any) -> None:
    @app.get("/api/docs")
    def api_docs():  # type: ignore[no-untyped-def]
        """The OpenAPI document as a readable page (no JavaScript, nothing from a CDN)."""
        return render_template("needs/api_docs.html", spec=api.spec.to_dict())


# --- staff pages -------------------------------------------------------------------------------------------
def build_pages(db: Database, outbox: Outbox) -> Any:
    from flask import Blueprint as FlaskBlueprint

    pages = FlaskBlueprint("needs", __name__)

    def run(action: Callable[[Session], Any]) -> Any:
        with db.transaction() as session:
            return action(session)

    @pages.get("/")
    def index():  # type: ignore[no-untyped-def]
        filters = {k: request.args.get(k, "").strip() for k in LIST_FILTERS}
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        with db.engine.connect() as conn:
            rows, total = filtered_needs(conn, filters, page, PER_PAGE)
        pages_total = max((total + PER_PAGE - 1) // PER_PAGE, 1)
        return render_template("needs/index.html", needs=rows, filters=filters, page=page, total=total,
                               pages_total=pages_total, statuses=model.STATUSES)

    def _need_form_page(form: forms.NeedForm, need: dict[str, Any] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
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
            with db.transaction() as session:
                if "recurrence" in data:
                    _, rows = handlers.register_series(session, outbox, data, submission_key=key)
                    first = rows[0]
                    flash(gettext("Zapisano potrzebę cykliczną: %(count)s terminów.", count=len(rows)))
                else:
                    first = handlers.register_need(session, outbox, data, submission_key=key)
                    flash("Zapisano potrzebę.")
        except handlers.Invalid as err:
            forms.attach_errors(form, err.errors)
            return _need_form_page(form, status=422)
        except (handlers.DuplicateSubmission, IntegrityError):
            with db.engine.connect() as conn:
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
            }
        try:
            context = run(load)
        except handlers.NotFound:
            abort(404)
        status_form = forms.StatusForm()
        allowed = model.TRANSITIONS[context["need"]["status"]] & model.STAFF_TARGETS - {model.CANCELLED}
        status_form.status.choices = forms.opts((s, STATUS_PL[s]) for s in model.STATUSES if s in allowed)
        return render_template("needs/need.html", status_form=status_form, cancel_form=forms.CancelForm(),
                               editable=context["need"]["status"] in model.EDITABLE,
                               cancellable=model.can_transition(context["need"]["status"], model.CANCELLED),
                               **context)

    @pages.route("/needs/<need_id>/edit", methods=["GET", "POST"])
    def edit_need(need_id: str):  # type: ignore[no-untyped-def]
        try:
            need = run(lambda s: handlers.get_need(s, need_id))
        except handlers.NotFound:
            abort(404)
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
            with db.transaction() as session:
                handlers.update_need(session, outbox, need_id, changes)
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
        try:
            need = run(lambda s: handlers.get_need(s, need_id))
        except handlers.NotFound:
            abort(404)
        if request.method == "POST" and form.validate_on_submit():
            try:
                with db.transaction() as session:
                    handlers.cancel_need(session, outbox, need_id, (form.reason.data or "").strip()[:500])
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
            with db.transaction() as session:
                handlers.change_status(session, outbox, need_id, form.status.data, (form.reason.data or "")[:500])
            flash(gettext("Nowy status: %(status)s.", status=translate(STATUS_PL[form.status.data])))
        except handlers.NotFound:
            abort(404)
        except model.InvalidTransition as err:
            flash(err.message)
        return redirect(url_for("needs.need_page", need_id=need_id))

    # residents -----------------------------------------------------------------------------------------
    @pages.get("/residents")
    def resident_list():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village)
                                .order_by(residents.c.ref)).mappings().all()
        return render_template("needs/residents.html", residents=rows)

    def _resident_body(form: forms.ResidentForm) -> dict[str, Any]:
        return {"name": (form.name.data or "").strip(), "address": (form.address.data or "").strip(),
                "village": form.village.data, "phone": (form.phone.data or "").strip(),
                "email": (form.email.data or "").strip(), "preferred_channel": form.preferred_channel.data,
                "notes": form.notes.data or "", "legal_basis": form.legal_basis.data,
                "consent_date": form.consent_date.data.isoformat() if form.consent_date.data else None}

    @pages.route("/residents/new", methods=["GET", "POST"])
    def new_resident():  # type: ignore[no-untyped-def]
        form = forms.ResidentForm()
        if request.method == "POST" and form.validate_on_submit():
            try:
                data = schemas.ResidentCreate().load(_resident_body(form))
                with db.transaction() as session:
                    row = handlers.create_resident(session, data)
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
        try:
            context = run(load)
        except handlers.NotFound:
            abort(404)
        return render_template("needs/resident.html", **context)

    @pages.route("/residents/<resident_id>/erase", methods=["GET", "POST"])
    def erase_resident(resident_id: str):  # type: ignore[no-untyped-def]
        """Confirmation step (what will happen, a reason, a tick), then the erasure itself."""
        form = forms.EraseResidentForm()
        try:
            preview = run(lambda s: handlers.erasure_preview(s, resident_id))
        except handlers.NotFound:
            abort(404)
        if preview["erased_at"] is not None:
            flash(gettext("Dane osobowe tego mieszkańca zostały już usunięte."))
            return redirect(url_for("needs.resident_card", resident_id=resident_id))
        if request.method == "POST":
            if form.validate_on_submit():
                try:
                    with db.transaction() as session:
                        done = handlers.erase_resident(session, outbox, resident_id, form.reason.data or "")
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
        try:
            if request.method == "GET":
                resident = run(lambda s: handlers.read_resident(s, resident_id))
                if resident["erased_at"] is not None:
                    flash(gettext("Dane osobowe tego mieszkańca zostały już usunięte."))
                    return redirect(url_for("needs.resident_card", resident_id=resident_id))
                form.process(data=resident)
                return render_template("needs/resident_form.html", form=form, resident=resident)
            resident = run(lambda s: handlers.resident_by_id(s, resident_id))
        except handlers.NotFound:
            abort(404)
        if form.validate_on_submit():
            try:
                data = schemas.ResidentCreate().load(_resident_body(form))
                with db.transaction() as session:
                    handlers.update_resident(session, resident_id, data)
                flash("Zapisano zmiany.")
                return redirect(url_for("needs.resident_card", resident_id=resident_id))
            except ValidationError as err:
                forms.attach_errors(form, err.messages)  # type: ignore[arg-type]
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
                with db.transaction() as session:
                    handlers.open_package(session, outbox, data)
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
        try:
            context = run(load)
        except handlers.NotFound:
            abort(404)
        return render_template("needs/package.html", close_form=forms.ClosePackageForm(), **context)

    @pages.post("/packages/<path:plan_ref>/close")
    def close_package(plan_ref: str):  # type: ignore[no-untyped-def]
        form = forms.ClosePackageForm()
        if form.validate_on_submit():
            try:
                with db.transaction() as session:
                    handlers.close_package(session, outbox, plan_ref, (form.reason.data or "")[:500])
                flash("Zamknięto pakiet wsparcia.")
            except handlers.NotFound:
                abort(404)
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
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(200)).mappings().all()
        return render_template("needs/audit.html", entries=rows)

    return pages


def _fill(form: forms.NeedForm, need: dict[str, Any]) -> None:
    local = {k: need[k].astimezone(model.WARSAW).replace(tzinfo=None) for k in ("window_start", "window_end")}
    form.process(data={
        **need, **local, "kind": "one_off", "requirements": [c for c in need["explicit_requirements"].split(",") if c],
        "waived_requirements": [c for c in need["waived_requirements"].split(",") if c],
        "plan_ref": need["plan_ref"] or "", "skills": ", ".join(need["skills"] or []),
        "relatives": "\n".join(need["relatives"] or []),
    })
