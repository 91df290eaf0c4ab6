"""Shared fixtures: the real broker (env → Docker → tansu), PostgreSQL and SQLite databases, and the markers.

Databases: every service's schema is migrated once per session and per engine into a template
(`wspolnota.testing.MigratedTemplates`, installed for the whole session below); a test's fresh database is then
a copy of that template — on SQLite the migrated image copied into the test's own file (SQLite's backup API), on
PostgreSQL `CREATE DATABASE … TEMPLATE` the migrated one — whoever asks for it (`db.migrate()` in a fixture, the
in-memory system, an app factory). Each test keeps its own database files, dropped or deleted with its
`tmp_path`, rather than one shared connection whose transaction is rolled back at the end: the code under test
commits in sessions of its own (outbox and relay, consumer loop with `processed_events`, the web apps' units of
work, several engines over one SQLite file in WAL mode, worker processes), which a per-test outer transaction
would not contain. A copy costs milliseconds either way; Alembic replayed per test cost most of the unit run.
Tests marked `migrations` (tests/integration/test_migrations.py) run the real Alembic chains from empty.

Passwords: staff passwords are hashed with argon2id at the cheapest cost argon2 allows while a test runs in this
process (`cheap_password_hashing`); production's cost is unchanged and checked by the test that asks for
`production_password_hashing`.

Markers: each test is marked by its directory (`pytest_collection_modifyitems`), and a `unit` test is held to
it while it runs (`_unit_tests_stay_in_the_process`): it fails if it starts a process (git, which only reads the
repository, aside), connects to PostgreSQL or to a Kafka broker.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import event

from wspolnota.broker import free_port, start_tansu
from wspolnota.testing import MigratedTemplates, WorkerProcess, worker_env

# The tests run with the public development secrets (`dev-only-*`), asked for explicitly; every process they
# start inherits this. Tests of the start-up refusal take it away.
os.environ["WSPOLNOTA_DEV_SECRETS"] = "1"

TIERS = ("unit", "integration", "e2e", "browser")  # the markers; each test gets its directory's
HAND_SET = ("integration", "e2e", "browser", "bench")  # a test under tests/unit marked so is not `unit`
SERVER_FIXTURES = {"kafka_bootstrap", "start_consumer", "pg_available"}  # a real broker, or PostgreSQL


def _needs_a_server(item: pytest.Item) -> bool:
    """Whether a test uses a real broker or PostgreSQL (a `new_database` test in its PostgreSQL variant)."""
    callspec = getattr(item, "callspec", None)
    on_postgresql = callspec is not None and callspec.params.get("new_database") == "postgresql"
    return on_postgresql or bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by its directory: tests/unit → `unit`, tests/integration → `integration`, and so on.

    A test under tests/unit that needs a real broker or PostgreSQL is `integration` instead, so `-m unit`
    (`make test-fast`) needs neither; one marked by hand as another kind (`integration`, `e2e` for one that starts
    a process, `browser`, `bench` for a check of the benchmarks' simulations) is that kind alone. Markers set by
    hand (e.g. a module's `pytestmark`) are kept.
    """
    root = Path(__file__).parent
    for item in items:
        if root not in item.path.parents:
            continue
        tier = item.path.relative_to(root).parts[0]
        if tier == "unit":
            if any(item.get_closest_marker(other) for other in HAND_SET):
                continue
            if _needs_a_server(item):
                tier = "integration"
        if tier in TIERS and item.get_closest_marker(tier) is None:
            item.add_marker(tier)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session", autouse=True)
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    """Every `migrate()` to head in this session is served from a template migrated once (see the docstring)."""
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates")).install()
    yield templates
    templates.close()


@pytest.fixture(autouse=True)
def _real_migrations_when_marked(request: pytest.FixtureRequest, migrated_templates: MigratedTemplates) -> Iterator[None]:
    """A test marked `migrations` runs the services' Alembic chains itself, from an empty database."""
    if request.node.get_closest_marker("migrations") is None:
        yield
        return
    migrated_templates.uninstall()
    yield
    migrated_templates.install()


# argon2id at production cost (argon2-cffi's defaults: 3 passes over 64 MiB, 4 lanes) takes ~0.2 s of CPU per
# hash or check, and the tests hash and check hundreds of passwords.
TEST_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[tuple[PasswordHasher, str]]:
    """The front service hashes staff passwords cheaply in this process; yields production's hasher and dummy."""
    from services.front import accounts

    production = accounts._hasher, accounts._DUMMY_HASH
    accounts._hasher, accounts._DUMMY_HASH = TEST_PASSWORD_HASHER, TEST_PASSWORD_HASHER.hash("not-a-password")
    yield production
    accounts._hasher, accounts._DUMMY_HASH = production


@pytest.fixture
def production_password_hashing(cheap_password_hashing: tuple[PasswordHasher, str]) -> Iterator[PasswordHasher]:
    """For one test, the front service hashes at production cost again."""
    from services.front import accounts

    cheap = accounts._hasher, accounts._DUMMY_HASH
    accounts._hasher, accounts._DUMMY_HASH = cheap_password_hashing
    yield cheap_password_hashing[0]
    accounts._hasher, accounts._DUMMY_HASH = cheap


