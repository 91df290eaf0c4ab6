"""One bootstrap per service: its settings, database, outbox and handlers, assembled in one place.

Every service has `services/<name>/bootstrap.py` with

    def bootstrap(db_url: str | None = None, *, settings: Settings | None = None,
                  clock: Clock | None = None) -> Parts

and the web app, relay, consumer, periodic jobs, CLI commands, benchmarks and tests all start from it — nothing else
calls `make_db()`, builds an `Outbox` or calls `handlers(...)`. The shared runtime finds a bootstrap by its module
path string at run time (as in wspolnota/registry.py), so `wspolnota` still imports no service.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from wspolnota import config
from wspolnota.db import Database
from wspolnota.transport.consumer import ConsumerLoop, Handler
from wspolnota.transport.envelope import Catalog
from wspolnota.transport.outbox import Outbox

Clock = Callable[[], datetime]
Job = Callable[[Database, datetime], Any]


def utc_now() -> datetime:
    """The wall clock, aware and in UTC: the default `Clock` of every service (tests inject their own)."""
    return datetime.now(UTC)


class LoopFactory(Protocol):
    def __call__(self, consumer: Any, dlq: Any) -> ConsumerLoop: ...


@dataclass
class Parts:
    """What a running service is made of. `outbox` is None for a service that publishes nothing (front)."""

    name: str
    settings: Any
    db: Database
    outbox: Outbox | None
    clock: Clock = utc_now
    handlers: dict[str, Handler] = field(default_factory=dict)
    consumes: Catalog | None = None
    subscriptions: list[str] = field(default_factory=list)
    periodic: dict[str, Job] = field(default_factory=dict)
    loop_factory: LoopFactory | None = None  # None: the plain ConsumerLoop over `handlers`

    def consumer_loop(self, consumer: Any, dlq: Any) -> ConsumerLoop:
        """The loop `wspolnota consume <name>` runs (matching replaces it with its batch-tick loop)."""
        if self.loop_factory is not None:
            return self.loop_factory(consumer, dlq)
        if self.consumes is None:
            raise RuntimeError(f"{self.name} consumes no events")
        return ConsumerLoop(self.name, consumer, dlq, self.db, self.consumes, self.handlers)

    def dispose(self) -> None:
        self.db.dispose()


def load(service: str, db_url: str | None = None, **kwargs: Any) -> Parts:
    """`services.<service>.bootstrap.bootstrap(db_url, **kwargs)`, imported now."""
    if service not in (*config.SERVICES, "front"):
        raise SystemExit(f"unknown service {service!r}; one of {', '.join(config.SERVICES)}")
    module = importlib.import_module(f"services.{service}.bootstrap")
    parts: Parts = module.bootstrap(db_url, **kwargs)
    return parts
