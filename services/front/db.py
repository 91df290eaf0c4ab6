"""The staff accounts database (AUTH_DATABASE_URL, default var/auth.db): one `users` table, no outbox.

Only the front service (its sign-in pages, `/auth/check`, `wspolnota user` and the first-admin step of
`wspolnota run`) opens it; the other services know a staff member only from the signed session cookie.
Alembic versions in services/front/migrations (revision ids and the `alembic_version` table as before the
front service existed, so an existing accounts database keeps working).
"""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import UtcDateTime, make_engine

metadata = sa.MetaData()
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("login", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("failed_attempts", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("password_changed_at", UtcDateTime, nullable=False),
)


def default_url() -> str:
    return config.get("AUTH_DATABASE_URL") or f"sqlite:///{config.var_dir() / 'auth.db'}"


class AccountsDatabase:
    """The accounts database: url, metadata and engine, migrated like a service's (wspolnota.migrations)."""

    service = "front"  # wspolnota.migrations finds the versions in services/front/migrations

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.metadata = metadata
        self.engine = make_engine(self.url)

    def migrate(self) -> None:
        from wspolnota.migrations import upgrade

        upgrade(self)  # type: ignore[arg-type]  # duck-types wspolnota.db.Database for the Alembic env

    def dispose(self) -> None:
        self.engine.dispose()


def make_db(url: str | None = None) -> AccountsDatabase:
    return AccountsDatabase(url)
