"""Prometheus metrics of the worker processes: relays, consumers and the notify sender.

The web apps serve `/metrics` themselves. A worker has no web server, so when `WSPOLNOTA_METRICS_PORT` is
set it serves one with prometheus-client's own HTTP server (a daemon thread). Every value is read when
Prometheus scrapes, from what the loop keeps anyway: its counters, the consumer's lag snapshot (taken by
the polling thread from `highwater()`, since kafka-python's client is not thread-safe and tansu's
`end_offsets()` is wrong), and, for backlogs, a count in the service's own database.

| metric | type | labels | meaning |
|---|---|---|---|
| `wspolnota_worker_loop_timestamp_seconds` | gauge | service, role | when the loop last went round |
| `wspolnota_consumer_events_total` | counter | service, outcome | handled, duplicates, ignored, dead_lettered |
| `wspolnota_consumer_lag` | gauge | service, topic, partition | records behind the high-water mark |
| `wspolnota_consumer_client_recreations_total` | counter | service | stalled kafka-python clients replaced |
| `wspolnota_matching_tick_total` | counter | what | matching only: solves, proposed, replaced, expired |
| `wspolnota_relay_published_total` | counter | service | outbox rows published |
| `wspolnota_outbox_unpublished` | gauge | service | outbox rows waiting for the broker |
| `wspolnota_outbox_oldest_unpublished_seconds` | gauge | service | age of the oldest of them |
| `wspolnota_notifications_total` | counter | outcome | sent, retried, failed, skipped, deferred, recovered |
| `wspolnota_notification_rows` | gauge | status | ledger rows by status (pending, sending, failed, …) |
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from wspolnota import config
from wspolnota.db import Database

log = logging.getLogger("wspolnota.metrics")

Read = Callable[[], Iterable[Metric]]


class _Live(Collector):
    """Metrics computed at scrape time by `read`; a failing read is logged and leaves its metrics out."""

    def __init__(self, read: Read):
        self.read = read

    def collect(self) -> Iterator[Metric]:
        try:
            yield from list(self.read())
        except Exception as err:  # noqa: BLE001 - a scrape must never take the worker down
            log.warning("metrics: %s failed (%s: %s)", getattr(self.read, "__name__", "read"), type(err).__name__,
                        err)


class WorkerMetrics:
    """One worker's registry. `beat()` wraps its heartbeat so the loop's last round is a metric too."""

    def __init__(self, service: str, role: str):
        self.service, self.role = service, role
        self.registry = CollectorRegistry()
        self.last_loop: float | None = None
        self.add(self._loop)

    def add(self, read: Read) -> None:
        self.registry.register(_Live(read))

    def beat(self, heartbeat: Callable[[], None]) -> Callable[[], None]:
        def beat() -> None:
            self.last_loop = time.time()
            heartbeat()
        return beat

    def _loop(self) -> Iterable[Metric]:
        g = GaugeMetricFamily("wspolnota_worker_loop_timestamp_seconds", "When the worker's loop last went round",
                              labels=["service", "role"])
        if self.last_loop is not None:
            g.add_metric([self.service, self.role], self.last_loop)
        return [g]

    # -- what each kind of worker adds ------------------------------------------------------------
    def consumer(self, loop: Any, consumer: Any) -> WorkerMetrics:
        """A ConsumerLoop (its `stats`) and its consumer (`lag_snapshot`, `recreated` where it has them)."""
        from wspolnota.transport.consumer import EVENT_OUTCOMES

        def read() -> Iterable[Metric]:
            stats = dict(loop.stats)
            events = CounterMetricFamily("wspolnota_consumer_events", "Events taken from the bus, by outcome",
                                         labels=["service", "outcome"])
            for outcome in EVENT_OUTCOMES:
                events.add_metric([self.service, outcome], stats.get(outcome, 0))
            lag = GaugeMetricFamily("wspolnota_consumer_lag", "Records behind the broker's high-water mark",
                                    labels=["service", "topic", "partition"])
            for (topic, partition), behind in sorted(dict(getattr(consumer, "lag_snapshot", {})).items()):
                lag.add_metric([self.service, topic, str(partition)], behind)
            recreated = CounterMetricFamily("wspolnota_consumer_client_recreations",
                                            "Stalled Kafka clients closed and replaced by the watchdog",
                                            labels=["service"])
            recreated.add_metric([self.service], getattr(consumer, "recreated", 0))
            out: list[Metric] = [events, lag, recreated]
            extra = {k: v for k, v in stats.items() if k not in EVENT_OUTCOMES}
            if extra:
                ticks = CounterMetricFamily(f"wspolnota_{self.service}_tick", "What the ticks after each batch did",
                                            labels=["what"])
                for what, n in sorted(extra.items()):
                    ticks.add_metric([what], n)
                out.append(ticks)
            return out

        self.add(read)
        return self

    def relay(self, relay: Any, db: Database) -> WorkerMetrics:
        def read() -> Iterable[Metric]:
            published = CounterMetricFamily("wspolnota_relay_published", "Outbox rows published to the bus",
                                            labels=["service"])
            published.add_metric([self.service], relay.published_total)
            return [published, *outbox_backlog(self.service, db)]

        self.add(read)
        return self

    def sender(self, sender: Any, ledger: sa.Table) -> WorkerMetrics:
        """notify's Sender (`stats`, `db`) and its ledger table."""

        def read() -> Iterable[Metric]:
            total = CounterMetricFamily("wspolnota_notifications", "Notification attempts by outcome",
                                        labels=["outcome"])
            for outcome, n in sorted(dict(sender.stats).items()):
                total.add_metric([outcome], n)
            rows = GaugeMetricFamily("wspolnota_notification_rows", "Notification ledger rows by status",
                                     labels=["status"])
            t = ledger
            with sender.db.engine.connect() as conn:
                for status, n in conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)):
                    rows.add_metric([status], n)
                conn.rollback()
            return [total, rows]

        self.add(read)
        return self

    def serve(self) -> Any | None:
        """Serve /metrics on WSPOLNOTA_METRICS_PORT (empty or 0: off); return the server, or None."""
        port = config.get("WSPOLNOTA_METRICS_PORT").strip()
        if not port or int(port) == 0:
            return None
        server, _thread = start_http_server(int(port), addr=config.get("WSPOLNOTA_METRICS_ADDR"),
                                            registry=self.registry)
        log.info("%s %s: metrics on http://%s:%s/metrics", self.service, self.role,
                 config.get("WSPOLNOTA_METRICS_ADDR"), server.server_port)
        return server


def outbox_backlog(service: str, db: Database) -> list[Metric]:
    """How many outbox rows wait for the broker, and for how long the oldest has."""
    t = db.outbox
    with db.engine.connect() as conn:
        waiting, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(t.c.created_at))
                                       .where(t.c.published_at.is_(None))).one()
        conn.rollback()
    count = GaugeMetricFamily("wspolnota_outbox_unpublished", "Outbox rows not yet published",
                              labels=["service"])
    count.add_metric([service], waiting)
    age = GaugeMetricFamily("wspolnota_outbox_oldest_unpublished_seconds",
                            "Age of the oldest outbox row not yet published (0: none)", labels=["service"])
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # SQLite returns naive UTC
    age.add_metric([service], 0.0 if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds()))
    return [count, age]
