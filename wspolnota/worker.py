"""Relay and consumer processes for any service (`wspolnota relay SERVICE`, `wspolnota consume SERVICE`).

Both start from the service's one bootstrap (`services/<name>/bootstrap.py`, see wspolnota/service.py), found by
module path string with importlib at run time (as in wspolnota/registry.py): the shared runtime never imports a
service module. The consumer runs the loop the bootstrap builds (matching's has its batch tick).
"""
from __future__ import annotations

import importlib
import logging
import signal
import threading
from pathlib import Path

from wspolnota import config
from wspolnota.db import Database
from wspolnota.logs import setup_logging
from wspolnota.metrics import WorkerMetrics
from wspolnota.service import load
from wspolnota.transport.consumer import dlq_topic
from wspolnota.transport.kafka import KafkaConsumerAdapter, KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

log = logging.getLogger("wspolnota.worker")


def service_db(service: str) -> Database:
    if service not in config.SERVICES:
        raise SystemExit(f"unknown service {service!r}; one of {', '.join(config.SERVICES)}")
    return load(service).db


def stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _stop(signum, _frame):  # type: ignore[no-untyped-def]
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


def heartbeat() -> None:
    path = config.get("WSPOLNOTA_HEARTBEAT_FILE")
    if path:
        Path(path).touch()


def all_topics() -> list[str]:
    names = [config.topic(importlib.import_module(f"contracts.{s}").TOPIC) for s in config.SERVICES]
    return sorted(names + [dlq_topic(n) for n in names])


def run_relay(service: str) -> None:
    setup_logging(service, "relay")
    db = service_db(service)
    ensure_topics(all_topics())

    def new_producer() -> KafkaProducerAdapter:
        return KafkaProducerAdapter(client_id=f"{service}-relay")

    relay = Relay(db, new_producer(), producer_factory=new_producer)
    metrics = WorkerMetrics(service, "relay").relay(relay, db)
    metrics.serve()
    stop = stop_on_signals()
    log.info("relay for %s started (%s)", service, db.engine.url.render_as_string(hide_password=True))
    if config.get_bool("RELAY_REPLAY_ON_START"):
        # An embedded broker starts empty: what it held when it stopped, consumed or not, is gone. Republish the
        # kept rows, in order and before any new one; consumers drop the events they have already handled.
        replayed = relay.replay_until_done(stop)
        if replayed is not None:
            log.info("relay for %s: republished %d kept event(s) to the new broker", service, replayed)
    try:
        relay.run(stop, heartbeat=metrics.beat(heartbeat))
    finally:
        relay.producer.close()
        db.dispose()
        log.info("relay for %s stopped", service)


def run_consumer(service: str) -> None:
    setup_logging(service, "consumer")
    if service not in config.SERVICES:
        raise SystemExit(f"unknown service {service!r}; one of {', '.join(config.SERVICES)}")
    parts = load(service)
    db = parts.db
    ensure_topics(all_topics())
    topics = [config.topic(t) for t in parts.subscriptions]
    consumer = KafkaConsumerAdapter(group_id=f"{config.get('WSPOLNOTA_TOPIC_PREFIX')}{service}", topics=topics)
    dlq = KafkaProducerAdapter(client_id=f"{service}-dlq")
    loop = parts.consumer_loop(consumer, dlq)
    metrics = WorkerMetrics(service, "consumer").consumer(loop, consumer)
    metrics.serve()
    stop = stop_on_signals()
    log.info("consumer for %s started on %s", service, ", ".join(topics))
    try:
        loop.run(stop, heartbeat=metrics.beat(heartbeat))
    finally:
        consumer.close()
        dlq.close()
        db.dispose()
        log.info("consumer for %s stopped (%s)", service, loop.stats)
