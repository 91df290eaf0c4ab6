"""Alembic, driven programmatically: each service keeps its versions in services/<svc>/migrations."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from wspolnota.db import Database

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / db.service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
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
