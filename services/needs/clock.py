"""The needs service's clock: every business decision and every stored moment of the service reads it here.

Inside a request it is the running app's (`current_parts().clock`, from the bootstrap); the consumer and the
periodic jobs run under `using(...)` with the bootstrap's clock or the job's `now`; anything else (seed data, a
shell) gets the wall clock (`wspolnota.localtime.now`). Tests move time by giving the bootstrap another clock.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from wspolnota import localtime
from wspolnota.service import Clock

_running: ContextVar[Clock | None] = ContextVar("needs_clock", default=None)


def _app_clock() -> Clock | None:
    from flask import current_app, has_app_context

    if has_app_context():
        parts = current_app.extensions.get("wspolnota.parts")
        if parts is not None:
            return parts.clock  # type: ignore[no-any-return]
    return None


def now() -> datetime:
    """The current moment, aware UTC (outside a service: wspolnota.localtime's, the wall clock)."""
    running = _running.get() or _app_clock()
    return running() if running is not None else localtime.now()


def today() -> date:
    """Today in Warsaw (wspolnota.localtime), by this clock."""
    return localtime.local_day(now())


@contextmanager
def using(clock: Clock) -> Iterator[None]:
    """Run the block on `clock` (the consumer's and the jobs' way to pass the bootstrap's clock down)."""
    token = _running.set(clock)
    try:
        yield
    finally:
        _running.reset(token)
