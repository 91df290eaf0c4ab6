"""Per-service database: engine, sessions, the transport tables, and Alembic migrations.

SQLite (embedded run) is used by several processes at once (gunicorn workers, relay, consumer),
so it runs in WAL mode and every transaction starts with BEGIN IMMEDIATE: writers queue on the
busy timeout instead of failing on a read-to-write lock upgrade.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UtcDateTimeType(sa.TypeDecorator):  # type: ignore[type-arg]
    """Aware datetimes in, aware UTC datetimes out, on PostgreSQL and on SQLite (which has no zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


UtcDateTime = UtcDateTimeType()


def transport_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The outbox and processed_events tables, added to a service's own metadata."""
    outbox = sa.Table(
        "outbox", metadata,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=True),
        sa.Index("ix_outbox_unpublished", "published_at", "id"),
    )
    processed = sa.Table(
        "processed_events", metadata,
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", UtcDateTime, nullable=False),
    )
    return outbox, processed


def make_engine(url: str) -> sa.Engine:
    """hide_parameters: database errors end up in logs and DLQ headers; the values may be personal data."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)


class Database:
    """One service's database: its metadata, engine, session factory and transport tables."""

    def __init__(self, service: str, url: str, metadata: sa.MetaData, outbox: sa.Table, processed: sa.Table):
        self.service, self.url, self.metadata = service, url, metadata
        self.outbox, self.processed = outbox, processed
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: everything inside commits together or not at all."""
        with self.sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        from wspolnota.migrations import upgrade

        upgrade(self)

    def dispose(self) -> None:
        self.engine.dispose()
