"""The volunteers service's JSON API (OpenAPI at /api/openapi.json) and the internal contact API.

Every route runs one use case in one transaction (`run`); the use cases' NotFound / Invalid / Refused are
answered by the shared mapping (wspolnota/errors.py). The internal contact API takes a service token
(INTERNAL_SERVICE_TOKEN) instead of a staff session; every read is audited.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.volunteers import handlers, hours, model, schemas, signed_in
from services.volunteers.db import offers, volunteers
from wspolnota import errors
from wspolnota.transport.outbox import Outbox
from wspolnota.web import current_parts

log = logging.getLogger("volunteers.web")


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


class HoursFigures(Schema):
    total = fields.Float(metadata={"description": "hours, all time"})
    this_year = fields.Float(metadata={"description": "hours in the current calendar year (Europe/Warsaw)"})
    count = fields.Integer(metadata={"description": "visits or activities the hours come from"})


class HoursEntryOut(Schema):
    source = fields.String(metadata={"description": "visit (a completed match) | activity (community)"})
    source_id = fields.String(metadata={"description": "the match id or the activity id"})
    hours = fields.Float()
    on_date = fields.Date()
    category = fields.String(allow_none=True, metadata={
        "description": "the scope of the work: a visit's category code (ZAK…), an activity's kind (meeting, "
                       "workshop, event, series); null from events that did not carry it"})


class MonthFigures(Schema):
    hours = fields.Float(metadata={"description": "hours, visits and activities together"})
    visit_hours = fields.Float()
    activity_hours = fields.Float()
    visits = fields.Integer(metadata={"description": "visits with hours"})
    activities = fields.Integer(metadata={"description": "community activities with hours"})


class MonthOut(MonthFigures):
    month = fields.Integer(metadata={"description": "1-12, the Warsaw calendar month"})


class YearOut(MonthFigures):
    year = fields.Integer()
    months = fields.List(fields.Nested(MonthOut), metadata={"description": "twelve months, January first"})


class HoursQuery(schemas.PolishSchema):
    year = schemas.Int(load_default=None, validate=validate.Range(min=2000, max=2100, error="Rok od 2000 do 2100."),
                       metadata={"description": "the year `by_month` shows (default: this year)"})


class HoursOut(HoursFigures):
    provider_id = fields.String()
    year = fields.Integer(metadata={"description": "the current year, of `this_year`"})
    visits = fields.Nested(HoursFigures)
    activities = fields.Nested(HoursFigures)
    entries = fields.List(fields.Nested(HoursEntryOut), metadata={"description": "the latest 50, newest first"})
    by_month = fields.Nested(YearOut, metadata={"description": "the hours of the year asked for, month by month"})


def run(use_case: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run a use case in one transaction. Its domain errors are answered as JSON (wspolnota.errors), on this
    API and on the internal one; a repeated submission points at what the first one created (Location)."""
    try:
        with current_parts().db.transaction() as session:
            return use_case(session, *args, **kw)
    except handlers.DuplicateSubmission as err:
        headers = {"Location": f"/api/volunteers/{err.volunteer_id}"} if err.volunteer_id else None
        errors.api_error(409, err.message, headers=headers)
    except errors.DomainError as err:
        errors.api_error(err.status, **err.answer())


def outbox() -> Outbox:
    given = current_parts().outbox
    assert given is not None
    return given


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    return key[:64] or None


def profile(volunteer_id: str) -> dict[str, Any]:
    return run(lambda s: signed_in.volunteer_view(s, handlers.get_volunteer(s, volunteer_id)))  # type: ignore[no-any-return]


# --- providers ----------------------------------------------------------------------------------------------
blp = Blueprint("volunteers_api", __name__, url_prefix="/api/volunteers",
                description="Wykonawcy (wolontariusze, opiekunowie sąsiedzcy, organizacje, personel), "
                            "ich uprawnienia, dostępność i oferty. Bez danych kontaktowych.")


