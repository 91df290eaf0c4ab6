"""The community service's plan, activities, groups and partners on a fresh SQLite database."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

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
