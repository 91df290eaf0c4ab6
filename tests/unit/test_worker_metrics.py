"""Worker metrics: what a relay, a consumer and the matching consumer expose, read at scrape time, and the
HTTP endpoint a worker serves when WSPOLNOTA_METRICS_PORT is set."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from prometheus_client import generate_latest

from services.needs.handlers import PUBLISHES
from tests.unit.test_consumer_loop import CATALOG, NEED, Recorder, make_loop, publish, setup  # noqa: F401 - fixture
from tests.unit.test_outbox import add_events, db  # noqa: F401 - fixture
from wspolnota.broker import free_port
from wspolnota.metrics import WorkerMetrics
from wspolnota.testing import Samples, metric_samples
from wspolnota.transport import encode, new_event
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Outbox, Relay


def samples(metrics: WorkerMetrics) -> Samples:
    return metric_samples(generate_latest(metrics.registry).decode())


def test_a_relay_shows_its_backlog_and_what_it_published(db) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    needs = db
    relay = Relay(needs, MemoryBroker().producer(), batch_size=2)
    metrics = WorkerMetrics("needs", "relay").relay(relay, needs)
    add_events(needs, Outbox(needs, PUBLISHES), 3)
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


def test_a_consumer_counts_events_by_outcome_and_shows_its_lag(setup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    matching, broker = setup
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


def test_the_matching_consumer_also_shows_what_its_ticks_did() -> None:
    from types import SimpleNamespace

    loop = SimpleNamespace(stats={"handled": 5, "duplicates": 0, "ignored": 0, "dead_lettered": 0,
                                  "solves": 3, "proposed": 7, "replaced": 1, "expired": 2})
    got = samples(WorkerMetrics("matching", "consumer").consumer(loop, SimpleNamespace()))
    assert {k[1][0][1]: v for k, v in got.items() if k[0] == "wspolnota_matching_tick_total"} == {
        "expired": 2, "proposed": 7, "replaced": 1, "solves": 3}
    assert got[("wspolnota_consumer_events_total", (("outcome", "handled"), ("service", "matching")))] == 5
    assert not [k for k in got if k[0] == "wspolnota_consumer_lag"]  # the in-memory consumer has no lag snapshot
