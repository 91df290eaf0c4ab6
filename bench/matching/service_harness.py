"""The matching service alone on the in-memory bus, with a clock the test moves by hand (the matching unit tests and
bench/matching/hold_cost.py share it).

Needs, volunteers and notify are played by the test: it publishes their events (validated with their
own schemas) and reads what matching publishes on `matches`.
"""
from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.matching import review, schedule
from services.matching.db import proposals
from services.matching.handlers import CONSUMES, handlers
from services.matching.settings import Settings
from wspolnota import config
from wspolnota.db import Database
from wspolnota.testing import InMemorySystem, ServiceUnderTest
from wspolnota.transport import encode, new_event
from wspolnota.transport.consumer import ConsumerLoop
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Outbox, Relay

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
TOMORROW_9 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SOURCES = {"needs": "needs", "volunteers": "volunteers", "notifications": "notify", "community": "community"}


_ids = itertools.count(1)


def new_id() -> str:
    """Ids that grow in the order they are made, so a test (and a Hypothesis replay of it) orders and breaks ties
    the same way every time; random ids made the stateful tests' rule choices differ between replays."""
    return str(uuid.UUID(f"00000000-0000-4000-8000-{next(_ids):012x}"))


WRITTEN_AGREEMENT = {"kind": "agreement", "valid_from": "2026-01-01", "valid_until": None, "written": True,
                     "credential_id": "00000000-0000-4000-8000-00000000a9e1"}


def with_agreement(credentials: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A snapshot's credentials with a written agreement added, unless one is there."""
    held = list(credentials or [])
    return held if any(c["kind"] == "agreement" for c in held) else [*held, WRITTEN_AGREEMENT]


class MatchingService:
    def __init__(self, workdir: Path, settings: Settings | None = None, database_url: str | None = None):
        """On the in-memory system's SQLite file, or on any database URL (the integration tests' PostgreSQL)."""
        self.system = InMemorySystem(workdir, services=("matching",)) if database_url is None \
            else OneServiceSystem(database_url)
        self.service = self.system["matching"]
        self.now = NOW
        self.settings = settings or Settings(resolve_interval=timedelta(seconds=0))
        self.service.loop.handlers = handlers(self.service.outbox, clock=lambda: self.now, settings=self.settings)
        self.producer = self.system.broker.producer()

    # -- playing the other services -------------------------------------------------------------
    def publish(self, topic: str, event_type: str, key: str, data: dict[str, Any], at: datetime | None = None) -> None:
        """`at`: the event's time, when the test plays history (e.g. a need reported last week)."""
        event = new_event(CONSUMES, SOURCES[topic], event_type, key, data)
        if at is not None:
            event = replace(event, time=at)
        self.producer.send(config.topic(topic), key.encode(), encode(event), [])
        self.producer.flush()
        self.system.pump()

    def need(self, **over: Any) -> str:
        start = over.pop("start", TOMORROW_9)
        reported_at = over.pop("reported_at", None)
        data = {"need_id": new_id(), "resident_ref": "R-1", "category": "ZAK", "village": "zagnansk",
                "window_start": start.isoformat(), "window_end": (start + timedelta(hours=4)).isoformat(),
                "duration_minutes": 60, "urgent": False, "slots": 1, **over}
        self.publish("needs", "NeedRegistered", data["need_id"], data, at=reported_at)
        return data["need_id"]

    def volunteer(self, village: str = "zagnansk", categories: tuple[str, ...] = ("ZAK",), offer: bool = True,
                  agreement: bool = True, **over: Any) -> str:
        """A verified provider with an offer; a volunteer under a written, open-ended agreement (art. 44 of
        the volunteering act) unless `agreement=False`."""
        data = {"volunteer_id": new_id(), "provider_type": "volunteer", "villages": [village], "verified": True,
                **over}
        if agreement and data["provider_type"] == "volunteer":
            data["credentials"] = with_agreement(data.get("credentials"))
        self.publish("volunteers", "VolunteerRegistered", data["volunteer_id"], data)
        if offer:
            self.offer(data["volunteer_id"], village=village, categories=categories)
        return data["volunteer_id"]

    def offer(self, volunteer_id: str, village: str = "zagnansk", categories: tuple[str, ...] = ("ZAK",),
              **over: Any) -> str:
        data = {"offer_id": new_id(), "volunteer_id": volunteer_id, "categories": list(categories),
                "villages": [village], "available_from": (NOW - timedelta(days=1)).isoformat(),
                "available_to": (NOW + timedelta(days=14)).isoformat(), **over}
        self.publish("volunteers", "OfferPublished", volunteer_id, data)
        return data["offer_id"]

    def respond(self, match_id: str, volunteer_id: str, response: str, reason: str = "", scope: str = "visit") -> None:
        """`scope="series"`: the provider accepts the whole weekly series the need belongs to."""
        self.publish("notifications", "ProviderResponded", match_id, {
            "match_id": match_id, "volunteer_id": volunteer_id, "response": response, "reason": reason,
            "scope": scope})

    # -- driving matching -------------------------------------------------------------------------
    def tick(self) -> dict[str, int]:
        with self.service.db.transaction() as session:
            result = schedule.tick(session, self.service.outbox, self.now, self.settings)
        self.system.pump()
        return result

    def act(self, action: Any, *args: Any) -> Any:
        with self.service.db.transaction() as session:
            result = action(session, self.service.outbox, *args)
        self.system.pump()
        return result

    def approve(self, match_id: str) -> None:
        self.act(review.approve, match_id, "Anna (OSL)", self.now, self.settings)

    # -- what matching did ----------------------------------------------------------------------
    def matches(self, **where: Any) -> list[sa.RowMapping]:
        query = sa.select(proposals).order_by(proposals.c.created_at, proposals.c.need_id, proposals.c.volunteer_id, proposals.c.id)
        for name, value in where.items():
            query = query.where(proposals.c[name] == value)
        with self.service.db.engine.connect() as conn:
            return list(conn.execute(query).mappings().all())

    def match_of(self, need_id: str, status: str = "proposed") -> sa.RowMapping:
        [row] = self.matches(need_id=need_id, status=status)
        return row

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """What matching published on `matches`, in the order it published it.

        Read from its outbox (ordered by id): the broker holds the events in several partitions, keyed by
        need, so its listing is per partition and a later event may sort before an earlier one.
        """
        outbox = self.service.db.outbox
        query = sa.select(outbox.c.body).where(outbox.c.topic == config.topic("matches")).order_by(outbox.c.id)
        with self.service.db.engine.connect() as conn:
            bodies = [json.loads(raw) for raw in conn.execute(query).scalars()]
        return [{"type": body["type"], **body["data"]} for body in bodies
                if event_type is None or body["type"] == event_type]

    def close(self) -> None:
        self.system.close()


class OneServiceSystem(InMemorySystem):
    """InMemorySystem's pump and broker for matching alone, on a database URL of the caller's choice."""

    def __init__(self, database_url: str):  # noqa: D107 - deliberately not calling super().__init__
        from services.matching import handlers as module
        from services.matching.db import make_db

        self.broker = MemoryBroker()
        db: Database = make_db(database_url)
        db.migrate()
        outbox = Outbox(db, module.PUBLISHES)
        consumer = self.broker.consumer("matching", [config.topic(t) for t in module.SUBSCRIPTIONS])
        loop = ConsumerLoop("matching", consumer, self.broker.producer(), db, module.CONSUMES, module.handlers(outbox))
        self.services = {"matching": ServiceUnderTest("matching", db, outbox, Relay(db, self.broker.producer()), loop)}
