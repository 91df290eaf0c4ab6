"""The CUS case system's way in (docs/case-system.md): REST with API keys, CSV import, CSV export.

`/api/case-system/...` answers API clients only (`Authorization: Bearer <key>`, never the staff session):
wspolnota/access.py lists these endpoints as public and `build_api` checks the key, its scope and the
client's rate limit itself. Every write needs an `Idempotency-Key`: the first successful answer is stored
with the change, in one transaction, and replayed for the same request again. `/case-system` is the
staff page (sign-in as usual) to import a CSV file and download what a plan delivered.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from flask_smorest import abort as smorest_abort
from flask_wtf.file import FileField
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from services.needs import apikeys, audit, csvio, forms, handlers, model, schemas
from services.needs.db import api_clients, case_system_needs, idempotency_keys, needs, support_packages
from wspolnota import config
from wspolnota.db import Database
from wspolnota.schemas import village_field
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("services.needs.casesystem")
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


def api_abort(status: int, **kwargs: Any) -> NoReturn:
    """A JSON error answer (flask-smorest's shape: code, status, message, errors)."""
    smorest_abort(status, **kwargs)
    raise AssertionError("unreachable")


# --- bodies ---------------------------------------------------------------------------------------------
class CaseNeedCreate(schemas.NeedCreate):
    """A one-off need for a plan. `resident_ref` and `village` may be left out when this service already
    has the plan's support package (they are taken from it; a different resident is refused)."""

    class Meta:
        exclude = ("source",)

    plan_ref = fields.String(required=True, validate=schemas.REF, metadata={"description": "IPUS number"})
    resident_ref = fields.String(load_default=None, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "pseudonym shared by CUS and the case system"})
    village = village_field(load_default=None)
    external_id = fields.String(load_default=None, validate=schemas.REF,
                                metadata={"description": "the case system's own id of this need; unique"})


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


class BodyInvalid(Exception):
    def __init__(self, messages: dict[str, Any]):
        super().__init__(messages)
        self.messages = messages


class AlreadyRegistered(Exception):
    def __init__(self, need_id: str):
        super().__init__(need_id)
        self.need_id = need_id


# --- use cases (shared by the API and the CSV import) ------------------------------------------------
def need_by_external_id(session: Session, external_id: str) -> str | None:
    return session.execute(sa.select(case_system_needs.c.need_id)
                           .where(case_system_needs.c.external_id == external_id)).scalar()


