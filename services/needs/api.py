"""The needs service's JSON API (OpenAPI at /api/openapi.json, browsable at /api/docs).

Routes call the use cases in handlers.py inside one transaction; what the use cases raise (NotFound, Invalid,
Refused, model.InvalidTransition) the app answers in one place (wspolnota/errors.py, app.py), after the
transaction has rolled back, so nothing is half-written.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from services.needs import handlers, model, resident_notices, schemas
from services.needs.db import needs, residents, submissions, support_packages
from wspolnota import reference
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox
from wspolnota.web import current_parts

PER_PAGE = 25
LIST_FILTERS = ("village", "category", "status", "urgency", "plan_ref")


def db() -> Database:
    return current_parts().db


def outbox() -> Outbox:
    out = current_parts().outbox
    assert out is not None
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


def replay(key: str) -> dict[str, Any]:
    """The need a form or API call with this submission key registered first."""
    with db().engine.connect() as conn:
        need_id = conn.execute(sa.select(submissions.c.need_id).where(submissions.c.key == key[:64])).scalar()
        return dict(conn.execute(sa.select(needs).where(needs.c.id == need_id)).mappings().one())


blp = Blueprint("needs_api", __name__, url_prefix="/api", description="Potrzeby mieszkańców, mieszkańcy, "
                "pakiety wsparcia (IPUS)")


@blp.route("/needs")
class NeedCollection(MethodView):
    @blp.arguments(schemas.NeedQuery, location="query")
    @blp.response(200, schemas.NeedListItem(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Needs, newest first, filtered and paged (X-Total-Count header)."""
        with db().engine.connect() as conn:
            rows, total = filtered_needs(conn, args, args["page"], args["per_page"])
        return rows, 200, {"X-Total-Count": str(total)}

    @blp.arguments(schemas.NeedCreate)
    @blp.response(201, schemas.NeedOut)
    @blp.alt_response(200, schema=schemas.NeedOut, description="the same Idempotency-Key again")
    def post(self, data):  # type: ignore[no-untyped-def]
        """Register a one-off need. An `Idempotency-Key` header makes retries harmless."""
        key = request.headers.get("Idempotency-Key") or None
        try:
            with db().transaction() as session:
                return handlers.register_need(session, outbox(), data, submission_key=key)
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
            with db().transaction() as session:
                series_id, rows = handlers.register_series(session, outbox(), data, submission_key=key)
        except (handlers.DuplicateSubmission, IntegrityError):
            if not key:
                raise
            first = replay(key)
            with db().engine.connect() as conn:
                rows = conn.execute(sa.select(needs).where(needs.c.series_id == first["series_id"])
                                    .order_by(needs.c.window_start)).mappings().all()
            return {"series_id": first["series_id"], "plan_ref": first["plan_ref"], "needs": rows}, 200
        return {"series_id": series_id, "plan_ref": data["plan_ref"], "needs": rows}


@blp.route("/needs/expire-overdue")
class ExpireOverdue(MethodView):
    @blp.response(200, schemas.ExpiredOut)
    def post(self):  # type: ignore[no-untyped-def]
        """Mark needs whose window passed without an agreed visit as expired (for a scheduler)."""
        with db().transaction() as session:
            return {"expired": handlers.expire_overdue(session, outbox(), current_parts().clock())}


@blp.route("/needs/<need_id>")
class NeedItem(MethodView):
    @blp.response(200, schemas.NeedOut)
    def get(self, need_id):  # type: ignore[no-untyped-def]
        """One need with its description (the read is audited)."""
        with db().transaction() as session:
            row = handlers.get_need(session, need_id)
            handlers.audit.record(session, "read", "need", need_id, ["description"])
            return row

    @blp.arguments(schemas.NeedUpdate)
    @blp.response(200, schemas.NeedOut)
    @blp.alt_response(409, description="the need is no longer editable")
    def patch(self, changes, need_id):  # type: ignore[no-untyped-def]
        """Change an open need; publishes NeedUpdated."""
        with db().transaction() as session:
            return handlers.update_need(session, outbox(), need_id, changes)


@blp.route("/needs/<need_id>/cancel")
class NeedCancel(MethodView):
    @blp.arguments(schemas.CancelBody)
    @blp.response(200, schemas.NeedOut)
    @blp.alt_response(409, description="not allowed from the current status")
    def post(self, body, need_id):  # type: ignore[no-untyped-def]
        """Cancel a need; publishes NeedCancelled."""
        with db().transaction() as session:
            return handlers.cancel_need(session, outbox(), need_id, body["reason"])


