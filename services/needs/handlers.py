"""Needs service use cases: register a need (API/forms) and follow match events."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import schemas as match_schemas
from services.needs import schemas
from services.needs.db import needs
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(schemas.EVENTS)
CONSUMES = Catalog(match_schemas.EVENTS)
SUBSCRIPTIONS = [match_schemas.TOPIC]


def register_need(session: Session, outbox: Outbox, data: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    row = {**data, "id": str(uuid.uuid4()), "status": "open", "created_at": now, "updated_at": now}
    session.execute(sa.insert(needs).values(**row))
    outbox.add(session, schemas.TOPIC, "NeedRegistered", row["id"], {
        "need_id": row["id"], "resident_ref": row["resident_ref"], "category": row["category"],
        "village": row["village"], "window_start": row["window_start"].isoformat(),
        "window_end": row["window_end"].isoformat(), "duration_minutes": row["duration_minutes"],
        "urgent": row["urgent"], "slots": row["slots"],
    })
    return row


def on_match_proposed(session: Session, event: Event) -> None:
    session.execute(sa.update(needs).where(needs.c.id == event.data["need_id"], needs.c.status == "open")
                    .values(status="proposed", updated_at=datetime.now(UTC)))


def handlers(outbox: Outbox) -> dict[str, Handler]:
    return {"MatchProposed": on_match_proposed}
