"""Matching service: keep the projection current and propose matches.

The rule here is the walking skeleton's: the first published offer whose category, village and
availability fit the need. The optimiser of issue 5 replaces `propose_for_need`.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import schemas
from services.matching.db import offers, open_needs, proposals
from services.needs import schemas as need_schemas
from services.volunteers import schemas as volunteer_schemas
from wspolnota import reference
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(schemas.EVENTS)
CONSUMES = Catalog(need_schemas.EVENTS, volunteer_schemas.EVENTS)
SUBSCRIPTIONS = [need_schemas.TOPIC, volunteer_schemas.TOPIC]


def _fits(need: sa.RowMapping, offer: sa.RowMapping) -> bool:
    if need["category"] not in offer["categories"] or need["village"] not in offer["villages"]:
        return False
    start = max(need["window_start"], offer["available_from"])
    end = min(need["window_end"], offer["available_to"])
    return end - start >= timedelta(minutes=need["duration_minutes"])


def _propose(session: Session, outbox: Outbox, need: sa.RowMapping, offer: sa.RowMapping) -> None:
    match_id = str(uuid.uuid4())
    reason = (f"Kategoria {reference.categories()[need['category']]['name']}, "
              f"miejscowość {reference.villages()[need['village']]['name']}, termin pasuje do dostępności.")
    session.execute(sa.insert(proposals).values(
        id=match_id, need_id=need["need_id"], volunteer_id=offer["volunteer_id"], offer_id=offer["offer_id"],
        category=need["category"], village=need["village"], window_start=need["window_start"],
        status="proposed", reason=reason, created_at=datetime.now(UTC)))
    session.execute(sa.update(open_needs).where(open_needs.c.need_id == need["need_id"]).values(status="proposed"))
    outbox.add(session, schemas.TOPIC, "MatchProposed", need["need_id"], {
        "match_id": match_id, "need_id": need["need_id"], "volunteer_id": offer["volunteer_id"],
        "offer_id": offer["offer_id"], "category": need["category"], "village": need["village"],
        "window_start": need["window_start"].isoformat(), "urgent": need["urgent"], "reason": reason})


def propose_for_need(session: Session, outbox: Outbox, need_id: str) -> None:
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == need_id,
                                                       open_needs.c.status == "open")).mappings().first()
    if need is None:
        return
    for offer in session.execute(sa.select(offers).where(offers.c.status == "published")
                                 .order_by(offers.c.available_from)).mappings():
        if _fits(need, offer):
            _propose(session, outbox, need, offer)
            return


def handlers(outbox: Outbox) -> dict[str, Handler]:
    def on_need_registered(session: Session, event: Event) -> None:
        d = event.data
        session.execute(sa.insert(open_needs).values(
            need_id=d["need_id"], category=d["category"], village=d["village"],
            window_start=datetime.fromisoformat(d["window_start"]), window_end=datetime.fromisoformat(d["window_end"]),
            duration_minutes=d["duration_minutes"], urgent=d["urgent"], slots=d["slots"], status="open"))
        propose_for_need(session, outbox, d["need_id"])

    def on_need_cancelled(session: Session, event: Event) -> None:
        session.execute(sa.update(open_needs).where(open_needs.c.need_id == event.data["need_id"])
                        .values(status="cancelled"))

    def on_offer_published(session: Session, event: Event) -> None:
        d = event.data
        session.execute(sa.insert(offers).values(
            offer_id=d["offer_id"], volunteer_id=d["volunteer_id"], categories=d["categories"],
            villages=d["villages"], available_from=datetime.fromisoformat(d["available_from"]),
            available_to=datetime.fromisoformat(d["available_to"]), status="published"))
        waiting = session.execute(sa.select(open_needs.c.need_id).where(open_needs.c.status == "open")
                                  .order_by(open_needs.c.urgent.desc(), open_needs.c.window_start)).scalars().all()
        for need_id in waiting:
            propose_for_need(session, outbox, need_id)

    return {"NeedRegistered": on_need_registered, "NeedCancelled": on_need_cancelled,
            "OfferPublished": on_offer_published}
