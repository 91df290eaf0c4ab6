"""Notify service web app: the notifications staff see, JSON API."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, render_template
from flask.views import MethodView
from flask_smorest import Blueprint

from services.notify import schemas
from services.notify.db import make_db, notifications
from wspolnota.web import create_service_app, make_api


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("notify", db, test_config)
    api = make_api(app)
    blp = Blueprint("notify_api", __name__, url_prefix="/api/notifications", description="Powiadomienia")

    @blp.route("")
    class NotificationCollection(MethodView):
        @blp.response(200, schemas.NotificationOut(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                return conn.execute(sa.select(notifications).order_by(notifications.c.created_at.desc())
                                    .limit(500)).mappings().all()

    api.register_blueprint(blp)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(notifications).order_by(notifications.c.created_at.desc())
                                .limit(100)).mappings().all()
        return render_template("notify/index.html", notifications=rows)

    return app
