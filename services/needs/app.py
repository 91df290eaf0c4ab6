"""Needs service web app: JSON API and the staff list page."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, render_template
from flask.views import MethodView
from flask_smorest import Blueprint

from services.needs import handlers, schemas
from services.needs.db import make_db, needs
from wspolnota import reference
from wspolnota.transport.outbox import Outbox
from wspolnota.web import create_service_app, make_api

STATUS_PL = {"open": "otwarta", "proposed": "zaproponowano", "approved": "zatwierdzona", "offered": "zaoferowana",
             "accepted": "przyjęta", "in_progress": "w realizacji", "completed": "zakończona",
             "cancelled": "anulowana", "expired": "wygasła", "needs_follow_up": "wymaga kontaktu"}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("needs", db, test_config)
    outbox = Outbox(db, handlers.PUBLISHES)
    api = make_api(app)
    blp = Blueprint("needs_api", __name__, url_prefix="/api/needs", description="Potrzeby mieszkańców")

    @blp.route("")
    class NeedCollection(MethodView):
        @blp.response(200, schemas.NeedOut(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                return conn.execute(sa.select(needs).order_by(needs.c.created_at.desc()).limit(200)).mappings().all()

        @blp.arguments(schemas.NeedCreate)
        @blp.response(201, schemas.NeedOut)
        def post(self, data):  # type: ignore[no-untyped-def]
            with db.transaction() as session:
                return handlers.register_need(session, outbox, data)

    @blp.route("/<need_id>")
    class NeedItem(MethodView):
        @blp.response(200, schemas.NeedOut)
        def get(self, need_id):  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                row = conn.execute(sa.select(needs).where(needs.c.id == need_id)).mappings().first()
            if row is None:
                from flask_smorest import abort

                abort(404, message="Nie ma takiej potrzeby.")
            return row

    api.register_blueprint(blp)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(needs).order_by(needs.c.created_at.desc()).limit(100)).mappings().all()
        return render_template("needs/index.html", needs=rows, categories=reference.categories(),
                               villages=reference.villages(), status_pl=STATUS_PL)

    return app
