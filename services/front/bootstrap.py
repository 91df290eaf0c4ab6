"""The front door assembled once: its accounts database; it publishes and consumes nothing (see wspolnota/service.py)."""
from __future__ import annotations

from services.front.db import make_db
from wspolnota.service import Clock, Parts, utc_now


def bootstrap(db_url: str | None = None, *, settings: object | None = None, clock: Clock | None = None) -> Parts:
    return Parts("front", settings, make_db(db_url), None, clock or utc_now)  # type: ignore[arg-type]
