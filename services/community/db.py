"""Community service tables and its database (with outbox and processed_events)."""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import Database, transport_tables

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)


def make_db(url: str | None = None) -> Database:
    from services.community import db_plan  # noqa: F401 - the plan, activity, group and partner tables

    return Database("community", url or config.database_url("community"), metadata, outbox, processed)
