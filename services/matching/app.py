"""Matching service web app: the review queue and explanations for staff (Polish, pages.py), the JSON API
(api.py) and the reports (reports.py), over the service's bootstrap."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from services.matching import api, feedback, pages, reports, visit_check_api
from services.matching.bootstrap import bootstrap
from wspolnota.web import create_service_app, make_api


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """`test_config` may carry DATABASE_URL, MATCHING_SETTINGS and MATCHING_CLOCK (tests, the embedded run)."""
    given = test_config or {}
    parts = bootstrap(given.get("DATABASE_URL"), settings=given.get("MATCHING_SETTINGS"),
                      clock=given.get("MATCHING_CLOCK"))
    app = create_service_app("matching", parts, test_config)
    csrf = CSRFProtect(app)
    smorest = make_api(app)
    smorest.register_blueprint(api.blp)
    csrf.exempt(api.blp)
    smorest.register_blueprint(visit_check_api.blp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(reports.bp)
    feedback.install(app, csrf)
    return app
