"""Volunteers service web app: JSON API (+ OpenAPI), the internal contact API, staff pages and the
public self-registration form."""
from __future__ import annotations

import hmac
import logging
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, flash, redirect, render_template, request, url_for
from flask import abort as flask_abort
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_wtf.csrf import CSRFError, CSRFProtect
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from services.volunteers import forms, handlers, mail, model, schemas
from services.volunteers.db import (
    availability_exceptions,
    confirmation_mails,
    make_db,
    offers,
    volunteers,
)
from services.volunteers.settings import Settings
from wspolnota import access, localtime, reference
from wspolnota.transport.outbox import Outbox
from wspolnota.web import create_service_app, make_api

log = logging.getLogger("volunteers.web")
STAFF_ACTOR = "personel CUS"  # written only when no one is signed in (a test app with sign-in switched off)


def staff_actor() -> str:
    """The signed-in staff member, for the audit log and "verified by"."""
    from wspolnota.auth import actor_name

    return actor_name(STAFF_ACTOR)


def may_read_criminal_record() -> bool:
    """May the signed-in person read Kamilka / criminal-record details (organiser, director, admin)?"""
    from wspolnota.auth import auth_disabled, current_user

    user = current_user()
    if user is None:
        return auth_disabled(current_app)  # only a test app with sign-in switched off has nobody signed in
    return user["role"] in access.CRIMINAL_RECORD_READ


STATUS_PL = {"draft": "czeka na weryfikację", "published": "opublikowana", "withdrawn": "wycofana"}


class VolunteerView(schemas.VolunteerOut):
    may_work_with_minors = fields.Boolean(metadata={
        "description": "may be given tasks involving minors today (Kamilka check in force); the check's details are "
                       "only in the credentials, for the roles allowed to read them"})
    may_work_with_minors_until = fields.Date(allow_none=True, metadata={
        "description": "last day of the Kamilka check in force (null when may_work_with_minors is false)"})


class AuditQuery(schemas.PolishSchema):
    volunteer_id = fields.String(load_default=None, validate=validate.Length(max=36, error="Najwyżej 36 znaków."))
    action = fields.String(load_default=None, validate=validate.Length(max=40, error="Najwyżej 40 znaków."), metadata={
        "description": "profile_read, kamilka_read, credential_recorded, verify, erase, contact_read, …"})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000, error="Od 1 do 1000 wpisów."))


