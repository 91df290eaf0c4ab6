"""The CUS case system's API (docs/case-system.md): HTTP only; the use cases are in caseneeds.py and csvio.py.

`/api/case-system/...` answers API clients only (`Authorization: Bearer <key>`, never the staff session):
wspolnota/access.py lists these endpoints as public and `_key_scope_and_rate` checks the key, its scope and the
client's rate limit itself. Every write needs an `Idempotency-Key` (wspolnota/idempotency.py): the first
successful answer is stored with the change, in one transaction, and replayed for the same request again.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates_schema
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from services.needs import apikeys, audit, caseneeds, clock, csvio, handlers, schemas
from services.needs.caseneeds import CaseNeedCreate
from services.needs.db import case_system_needs, idempotency_keys, needs
from wspolnota import config
from wspolnota.errors import api_error
from wspolnota.idempotency import IdempotencyStore, Outcome, respond
from wspolnota.web import current_parts

log = logging.getLogger("services.needs.caseapi")
SECURITY: list[dict[str, list[str]]] = [{"caseSystemKey": []}]
IDEMPOTENCY_HEADER = {"in": "header", "name": "Idempotency-Key", "required": True,
                      "description": "one value per intended change (e.g. a UUID); the same key with the same "
                                     "body replays the first answer, with another body it is refused (409)",
                      "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
ENCODING_PARAM = {"in": "query", "name": "encoding", "required": False,
                  "schema": {"type": "string", "enum": list(csvio.ENCODINGS), "default": "auto"},
                  "description": "auto: UTF-8 (with or without BOM), else Windows-1250"}
PLAN_PARAM = {"in": "query", "name": "plan_ref", "required": True, "schema": {"type": "string"}}
CSV_BODY = {"required": True, "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}
TOO_LARGE = "Plik jest za duży: najwyżej 1 MB. Podziel go na mniejsze pliki."


# --- bodies ---------------------------------------------------------------------------------------------
class CaseNeedOut(schemas.NeedOut):
    external_id = fields.String(allow_none=True)


class ImportOut(Schema):
    imported = fields.Integer()
    need_ids = fields.List(fields.String())
    skipped_external_ids = fields.List(fields.String(), metadata={"description": "imported before; not again"})
    encoding = fields.String()


class RowErrorOut(Schema):
    row = fields.Integer(metadata={"description": "line of the file; the header is line 1"})
    column = fields.String()
    message = fields.String()


class ImportErrorsOut(Schema):
    code = fields.Integer()
    message = fields.String()
    errors = fields.Dict(metadata={"description": '{"rows": [{row, column, message}]}'})


class ExternalIdQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    external_id = fields.String(validate=schemas.REF)
    plan_ref = fields.String(validate=schemas.REF)

    @validates_schema
    def _one_of_them(self, data, **_kw):  # type: ignore[no-untyped-def]
        if not data.get("external_id") and not data.get("plan_ref"):
            raise ValidationError("Podaj external_id albo plan_ref.", "external_id")


class ExportQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    plan_ref = fields.String(required=True, validate=schemas.REF)


# --- settings, clock and stored answers ---------------------------------------------------------------------
def setting(name: str) -> Any:
    """A CASE_SYSTEM_* setting: the app's config (tests) over the environment (wspolnota/config.py)."""
    value = current_app.config.get(name)
    return config.get(name) if value is None else value


def now() -> datetime:
    return clock.now()


def answers() -> IdempotencyStore:
    """Stored answers, replayed for CASE_SYSTEM_IDEMPOTENCY_DAYS (default 30)."""
    return IdempotencyStore(current_parts().db, idempotency_keys,
                            keep_days=int(setting("CASE_SYSTEM_IDEMPOTENCY_DAYS")), clock=current_parts().clock)


def keys_kept_since() -> datetime:
    """Answers stored before this moment are no longer replayed."""
    return answers().kept_since()


def run_import(session: Session, raw: bytes, encoding: str, origin: str, actor: str) -> csvio.ImportResult:
    max_rows = int(setting("CASE_SYSTEM_CSV_MAX_ROWS"))
    return csvio.import_needs(session, outbox(), raw, origin, actor, now(), encoding, max_rows)


