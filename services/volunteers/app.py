"""Volunteers service web app: the JSON API and the internal contact API (api.py), the staff pages (pages.py),
the public self-registration pages (registration.py) and the volunteer's own space (volunteer_space.py), on the
service's bootstrap."""
from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from services.volunteers import (  # self_certificate, visits_pages, concern_pages, space_hours: routes on volunteer_space.bp
    api,
    call_pages,  # noqa: F401  (its routes are on the space's blueprint)
    certificate_pages,
    concern_pages,  # noqa: F401  (its routes are on the space's blueprint)
    engagement,
    pages,
    registration,
    self_certificate,  # noqa: F401  (its routes are on the space's blueprint)
    space_hours,  # noqa: F401  (its routes are on the space's blueprint)
    visit_feedback_pages,  # noqa: F401  (its routes are on the space's blueprint)
    visits_pages,  # noqa: F401  (its routes are on the space's blueprint)
    volunteer_space,
)
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
    app.register_blueprint(engagement.staff)
    app.register_blueprint(registration.bp)
    assert visits_pages.ENDPOINTS and self_certificate.ENDPOINTS  # their routes are on the space's blueprint
    app.register_blueprint(volunteer_space.bp)

    @app.errorhandler(CSRFError)
    def csrf_failed(_err):  # type: ignore[no-untyped-def]
        if request.blueprint == volunteer_space.bp.name:  # the volunteer's own pages keep their own header
            volunteer_space.load_volunteer()  # refused before the blueprint read the volunteer's session
            return render_template("volunteers/self/csrf.html", volunteer=g.get("volunteer")), 400
        return render_template("volunteers/csrf.html"), 400

    return app
