"""The needs service's web app: its JSON API (api.py), the case system's API (caseapi.py) and the staff pages
(pages.py, casepages.py), on the service's bootstrap (bootstrap.py)."""
from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from services.needs import (
    api,
    call_pages,
    caseapi,
    casepages,
    concern_pages,
    feedback,
    model,
    need_check_pages,
    pages,
    request_pages,
    schemas,
    visit_contact,
)
from services.needs.bootstrap import bootstrap
from services.needs.handlers import Refused
from services.needs.notice_contact import install as install_notice_contact
from services.needs.resident_notices import CHANNEL_PL as NOTICE_CHANNEL_PL
from wspolnota import reference
from wspolnota.service import Parts
from wspolnota.web import create_service_app, make_api


def create_app(test_config: dict[str, Any] | None = None, parts: Parts | None = None) -> Flask:
    """The app on `parts` (default: the service's bootstrap on DATABASE_URL from `test_config`)."""
    parts = parts or bootstrap((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("needs", parts, {"WTF_I18N_ENABLED": False, **(test_config or {})})
    csrf = CSRFProtect(app)
    smorest = make_api(app)
    csrf.exempt(api.blp)
    smorest.register_blueprint(api.blp)
    smorest.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    csrf.exempt(visit_contact.internal)
    smorest.register_blueprint(visit_contact.internal)
    app.register_blueprint(pages.pages)
    caseapi.install(app, smorest, csrf)
    app.register_blueprint(casepages.pages)
    concern_pages.install(app, csrf)
    request_pages.install(app, csrf)
    need_check_pages.install(app, csrf)
    call_pages.install(app, csrf)
    install_notice_contact(app, csrf)
    feedback.install(app, csrf)

    @app.get("/api/docs")
    def api_docs():  # type: ignore[no-untyped-def]
        """The OpenAPI document as a readable page (no JavaScript, nothing from a CDN)."""
        return render_template("needs/api_docs.html", spec=smorest.spec.to_dict())

    @app.errorhandler(model.InvalidTransition)
    def _not_now(err: model.InvalidTransition):  # type: ignore[no-untyped-def]
        """The lifecycle's refusal is answered as any other Refused (409)."""
        return app.handle_user_exception(Refused(err.message))

    @app.context_processor
    def _labels():  # type: ignore[no-untyped-def]
        return {"categories": reference.categories(), "villages": reference.villages(), "status_pl": model.STATUS_PL,
                "urgency_pl": model.URGENCY_PL, "requirement_pl": model.REQUIREMENT_PL,
                "source_pl": schemas.SOURCE_PL, "moderation_pl": schemas.MODERATION_PL,
                "channel_pl": schemas.CHANNEL_PL, "legal_basis_pl": schemas.LEGAL_BASIS_PL,
                "match_status_pl": model.MATCH_STATUS_PL, "weekdays_pl": model.WEEKDAYS_PL,
                "event_pl": model.event_pl, "rules_pl": model.category_rules_pl,
                "notice_channel_pl": NOTICE_CHANNEL_PL}

    @app.errorhandler(CSRFError)
    def _csrf_failed(err):  # type: ignore[no-untyped-def]
        return render_template("needs/csrf.html"), 400

    return app
