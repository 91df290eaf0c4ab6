"""Fixtures of the plan, activity, group and partner tests: the service's app (community_support) with an
organiser's and a director's client, and what the service put in its outbox."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from community_support import NOW
from flask import Flask

from wspolnota.db import Database
from wspolnota.testing import signed_in
from wspolnota.transport import decode
from wspolnota.transport.outbox import Outbox

__all__ = ["NOW", "Community", "api", "community", "director"]


class Community:
    def __init__(self, app: Flask):
        parts = app.extensions["wspolnota.parts"]
        self.db: Database = parts.db
        self.outbox: Outbox = parts.outbox

    def published(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(sa.select(self.db.outbox.c.body).order_by(self.db.outbox.c.id)).all()
        events = [decode(r.body) for r in rows]
        return [e.data for e in events if event_type is None or e.type == event_type]


@pytest.fixture
def community(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Community:
    monkeypatch.setenv("COMMUNITY_REGISTRATIONS_PER_MINUTE", "2")
    return Community(app)


@pytest.fixture
def api(app: Flask, community: Community) -> Any:
    """The organiser (OSL), who edits everything."""
    return signed_in(app.test_client(), "osl", "osl.nowak", "Ewa Nowak")


@pytest.fixture
def director(app: Flask) -> Any:
    """The CUS director, who approves plan versions."""
    return signed_in(app.test_client(), "director", "dyrektor", "Jan Dyrektor")