@blp.route("/needs/<need_id>/status")
class NeedStatus(MethodView):
    @blp.arguments(schemas.StatusChange)
    @blp.response(200, schemas.NeedOut)
    @blp.alt_response(409, description="the lifecycle does not allow this change")
    def post(self, body, need_id):  # type: ignore[no-untyped-def]
        """Staff status change: in_progress, completed, cancelled, expired, needs_follow_up, open."""
        with db().transaction() as session:
            return handlers.change_status(session, outbox(), need_id, body["status"], body["reason"])


@blp.route("/needs/<need_id>/timeline")
class NeedTimeline(MethodView):
    @blp.response(200, schemas.TimelineEntry(many=True))
    def get(self, need_id):  # type: ignore[no-untyped-def]
        """The need's history: registration, edits, status changes and match events."""
        with db().transaction() as session:
            handlers.get_need(session, need_id)
            return handlers.timeline_of(session, need_id)


@blp.route("/residents")
class ResidentCollection(MethodView):
    @blp.response(200, schemas.ResidentSummary(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """Residents by pseudonym and village only (no personal data in lists)."""
        with db().engine.connect() as conn:
            return conn.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village)
                                .order_by(residents.c.ref)).mappings().all()

    @blp.arguments(schemas.ResidentCreate)
    @blp.response(201, schemas.ResidentOut)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Register a resident (personal data stays in this service)."""
        notices = resident_notices.take(data)
        with db().transaction() as session:
            row = handlers.create_resident(session, data)
            return resident_notices.apply(session, outbox(), row["id"], notices)


@blp.route("/residents/<resident_id>")
class ResidentItem(MethodView):
    @blp.response(200, schemas.ResidentOut)
    def get(self, resident_id):  # type: ignore[no-untyped-def]
        """A resident's personal data; every read lands in the audit log."""
        with db().transaction() as session:
            return handlers.read_resident(session, resident_id)

    @blp.arguments(schemas.ResidentUpdate(partial=True))
    @blp.response(200, schemas.ResidentOut)
    def patch(self, data, resident_id):  # type: ignore[no-untyped-def]
        notices = resident_notices.take(data)
        with db().transaction() as session:
            handlers.update_resident(session, resident_id, data)
            return resident_notices.apply(session, outbox(), resident_id, notices)


@blp.route("/residents/<resident_id>/erase")
class ResidentErase(MethodView):
    @blp.arguments(schemas.EraseBody)
    @blp.response(200, schemas.ResidentErasedOut)
    @blp.alt_response(409, description="already erased, or an IPUS package of the resident is still open")
    def post(self, body, resident_id):  # type: ignore[no-untyped-def]
        """RODO art. 17: blank the resident's personal data and free text, keep the pseudonym and the
        statistics, cancel unfinished needs (NeedCancelled "resident_erased"), publish ResidentErased."""
        with db().transaction() as session:
            return handlers.erase_resident(session, outbox(), resident_id, body["reason"])


@blp.route("/packages")
class PackageCollection(MethodView):
    @blp.response(200, schemas.PackageOut(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        with db().transaction() as session:
            refs = session.execute(sa.select(support_packages.c.plan_ref)
                                   .order_by(support_packages.c.opened_at.desc())).scalars().all()
            return [handlers.package_summary(session, ref) for ref in refs]

    @blp.arguments(schemas.PackageCreate)
    @blp.response(201, schemas.PackageOut)
    def post(self, data):  # type: ignore[no-untyped-def]
        """Open a support package for an IPUS; publishes SupportPackageOpened."""
        with db().transaction() as session:
            handlers.open_package(session, outbox(), data)
            return handlers.package_summary(session, data["plan_ref"])


@blp.route("/packages/<path:plan_ref>")
class PackageItem(MethodView):
    @blp.response(200, schemas.PackageOut)
    def get(self, plan_ref):  # type: ignore[no-untyped-def]
        """The package with delivered visits and hours (from MatchCompleted events)."""
        with db().transaction() as session:
            return handlers.package_summary(session, plan_ref)


@blp.route("/packages/<path:plan_ref>/close")
class PackageClose(MethodView):
    @blp.arguments(schemas.CancelBody)
    @blp.response(200, schemas.PackageOut)
    @blp.alt_response(409, description="already closed")
    def post(self, body, plan_ref):  # type: ignore[no-untyped-def]
        """Close the package: pending occurrences are cancelled; publishes SupportPackageClosed."""
        with db().transaction() as session:
            return handlers.close_package(session, outbox(), plan_ref, body["reason"])


@blp.route("/reference")
class Reference(MethodView):
    @blp.response(200, schemas.ReferenceOut)
    def get(self):  # type: ignore[no-untyped-def]
        """Need categories with their rules, villages of the gmina, requirement codes."""
        return {"categories": list(reference.categories().values()),
                "villages": list(reference.villages().values()), "requirements": model.REQUIREMENT_PL}
