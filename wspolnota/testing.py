"""Test support shared by every service: waiting on conditions, and the whole system on the in-memory bus.

`InMemorySystem` starts each service from its bootstrap (wspolnota/service.py, found by module path string): the
shared runtime never imports a service module."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wspolnota import config
from wspolnota.db import Database
from wspolnota.service import load
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Outbox, Relay

# A volunteer may be matched only under a volunteering agreement in date (art. 44; written beyond 30 days):
# the body of POST /api/volunteers/<id>/credentials that tests and benchmarks record for their volunteers.
WRITTEN_AGREEMENT = {"kind": "agreement", "valid_from": "2026-01-01", "written": True}


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


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metric_samples(text: str) -> Samples:
    """A Prometheus text scrape as {(sample name, sorted labels): value}, parsed as Prometheus would."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@dataclass
class ServiceUnderTest:
    name: str
    db: Database
    outbox: Outbox
    relay: Relay
    loop: ConsumerLoop


class InMemorySystem:
    """Every service (all five unless `services` names some) on SQLite files and one in-memory broker, driven
    step by step."""

    def __init__(self, workdir: Path, services: tuple[str, ...] = config.SERVICES):
        self.broker = MemoryBroker()
        self.services: dict[str, ServiceUnderTest] = {}
        for name in services:
            parts = load(name, f"sqlite:///{workdir / (name + '.db')}")
            db, outbox = parts.db, parts.outbox
            assert outbox is not None and parts.consumes is not None
            db.migrate()
            consumer = self.broker.consumer(name, [config.topic(t) for t in parts.subscriptions])
            loop = ConsumerLoop(name, consumer, self.broker.producer(), db, parts.consumes, parts.handlers)
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


class WorkerProcess:
    """A service's worker (`python -m wspolnota.cli consume|relay SERVICE`) in its own process group, as in production.

    Tests on a real broker run their Kafka consumers this way rather than in the pytest process: on tansu a
    second group consumer in one process can take ~50 s to join (docs/architecture.md), and one role per process is
    what production runs anyway. The log is kept in `log_path` for assertions and failure messages.
    """

    def __init__(self, command: str, service: str, env: dict[str, str], log_path: Path):
        self.command, self.service, self.env, self.log_path = command, service, env, log_path
        self.proc: Any = None

    def start(self) -> WorkerProcess:
        import subprocess
        import sys

        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "wspolnota.cli", self.command, self.service],
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=config.ROOT,
                                         start_new_session=True)
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 30) -> int | None:
        """SIGTERM (the worker finishes its batch and logs its stats), SIGKILL if it ignores it."""
        import os
        import signal
        import subprocess

        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return int(self.proc.wait(timeout_s))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return int(self.proc.wait(10))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_until(self, condition: Callable[[], Any], timeout_s: float, interval_s: float = 0.2,
                   message: str = "condition") -> Any:
        """`wait_until`, failing at once if the worker died, and showing the end of its log on failure."""
        def alive_and(condition_: Callable[[], Any] = condition) -> Any:
            if not self.running():
                raise AssertionError(f"{self.service} {self.command} exited ({self.proc.poll() if self.proc else None})"
                                     f" while waiting for {message}:\n{self.log()[-3000:]}")
            return condition_()

        try:
            return wait_until(alive_and, timeout_s, interval_s, message)
        except TimeoutError as err:
            raise TimeoutError(f"{err}; {self.service} {self.command} log:\n{self.log()[-3000:]}") from err


def worker_env(bootstrap: str, topic_prefix: str, database_url: str, **extra: str) -> dict[str, str]:
    """This process's environment for a worker on the given broker, topic prefix and database."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "WSPOLNOTA_FAILPOINT"}
    env.update(KAFKA_BOOTSTRAP_SERVERS=bootstrap, WSPOLNOTA_TOPIC_PREFIX=topic_prefix, DATABASE_URL=database_url,
               PYTHONUNBUFFERED="1")
    env.setdefault("WSPOLNOTA_DEV_SECRETS", "1")  # a test worker may use the public development secrets
    env.update(extra)
    return env
