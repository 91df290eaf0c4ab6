"""Volunteers service web app: the JSON API and the internal contact API (api.py), the staff pages (pages.py)
and the public self-registration pages (registration.py), on the service's bootstrap."""
from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from services.volunteers import api, certificate_pages, pages, registration
from services.volunteers.bootstrap import bootstrap
from services.volunteers.settings import Settings
from wspolnota.service import Parts
from wspolnota.web import create_service_app, make_api


def create_app(test_config: dict[str, Any] | None = None, *, parts: Parts | None = None) -> Flask:
    """The web app on `parts` (default: the bootstrap on test_config's DATABASE_URL; a test config may also
    change a setting by its variable name, e.g. SMTP_PORT)."""
    config = test_config or {}
    if parts is None:
        parts = bootstrap(config.get("DATABASE_URL"), settings=Settings.from_config(config))
    app = create_service_app("volunteers", parts, test_config)
    csrf = CSRFProtect(app)
    openapi = make_api(app)
    openapi.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    for blueprint in (*api.BLUEPRINTS, certificate_pages.api):
        csrf.exempt(blueprint)
        openapi.register_blueprint(blueprint)
    app.register_blueprint(pages.bp)
    app.register_blueprint(certificate_pages.bp)
    app.register_blueprint(registration.bp)

    @app.errorhandler(CSRFError)
    def csrf_failed(_err):  # type: ignore[no-untyped-def]
        return render_template("volunteers/csrf.html"), 400

    return app
