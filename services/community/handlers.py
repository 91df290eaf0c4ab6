"""Community service: the events it publishes and the ones it follows.

It follows the needs and volunteers topics to know, per village, how many needs are open and which providers
serve it (ids, villages, categories and counts only; for partner organisations also their public identity — name,
kind, KRS — which the partner pages show): the diagnosis sets needs beside providers without reading
another service's database. Use cases live beside their pages: surveys.py, assets.py, diagnosis.py.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import community as community_contract
from contracts import matching as match_contract
from contracts import needs as need_contract
from contracts import volunteers as volunteer_contract
from services.community import clearances, helpers
from services.community.db import known_needs, known_providers
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(community_contract.EVENTS)
CONSUMES = Catalog(need_contract.EVENTS, volunteer_contract.EVENTS, match_contract.EVENTS)
SUBSCRIPTIONS = [need_contract.TOPIC, volunteer_contract.TOPIC, match_contract.TOPIC]

NEED_OPEN, NEED_COMPLETED, NEED_CANCELLED = "open", "completed", "cancelled"


def _upsert(session: Session, table: sa.Table, key: str, values: dict[str, Any]) -> None:
    pk = table.primary_key.columns.values()[0]
    exists = session.execute(sa.select(pk).where(pk == key)).first()
    if exists:
        session.execute(sa.update(table).where(pk == key).values(**values))
    else:
        session.execute(sa.insert(table).values({pk.name: key, **values}))


def on_need(session: Session, event: Event) -> None:
    d = event.data
    now = datetime.now(UTC)
    if event.type in ("NeedRegistered", "NeedUpdated"):
        _upsert(session, known_needs, d["need_id"], {"village": d["village"], "category": d["category"],
                                                      "status": NEED_OPEN, "updated_at": now})
    elif event.type in ("NeedCompleted", "NeedCancelled"):
        status = NEED_COMPLETED if event.type == "NeedCompleted" else NEED_CANCELLED
        session.execute(sa.update(known_needs).where(known_needs.c.need_id == d["need_id"])
                        .values(status=status, updated_at=now))


def on_provider(session: Session, event: Event) -> None:
    d = event.data
    now = datetime.now(UTC)
    if event.type in ("VolunteerRegistered", "VolunteerUpdated"):
        # A partner organisation's public identity comes with every snapshot; any other provider has none (a
        # snapshot without the block clears it: the provider is no longer an organisation).
        organisation = d.get("organisation") if d["provider_type"] == volunteer_contract.PARTNER_ORGANISATION \
            else None
        _upsert(session, known_providers, d["volunteer_id"], {
            "provider_type": d["provider_type"], "villages": sorted(set(d.get("villages") or [])),
            "active": not d.get("paused", False), "updated_at": now,
            "name": (organisation or {}).get("name"), "kind": (organisation or {}).get("kind"),
            "krs": (organisation or {}).get("krs")})
    elif event.type in ("VolunteerPaused", "VolunteerResumed"):
        session.execute(sa.update(known_providers).where(known_providers.c.volunteer_id == d["volunteer_id"])
                        .values(active=event.type == "VolunteerResumed", updated_at=now))
    elif event.type == "VolunteerErased":
        session.execute(sa.delete(known_providers).where(known_providers.c.volunteer_id == d["volunteer_id"]))


def handlers(outbox: Outbox) -> dict[str, Handler]:
    wanted: dict[str, Handler] = {
        **dict.fromkeys(("NeedRegistered", "NeedUpdated", "NeedCompleted", "NeedCancelled"), on_need),
        **dict.fromkeys(("VolunteerRegistered", "VolunteerUpdated", "VolunteerPaused", "VolunteerResumed",
                         "VolunteerErased"), on_provider),
    }
    helper_events = helpers.events(outbox)
    gate = helper_events.pop("volunteer")
    for name in clearances.EVENTS:  # the Kamilka checks of helpers at activities with children, then the gate
        wanted[name] = _then(_then(wanted.get(name), clearances.on_volunteer_event), gate)
    wanted.update(helper_events)  # helpers who accepted an offer (matching)
    return {name: handler for name, handler in wanted.items() if name in CONSUMES}


def _then(first: Handler | None, second: Handler) -> Handler:
    if first is None:
        return second

    def both(session: Session, event: Event) -> None:
        first(session, event)
        second(session, event)

    return both
