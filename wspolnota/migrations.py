"""Alembic, driven programmatically: each service keeps its versions in services/<svc>/migrations.

`upgrade(db)` runs the service's chain on the database. A test session may install a *provisioner*
(`provide_migrated`, used by wspolnota/testing.py's `MigratedTemplates`): a fresh database is then given the
service's schema from a template migrated once per session instead of replaying the chain. Nothing outside the
tests installs one, so production and `wspolnota migrate` always run Alembic.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from wspolnota.db import Database

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"

# Given a database about to be upgraded to head, bring it there itself and answer True, or answer False to let
# Alembic run. Installed by test sessions only.
Provisioner = Callable[["Database"], bool]
_provisioner: Provisioner | None = None


def provide_migrated(provisioner: Provisioner | None) -> Provisioner | None:
    """Install (or, with None, remove) the provisioner `upgrade` asks first; returns the one it replaces."""
    global _provisioner
    previous, _provisioner = _provisioner, provisioner
    return previous


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / db.service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    if revision == "head" and _provisioner is not None and _provisioner(db):
        return
    run_alembic(db, revision)


def run_alembic(db: Database, revision: str = "head") -> None:
    """The service's Alembic chain up to `revision`, always (the provisioner builds its templates with it)."""
    with db.engine.begin() as conn:
        cfg = alembic_config(db)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def run_env(context) -> None:  # type: ignore[no-untyped-def]
    """Body of every service's migrations/env.py."""
    db = context.config.attributes["database"]
    conn = context.config.attributes.get("connection")
    if conn is None:
        conn = db.engine.connect()
    context.configure(connection=conn, target_metadata=db.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
