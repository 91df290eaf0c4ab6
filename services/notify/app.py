"""Notify's web app: its pages (pages.py) and JSON API (api.py) on the service's bootstrap."""
from __future__ import annotations

from typing import Any

from flask import Flask

from services.notify import api, feedback, follow_up_pages, pages
from services.notify.bootstrap import bootstrap
from services.notify.call_pages import install as install_call_pages
from wspolnota.service import Parts
from wspolnota.web import create_service_app, make_api


def create_app(test_config: dict[str, Any] | None = None, parts: Parts | None = None) -> Flask:
    """`test_config` may name DATABASE_URL and NOTIFY_SETTINGS (a `Settings`) when no `parts` are given."""
    config = test_config or {}
    parts = parts or bootstrap(config.get("DATABASE_URL"), settings=config.get("NOTIFY_SETTINGS"))
    app = create_service_app("notify", parts, test_config)
    make_api(app).register_blueprint(api.blp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(follow_up_pages.bp)
    install_call_pages(app)
    app.register_blueprint(feedback.inbound)
    return app
