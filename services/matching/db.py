"""Matching service tables: a projection of open needs and offers (rebuildable from events) and proposals."""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import Database, UtcDateTime, transport_tables

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

open_needs = sa.Table(
    "open_needs", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("category", sa.String(3), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
)

offers = sa.Table(
    "offers", metadata,
    sa.Column("offer_id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("available_from", UtcDateTime, nullable=False),
    sa.Column("available_to", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
)

proposals = sa.Table(
    "proposals", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("offer_id", sa.String(36), nullable=False),
    sa.Column("category", sa.String(3), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)


def make_db(url: str | None = None) -> Database:
    return Database("matching", url or config.database_url("matching"), metadata, outbox, processed)
