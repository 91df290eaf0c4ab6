"""Volunteers service web app: JSON API and the staff list page."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, render_template
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.volunteers import handlers, schemas
from services.volunteers.db import make_db, offers, volunteers
from wspolnota import reference
from wspolnota.transport.outbox import Outbox
from wspolnota.web import create_service_app, make_api


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("volunteers", db, test_config)
    outbox = Outbox(db, handlers.PUBLISHES)
    api = make_api(app)
    blp = Blueprint("volunteers_api", __name__, url_prefix="/api/volunteers",
                    description="Wolontariusze i ich oferty")

    @blp.route("")
    class VolunteerCollection(MethodView):
        @blp.arguments(schemas.VolunteerCreate)
        @blp.response(201, schemas.VolunteerOut)
        def post(self, data):  # type: ignore[no-untyped-def]
            with db.transaction() as session:
                return handlers.register_volunteer(session, outbox, data)

    @blp.route("/<volunteer_id>/offers")
    class OfferCollection(MethodView):
        @blp.arguments(schemas.OfferCreate)
        @blp.response(201, schemas.OfferOut)
        def post(self, data, volunteer_id):  # type: ignore[no-untyped-def]
            try:
                with db.transaction() as session:
                    return handlers.publish_offer(session, outbox, volunteer_id, data)
            except handlers.NotFound:
                abort(404, message="Nie ma takiego wolontariusza.")

        @blp.response(200, schemas.OfferOut(many=True))
        def get(self, volunteer_id):  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                return conn.execute(sa.select(offers).where(offers.c.volunteer_id == volunteer_id)).mappings().all()

    api.register_blueprint(blp)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(offers, volunteers.c.provider_type)
                .join(volunteers, volunteers.c.id == offers.c.volunteer_id)
                .order_by(offers.c.created_at.desc()).limit(100)).mappings().all()
        return render_template("volunteers/index.html", offers=rows, categories=reference.categories(),
                               villages=reference.villages())

    return app
