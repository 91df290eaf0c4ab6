"""Notify service: turn events into notifications, never twice for the same event and recipient."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import schemas as match_schemas
from services.needs import schemas as need_schemas
from services.notify import schemas
from services.notify.db import notifications
from services.volunteers import schemas as volunteer_schemas
from wspolnota import reference
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(schemas.EVENTS)
CONSUMES = Catalog(match_schemas.EVENTS, need_schemas.EVENTS, volunteer_schemas.EVENTS)
SUBSCRIPTIONS = [match_schemas.TOPIC, need_schemas.TOPIC, volunteer_schemas.TOPIC]

ORGANISER = "organizator"


def record(session: Session, outbox: Outbox, cause: Event, kind: str, recipient: str, channel: str,
           subject: str, body: str, need_id: str | None = None) -> None:
    exists = session.execute(sa.select(notifications.c.id).where(
        notifications.c.cause_event_id == str(cause.id), notifications.c.recipient == recipient,
        notifications.c.channel == channel)).first()
    if exists:
        return
    notification_id = str(uuid.uuid4())
    session.execute(sa.insert(notifications).values(
        id=notification_id, cause_event_id=str(cause.id), need_id=need_id, kind=kind, channel=channel,
        recipient=recipient, subject=subject, body=body, status="recorded", created_at=datetime.now(UTC)))
    outbox.add(session, schemas.TOPIC, "NotificationRecorded", notification_id, {
        "notification_id": notification_id, "cause_event_id": str(cause.id), "kind": kind, "channel": channel,
        "recipient_role": recipient})


def handlers(outbox: Outbox) -> dict[str, Handler]:
    def on_match_proposed(session: Session, event: Event) -> None:
        d = event.data
        category = reference.categories()[d["category"]]["name"]
        village = reference.villages()[d["village"]]["name"]
        urgent = " (PILNE)" if d["urgent"] else ""
        record(session, outbox, event, "match_proposed", ORGANISER, "panel",
               subject=f"Nowa propozycja dopasowania{urgent}: {category}, {village}",
               body=f"{d['reason']} Propozycja czeka na przegląd w module Dopasowania.",
               need_id=d["need_id"])

    return {"MatchProposed": on_match_proposed}
