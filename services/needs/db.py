"""Needs service tables and its database (with outbox and processed_events)."""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import Database, UtcDateTime, transport_tables

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

needs = sa.Table(
    "needs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("resident_ref", sa.String(64), nullable=False),
    sa.Column("category", sa.String(3), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_needs_status", "status"),
)


def make_db(url: str | None = None) -> Database:
    return Database("needs", url or config.database_url("needs"), metadata, outbox, processed)