def delivered_response(plan_ref: str) -> Response:
    """The CSV of what a plan delivered (the API's export and the staff page's download)."""
    errors = ExportQuery().validate({"plan_ref": plan_ref})
    if errors:
        api_error(422, errors={"query": errors})
    key = config.secret("CASE_SYSTEM_PSEUDONYM_KEY", setting("CASE_SYSTEM_PSEUDONYM_KEY") or "")
    try:
        with current_parts().db.transaction() as session:
            rows = csvio.delivered(session, plan_ref, key)
    except handlers.NotFound as err:  # JSON also for the staff page's download link
        api_error(404, err.message)
    filename = "wsparcie-" + "".join(c if c.isalnum() else "-" for c in plan_ref) + ".csv"
    return Response(csvio.export_csv(rows), 200, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def outbox() -> Any:
    return current_parts().outbox


# --- the API for case systems -----------------------------------------------------------------------------
SCOPE_OF = {
    ("CaseNeeds", "GET"): apikeys.NEEDS_READ,
    ("CaseNeeds", "POST"): apikeys.NEEDS_WRITE,
    ("CaseNeedItem", "GET"): apikeys.NEEDS_READ,
    ("CaseNeedItem", "PUT"): apikeys.NEEDS_WRITE,
    ("CaseNeedCancel", "POST"): apikeys.NEEDS_WRITE,
    ("CaseImports", "POST"): apikeys.NEEDS_WRITE,
    ("DeliveredExport", "GET"): apikeys.EXPORTS_READ,
}

blp = Blueprint("case_system_api", __name__, url_prefix="/api/case-system",
                description="Dla systemu dziedzinowego CUS (np. POMOST): klucz API (Authorization: Bearer), "
                            "Idempotency-Key przy każdej zmianie, limit żądań na klienta.")


@blp.before_request
def _key_scope_and_rate():  # type: ignore[no-untyped-def]
    if request.url_rule is None or request.method == "OPTIONS":
        return None
    db = current_parts().db
    try:
        with db.transaction() as session:
            client = apikeys.authenticate(session, request.headers.get("Authorization"))
    except apikeys.Refused as err:
        log.warning("case-system API: refused %s %s: %s", request.method, request.path, err.message)
        api_error(401, err.message, headers={"WWW-Authenticate": 'Bearer realm="case-system"'})
    # CASE_SYSTEM_CLOCK (seconds since the epoch) lets a test move the rate window alone
    clock: Callable[[], float] | None = current_app.config.get("CASE_SYSTEM_CLOCK")
    wait = apikeys.take_request(db, client, clock() if clock is not None else now().timestamp())
    if wait is not None:
        api_error(429, f"Za dużo żądań: limit {client.rate_limit_per_minute} na minutę. "
                       f"Spróbuj ponownie za {wait} s.", headers={"Retry-After": str(wait)})
    view = (request.endpoint or "").rpartition(".")[2]
    scope = SCOPE_OF.get((view, request.method))
    if scope is None or scope not in client.scopes:
        api_error(403, f"Ten klucz API nie ma uprawnienia {scope}.")
    g.case_client = client
    return None


def actor() -> str:
    """The API client behind the request's key (a key is the signed-in party of this API)."""
    return f"system dziedzinowy: {g.case_client.name}"


def dump_need(row: dict[str, Any]) -> dict[str, Any]:
    return CaseNeedOut().dump(row)  # type: ignore[no-any-return]


def json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        api_error(422, errors={"json": {"_schema": ["Treść żądania musi być poprawnym JSON-em."]}})
    return body


def idempotent(action: Callable[[Session], Outcome]) -> Response:
    return respond(answers(), g.case_client.id, action)


@blp.route("/needs")
class CaseNeeds(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(ExternalIdQuery, location="query")
    @blp.response(200, CaseNeedOut(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Needs that came from the case system, by its `external_id` or by `plan_ref` (scope needs:read);
        without descriptions."""
        with current_parts().db.engine.connect() as conn:
            query = (sa.select(needs, case_system_needs.c.external_id)
                     .join(case_system_needs, case_system_needs.c.need_id == needs.c.id))
            if args.get("external_id"):
                query = query.where(case_system_needs.c.external_id == args["external_id"])
            if args.get("plan_ref"):
                query = query.where(needs.c.plan_ref == args["plan_ref"])
            rows = conn.execute(query.order_by(needs.c.window_start).limit(500)).mappings().all()
        return [{k: v for k, v in r.items() if k != "description"} for r in rows]

    @blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_HEADER],
             requestBody={"required": True, "content": {"application/json": {"schema": CaseNeedCreate}}})
    @blp.response(201, CaseNeedOut)
    @blp.alt_response(409, description="Idempotency-Key reused with another body, or external_id known")
    @blp.alt_response(422, description="field errors: {errors: {json: {field: [messages]}}}")
    @blp.alt_response(429, description="rate limit; Retry-After says when to try again")
    def post(self):  # type: ignore[no-untyped-def]
        """Register a one-off need tied to a plan (scope needs:write); publishes NeedRegistered."""
        def action(session: Session) -> Outcome:
            try:
                return 201, dump_need(caseneeds.create_need(session, outbox(), json_body(), g.case_client.name,
                                                            actor(), now()))
            except caseneeds.BodyInvalid as err:
                api_error(422, errors={"json": err.messages})
            except caseneeds.AlreadyRegistered as err:
                api_error(409, f"Potrzeba o tym external_id już istnieje: {err.need_id}.")
        return idempotent(action)


@blp.route("/needs/<need_id>")
class CaseNeedItem(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, CaseNeedOut)
    def get(self, need_id):  # type: ignore[no-untyped-def]
        """A need that came from the case system (scope needs:read); the read is audited."""
        with current_parts().db.transaction() as session:
            row = caseneeds.linked_need(session, need_id)
            audit.record(session, "read", "need", need_id, ["description"], actor())
        return row

    @blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_HEADER],
             requestBody={"required": True, "content": {"application/json": {"schema": schemas.NeedUpdate}}})
    @blp.response(200, CaseNeedOut)
    @blp.alt_response(409, description="no longer editable, or Idempotency-Key reused with another body")
    @blp.alt_response(422, description="field errors")
    def put(self, need_id):  # type: ignore[no-untyped-def]
        """Change the need's terms while it is still open (scope needs:write); publishes NeedUpdated.
        Fields left out keep their values."""
        def action(session: Session) -> Outcome:
            try:
                changes = schemas.NeedUpdate().load(json_body())
            except ValidationError as err:
                api_error(422, errors={"json": err.messages})
            return 200, dump_need(caseneeds.update_need(session, outbox(), need_id, changes, actor()))
        return idempotent(action)


@blp.route("/needs/<need_id>/cancel")
class CaseNeedCancel(MethodView):
    @blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_HEADER],
             requestBody={"required": False, "content": {"application/json": {"schema": schemas.CancelBody}}})
    @blp.response(200, CaseNeedOut)
    @blp.alt_response(409, description="not cancellable from its status, or Idempotency-Key reused")
    def post(self, need_id):  # type: ignore[no-untyped-def]
        """Cancel the need (scope needs:write); publishes NeedCancelled."""
        def action(session: Session) -> Outcome:
            try:
                body = schemas.CancelBody().load(request.get_json(silent=True) or {})
            except ValidationError as err:
                api_error(422, errors={"json": err.messages})
            return 200, dump_need(caseneeds.cancel_need(session, outbox(), need_id, body["reason"], actor()))
        return idempotent(action)


@blp.route("/imports")
class CaseImports(MethodView):
    @blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_HEADER, ENCODING_PARAM], requestBody=CSV_BODY)
    @blp.response(201, ImportOut)
    @blp.alt_response(413, description="file over 1 MiB")
    @blp.alt_response(422, schema=ImportErrorsOut, description="nothing imported; errors by row and column")
    def post(self):  # type: ignore[no-untyped-def]
        """Import needs from a CSV file, all rows or none (scope needs:write); see docs/case-system.md."""
        encoding = request.args.get("encoding", "auto")
        if encoding not in csvio.ENCODINGS:
            api_error(422, errors={"query": {"encoding": ["Kodowanie: auto, utf-8 albo cp1250."]}})
        raw = request.get_data()

        def action(session: Session) -> Outcome:
            try:
                result = run_import(session, raw, encoding, g.case_client.name, actor())
            except csvio.ImportRejected as err:
                api_error(422, "Nic nie zaimportowano: popraw wskazane wiersze.",
                          errors={"rows": [e.as_dict() for e in err.errors]})
            return 201, {"imported": len(result.imported), "need_ids": result.imported,
                         "skipped_external_ids": result.skipped, "encoding": result.encoding}
        return idempotent(action)


@blp.route("/delivered")
class DeliveredExport(MethodView):
    @blp.doc(security=SECURITY, parameters=[PLAN_PARAM], responses={
        "200": {"description": "CSV (UTF-8 with BOM, ; separated): " + ", ".join(csvio.EXPORT_COLUMNS),
                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self):  # type: ignore[no-untyped-def]
        """Support delivered in a plan: visits, hours, provider pseudonym, dates (scope exports:read)."""
        return delivered_response(request.args.get("plan_ref", ""))


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):  # type: ignore[no-untyped-def]
    return {"code": 413, "status": "Request Entity Too Large", "message": TOO_LARGE}, 413


def install(app: Flask, api: Any, csrf: Any) -> None:
    """Called by app.create_app: the API's security scheme and blueprint (CSRF-exempt, bearer keys)."""
    api.spec.components.security_scheme("caseSystemKey", {
        "type": "http", "scheme": "bearer",
        "description": "API key of a case-system client (`wspolnota apikey add`); scopes needs:write, "
                       "needs:read, exports:read"})
    csrf.exempt(blp)
    api.register_blueprint(blp)
