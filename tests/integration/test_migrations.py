"""Every service's schema comes from its Alembic versions, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic import command

from wspolnota.config import SERVICES
from wspolnota.migrations import alembic_config

pytestmark = [pytest.mark.integration, pytest.mark.migrations]  # the real chains, from empty


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_exactly_the_schema_the_code_declares(service: str,
                                                               new_database: Callable[[], str]) -> None:
    db = importlib.import_module(f"services.{service}.db").make_db(new_database())
    db.migrate()
    db.migrate()  # a second run is a no-op
    with db.engine.connect() as conn:
        cfg = alembic_config(db)
        cfg.attributes["connection"] = conn
        command.check(cfg)  # raises if the models and the migrations disagree
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {"outbox", "processed_events", "alembic_version"} <= tables
    db.dispose()


def test_the_front_services_accounts_database_migrates_like_the_others(new_database: Callable[[], str]) -> None:
    """Same revision ids and `alembic_version` table as before the front service: existing databases stay valid."""
    from services.front.db import make_db

    db = make_db(new_database())
    db.migrate()
    db.migrate()
    with db.engine.connect() as conn:
        cfg = alembic_config(db)  # type: ignore[arg-type]  # duck-types Database
        cfg.attributes["connection"] = conn
        command.check(cfg)
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == ["0001"]
    assert set(sa.inspect(db.engine).get_table_names()) == {"users", "alembic_version"}
    db.dispose()