def _with_plan(session: Session, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Fill the resident and village from the plan's package; refuse a plan of someone else."""
    plan_ref = body.get("plan_ref")
    if not isinstance(plan_ref, str):
        return body, {}
    package = handlers._package(session, plan_ref)
    errors: dict[str, list[str]] = {}
    if package is None:
        if not body.get("resident_ref"):
            errors["resident_ref"] = ["Nie ma tu pakietu wsparcia o tym numerze planu; podaj pseudonim mieszkańca."]
        if not body.get("village"):
            errors["village"] = ["To pole jest wymagane."]
        return body, errors
    if package["status"] != "open":
        errors["plan_ref"] = ["Ten pakiet wsparcia jest już zamknięty."]
    if body.get("resident_ref") and body["resident_ref"] != package["resident_ref"]:
        errors["resident_ref"] = ["Ten plan IPUS dotyczy innego mieszkańca."]
    return {**body, "resident_ref": body.get("resident_ref") or package["resident_ref"],
            "village": body.get("village") or package["village"]}, errors


def create_need(session: Session, outbox: Outbox, body: Any, origin: str, actor: str) -> dict[str, Any]:
    """Register a need the case system sent (BodyInvalid, AlreadyRegistered); publishes NeedRegistered."""
    if not isinstance(body, dict):
        raise BodyInvalid({"_schema": ["Treść żądania musi być obiektem JSON."]})
    body, errors = _with_plan(session, body)
    try:
        data = CaseNeedCreate().load(body)
    except ValidationError as err:
        errors = {**err.messages, **errors}  # type: ignore[dict-item]
    if errors:
        raise BodyInvalid(errors)
    external_id = data.pop("external_id")
    if external_id:
        existing = need_by_external_id(session, external_id)
        if existing:
            raise AlreadyRegistered(existing)
    try:
        # an API key is no person with a role: it may never switch the category's staff review off
        row = handlers.register_need(session, outbox, {**data, "source": "case_system"}, actor=actor,
                                     may_moderate=False)
    except handlers.Invalid as err:
        raise BodyInvalid({k: [v] for k, v in err.errors.items()}) from err
    session.execute(sa.insert(case_system_needs).values(need_id=row["id"], origin=origin[:100],
                                                        external_id=external_id, created_at=datetime.now(UTC)))
    return {**row, "external_id": external_id}


def _linked_need(session: Session, need_id: str, for_update: bool = False) -> dict[str, Any]:
    """A need that came from the case system (others are not its business: 404)."""
    link = session.execute(sa.select(case_system_needs).where(case_system_needs.c.need_id == need_id)
                           ).mappings().first()
    if link is None:
        raise handlers.NotFound(need_id)
    return {**handlers.get_need(session, need_id, for_update), "external_id": link["external_id"]}


# --- idempotency ------------------------------------------------------------------------------------------
def _fingerprint(body: bytes) -> str:
    """Method, path and body; a JSON body is compared by content (key order and spacing do not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + canonical).hexdigest()


def _stored(db: Database, client_id: str, key: str) -> sa.RowMapping | None:
    with db.engine.connect() as conn:
        return conn.execute(sa.select(idempotency_keys).where(
            idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key,
            idempotency_keys.c.created_at >= _keys_kept_since())).mappings().first()


def _replay(stored: sa.RowMapping, fingerprint: str) -> Response:
    if stored["request_hash"] != fingerprint:
        api_abort(409, message="Ten Idempotency-Key został już użyty z inną treścią żądania; "
                               "nowa zmiana wymaga nowego klucza.")
    return Response(stored["response_body"], stored["status_code"], content_type=stored["content_type"],
                    headers={"Idempotent-Replayed": "true"})


Outcome = tuple[int, Any]  # status and a JSON-able body


def keep_keys_days() -> int:
    """CASE_SYSTEM_IDEMPOTENCY_DAYS: one value for the API's replay window and the job that forgets keys."""
    return config.get_int("CASE_SYSTEM_IDEMPOTENCY_DAYS")


def _setting(name: str) -> Any:
    """A CASE_SYSTEM_* setting: the app's config (tests) over the environment (wspolnota/config.py)."""
    value = current_app.config.get(name)
    return config.get(name) if value is None else value


def _keys_kept_since() -> datetime:
    """Answers older than the retention (CASE_SYSTEM_IDEMPOTENCY_DAYS, default 30) are no longer replayed."""
    return datetime.now(UTC) - timedelta(days=int(_setting("CASE_SYSTEM_IDEMPOTENCY_DAYS")))


def forget_old_keys(session: Session, client_id: str) -> None:
    session.execute(sa.delete(idempotency_keys).where(idempotency_keys.c.client_id == client_id,
                                                      idempotency_keys.c.created_at < _keys_kept_since()))


def idempotent(db: Database, action: Callable[[Session], Outcome]) -> Response:
    """Run `action` once per (client, Idempotency-Key); its successful answer is stored in the same
    transaction as the change, so a retry, a double click or a concurrent duplicate changes nothing again."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 200 or not key.isprintable():
        api_abort(400, message="Wymagany nagłówek Idempotency-Key (1–200 znaków).")
    client: apikeys.Client = g.case_client
    fingerprint = _fingerprint(request.get_data())
    stored = _stored(db, client.id, key)
    if stored is not None:
        return _replay(stored, fingerprint)
    try:
        with db.transaction() as session:
            forget_old_keys(session, client.id)
            # Claim the key first: a concurrent duplicate waits on this row and then replays our answer.
            session.execute(sa.insert(idempotency_keys).values(
                client_id=client.id, key=key, request_hash=fingerprint, status_code=0, response_body="",
                content_type="application/json", created_at=datetime.now(UTC)))
            status, payload = action(session)
            body = json.dumps(payload, ensure_ascii=False)
            session.execute(sa.update(idempotency_keys).where(
                idempotency_keys.c.client_id == client.id, idempotency_keys.c.key == key).values(
                status_code=status, response_body=body))
    except IntegrityError:
        stored = _stored(db, client.id, key)  # a concurrent duplicate committed first
        if stored is None:
            api_abort(409, message="Równoległe żądanie zmieniło te same dane; sprawdź stan i spróbuj ponownie.")
        return _replay(stored, fingerprint)
    return Response(body, status, content_type="application/json")


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


def _json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        api_abort(422, errors={"json": {"_schema": ["Treść żądania musi być poprawnym JSON-em."]}})
    return body


def build_api(db: Database, outbox: Outbox) -> Blueprint:
    blp = Blueprint("case_system_api", __name__, url_prefix="/api/case-system",
                    description="Dla systemu dziedzinowego CUS (np. POMOST): klucz API (Authorization: Bearer), "
                                "Idempotency-Key przy każdej zmianie, limit żądań na klienta.")

    @blp.before_request
    def _key_scope_and_rate():  # type: ignore[no-untyped-def]
        if request.url_rule is None or request.method == "OPTIONS":
            return None
        try:
            with db.transaction() as session:
                client = apikeys.authenticate(session, request.headers.get("Authorization"))
        except apikeys.Refused as err:
            log.warning("case-system API: refused %s %s: %s", request.method, request.path, err.message)
            api_abort(401, message=err.message, headers={"WWW-Authenticate": 'Bearer realm="case-system"'})
        clock: Callable[[], float] = current_app.config.get("CASE_SYSTEM_CLOCK", time.time)
        wait = apikeys.take_request(db, client, clock())
        if wait is not None:
            api_abort(429, message=f"Za dużo żądań: limit {client.rate_limit_per_minute} na minutę. "
                                   f"Spróbuj ponownie za {wait} s.", headers={"Retry-After": str(wait)})
        view = (request.endpoint or "").rpartition(".")[2]
        scope = SCOPE_OF.get((view, request.method))
        if scope is None or scope not in client.scopes:
            api_abort(403, message=f"Ten klucz API nie ma uprawnienia {scope}.")
        g.case_client = client
        return None

    def actor() -> str:
        return f"system dziedzinowy: {g.case_client.name}"

    def dump_need(row: dict[str, Any]) -> dict[str, Any]:
        return CaseNeedOut().dump(row)  # type: ignore[no-any-return]

    @blp.route("/needs")
    class CaseNeeds(MethodView):
        @blp.doc(security=SECURITY)
        @blp.arguments(ExternalIdQuery, location="query")
        @blp.response(200, CaseNeedOut(many=True))
        def get(self, args):  # type: ignore[no-untyped-def]
            """Needs that came from the case system, by its `external_id` or by `plan_ref` (scope needs:read);
            without descriptions."""
            with db.engine.connect() as conn:
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
                    return 201, dump_need(create_need(session, outbox, _json_body(), g.case_client.name, actor()))
                except BodyInvalid as err:
                    api_abort(422, errors={"json": err.messages})
                except AlreadyRegistered as err:
                    api_abort(409, message=f"Potrzeba o tym external_id już istnieje: {err.need_id}.")
            return idempotent(db, action)

    @blp.route("/needs/<need_id>")
    class CaseNeedItem(MethodView):
        @blp.doc(security=SECURITY)
        @blp.response(200, CaseNeedOut)
        def get(self, need_id):  # type: ignore[no-untyped-def]
            """A need that came from the case system (scope needs:read); the read is audited."""
            try:
                with db.transaction() as session:
                    row = _linked_need(session, need_id)
                    audit.record(session, "read", "need", need_id, ["description"], actor())
            except handlers.NotFound:
                api_abort(404, message="Nie ma takiej potrzeby z systemu dziedzinowego.")
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
                    changes = schemas.NeedUpdate().load(_json_body())
                    link = _linked_need(session, need_id, for_update=True)
                    row = handlers.update_need(session, outbox, need_id, changes, actor(), may_moderate=False)
                except ValidationError as err:
                    api_abort(422, errors={"json": err.messages})
                except handlers.NotFound:
                    api_abort(404, message="Nie ma takiej potrzeby z systemu dziedzinowego.")
                except handlers.Invalid as err:
                    api_abort(422, errors={"json": {k: [v] for k, v in err.errors.items()}})
                except model.InvalidTransition as err:
                    api_abort(409, message=err.message)
                return 200, dump_need({**row, "external_id": link["external_id"]})
            return idempotent(db, action)

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
                    link = _linked_need(session, need_id, for_update=True)
                    row = handlers.cancel_need(session, outbox, need_id, body["reason"], actor())
                except ValidationError as err:
                    api_abort(422, errors={"json": err.messages})
                except handlers.NotFound:
                    api_abort(404, message="Nie ma takiej potrzeby z systemu dziedzinowego.")
                except model.InvalidTransition as err:
                    api_abort(409, message=err.message)
                return 200, dump_need({**row, "external_id": link["external_id"]})
            return idempotent(db, action)

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
                api_abort(422, errors={"query": {"encoding": ["Kodowanie: auto, utf-8 albo cp1250."]}})
            raw = request.get_data()

            def action(session: Session) -> Outcome:
                try:
                    result = run_import(session, outbox, raw, encoding, g.case_client.name, actor())
                except csvio.ImportRejected as err:
                    api_abort(422, message="Nic nie zaimportowano: popraw wskazane wiersze.",
                              errors={"rows": [e.as_dict() for e in err.errors]})
                return 201, {"imported": len(result.imported), "need_ids": result.imported,
                             "skipped_external_ids": result.skipped, "encoding": result.encoding}
            return idempotent(db, action)

    @blp.route("/delivered")
    class DeliveredExport(MethodView):
        @blp.doc(security=SECURITY, parameters=[PLAN_PARAM], responses={
            "200": {"description": "CSV (UTF-8 with BOM, ; separated): " + ", ".join(csvio.EXPORT_COLUMNS),
                    "content": {"text/csv": {"schema": {"type": "string"}}}}})
        def get(self):  # type: ignore[no-untyped-def]
            """Support delivered in a plan: visits, hours, provider pseudonym, dates (scope exports:read)."""
            return delivered_response(db, request.args.get("plan_ref", ""))

    @blp.errorhandler(RequestEntityTooLarge)
    def _too_large(_err):  # type: ignore[no-untyped-def]
        return {"code": 413, "status": "Request Entity Too Large", "message": TOO_LARGE}, 413

    return blp


def run_import(session: Session, outbox: Outbox, raw: bytes, encoding: str, origin: str, actor: str
               ) -> csvio.ImportResult:
    max_rows = int(_setting("CASE_SYSTEM_CSV_MAX_ROWS"))
    return csvio.import_needs(session, outbox, raw, origin, actor, encoding, max_rows)


def delivered_response(db: Database, plan_ref: str) -> Response:
    errors = ExportQuery().validate({"plan_ref": plan_ref})
    if errors:
        api_abort(422, errors={"query": errors})
    key = config.secret("CASE_SYSTEM_PSEUDONYM_KEY", _setting("CASE_SYSTEM_PSEUDONYM_KEY") or "")
    try:
        with db.transaction() as session:
            rows = csvio.delivered(session, plan_ref, key)
    except handlers.NotFound:
        api_abort(404, message="Nie ma takiego planu IPUS.")
    filename = "wsparcie-" + "".join(c if c.isalnum() else "-" for c in plan_ref) + ".csv"
    return Response(csvio.export_csv(rows), 200, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- staff page ---------------------------------------------------------------------------------------------
class ImportForm(forms.PolishForm):
    file = FileField(_l("Plik CSV z potrzebami"))
    encoding = SelectField(_l("Kodowanie znaków"), default="auto", choices=forms.opts([
        ("auto", _l("wykryj (UTF-8, a gdy nie pasuje — Windows-1250)")), ("utf-8", "UTF-8"),
        ("cp1250", _l("Windows-1250 (Excel, „CSV rozdzielany średnikami”)"))]))


class ClientForm(forms.PolishForm):
    name = StringField(_l("Nazwa klienta"), validators=[InputRequired(_l("To pole jest wymagane.")), Length(max=100)])
    scopes = forms.MultiCheckboxField(_l("Uprawnienia"), validators=[InputRequired(_l("Wybierz co najmniej jedno."))],
                                      choices=forms.opts([(apikeys.NEEDS_WRITE, _l("needs:write — zapis potrzeb")),
                                                          (apikeys.NEEDS_READ, _l("needs:read — odczyt potrzeb")),
                                                          (apikeys.EXPORTS_READ, _l("exports:read — eksport"))]))
    rate_limit = IntegerField(_l("Limit żądań na minutę"), default=apikeys.DEFAULT_RATE_LIMIT,
                              validators=[InputRequired(_l("To pole jest wymagane.")), NumberRange(min=1, max=10_000)])


def may_manage_keys() -> bool:
    from wspolnota.access import ADMIN
    from wspolnota.auth import auth_disabled, current_user

    user = current_user()
    return auth_disabled(current_app) or bool(user and user["role"] == ADMIN)


def build_pages(db: Database, outbox: Outbox) -> Any:
    from flask import Blueprint as FlaskBlueprint

    pages = FlaskBlueprint("case_system", __name__)

    def hub(form: ImportForm | None = None, status: int = 200, report: list[csvio.RowError] | None = None,
            form_error: str = "", client_form: ClientForm | None = None, new_token: str = "") -> Any:
        with db.engine.connect() as conn:
            plans = list(conn.execute(sa.select(support_packages.c.plan_ref, support_packages.c.resident_ref,
                                                support_packages.c.status)
                                      .order_by(support_packages.c.opened_at.desc())).mappings())
            # plans the case system cited without a package here still have deliveries to export
            plans += conn.execute(sa.select(needs.c.plan_ref, sa.func.min(needs.c.resident_ref).label("resident_ref"),
                                            sa.literal("").label("status"))
                                  .join(case_system_needs, case_system_needs.c.need_id == needs.c.id)
                                  .where(needs.c.plan_ref.not_in(sa.select(support_packages.c.plan_ref)))
                                  .group_by(needs.c.plan_ref).order_by(needs.c.plan_ref)).mappings().all()
            clients = conn.execute(sa.select(api_clients.c.name, api_clients.c.key_prefix, api_clients.c.scopes,
                                             api_clients.c.rate_limit_per_minute, api_clients.c.revoked_at,
                                             api_clients.c.last_used_at)
                                   .order_by(api_clients.c.created_at)).mappings().all()
        html = render_template(
            "needs/case_system.html", form=form or ImportForm(formdata=None), plans=plans, clients=clients,
            report=report, form_error=form_error, columns=csvio.COLUMNS, required=csvio.REQUIRED_COLUMNS,
            max_rows=int(_setting("CASE_SYSTEM_CSV_MAX_ROWS")),
            client_form=client_form or ClientForm(formdata=None), revoke_form=forms.PolishForm(formdata=None),
            may_manage_keys=may_manage_keys(), new_token=new_token)
        return Response(html, status, headers={"Cache-Control": "no-store"} if new_token else {})

    @pages.get("/case-system")
    def case_system():  # type: ignore[no-untyped-def]
        return hub(ImportForm())

    @pages.post("/case-system/import")
    def import_csv():  # type: ignore[no-untyped-def]
        form = ImportForm()
        if not form.validate_on_submit():
            return hub(form, 400 if form.csrf_token.errors else 422)
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [_("Wybierz plik CSV.")]
            return hub(form, 422)
        raw = upload.read()
        who = audit.current_actor()
        try:
            with db.transaction() as session:
                result = run_import(session, outbox, raw, form.encoding.data, f"csv: {who}", who)
        except csvio.ImportRejected as err:
            return hub(form, 422, report=err.errors)
        flash(_("Zaimportowano potrzeby: %(n)s. Pominięto już zaimportowane: %(s)s.",
                n=len(result.imported), s=len(result.skipped)))
        return redirect(url_for("case_system.case_system"))

    @pages.get("/case-system/delivered.csv")
    def delivered_csv():  # type: ignore[no-untyped-def]
        return delivered_response(db, request.args.get("plan_ref", ""))

    @pages.errorhandler(RequestEntityTooLarge)
    def _too_large(_err):  # type: ignore[no-untyped-def]
        return hub(status=413, form_error=_(TOO_LARGE))

    @pages.post("/case-system/clients")
    def add_client():  # type: ignore[no-untyped-def]
        """Admin only (wspolnota/access.py): a new key, shown on this one answer and never again."""
        form = ClientForm()
        if not form.validate_on_submit():
            return hub(status=422, client_form=form)
        try:
            with db.transaction() as session:
                row, token = apikeys.add_client(session, form.name.data or "", form.scopes.data or [],
                                                form.rate_limit.data or apikeys.DEFAULT_RATE_LIMIT)
                audit.record(session, "create", "api_client", row["name"][:64], ["scopes", "rate_limit"])
        except apikeys.KeyCommandError:
            form.name.errors = [_("Klient o tej nazwie już istnieje albo nazwa jest za długa.")]
            return hub(status=422, client_form=form)
        return hub(status=201, new_token=token)

    @pages.post("/case-system/clients/<name>/revoke")
    def revoke_client(name: str):  # type: ignore[no-untyped-def]
        form = forms.PolishForm()
        if not form.validate_on_submit():
            return hub(status=400)
        try:
            with db.transaction() as session:
                apikeys.revoke_client(session, name)
                audit.record(session, "update", "api_client", name[:64], ["revoked_at"])
        except apikeys.KeyCommandError:
            abort(404)
        flash(_("Unieważniono klucz API klienta %(name)s.", name=name))
        return redirect(url_for("case_system.case_system"))

    return pages


def install(app: Flask, api: Any, csrf: Any, db: Database, outbox: Outbox) -> None:
    """Called by app.create_app: the API (CSRF-exempt, bearer keys) and the staff page."""
    api.spec.components.security_scheme("caseSystemKey", {
        "type": "http", "scheme": "bearer",
        "description": "API key of a case-system client (`wspolnota apikey add`); scopes needs:write, "
                       "needs:read, exports:read"})
    blueprint = build_api(db, outbox)
    csrf.exempt(blueprint)
    api.register_blueprint(blueprint)
    app.register_blueprint(build_pages(db, outbox))
