"""Notify service tables: the notification ledger (one row per event × recipient × channel)."""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import Database, UtcDateTime, transport_tables

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("cause_event_id", sa.String(36), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=True, index=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("recipient", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("cause_event_id", "recipient", "channel", name="uq_notification_once"),
)


def make_db(url: str | None = None) -> Database:
    return Database("notify", url or config.database_url("notify"), metadata, outbox, processed)
