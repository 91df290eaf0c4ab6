"""Volunteers service use cases: register volunteers, publish offers, follow their matches."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import schemas as match_schemas
from services.volunteers import schemas
from services.volunteers.db import assignments, offers, volunteers
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(schemas.EVENTS)
CONSUMES = Catalog(match_schemas.EVENTS)
SUBSCRIPTIONS = [match_schemas.TOPIC]


class NotFound(LookupError):
    pass


def register_volunteer(session: Session, outbox: Outbox, data: dict[str, Any]) -> dict[str, Any]:
    row = {**data, "id": str(uuid.uuid4()), "created_at": datetime.now(UTC)}
    session.execute(sa.insert(volunteers).values(**row))
    outbox.add(session, schemas.TOPIC, "VolunteerRegistered", row["id"], {
        "volunteer_id": row["id"], "provider_type": row["provider_type"], "villages": row["villages"]})
    return row


def publish_offer(session: Session, outbox: Outbox, volunteer_id: str, data: dict[str, Any]) -> dict[str, Any]:
    volunteer = session.execute(sa.select(volunteers).where(volunteers.c.id == volunteer_id)).mappings().first()
    if volunteer is None:
        raise NotFound(volunteer_id)
    row = {**data, "id": str(uuid.uuid4()), "volunteer_id": volunteer_id, "status": "published",
           "villages": data.get("villages") or volunteer["villages"], "created_at": datetime.now(UTC)}
    session.execute(sa.insert(offers).values(**row))
    outbox.add(session, schemas.TOPIC, "OfferPublished", volunteer_id, {
        "offer_id": row["id"], "volunteer_id": volunteer_id, "categories": row["categories"],
        "villages": row["villages"], "available_from": row["available_from"].isoformat(),
        "available_to": row["available_to"].isoformat()})
    return row


def on_match_proposed(session: Session, event: Event) -> None:
    session.execute(sa.insert(assignments).values(
        match_id=event.data["match_id"], volunteer_id=event.data["volunteer_id"], need_id=event.data["need_id"],
        status="proposed", updated_at=datetime.now(UTC)))


def handlers(outbox: Outbox) -> dict[str, Handler]:
    return {"MatchProposed": on_match_proposed}
