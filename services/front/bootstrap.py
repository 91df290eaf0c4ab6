"""The front door assembled once: its accounts store on the staff accounts database, and its clock; it
publishes and consumes nothing (see wspolnota/service.py)."""
from __future__ import annotations

from services.front.accounts import AuthStore
from wspolnota.service import Clock, Parts, utc_now


def bootstrap(db_url: str | None = None, *, settings: object | None = None, clock: Clock | None = None) -> Parts:
    clock = clock or utc_now
    return Parts("front", settings, AuthStore(db_url, clock), None, clock)  # type: ignore[arg-type]
