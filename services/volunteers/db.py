"""Volunteers service tables. Contact data lives only here."""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import Database, UtcDateTime, transport_tables

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

volunteers = sa.Table(
    "volunteers", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("provider_type", sa.String(30), nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

offers = sa.Table(
    "offers", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), sa.ForeignKey("volunteers.id"), nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("available_from", UtcDateTime, nullable=False),
    sa.Column("available_to", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Matches this volunteer was proposed for (their load and history, from `matches`).
assignments = sa.Table(
    "assignments", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)


def make_db(url: str | None = None) -> Database:
    return Database("volunteers", url or config.database_url("volunteers"), metadata, outbox, processed)
