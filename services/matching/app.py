"""Matching service web app: proposals for staff, JSON API."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, render_template
from flask.views import MethodView
from flask_smorest import Blueprint

from services.matching import schemas
from services.matching.db import make_db, proposals
from wspolnota import reference
from wspolnota.web import create_service_app, make_api


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("matching", db, test_config)
    api = make_api(app)
    blp = Blueprint("matching_api", __name__, url_prefix="/api/proposals", description="Propozycje dopasowań")

    @blp.route("")
    class ProposalCollection(MethodView):
        @blp.response(200, schemas.ProposalOut(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                return conn.execute(sa.select(proposals).order_by(proposals.c.created_at.desc())
                                    .limit(200)).mappings().all()

    api.register_blueprint(blp)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(proposals).order_by(proposals.c.created_at.desc()).limit(100)).mappings().all()
        return render_template("matching/index.html", proposals=rows, categories=reference.categories(),
                               villages=reference.villages())

    return app
