"""`wspolnota run` starts its embedded broker empty; its relays first republish every kept outbox row.

Before this, an event published just before `make run` was stopped, and not yet consumed, was gone with
the broker's memory. With RELAY_REPLAY_ON_START the relay sends the kept rows again, in order, before
new ones (consumers drop events they have handled); without it, only unpublished rows go.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.read_topic import read_records
from services.volunteers.db import make_db
from wspolnota import config
from wspolnota.testing import WorkerProcess, worker_env
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration


def add_events(db, keys: list[str], published: bool) -> None:  # type: ignore[no-untyped-def]
    from services.volunteers import handlers

    outbox = Outbox(db, handlers.PUBLISHES)
    with db.transaction() as session:
        for key in keys:
            outbox.add(session, "volunteers", "VolunteerPaused", key, {"volunteer_id": key})
    if published:  # as if relayed to a broker that has since stopped, before anyone consumed them
        with db.engine.begin() as conn:
            conn.execute(sa.update(db.outbox).values(published_at=datetime.now(UTC)))


def unpublished(db) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(db.outbox)
                                .where(db.outbox.c.published_at.is_(None))).scalar_one())


@pytest.mark.parametrize("replay", [True, False])
def test_a_relay_starting_on_an_empty_broker_republishes_the_kept_rows_first(
        tmp_path: Path, kafka_bootstrap: str, topic_prefix: str, replay: bool) -> None:
    url = f"sqlite:///{tmp_path / 'volunteers.db'}"
    db = make_db(url)
    db.migrate()
    volunteer = "11111111-2222-4333-8444-000000000001"  # one key: one partition, so the order shows
    add_events(db, [volunteer, volunteer], published=True)
    add_events(db, [volunteer], published=False)
    with db.engine.connect() as conn:
        in_order = [json.loads(body)["id"] for body in conn.execute(
            sa.select(db.outbox.c.body).order_by(db.outbox.c.id)).scalars()]
    env = worker_env(kafka_bootstrap, topic_prefix, url, RELAY_REPLAY_ON_START="true" if replay else "false")
    relay = WorkerProcess("relay", "volunteers", env, tmp_path / "relay.log").start()
    try:
        relay.wait_until(lambda: unpublished(db) == 0, 60, message="the relay to publish the new row")
        records = read_records(kafka_bootstrap, config.topic("volunteers"), expect=3, timeout_s=15)
        ids = [json.loads(r["value"])["id"] for r in sorted(records, key=lambda r: r["offset"])]
        assert ids == (in_order if replay else in_order[2:])
        if replay:
            assert "republished 3 kept event(s)" in relay.log()
    finally:
        relay.stop()
        db.dispose()
