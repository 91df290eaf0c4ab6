"""What every service's Flask app shares: proxy prefix, health, metrics, API errors, layout."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify
from flask_smorest import Api
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from werkzeug.middleware.proxy_fix import ProxyFix

from wspolnota import config
from wspolnota.db import Database
from wspolnota.localtime import WARSAW
from wspolnota.logs import setup_logging
from wspolnota.service import Parts

common = Blueprint("common", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/common-static")

SERVICE_TITLES = {
    "needs": "Potrzeby mieszkańców",
    "volunteers": "Wolontariusze i oferty",
    "matching": "Dopasowania",
    "notify": "Powiadomienia",
    "community": "Społeczność lokalna",
}


def current_parts() -> Parts:
    """The running service's bootstrap (settings, db, outbox, clock) for module-level routes (api.py, pages.py)."""
    parts: Parts = current_app.extensions["wspolnota.parts"]
    return parts


def create_service_app(service: str, db: Database | Parts, test_config: dict[str, Any] | None = None) -> Flask:
    """A service's Flask app. Pass the service's bootstrap `Parts` (then `current_parts()` works in its routes);
    a bare `Database` is still accepted while services move to module-level routes."""
    setup_logging(service, "web")
    app = Flask(f"services.{service}", template_folder="templates")
    app.config.update(
        SECRET_KEY=config.get("SECRET_KEY"),  # checked below, after the test config
        API_TITLE=f"Wspólnota — {service} API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
        SERVICE=service,
        SERVICE_TITLE=SERVICE_TITLES[service],
    )
    app.config.update(test_config or {})
    # No public or empty secret: refuse to start (config.MissingSecret) unless WSPOLNOTA_DEV_SECRETS=1.
    app.config.update(config.require_secrets(f"{service}-web", app.config))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # Behind the front door (nginx in compose, the local proxy in `make run`) each service lives
    # under /<service>; X-Forwarded-Prefix makes url_for() produce those paths.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    if isinstance(db, Parts):
        app.extensions["wspolnota.parts"] = db
        db = db.db
    app.extensions["db"] = db
    app.register_blueprint(common)
    from wspolnota import errors

    errors.install(app)
    from wspolnota import i18n

    i18n.install(app)
    # One sign-in for all services: the signed session cookie, roles from wspolnota.access, security headers.
    from wspolnota import auth

    auth.install(app, service)
    registry = CollectorRegistry()
    requests_total = Counter("http_requests_total", "HTTP requests", ["method", "status"], registry=registry)

    @app.after_request
    def _count(response):  # type: ignore[no-untyped-def]
        from flask import request

        requests_total.labels(request.method, str(response.status_code)).inc()
        return response

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def readyz():  # type: ignore[no-untyped-def]
        try:
            with db.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as err:  # noqa: BLE001 - report, do not crash the probe
            logging.getLogger(__name__).warning("readiness failed: %s", err)
            return jsonify(status="unavailable", service=service), 503
        return jsonify(status="ready", service=service)

    @app.get("/metrics")
    def metrics():  # type: ignore[no-untyped-def]
        return generate_latest(registry), 200, {"Content-Type": CONTENT_TYPE_LATEST}

    app.add_template_filter(local_dt)
    app.add_template_filter(one_decimal)

    @app.context_processor
    def _layout():  # type: ignore[no-untyped-def]
        return {"service_title": current_app.config["SERVICE_TITLE"], "service": service}

    return app




def local_dt(value: datetime | None) -> str:
    """Dates for staff: Europe/Warsaw in every language (SQLite returns naive UTC values).

    Polish pages (and anything outside a request) get "15.01.2026 09:30"; English pages "15 Jan 2026, 09:30".
    """
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(WARSAW)
    if _page_language() == "en":
        from babel.dates import format_datetime

        return format_datetime(local, "d MMM yyyy, HH:mm", locale="en")
    return local.strftime("%d.%m.%Y %H:%M")


def one_decimal(value: float) -> str:
    """A number such as a distance for staff, one decimal: "3,5" on Polish pages, "3.5" on English ones."""
    from babel.numbers import format_decimal

    return format_decimal(value, "#,##0.0", locale=_page_language())


def _page_language() -> str:
    from flask import has_request_context

    if not has_request_context():
        return "pl"
    from flask_babel import get_locale

    try:
        return str(get_locale() or "pl")
    except (KeyError, RuntimeError):  # an app without Flask-Babel
        return "pl"


def make_api(app: Flask) -> Api:
    api = Api(app)
    api.spec.options["info"] = {"title": app.config["API_TITLE"], "version": "v1",
                                "description": "Field errors come back as 422 with {errors: {json: {field: [messages]}}}."}
    return api
