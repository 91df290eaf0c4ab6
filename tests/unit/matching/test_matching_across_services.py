"""All four services on the in-memory bus: a need and a provider end in an accepted visit through the
matching review queue, notify's offer and the provider's answer (ProviderResponded)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def system(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = InMemorySystem(tmp_path)
    yield s
    s.close()


@pytest.fixture
def clients(system):  # type: ignore[no-untyped-def]
    from services.matching.app import create_app as matching_app
    from services.needs.app import create_app as needs_app
    from services.notify.app import create_app as notify_app
    from services.volunteers.app import create_app as volunteers_app

    factories = {"needs": needs_app, "volunteers": volunteers_app, "matching": matching_app, "notify": notify_app}
    return {name: f({"DATABASE_URL": system[name].db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
            for name, f in factories.items()}


def provider_answers(system, response: str) -> None:  # type: ignore[no-untyped-def]
    from services.notify import responses
    from services.notify.db import notifications

    with system["notify"].db.engine.connect() as conn:
        offer_event = conn.execute(sa.select(notifications.c.cause_event_id)
                                   .where(notifications.c.kind == "match_offered")).scalars().first()
    assert offer_event, "notify recorded no offer for the provider"
    responses.respond(system["notify"].db, system["notify"].outbox,
                      responses.find_offer(system["notify"].db, offer_event), response)
    system.pump()


def test_an_approved_proposal_is_offered_by_notify_and_the_providers_yes_reaches_needs(system, clients) -> None:  # type: ignore[no-untyped-def]
    volunteer = clients["volunteers"].post("/api/volunteers", json={
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303", "villages": ["belno"]})
    assert volunteer.status_code == 201, volunteer.json
    clients["volunteers"].post(f"/api/volunteers/{volunteer.json['id']}/credentials", json=WRITTEN_AGREEMENT)
    offered = clients["volunteers"].post(f"/api/volunteers/{volunteer.json['id']}/offers", json={
        "categories": ["ZAK"], "available_from": TOMORROW.isoformat(),
        "available_to": (TOMORROW + timedelta(hours=8)).isoformat()})
    assert offered.status_code == 201, offered.json
    need = clients["needs"].post("/api/needs", json={
        "resident_ref": "R-017", "category": "ZAK", "village": "belno", "description": "Zakupy",
        "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
        "duration_minutes": 60})
    assert need.status_code == 201, need.json
    system.pump()

    [proposal] = clients["matching"].get("/api/proposals").json
    assert proposal["volunteer_id"] == volunteer.json["id"] and proposal["status"] == "proposed"
    assert clients["matching"].post(f"/api/matches/{proposal['id']}/approve", json={}).status_code == 200
    system.pump()
    provider_answers(system, "accept")

    assert clients["matching"].get(f"/api/matches/{proposal['id']}").json["status"] == "accepted"
    assert clients["needs"].get(f"/api/needs/{need.json['id']}").json["status"] == "accepted"
    assert system["matching"].loop.stats["dead_lettered"] == 0
