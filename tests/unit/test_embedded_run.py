"""What `wspolnota run` gives every process it starts, and the relay's replay that it turns on."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from wspolnota.cli import embedded_env


def test_the_embedded_run_starts_its_own_empty_broker_so_relays_replay_first() -> None:
    env = embedded_env({"PATH": "/bin"})
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert env["RELAY_REPLAY_ON_START"] == "true"
    assert env["PATH"] == "/bin" and env["PYTHONUNBUFFERED"] == "1"


def test_with_a_broker_of_its_own_choosing_nothing_is_replayed() -> None:
    env = embedded_env({"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"})
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092" and "RELAY_REPLAY_ON_START" not in env


def test_replay_on_start_can_be_turned_off() -> None:
    assert embedded_env({"RELAY_REPLAY_ON_START": "false"})["RELAY_REPLAY_ON_START"] == "false"


class FlakyProducer:
    """Fails its first flush (the broker is still starting), then delivers."""

    def __init__(self, log: list[Any], fail: bool):
        self.log, self.fail, self.pending = log, fail, []

    def send(self, topic: str, key: bytes, value: bytes, headers: Any = None) -> None:
        self.pending.append(key)

    def flush(self, timeout_s: float | None = None) -> None:
        if self.fail:
            self.pending = []
            raise RuntimeError("broker not ready")
        self.log.extend(self.pending)
        self.pending = []

    def close(self) -> None:
        pass


def test_a_replay_that_fails_is_tried_again_with_a_new_producer(tmp_path: Any) -> None:
    from services.volunteers import handlers
    from services.volunteers.db import make_db
    from wspolnota.transport.outbox import Outbox, Relay

    db = make_db(f"sqlite:///{tmp_path / 'v.db'}")
    db.migrate()
    with db.transaction() as session:
        for i in range(3):
            Outbox(db, handlers.PUBLISHES).add(session, "volunteers", "VolunteerPaused", f"k{i}",
                                               {"volunteer_id": "11111111-2222-4333-8444-555555555555"})
    delivered: list[Any] = []
    made = []

    def factory() -> FlakyProducer:
        made.append(FlakyProducer(delivered, fail=False))
        return made[-1]

    relay = Relay(db, FlakyProducer(delivered, fail=True), producer_factory=factory)
    assert relay.replay_until_done(threading.Event(), retry_s=0) == 3
    assert delivered == [b"k0", b"k1", b"k2"] and len(made) == 1
    db.dispose()


def test_a_stopped_relay_gives_up_the_replay() -> None:
    class Never:
        def replay(self) -> int:
            raise AssertionError("not called once stopped")

    from wspolnota.transport.outbox import Relay

    stop = threading.Event()
    stop.set()
    assert Relay.replay_until_done(Never(), stop) is None  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _var_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSPOLNOTA_VAR_DIR", str(tmp_path))
