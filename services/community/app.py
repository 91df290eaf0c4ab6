"""Community service web app: JSON API (OpenAPI at /api/openapi.json) and staff pages, from its bootstrap.

Routes live in module-level blueprints that reach the service through `current_parts()`; each area of the
service (diagnosis, organising plan, animation, partners) adds its blueprints to `BLUEPRINTS` / `API_BLUEPRINTS`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from services.community import api, diagnosis_pages, labels, pages, plan_api, plan_pages, survey_pages
from services.community.bootstrap import bootstrap
from wspolnota.service import Clock
from wspolnota.web import create_service_app, make_api

API_BLUEPRINTS = [api.blp, plan_api.blp, plan_api.public, plan_api.internal]
# pages.bp also carries the routes of survey_pages and diagnosis_pages
BLUEPRINTS = [pages.bp, plan_pages.pages, plan_pages.public_pages]
assert survey_pages.bp is pages.bp and diagnosis_pages.bp is pages.bp


def create_app(test_config: dict[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    parts = bootstrap((test_config or {}).get("DATABASE_URL"), clock=clock)
    app = create_service_app("community", parts, {"WTF_I18N_ENABLED": False, **(test_config or {})})
    csrf = CSRFProtect(app)
    openapi = make_api(app)
    for blueprint in API_BLUEPRINTS:
        csrf.exempt(blueprint)
        openapi.register_blueprint(blueprint)
    for page_blueprint in BLUEPRINTS:
        app.register_blueprint(page_blueprint)
    app.context_processor(labels.context)

    @app.errorhandler(CSRFError)
    def _csrf_failed(err):  # type: ignore[no-untyped-def]
        return render_template("community/csrf.html"), 400

    return app