class _OutOfProcess(BaseException):
    """A `unit` test reached outside its process (a BaseException: library code that retries on errors must not
    swallow it; the test fails at teardown in any case)."""


_unit_test_reached: list[str] | None = None  # while a `unit` test runs: what it reached that it must not


def _refuse(what: str) -> None:
    assert _unit_test_reached is not None
    _unit_test_reached.append(what)
    raise _OutOfProcess(what)


def _unit_audit(event_name: str, args: tuple[Any, ...]) -> None:
    """Python's audit hook (installed once, it cannot be removed): active only while a `unit` test runs."""
    if _unit_test_reached is None:
        return
    if event_name == "subprocess.Popen":
        argv = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
        program = os.path.basename(str(args[0] or (argv[0] if argv else "")))
        if program != "git":
            _refuse(f"started a process {list(argv)!r} (mark it `e2e`)")
    elif event_name in ("os.fork", "os.forkpty", "os.posix_spawn"):
        _refuse(f"started a process ({event_name}; mark it `e2e`)")
    elif event_name == "socket.connect" and isinstance(args[1], tuple) and len(args[1]) >= 2:
        host, port = str(args[1][0]), int(args[1][1])
        if (host, port) in _server_addresses():
            _refuse(f"connected to {host}:{port}, PostgreSQL or the broker (mark it `integration`)")


def _server_addresses() -> set[tuple[str, int]]:
    """PostgreSQL and the broker the environment names (a `unit` test must connect to neither)."""
    pg = _pg_admin_url()
    servers = {(pg.host or "127.0.0.1", pg.port or 5432)}
    for server in filter(None, os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").split(",")):
        host, _, port = server.strip().rpartition(":")
        if port.isdigit():
            servers.add((host, int(port)))
    return {("127.0.0.1" if host == "localhost" else host, port) for host, port in servers}


sys.addaudithook(_unit_audit)


@event.listens_for(sa.Engine, "do_connect")
def _no_postgresql_in_unit_tests(dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
    """libpq connects outside Python's sockets: a `unit` test's PostgreSQL connection is refused here."""
    if _unit_test_reached is not None and dialect.name == "postgresql":
        _refuse("connected to PostgreSQL (mark it `integration`)")


@pytest.fixture(autouse=True)
def _unit_tests_stay_in_the_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """While a `unit` test runs (its fixtures included): no process, broker or PostgreSQL (see the docstring)."""
    global _unit_test_reached
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    reached: list[str] = []
    _unit_test_reached = reached
    try:
        yield
    finally:
        _unit_test_reached = None
    if reached and not request.node.stash.get(_CALL_FAILED, False):
        pytest.fail("a unit test stays in its process, on SQLite and the in-memory bus; this one "
                    + "; ".join(dict.fromkeys(reached)), pytrace=False)


PG_SERVER = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no Docker"
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Kafka-protocol broker: KAFKA_BOOTSTRAP_SERVERS, else testcontainers Kafka, else tansu."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    broker = TansuBroker(tmp_path_factory.mktemp("tansu"))
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


class TansuBroker:
    """A tansu process the tests own; `restart()` loses everything, as a real embedded restart does."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.port = port or free_port()
        self.log = str(workdir / "tansu.log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = start_tansu(self.port, self.log)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def topic_prefix(monkeypatch: pytest.MonkeyPatch) -> str:
    """Unique topic names per test, so tests sharing one broker never see each other's events."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv("WSPOLNOTA_TOPIC_PREFIX", prefix)
    return prefix


@pytest.fixture
def start_consumer(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `wspolnota consume SERVICE` in its own process on the test's broker, topic prefix and a database.

    Real-broker tests consume this way, never with a Kafka group consumer in the pytest process (docs/architecture.md:
    on tansu a second one in a process can take ~50 s to join). Stopped (SIGTERM, then SIGKILL) at teardown.
    """
    started: list[WorkerProcess] = []

    def start(service: str, database_url: str, **env: str) -> WorkerProcess:
        worker = WorkerProcess("consume", service, worker_env(kafka_bootstrap, topic_prefix, database_url, **env),
                               tmp_path / f"{service}-consumer-{len(started)}.log")
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.stop()


def _pg_admin_url() -> sa.URL:
    return sa.make_url(PG_SERVER).set(drivername="postgresql+psycopg")


@pytest.fixture(scope="session")
def pg_available() -> bool:
    try:
        engine = sa.create_engine(_pg_admin_url())
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def create_pg_database() -> str:
    name = f"wspolnota_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return _pg_admin_url().set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = sa.make_url(url).database
    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases, on each engine the services run on (SQLite, PostgreSQL)."""
    # asked for only on PostgreSQL, so a SQLite test never connects to the server (`make test-fast` needs none)
    if request.param == "postgresql" and not request.getfixturevalue("pg_available"):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} (CI must test on PostgreSQL)")
        pytest.skip("PostgreSQL is not reachable")
    created: list[str] = []

    def make() -> str:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'db{len(created)}.db'}"
        else:
            url = create_pg_database()
        created.append(url)
        return url

    yield make
    if request.param == "postgresql":
        for url in created:
            drop_pg_database(url)


@pytest.fixture
def database_url(new_database: Callable[[], str]) -> str:
    return new_database()