class AuditEntryOut(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String(metadata={"description": "the signed-in account, or service:<name> for the internal API"})
    action = fields.String()
    volunteer_id = fields.String(allow_none=True)
    detail = fields.String()


def volunteer_view(session: Session, volunteer: sa.RowMapping, on_date: date | None = None) -> dict[str, Any]:
    """The profile as the API returns it, with the yes/no answer on work with minors every staff role may see."""
    out = handlers.profile_out(session, volunteer, on_date)
    provider = handlers.as_provider(volunteer, handlers.credential_rows(session, volunteer["id"]))
    cleared, until = handlers.minors_clearance(provider, on_date or localtime.today())
    return {**out, "may_work_with_minors": cleared, "may_work_with_minors_until": until}


def shown_credentials(session: Session, volunteer_id: str, rows: list[sa.RowMapping], where: str
                      ) -> list[sa.RowMapping]:
    """The credentials this reader may see. Kamilka checks (criminal-record details) only for the roles allowed to
    read them, and each such read leaves an audit entry; other roles get the rest of the list."""
    if not may_read_criminal_record():
        return [r for r in rows if r["kind"] != model.KAMILKA_CHECK]
    if any(r["kind"] == model.KAMILKA_CHECK for r in rows):
        handlers.audit(session, staff_actor(), "kamilka_read", volunteer_id,
                       f"odczyt szczegółów weryfikacji Kamilka ({where})")
    return list(rows)


def record_as_signed_in(session: Session, outbox: Outbox, volunteer_id: str, data: dict[str, Any],
                        validity_days: int, submission: str | None = None) -> dict[str, Any]:
    """Record a credential: the signed-in account is who recorded it (and who checked a Kamilka check); audited."""
    actor = staff_actor()
    row = handlers.record_credential(session, outbox, volunteer_id, data, validity_days, actor=actor,
                                     submission=submission)
    handlers.audit(session, actor, "credential_recorded", volunteer_id, f"wpisanie uprawnienia {row['kind']} "
                   f"({row['id']})")
    if row["kind"] == model.KAMILKA_CHECK and not may_read_criminal_record():
        return {**row, "details": {}}
    return row


def verify_as_signed_in(session: Session, outbox: Outbox, volunteer_id: str) -> None:
    actor = staff_actor()
    handlers.verify_volunteer(session, outbox, volunteer_id, actor)
    handlers.audit(session, actor, "verify", volunteer_id, "weryfikacja wykonawcy")


def register_as_signed_in(session: Session, outbox: Outbox, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Register a provider; one entered as verified is verified by the signed-in account (audited)."""
    actor = staff_actor()
    created = handlers.register_volunteer(session, outbox, data, verified_by=actor, **kw)
    if created["verified"]:
        handlers.audit(session, actor, "verify", created["id"], "weryfikacja przy wpisie wykonawcy")
    return volunteer_view(session, handlers.get_volunteer(session, created["id"]))


class OnDate(Schema):
    on = fields.Date(load_default=None, metadata={"description": "day to judge eligibility on (default today)"})


class Within(Schema):
    days = fields.Integer(load_default=model.WARN_DAYS_AHEAD)
    expired_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=3660), metadata={
        "description": "also list credentials that ended within this many past days and were not renewed"})


class ExpiringOut(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    kind = fields.String()
    valid_until = fields.Date()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("volunteers", db, test_config)
    settings = Settings.from_config(test_config)
    app.config.update(SMTP_HOST=settings.smtp_host, SMTP_PORT=settings.smtp_port, MAIL_FROM=settings.mail_from,
                      KAMILKA_CHECK_VALIDITY_DAYS=settings.kamilka_check_validity_days,
                      CONFIRMATION_MAX_AGE_HOURS=settings.confirmation_max_age_hours)
    csrf = CSRFProtect(app)
    outbox = Outbox(db, handlers.PUBLISHES)
    api = make_api(app)
    api.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})

    def run(use_case, *args, **kw):  # type: ignore[no-untyped-def]
        """Run a use case in one transaction; domain errors become 404/409 with a Polish message."""
        try:
            with db.transaction() as session:
                return use_case(session, *args, **kw)
        except handlers.DuplicateSubmission as err:
            headers = {"Location": f"/api/volunteers/{err.volunteer_id}"} if err.volunteer_id else {}
            abort(409, message=str(err), headers=headers)
        except handlers.NotFound:
            abort(404, message="Nie ma takiego wykonawcy lub oferty.")
        except handlers.Conflict as err:
            abort(409, message=str(err))

    def idempotency_key() -> str | None:
        key = request.headers.get("Idempotency-Key", "").strip()
        return key[:64] or None

    # --- JSON API -------------------------------------------------------------------------------
    blp = Blueprint("volunteers_api", __name__, url_prefix="/api/volunteers",
                    description="Wykonawcy (wolontariusze, opiekunowie sąsiedzcy, organizacje, personel), "
                                "ich uprawnienia, dostępność i oferty. Bez danych kontaktowych.")

    @blp.route("")
    class VolunteerCollection(MethodView):
        @blp.response(200, VolunteerView(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            with db.transaction() as session:
                rows = session.execute(sa.select(volunteers).where(volunteers.c.erased_at.is_(None))
                                       .order_by(volunteers.c.created_at.desc()).limit(500)).mappings().all()
                return [volunteer_view(session, r) for r in rows]

        @blp.arguments(schemas.VolunteerCreate)
        @blp.response(201, VolunteerView)
        @blp.alt_response(409, description="e-mail already registered, or Idempotency-Key already used")
        def post(self, data):  # type: ignore[no-untyped-def]
            """Register a provider (staff). Send an Idempotency-Key header to make a retry harmless. With
            `verified` (the default) the signed-in account is recorded as the verifier (audited)."""
            return run(register_as_signed_in, outbox, data, submission=idempotency_key())

    @blp.route("/<volunteer_id>")
    class VolunteerItem(MethodView):
        @blp.arguments(OnDate, location="query")
        @blp.response(200, VolunteerView)
        def get(self, args, volunteer_id):  # type: ignore[no-untyped-def]
            return run(lambda s: volunteer_view(s, handlers.get_volunteer(s, volunteer_id), args["on"]))

        @blp.arguments(schemas.VolunteerUpdate(partial=True))
        @blp.response(200, VolunteerView)
        def patch(self, data, volunteer_id):  # type: ignore[no-untyped-def]
            run(handlers.update_volunteer, outbox, volunteer_id, data, submission=idempotency_key())
            return profile(volunteer_id)

    def profile(volunteer_id: str) -> dict[str, Any]:
        return run(lambda s: volunteer_view(s, handlers.get_volunteer(s, volunteer_id)))  # type: ignore[no-any-return]

    @blp.route("/<volunteer_id>/verify", methods=["POST"])
    @blp.arguments(schemas.Verification, required=False)
    @blp.response(200, VolunteerView)
    def verify_volunteer(_data, volunteer_id):  # type: ignore[no-untyped-def]
        """Staff verified the person: matchable from now on; self-registered drafts are published. The verifier
        is the signed-in account (audited); the body, if any, must be empty."""
        run(verify_as_signed_in, outbox, volunteer_id)
        return profile(volunteer_id)

    @blp.route("/<volunteer_id>/pause", methods=["POST"])
    @blp.response(200, VolunteerView)
    def pause_volunteer(volunteer_id):  # type: ignore[no-untyped-def]
        """Pause: no new tasks until resumed (VolunteerPaused)."""
        run(handlers.pause, outbox, volunteer_id)
        return profile(volunteer_id)

    @blp.route("/<volunteer_id>/resume", methods=["POST"])
    @blp.response(200, VolunteerView)
    def resume_volunteer(volunteer_id):  # type: ignore[no-untyped-def]
        """Resume after a pause (VolunteerResumed)."""
        run(handlers.resume, outbox, volunteer_id)
        return profile(volunteer_id)

    @blp.route("/<volunteer_id>/erase", methods=["POST"])
    @blp.response(200, VolunteerView)
    def erase_volunteer(volunteer_id):  # type: ignore[no-untyped-def]
        """RODO erasure: personal data overwritten, offers withdrawn (OfferWithdrawn, VolunteerErased); the
        audit log names the signed-in account."""
        run(handlers.erase, outbox, volunteer_id, staff_actor())
        return profile(volunteer_id)

    @blp.route("/<volunteer_id>/credentials")
    class CredentialCollection(MethodView):
        @blp.response(200, schemas.CredentialOut(many=True))
        def get(self, volunteer_id):  # type: ignore[no-untyped-def]
            """The provider's credentials. Kamilka checks (criminal-record details) are listed only for the
            organiser, the director and the admin, and each such read is audited; other roles get the rest and
            see `may_work_with_minors` on the profile."""
            return run(lambda s: (handlers.get_volunteer(s, volunteer_id), shown_credentials(
                s, volunteer_id, handlers.credential_rows(s, volunteer_id), f"API: GET {request.path}"))[1])

        @blp.arguments(schemas.Credential)
        @blp.response(201, schemas.CredentialOut)
        def post(self, data, volunteer_id):  # type: ignore[no-untyped-def]
            """Record a credential. A Kamilka check's validity comes from KAMILKA_CHECK_VALIDITY_DAYS. Who recorded
            it (and who checked a Kamilka check) is the signed-in account; the recording is audited."""
            return run(record_as_signed_in, outbox, volunteer_id, data,
                       current_app.config["KAMILKA_CHECK_VALIDITY_DAYS"], submission=idempotency_key())

    @blp.route("/<volunteer_id>/credentials/<credential_id>/revoke", methods=["POST"])
    @blp.arguments(schemas.CredentialRevoke)
    @blp.response(200, schemas.CredentialOut)
    @blp.alt_response(409, description="already revoked, or the provider's data were erased")
    def revoke_credential(data, volunteer_id, credential_id):  # type: ignore[no-untyped-def]
        """Revoke a credential (staff, with a reason that stays here): CredentialRevoked, VolunteerUpdated."""
        return run(handlers.revoke_credential, outbox, credential_id, data["reason"], staff_actor(),
                   volunteer_id=volunteer_id)

    @blp.route("/<volunteer_id>/exceptions", methods=["POST"])
    @blp.arguments(schemas.AvailabilityException)
    @blp.response(201, schemas.AvailabilityException)
    def add_exception(data, volunteer_id):  # type: ignore[no-untyped-def]
        """An absence (holiday, sickness) inside the weekly availability."""
        return run(handlers.add_exception, outbox, volunteer_id, data, submission=idempotency_key())

    @blp.route("/<volunteer_id>/offers")
    class OfferCollection(MethodView):
        @blp.arguments(schemas.OfferCreate)
        @blp.response(201, schemas.OfferOut)
        def post(self, data, volunteer_id):  # type: ignore[no-untyped-def]
            return run(handlers.publish_offer, outbox, volunteer_id, data, submission=idempotency_key())

        @blp.response(200, schemas.OfferOut(many=True))
        def get(self, volunteer_id):  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                return conn.execute(sa.select(offers).where(offers.c.volunteer_id == volunteer_id)).mappings().all()

    offers_blp = Blueprint("offers_api", __name__, url_prefix="/api/offers", description="Oferty pomocy")

    @offers_blp.route("/<offer_id>/withdraw", methods=["POST"])
    @offers_blp.response(200, schemas.OfferOut)
    def withdraw(offer_id):  # type: ignore[no-untyped-def]
        """Withdraw an offer (OfferWithdrawn)."""
        return run(handlers.withdraw_offer, outbox, offer_id)

    credentials_blp = Blueprint("credentials_api", __name__, url_prefix="/api/credentials",
                                description="Uprawnienia z datą ważności")

    @credentials_blp.route("/expiring")
    @credentials_blp.arguments(Within, location="query")
    @credentials_blp.response(200, ExpiringOut(many=True))
    def expiring(args):  # type: ignore[no-untyped-def]
        """Credentials that end within `days` days (default 30): the staff warning list. With `expired_days`,
        first those that already ended within that many days and were not renewed."""
        with db.transaction() as session:
            expired = handlers.expired_not_renewed(session, localtime.today(), args["expired_days"]) \
                if args["expired_days"] else []
            return [*expired, *handlers.expiring_soon(session, localtime.today(), args["days"])]

    internal = Blueprint("internal_api", __name__, url_prefix="/internal/volunteers",
                         description="Dla usług wewnętrznych (token usługi). Każdy odczyt jest rejestrowany.")

    @internal.route("/<volunteer_id>/contact")
    @internal.response(200, schemas.ContactOut)
    @internal.alt_response(401, description="missing or wrong service token")
    @internal.doc(security=[{"serviceToken": []}])
    def contact(volunteer_id):  # type: ignore[no-untyped-def]
        """Contact details at send time: Authorization: Bearer <INTERNAL_SERVICE_TOKEN>. Audited."""
        expected = current_app.config["INTERNAL_SERVICE_TOKEN"]
        given = request.headers.get("Authorization", "")
        if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            log.warning("internal contact API: refused a request without a valid service token")
            abort(401, message="Wymagany token usługi.")
        caller = request.headers.get("X-Service-Name", "service")[:50]
        return run(handlers.read_contact, volunteer_id, f"service:{caller}")

    audit_blp = Blueprint("audit_api", __name__, url_prefix="/api/audit",
                          description="Rejestr czynności i odczytów danych (audytor, dyrektor, administrator)")

    @audit_blp.route("")
    @audit_blp.arguments(AuditQuery, location="query")
    @audit_blp.response(200, AuditEntryOut(many=True))
    def audit_log(args):  # type: ignore[no-untyped-def]
        """Who did or read what, and when, newest first: profile and contact reads, Kamilka-detail reads,
        credentials recorded, verifications, erasures. Filter by `volunteer_id` and `action`."""
        with db.transaction() as session:
            return handlers.audit_entries(session, args["volunteer_id"], args["action"], args["limit"])

    for bp in (blp, offers_blp, credentials_blp, internal, audit_blp):
        csrf.exempt(bp)
        api.register_blueprint(bp)

    @app.errorhandler(CSRFError)
    def csrf_failed(_err):  # type: ignore[no-untyped-def]
        return render_template("volunteers/csrf.html"), 400

    register_pages(app, db, outbox)
    return app


def register_pages(app: Flask, db, outbox: Outbox) -> None:  # type: ignore[no-untyped-def]
    names = {"categories": reference.categories(), "villages": reference.villages(),
             "provider_types": forms.PROVIDER_TYPES_PL, "credential_names": forms.CREDENTIALS_PL,
             "organisation_kinds": forms.ORGANISATION_KINDS_PL, "exception_names": forms.EXCEPTIONS_PL,
             "offer_status": STATUS_PL, "weekdays": forms.WEEKDAYS_PL}

    def page(template: str, status: int = 200, **context):  # type: ignore[no-untyped-def]
        return render_template(f"volunteers/{template}", **names, **context), status

    def attempt(use_case, *args, form=None, **kw):  # type: ignore[no-untyped-def]
        """Run a use case for a staff form; a Conflict becomes a message on the form. True if done."""
        try:
            with db.transaction() as session:
                use_case(session, *args, **kw)
            return True
        except handlers.NotFound:
            flask_abort(404)
        except handlers.Conflict as err:
            if form is not None:
                form.form_errors.append(str(err))
            else:
                flash(str(err), "error")
            return False

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        today = localtime.today()
        with db.transaction() as session:
            providers = session.execute(sa.select(volunteers).where(volunteers.c.erased_at.is_(None))
                                        .order_by(volunteers.c.created_at.desc()).limit(200)).mappings().all()
            offer_rows = session.execute(
                sa.select(offers, volunteers.c.provider_type)
                .join(volunteers, volunteers.c.id == offers.c.volunteer_id)
                .order_by(offers.c.created_at.desc()).limit(100)).mappings().all()
            warnings = handlers.expiring_soon(session, today)
            unsent = session.execute(sa.select(confirmation_mails.c.volunteer_id)
                                     .where(confirmation_mails.c.sent_at.is_(None))).scalars().all()
        return page("index.html", providers=providers, offers=offer_rows, warnings=warnings,
                    unsent=set(unsent), today=today)[0]

    @app.route("/wykonawcy/nowy", methods=["GET", "POST"])
    def new_provider():  # type: ignore[no-untyped-def]
        form = forms.ProviderForm()
        if request.method == "GET":
            form.submission.data = forms.new_token()
        elif form.validate_on_submit():
            data = forms.load(schemas.VolunteerCreate(), form)
            if data is not None:
                created: dict[str, Any] = {}
                try:
                    with db.transaction() as session:
                        created = register_as_signed_in(session, outbox, data, source="staff",
                                                        submission=form.submission.data)
                except handlers.DuplicateSubmission as err:
                    flash("Ten formularz został już wysłany — nic nie zapisano drugi raz.", "info")
                    return redirect(url_for("profile", volunteer_id=err.volunteer_id) if err.volunteer_id
                                    else url_for("index"))
                except handlers.Conflict as err:
                    form.email.errors = [*form.email.errors, str(err)]
                else:
                    flash("Zapisano wykonawcę.", "info")
                    return redirect(url_for("profile", volunteer_id=created["id"]))
        return page("provider_form.html", 200 if request.method == "GET" else 422, form=form, editing=False)

    @app.route("/wykonawcy/<volunteer_id>/edycja", methods=["GET", "POST"])
    def edit_provider(volunteer_id):  # type: ignore[no-untyped-def]
        form = forms.ProviderForm()
        with db.transaction() as session:
            try:
                current = handlers.get_volunteer(session, volunteer_id)
            except handlers.NotFound:
                flask_abort(404)
            handlers.audit(session, staff_actor(), "profile_read", volunteer_id, "edycja profilu")
        if current["erased_at"] is not None:
            flask_abort(410)
        if request.method == "GET":
            form.fill(dict(current))
            form.submission.data = forms.new_token()
        elif form.validate_on_submit():
            data = forms.load(schemas.VolunteerUpdate(), _without(form, "consent", "verified"))
            if data is not None and attempt(handlers.update_volunteer, outbox, volunteer_id, data,
                                            submission=form.submission.data, form=form):
                flash("Zapisano zmiany.", "info")
                return redirect(url_for("profile", volunteer_id=volunteer_id))
        return page("provider_form.html", 200 if request.method == "GET" else 422, form=form, editing=True,
                    volunteer=current)

    def render_profile(volunteer_id: str, status: int = 200, **override: Any):  # type: ignore[no-untyped-def]
        """The provider's card; a failing form passed in `override` replaces its empty twin."""
        today = localtime.today()
        with db.transaction() as session:
            try:
                v = handlers.get_volunteer(session, volunteer_id)
            except handlers.NotFound:
                flask_abort(404)
            creds = handlers.credential_rows(session, volunteer_id)
            shown = shown_credentials(session, volunteer_id, creds, "karta wykonawcy")
            exceptions = session.execute(sa.select(availability_exceptions)
                                         .where(availability_exceptions.c.volunteer_id == volunteer_id)
                                         .order_by(availability_exceptions.c.starts_on)).mappings().all()
            offer_rows = session.execute(sa.select(offers).where(offers.c.volunteer_id == volunteer_id)
                                         .order_by(offers.c.created_at.desc())).mappings().all()
            mails = session.execute(sa.select(confirmation_mails)
                                    .where(confirmation_mails.c.volunteer_id == volunteer_id)).mappings().all()
            handlers.audit(session, staff_actor(), "profile_read", volunteer_id, "karta wykonawcy")
            p = handlers.as_provider(v, creds)
            cleared, cleared_until = handlers.minors_clearance(p, today)
        context: dict[str, Any] = {
            "credential_form": forms.CredentialForm(formdata=None),
            "exception_form": forms.ExceptionForm(formdata=None), "offer_form": forms.OfferForm(formdata=None),
            "verify_form": forms.VerifyForm(formdata=None), "action_form": forms.ActionForm(formdata=None),
            "erase_form": forms.EraseForm(formdata=None)}
        for name in ("credential_form", "exception_form", "offer_form"):
            context[name].submission.data = forms.new_token()
        context.update(override)
        horizon = today + timedelta(days=model.WARN_DAYS_AHEAD)
        soon = {c["id"] for c in creds if c["valid_until"] is not None and today <= c["valid_until"] <= horizon}
        return page("profile.html", status, v=v, creds=shown, exceptions=exceptions, offers=offer_rows,
                    mails=mails, eligible=sorted(model.eligible_categories(p, today)), today=today,
                    expiring=soon, minors_cleared=cleared, minors_until=cleared_until,
                    criminal_record_access=may_read_criminal_record(), **context)

    @app.get("/wykonawcy/<volunteer_id>")
    def profile(volunteer_id):  # type: ignore[no-untyped-def]
        return render_profile(volunteer_id)

    def rerender_profile(volunteer_id: str, **override: Any):  # type: ignore[no-untyped-def]
        return render_profile(volunteer_id, 422, **override)

    def profile_form_post(volunteer_id: str, form, form_name: str, schema, use_case, *args):  # type: ignore[no-untyped-def]
        if form.validate_on_submit():
            data = forms.load(schema, form)
            if data is not None:
                try:
                    with db.transaction() as session:
                        use_case(session, outbox, volunteer_id, data, *args, submission=form.submission.data)
                except handlers.DuplicateSubmission:
                    flash("Ten formularz został już wysłany — nic nie zapisano drugi raz.", "info")
                    return redirect(url_for("profile", volunteer_id=volunteer_id))
                except handlers.NotFound:
                    flask_abort(404)
                except handlers.Conflict as err:
                    form.form_errors.append(str(err))
                else:
                    flash("Zapisano.", "info")
                    return redirect(url_for("profile", volunteer_id=volunteer_id))
        return rerender_profile(volunteer_id, **{form_name: form})

    @app.post("/wykonawcy/<volunteer_id>/uprawnienia")
    def add_credential(volunteer_id):  # type: ignore[no-untyped-def]
        return profile_form_post(volunteer_id, forms.CredentialForm(), "credential_form", schemas.Credential(),
                                 record_as_signed_in, app.config["KAMILKA_CHECK_VALIDITY_DAYS"])

    @app.post("/wykonawcy/<volunteer_id>/uprawnienia/<credential_id>/cofniecie")
    def revoke_credential_page(volunteer_id, credential_id):  # type: ignore[no-untyped-def]
        form = forms.RevokeCredentialForm()
        if form.validate_on_submit():
            data = forms.load(schemas.CredentialRevoke(), form)
            if data is not None and attempt(handlers.revoke_credential, outbox, credential_id, data["reason"],
                                            staff_actor(), volunteer_id=volunteer_id, form=form):
                flash("Cofnięto uprawnienie.", "info")
                return redirect(url_for("profile", volunteer_id=volunteer_id))
        return rerender_profile(volunteer_id, revoke_form=form, revoke_target=credential_id)

    @app.post("/wykonawcy/<volunteer_id>/wyjatki")
    def add_exception_page(volunteer_id):  # type: ignore[no-untyped-def]
        return profile_form_post(volunteer_id, forms.ExceptionForm(), "exception_form",
                                 schemas.AvailabilityException(), handlers.add_exception)

    @app.post("/wykonawcy/<volunteer_id>/oferty")
    def add_offer(volunteer_id):  # type: ignore[no-untyped-def]
        return profile_form_post(volunteer_id, forms.OfferForm(), "offer_form", schemas.OfferCreate(),
                                 handlers.publish_offer)

    @app.post("/wykonawcy/<volunteer_id>/weryfikacja")
    def verify(volunteer_id):  # type: ignore[no-untyped-def]
        form = forms.VerifyForm()
        if form.validate_on_submit():
            if attempt(verify_as_signed_in, outbox, volunteer_id):
                flash("Zweryfikowano — wykonawca może otrzymywać propozycje.", "info")
            return redirect(url_for("profile", volunteer_id=volunteer_id))
        return rerender_profile(volunteer_id, verify_form=form)

    def simple_action(path: str, endpoint: str, use_case, done: str) -> None:  # type: ignore[no-untyped-def]
        def view(volunteer_id):  # type: ignore[no-untyped-def]
            if forms.ActionForm().validate_on_submit() and attempt(use_case, outbox, volunteer_id):
                flash(done, "info")
            return redirect(url_for("profile", volunteer_id=volunteer_id))

        app.add_url_rule(f"/wykonawcy/<volunteer_id>/{path}", endpoint, view, methods=["POST"])

    simple_action("przerwa", "pause_page", handlers.pause, "Wstrzymano — wykonawca nie dostanie nowych zadań.")
    simple_action("wznowienie", "resume_page", handlers.resume, "Wznowiono.")

    @app.post("/wykonawcy/<volunteer_id>/usuniecie")
    def erase_page(volunteer_id):  # type: ignore[no-untyped-def]
        form = forms.EraseForm()
        if form.validate_on_submit() and form.confirm.data:
            if attempt(handlers.erase, outbox, volunteer_id, staff_actor()):
                flash("Usunięto dane osobowe.", "info")
            return redirect(url_for("profile", volunteer_id=volunteer_id))
        form.confirm.errors = ["Zaznacz potwierdzenie, aby usunąć dane."]
        return rerender_profile(volunteer_id, erase_form=form)

    @app.post("/oferty/<offer_id>/wycofanie")
    def withdraw_page(offer_id):  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            owner = conn.execute(sa.select(offers.c.volunteer_id).where(offers.c.id == offer_id)).scalar()
        if owner is None:
            flask_abort(404)
        if forms.ActionForm().validate_on_submit() and attempt(handlers.withdraw_offer, outbox, offer_id):
            flash("Wycofano ofertę.", "info")
        return redirect(url_for("profile", volunteer_id=owner))

    @app.get("/audit")
    def audit_page():  # type: ignore[no-untyped-def]
        with db.transaction() as session:
            entries = handlers.audit_entries(session, limit=200)
        return page("audit.html", entries=entries)[0]

    # --- public self-registration ---------------------------------------------------------------
    @app.route("/zglos-sie", methods=["GET", "POST"])
    def self_registration():  # type: ignore[no-untyped-def]
        form = forms.SelfRegistrationForm()
        if request.method == "GET":
            form.submission.data = forms.new_token()
        elif form.validate_on_submit():
            data = forms.load(schemas.SelfRegistration(), form)
            if data is not None:
                try:
                    with db.transaction() as session:
                        volunteer_id = handlers.self_register(session, outbox, data, form.submission.data)
                except handlers.Conflict:
                    # A double submit or an address already registered: nothing stored, and the page does
                    # not reveal whether the address is known.
                    return redirect(url_for("self_registration_done"))
                token = mail.make_token(app.config["SECRET_KEY"], volunteer_id)
                link = url_for("confirm_email", token=token, _external=True)
                mail.send_confirmation(db, volunteer_id, data["email"], link, app.config["SMTP_HOST"],
                                       app.config["SMTP_PORT"], app.config["MAIL_FROM"])
                return redirect(url_for("self_registration_done"))
        return page("register.html", 200 if request.method == "GET" else 422, form=form,
                    consent_text=forms.CONSENT_TEXT)

    @app.get("/zglos-sie/dziekujemy")
    def self_registration_done():  # type: ignore[no-untyped-def]
        return page("register_done.html")[0]

    @app.get("/zglos-sie/potwierdz/<token>")
    def confirm_email(token):  # type: ignore[no-untyped-def]
        volunteer_id = mail.read_token(app.config["SECRET_KEY"], token,
                                       app.config["CONFIRMATION_MAX_AGE_HOURS"] * 3600)
        if volunteer_id is None:
            return page("confirm.html", 400, ok=False)
        try:
            with db.transaction() as session:
                handlers.confirm_email(session, volunteer_id)
        except handlers.NotFound:
            return page("confirm.html", 400, ok=False)
        return page("confirm.html", ok=True)


def _without(form, *names):  # type: ignore[no-untyped-def]
    """The form, with some keys dropped from its data (the edit form does not change consent/verification)."""
    original = form.to_data

    def to_data():  # type: ignore[no-untyped-def]
        data = original()
        for name in names:
            data.pop(name, None)
        return data

    form.to_data = to_data
    return form
