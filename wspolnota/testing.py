"""Test support shared by every service: waiting on conditions, migrated templates, and the whole system on the
in-memory bus.

`InMemorySystem` starts each service from its bootstrap (wspolnota/service.py, found by module path string): the
shared runtime never imports a service module."""
from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wspolnota import config, migrations
from wspolnota.db import Database, make_engine
from wspolnota.service import Clock, load, utc_now
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


@dataclass
class _Template:
    """One service's schema at head on one server: a SQLite image, or the name of a PostgreSQL database."""

    heads: set[str]
    image: bytes = b""
    database: str = ""


@dataclass
class _Target:
    """What wspolnota.migrations needs of a database (a Database or the front's AccountsDatabase)."""

    service: str
    url: str
    metadata: sa.MetaData
    engine: sa.Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)


class MigratedTemplates:
    """Each service's schema migrated once per test session, given to every fresh database that asks for it.

    Installed as wspolnota.migrations' provisioner (`install()`), it answers `upgrade(db)` to head:
    - a database with no tables gets the template's schema (and its `alembic_version`): on SQLite the migrated
      image is copied in through SQLite's backup API (safe whether or not the database file already exists or is
      open); on PostgreSQL the empty database is dropped and created again `TEMPLATE` a database migrated once;
    - a database already at the template's head is left as it is (Alembic would do nothing, slowly);
    - anything else (part-way migrated, an in-memory SQLite URL) is left to Alembic.
    Templates are built with the real chain (`wspolnota.migrations.run_alembic`), so their schema is Alembic's.
    """

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.templates: dict[tuple[str, str], _Template] = {}
        self.lock = threading.RLock()
        self.session = uuid.uuid4().hex[:8]
        self.previous: migrations.Provisioner | None = None

    def install(self) -> MigratedTemplates:
        self.previous = migrations.provide_migrated(self.provision)
        return self

    def uninstall(self) -> None:
        migrations.provide_migrated(self.previous)

    def provision(self, db: Database) -> bool:
        url = sa.make_url(db.url)
        with self.lock:
            if url.get_backend_name() == "sqlite":
                if url.database in (None, "", ":memory:") or "mode=memory" in str(url):
                    return False
                return self._sqlite(db)
            if url.get_backend_name() == "postgresql":
                return self._postgresql(db, url)
            return False

    # SQLite
    def _sqlite(self, db: Database) -> bool:
        with db.engine.connect() as conn:
            tables = set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())
            versions = self._versions(conn, tables)
        template = self._sqlite_template(db)
        if tables:
            return versions == template.heads
        source = sqlite3.connect(":memory:")
        try:
            source.deserialize(template.image)
            raw = db.engine.raw_connection()
            try:
                source.backup(raw.driver_connection)  # type: ignore[arg-type]
            finally:
                raw.close()
        finally:
            source.close()
        return True

    def _sqlite_template(self, db: Database) -> _Template:
        key = (db.service, "sqlite")
        if key not in self.templates:
            path = self.workdir / f"{db.service}-template.db"
            target = _Target(db.service, f"sqlite:///{path}", db.metadata)
            migrations.run_alembic(target)  # type: ignore[arg-type]  # duck-types Database for the Alembic env
            with target.engine.connect() as conn:
                heads = self._versions(conn, {"alembic_version"})
            target.engine.dispose()
            plain = sqlite3.connect(path)
            try:
                plain.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                image = plain.serialize()
            finally:
                plain.close()
            self.templates[key] = _Template(heads, image=image)
        return self.templates[key]

    # PostgreSQL
    def _postgresql(self, db: Database, url: sa.URL) -> bool:
        with db.engine.connect() as conn:
            tables = set(conn.execute(sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")).scalars())
            versions = self._versions(conn, tables)
        template = self._postgresql_template(db, url)
        if tables:
            return versions == template.heads
        db.engine.dispose()
        with self._admin(url) as admin:
            admin.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            admin.execute(sa.text(f'CREATE DATABASE "{url.database}" TEMPLATE "{template.database}"'))
        return True

    def _postgresql_template(self, db: Database, url: sa.URL) -> _Template:
        server = url.set(database="postgres").render_as_string(hide_password=False)
        key = (db.service, server)
        if key not in self.templates:
            name = f"wspolnota_template_{self.session}_{db.service}"
            with self._admin(url) as admin:
                admin.execute(sa.text(f'CREATE DATABASE "{name}"'))
            self.templates[key] = _Template(set(), database=name)  # registered first: close() drops it
            target = _Target(db.service, url.set(database=name).render_as_string(hide_password=False), db.metadata)
            migrations.run_alembic(target)  # type: ignore[arg-type]  # duck-types Database for the Alembic env
            with target.engine.connect() as conn:
                self.templates[key].heads = self._versions(conn, {"alembic_version"})
            target.engine.dispose()  # a template must have no connections to be copied
        return self.templates[key]

    @staticmethod
    def _admin(url: sa.URL) -> Any:
        engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        return engine.connect()

    @staticmethod
    def _versions(conn: sa.Connection, tables: set[str]) -> set[str]:
        if "alembic_version" not in tables:
            return set()
        return set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())

    def close(self) -> None:
        """Remove the provisioner and the PostgreSQL templates this session made."""
        self.uninstall()
        for (_, server), template in self.templates.items():
            if template.database:
                with self._admin(sa.make_url(server)) as admin:
                    admin.execute(sa.text(f'DROP DATABASE IF EXISTS "{template.database}" WITH (FORCE)'))


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metric_samples(text: str) -> Samples:
    """A Prometheus text scrape as {(sample name, sorted labels): value}, parsed as Prometheus would."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


class ManualClock:
    """A service clock (`bootstrap(clock=...)`, `Parts.clock`) that moves only when the test moves it."""

    def __init__(self, now: datetime | None = None):
        self.now = now or utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


@dataclass
class ServiceUnderTest:
    name: str
    db: Database
    outbox: Outbox
    relay: Relay
    loop: ConsumerLoop


class InMemorySystem:
    """Every service (all five unless `services` names some) on SQLite files and one in-memory broker, driven
    step by step.

    Each service starts from its bootstrap with `clock` (e.g. a `ManualClock`) when one is given, else with its
    own default, the wall clock. The databases come from the session's migrated templates (tests/conftest.py).
    """

    def __init__(self, workdir: Path, services: tuple[str, ...] = config.SERVICES, clock: Clock | None = None):
        self.broker = MemoryBroker()
        self.clock = clock
        self.services: dict[str, ServiceUnderTest] = {}
        for name in services:
            parts = load(name, f"sqlite:///{workdir / (name + '.db')}", clock=clock)
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
