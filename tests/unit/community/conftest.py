"""The community service's plan, activities, groups and partners on a fresh SQLite database."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from contracts import community as contract
from services.community.db import make_db
from wspolnota.db import Database
from wspolnota.transport import Catalog, decode
from wspolnota.transport.outbox import Outbox


class Community:
    def __init__(self, db: Database):
        self.db = db
        self.outbox = Outbox(db, Catalog(contract.EVENTS))

    def published(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(sa.select(self.db.outbox.c.body).order_by(self.db.outbox.c.id)).all()
        events = [decode(r.body) for r in rows]
        return [e.data for e in events if event_type is None or e.type == event_type]


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    db = make_db(f"sqlite:///{tmp_path / 'community.db'}")
    db.metadata.create_all(db.engine)
    yield Community(db)
    db.dispose()


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def community_app(community: Community, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The plan, activity, group and partner API and pages on the community database; the clock at NOW."""
    from services.community import plan_api, plan_pages
    from wspolnota import web
    from wspolnota.service import Parts

    monkeypatch.setitem(web.SERVICE_TITLES, "community", "Społeczność lokalna")
    monkeypatch.setenv("COMMUNITY_REGISTRATIONS_PER_MINUTE", "2")
    parts = Parts("community", None, community.db, community.outbox, clock=lambda: NOW)
    app = web.create_service_app("community", parts, {"TESTING": True, "AUTH_DISABLED": True, "SECRET_KEY": "test",
                                                      "WTF_CSRF_ENABLED": False})
    rest = web.make_api(app)
    rest.register_blueprint(plan_api.blp)
    rest.register_blueprint(plan_api.public)
    app.register_blueprint(plan_pages.pages)
    app.register_blueprint(plan_pages.public_pages)
    return app


@pytest.fixture
def api(community_app: Flask) -> FlaskClient:
    return community_app.test_client()
