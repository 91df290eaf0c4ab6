"""Test support shared by every service: waiting on conditions, and the whole system on the in-memory bus."""
from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wspolnota import config
from wspolnota.db import Database
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Outbox, Relay


def wait_until(condition: Callable[[], Any], timeout_s: float, interval_s: float = 0.05,
               message: str = "condition") -> Any:
    """Poll a condition until it is truthy or the deadline passes (no bare sleeps in tests)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {message}")
        time.sleep(interval_s)


@dataclass
class ServiceUnderTest:
    name: str
    db: Database
    outbox: Outbox
    relay: Relay
    loop: ConsumerLoop


class InMemorySystem:
    """All four services on SQLite files and one in-memory broker, driven step by step."""

    def __init__(self, workdir: Path, services: tuple[str, ...] = config.SERVICES):
        self.broker = MemoryBroker()
        self.services: dict[str, ServiceUnderTest] = {}
        for name in services:
            db = importlib.import_module(f"services.{name}.db").make_db(f"sqlite:///{workdir / (name + '.db')}")
            db.migrate()
            handlers = importlib.import_module(f"services.{name}.handlers")
            outbox = Outbox(db, handlers.PUBLISHES)
            consumer = self.broker.consumer(name, [config.topic(t) for t in handlers.SUBSCRIPTIONS])
            loop = ConsumerLoop(name, consumer, self.broker.producer(), db, handlers.CONSUMES,
                                handlers.handlers(outbox))
            self.services[name] = ServiceUnderTest(name, db, outbox, Relay(db, self.broker.producer()), loop)

    def __getitem__(self, name: str) -> ServiceUnderTest:
        return self.services[name]

    def pump(self, max_rounds: int = 50) -> int:
        """Relay and consume until nothing moves; return how many messages were handled."""
        total = 0
        for _ in range(max_rounds):
            moved = sum(s.relay.run_once() for s in self.services.values())
            moved += sum(s.loop.run_once(0) for s in self.services.values())
            total += moved
            if moved == 0:
                return total
        raise RuntimeError("the system did not settle")

    def close(self) -> None:
        for s in self.services.values():
            s.db.dispose()


def signed_in(client: Any, role: str = "osl", login: str | None = None, name: str | None = None) -> Any:
    """Put a signed-in staff member's session on a Flask test client (as the front door's sign-in would)."""
    import time

    from wspolnota.auth import SESSION_KEY

    now = int(time.time())
    login = login or f"test.{role}"
    with client.session_transaction() as session:
        session[SESSION_KEY] = {"login": login, "name": name or login, "role": role, "since": now, "seen": now}
    return client


def signed_out(client: Any) -> Any:
    from wspolnota.auth import SESSION_KEY

    with client.session_transaction() as session:
        session.pop(SESSION_KEY, None)
    return client
