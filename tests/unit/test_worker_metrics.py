"""Worker metrics: what a relay, a consumer and the matching consumer expose, read at scrape time, and the
HTTP endpoint a worker serves when WSPOLNOTA_METRICS_PORT is set."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.matching.db import make_db as matching_db
from services.needs.db import make_db as needs_db
from services.needs.handlers import PUBLISHES
from tests.unit.test_consumer_loop import CATALOG, NEED, Recorder, make_loop, publish
from wspolnota.broker import free_port
from wspolnota.metrics import WorkerMetrics
from wspolnota.transport import encode, new_event
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Outbox, Relay


def samples(metrics: WorkerMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels): parsed from the text Prometheus reads."""
    text = generate_latest(metrics.registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def needs(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = needs_db(f"sqlite:///{tmp_path / 'needs.db'}")
    db.migrate()
    yield db
    db.dispose()


def add_events(db: Any, count: int) -> None:
    outbox = Outbox(db, PUBLISHES)
    with db.transaction() as session:
        for i in range(count):
            need_id = f"00000000-0000-4000-8000-{i:012d}"
            outbox.add(session, "needs", "NeedRegistered", need_id, {**NEED, "need_id": need_id})


def test_a_relay_shows_its_backlog_and_what_it_published(needs) -> None:  # type: ignore[no-untyped-def]
    relay = Relay(needs, MemoryBroker().producer(), batch_size=2)
    metrics = WorkerMetrics("needs", "relay").relay(relay, needs)
    add_events(needs, 3)
    with needs.engine.begin() as conn:  # the oldest row has waited ten minutes
        oldest = conn.execute(sa.select(sa.func.min(needs.outbox.c.id))).scalar_one()
        conn.execute(sa.update(needs.outbox).where(needs.outbox.c.id == oldest)
                     .values(created_at=datetime.now(UTC) - timedelta(minutes=10)))
    before = samples(metrics)
    assert before[("wspolnota_outbox_unpublished", (("service", "needs"),))] == 3
    assert 590 <= before[("wspolnota_outbox_oldest_unpublished_seconds", (("service", "needs"),))] <= 700
    assert before[("wspolnota_relay_published_total", (("service", "needs"),))] == 0
    relay.run_once()
    relay.run_once()
    after = samples(metrics)
    assert after[("wspolnota_outbox_unpublished", (("service", "needs"),))] == 0
    assert after[("wspolnota_outbox_oldest_unpublished_seconds", (("service", "needs"),))] == 0
    assert after[("wspolnota_relay_published_total", (("service", "needs"),))] == 3


@pytest.fixture
def matching(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = matching_db(f"sqlite:///{tmp_path / 'm.db'}")
    db.migrate()
    yield db
    db.dispose()


def test_a_consumer_counts_events_by_outcome_and_shows_its_lag(matching) -> None:  # type: ignore[no-untyped-def]
    broker = MemoryBroker(partitions=1)
    raw = encode(new_event(CATALOG, "needs", "NeedRegistered", NEED["need_id"], NEED))
    for value in (raw, raw, b"{garbage"):
        publish(broker, value)
    loop = make_loop(matching, broker, Recorder())

    class Lagging:  # the Kafka adapter's snapshot, as its polling thread leaves it
        lag_snapshot = {("needs", 0): 4, ("needs", 1): 0}
        recreated = 2

    metrics = WorkerMetrics("matching", "consumer").consumer(loop, Lagging())
    loop.run_once(0)
    got = samples(metrics)
    outcome = {o: got[("wspolnota_consumer_events_total", (("outcome", o), ("service", "matching")))]
               for o in ("handled", "duplicates", "ignored", "dead_lettered")}
    assert outcome == {"handled": 1, "duplicates": 1, "ignored": 0, "dead_lettered": 1}
    assert got[("wspolnota_consumer_lag", (("partition", "0"), ("service", "matching"), ("topic", "needs")))] == 4
    assert got[("wspolnota_consumer_lag", (("partition", "1"), ("service", "matching"), ("topic", "needs")))] == 0
    assert got[("wspolnota_consumer_client_recreations_total", (("service", "matching"),))] == 2


def test_the_loop_timestamp_moves_with_the_heartbeat() -> None:
    metrics = WorkerMetrics("notify", "consumer")
    assert not [k for k in samples(metrics) if k[0] == "wspolnota_worker_loop_timestamp_seconds"]
    beats: list[int] = []
    metrics.beat(lambda: beats.append(1))()
    [(key, when)] = [(k, v) for k, v in samples(metrics).items() if k[0] == "wspolnota_worker_loop_timestamp_seconds"]
    assert key[1] == (("role", "consumer"), ("service", "notify")) and beats == [1]
    assert abs(when - datetime.now(UTC).timestamp()) < 60


def test_a_failing_read_leaves_its_metrics_out_and_the_others_in(caplog: pytest.LogCaptureFixture) -> None:
    metrics = WorkerMetrics("needs", "relay")

    def broken() -> list[Any]:
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is down"))

    metrics.add(broken)
    metrics.beat(lambda: None)()
    got = samples(metrics)
    assert [k[0] for k in got] == ["wspolnota_worker_loop_timestamp_seconds"]
    assert "database is down" in caplog.text


def test_a_worker_serves_metrics_over_http_only_when_a_port_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics = WorkerMetrics("needs", "relay")
    metrics.beat(lambda: None)()
    monkeypatch.delenv("WSPOLNOTA_METRICS_PORT", raising=False)
    assert metrics.serve() is None
    port = free_port()
    monkeypatch.setenv("WSPOLNOTA_METRICS_PORT", str(port))
    server = metrics.serve()
    try:
        response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
        assert 'wspolnota_worker_loop_timestamp_seconds{role="relay",service="needs"}' in response.text
    finally:
        server.shutdown()
        server.server_close()