@blp.route("")
class VolunteerCollection(MethodView):
    @blp.response(200, VolunteerView(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        with current_parts().db.transaction() as session:
            rows = session.execute(sa.select(volunteers).where(volunteers.c.erased_at.is_(None))
                                   .order_by(volunteers.c.created_at.desc()).limit(500)).mappings().all()
            return [signed_in.volunteer_view(session, r) for r in rows]

    @blp.arguments(schemas.VolunteerCreate)
    @blp.response(201, VolunteerView)
    @blp.alt_response(409, description="e-mail already registered, or Idempotency-Key already used")
    def post(self, data):  # type: ignore[no-untyped-def]
        """Register a provider (staff). Send an Idempotency-Key header to make a retry harmless. With
        `verified` (the default) the signed-in account is recorded as the verifier (audited)."""
        return run(signed_in.register, outbox(), data, submission=idempotency_key())


@blp.route("/<volunteer_id>")
class VolunteerItem(MethodView):
    @blp.arguments(OnDate, location="query")
    @blp.response(200, VolunteerView)
    def get(self, args, volunteer_id):  # type: ignore[no-untyped-def]
        return run(lambda s: signed_in.volunteer_view(s, handlers.get_volunteer(s, volunteer_id), args["on"]))

    @blp.arguments(schemas.VolunteerUpdate(partial=True))
    @blp.response(200, VolunteerView)
    def patch(self, data, volunteer_id):  # type: ignore[no-untyped-def]
        run(signed_in.update, outbox(), volunteer_id, data, submission=idempotency_key())
        return profile(volunteer_id)


@blp.route("/<volunteer_id>/verify", methods=["POST"])
@blp.arguments(schemas.Verification, required=False)
@blp.response(200, VolunteerView)
def verify_volunteer(_data, volunteer_id):  # type: ignore[no-untyped-def]
    """Staff verified the person: matchable from now on; self-registered drafts are published. The verifier
    is the signed-in account (audited); the body, if any, must be empty."""
    run(signed_in.verify, outbox(), volunteer_id)
    return profile(volunteer_id)


@blp.route("/<volunteer_id>/pause", methods=["POST"])
@blp.response(200, VolunteerView)
def pause_volunteer(volunteer_id):  # type: ignore[no-untyped-def]
    """Pause: no new tasks until resumed (VolunteerPaused)."""
    run(handlers.pause, outbox(), volunteer_id)
    return profile(volunteer_id)


@blp.route("/<volunteer_id>/resume", methods=["POST"])
@blp.response(200, VolunteerView)
def resume_volunteer(volunteer_id):  # type: ignore[no-untyped-def]
    """Resume after a pause (VolunteerResumed)."""
    run(handlers.resume, outbox(), volunteer_id)
    return profile(volunteer_id)


@blp.route("/<volunteer_id>/erase", methods=["POST"])
@blp.response(200, VolunteerView)
def erase_volunteer(volunteer_id):  # type: ignore[no-untyped-def]
    """RODO erasure: personal data overwritten, offers withdrawn (OfferWithdrawn, VolunteerErased); the
    audit log names the signed-in account."""
    run(signed_in.erase, outbox(), volunteer_id)
    return profile(volunteer_id)


@blp.route("/<volunteer_id>/credentials")
class CredentialCollection(MethodView):
    @blp.response(200, schemas.CredentialOut(many=True))
    def get(self, volunteer_id):  # type: ignore[no-untyped-def]
        """The provider's credentials. Kamilka checks (criminal-record details) are listed only for the
        organiser, the director and the admin, and each such read is audited; other roles get the rest and
        see `may_work_with_minors` on the profile."""
        return run(lambda s: (handlers.get_volunteer(s, volunteer_id), signed_in.shown_credentials(
            s, volunteer_id, handlers.credential_rows(s, volunteer_id), f"API: GET {request.path}"))[1])

    @blp.arguments(schemas.Credential)
    @blp.response(201, schemas.CredentialOut)
    def post(self, data, volunteer_id):  # type: ignore[no-untyped-def]
        """Record a credential. A Kamilka check's validity comes from KAMILKA_CHECK_VALIDITY_DAYS, and its dates
        may not lie after today. Who recorded it (and who checked a Kamilka check) is the signed-in account; the
        recording is audited."""
        return run(signed_in.record_credential, outbox(), volunteer_id, data, submission=idempotency_key())


@blp.route("/<volunteer_id>/credentials/<credential_id>/revoke", methods=["POST"])
@blp.arguments(schemas.CredentialRevoke)
@blp.response(200, schemas.CredentialOut)
@blp.alt_response(409, description="already revoked, or the provider's data were erased")
def revoke_credential(data, volunteer_id, credential_id):  # type: ignore[no-untyped-def]
    """Revoke a credential (staff, with a reason that stays here): CredentialRevoked, VolunteerUpdated."""
    return run(signed_in.revoke_credential, outbox(), credential_id, data["reason"], volunteer_id=volunteer_id)


@blp.route("/<volunteer_id>/exceptions", methods=["POST"])
@blp.arguments(schemas.AvailabilityException)
@blp.response(201, schemas.AvailabilityException)
def add_exception(data, volunteer_id):  # type: ignore[no-untyped-def]
    """An absence (holiday, sickness) inside the weekly availability."""
    return run(signed_in.add_exception, outbox(), volunteer_id, data, submission=idempotency_key())


@blp.route("/<volunteer_id>/offers")
class OfferCollection(MethodView):
    @blp.arguments(schemas.OfferCreate)
    @blp.response(201, schemas.OfferOut)
    def post(self, data, volunteer_id):  # type: ignore[no-untyped-def]
        return run(handlers.publish_offer, outbox(), volunteer_id, data, submission=idempotency_key())

    @blp.response(200, schemas.OfferOut(many=True))
    def get(self, volunteer_id):  # type: ignore[no-untyped-def]
        with current_parts().db.engine.connect() as conn:
            return conn.execute(sa.select(offers).where(offers.c.volunteer_id == volunteer_id)).mappings().all()


@blp.route("/<volunteer_id>/hours")
@blp.arguments(HoursQuery, location="query")
@blp.response(200, HoursOut)
def provider_hours(args, volunteer_id):  # type: ignore[no-untyped-def]
    """The provider's hours: in total and this year, from visits (MatchCompleted) and community activities
    (ParticipationRecorded), with the latest entries, and month by month in `year` (default this year)."""
    today = signed_in.today()

    def read(session):  # type: ignore[no-untyped-def]
        handlers.get_volunteer(session, volunteer_id)
        return {**hours.summary(session, volunteer_id, today), "entries": hours.entries(session, volunteer_id),
                "by_month": hours.by_month(session, volunteer_id, args["year"] or today.year)}

    return run(read)


# --- offers, credentials, audit ----------------------------------------------------------------------------
offers_blp = Blueprint("offers_api", __name__, url_prefix="/api/offers", description="Oferty pomocy")


@offers_blp.route("/<offer_id>/withdraw", methods=["POST"])
@offers_blp.response(200, schemas.OfferOut)
def withdraw(offer_id):  # type: ignore[no-untyped-def]
    """Withdraw an offer (OfferWithdrawn)."""
    return run(handlers.withdraw_offer, outbox(), offer_id)


credentials_blp = Blueprint("credentials_api", __name__, url_prefix="/api/credentials",
                            description="Uprawnienia z datą ważności")


@credentials_blp.route("/expiring")
@credentials_blp.arguments(Within, location="query")
@credentials_blp.response(200, ExpiringOut(many=True))
def expiring(args):  # type: ignore[no-untyped-def]
    """Credentials that end within `days` days (default 30): the staff warning list. With `expired_days`,
    first those that already ended within that many days and were not renewed."""
    today = signed_in.today()
    with current_parts().db.transaction() as session:
        expired = handlers.expired_not_renewed(session, today, args["expired_days"]) if args["expired_days"] else []
        return [*expired, *handlers.expiring_soon(session, today, args["days"])]


audit_blp = Blueprint("audit_api", __name__, url_prefix="/api/audit",
                      description="Rejestr czynności i odczytów danych (audytor, dyrektor, administrator)")


@audit_blp.route("")
@audit_blp.arguments(AuditQuery, location="query")
@audit_blp.response(200, AuditEntryOut(many=True))
def audit_log(args):  # type: ignore[no-untyped-def]
    """Who did or read what, and when, newest first: profile and contact reads, Kamilka-detail reads,
    credentials recorded, verifications, erasures. Filter by `volunteer_id` and `action`."""
    with current_parts().db.transaction() as session:
        return handlers.audit_entries(session, args["volunteer_id"], args["action"], args["limit"])


# --- the internal contact API (service token) ---------------------------------------------------------------
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
        errors.api_error(401, "Wymagany token usługi.")
    caller = request.headers.get("X-Service-Name", "service")[:50]
    return run(handlers.read_contact, volunteer_id, f"service:{caller}")


BLUEPRINTS = (blp, offers_blp, credentials_blp, internal, audit_blp)
