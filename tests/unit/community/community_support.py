"""Fixtures of the community tests: the service's app on a fresh SQLite database, a signed-in organiser."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from services.community.app import create_app
from wspolnota.db import Database
from wspolnota.testing import signed_in

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    flask_app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'community.db'}", "TESTING": True,
                            "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False}, clock=lambda: NOW)
    db: Database = flask_app.extensions["db"]
    db.migrate()
    yield flask_app
    db.dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    database: Database = app.extensions["db"]
    return database


@pytest.fixture
def organiser(app: Flask) -> Any:
    return signed_in(app.test_client(), "osl", "osl.nowak", "Ewa Nowak")


@pytest.fixture
def reader(app: Flask) -> Any:
    return signed_in(app.test_client(), "social_worker", "ps.kowalska", "Anna Kowalska")
