"""The matching service's whole path — projection, re-solve, review over HTTP, cascade, timeouts,
rebuild — on SQLite and on PostgreSQL (the in-memory bus carries the events)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.matching.service_harness import NOW, MatchingService
from services.matching import model, projection
from services.matching.app import create_app
from services.matching.db import PROJECTION
from services.matching.handlers import handlers
from services.matching.loop import scheduler_step

pytestmark = pytest.mark.integration


@pytest.fixture
def matching(tmp_path: Path, new_database: Callable[[], str]) -> Iterator[MatchingService]:
    service = MatchingService(tmp_path, database_url=new_database())
    yield service
    service.close()


def projection_rows(matching: MatchingService) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    with matching.service.db.engine.connect() as conn:
        return {t.name: sorted(tuple(sorted((k, repr(v)) for k, v in r.items()))
                               for r in conn.execute(sa.select(t)).mappings()) for t in PROJECTION}


def test_review_over_http_then_decline_timeout_and_acceptance_on_this_database(matching: MatchingService) -> None:
    first = matching.volunteer()
    second = matching.volunteer(village="kajetanow", radius_km=10)  # 3.0 km away
    third = matching.volunteer(village="umer", radius_km=15)  # 7.7 km away
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    assert proposal["volunteer_id"] == first

    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "MATCHING_CLOCK": lambda: matching.now, "MATCHING_SETTINGS": matching.settings})
    client = app.test_client()
    page = client.get(f"/matches/{proposal['id']}").get_data(as_text=True)
    assert "Lejek warunków" in page and "Drugi w kolejności" in page
    response = client.post(f"/api/matches/{proposal['id']}/approve", json={})
    assert response.status_code == 200 and response.json["status"] == "offered"
    matching.system.pump()

    matching.respond(proposal["id"], first, "decline", "Wyjazd")
    assert matching.match_of(need_id, "offered")["volunteer_id"] == second
    matching.now += matching.settings.offer_deadline
    assert scheduler_step(matching.service.db, matching.service.outbox, matching.settings,
                          clock=lambda: matching.now)["expired"] == 1
    matching.system.pump()
    last = matching.match_of(need_id, "offered")
    assert last["volunteer_id"] == third
    matching.respond(last["id"], third, "accept")
    assert [e["type"] for e in matching.events()] == [
        "MatchProposed", "MatchApproved", "MatchOffered", "MatchDeclined",
        "MatchProposed", "MatchApproved", "MatchOffered", "MatchExpired",
        "MatchProposed", "MatchApproved", "MatchOffered", "MatchAccepted"]

    before = projection_rows(matching)
    with matching.service.db.transaction() as session:
        assert projection.rebuild(session) == 7
    assert projection_rows(matching) == before


def test_a_second_approval_of_the_same_proposal_is_refused_with_409(matching: MatchingService) -> None:
    matching.volunteer()
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    client = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
    assert client.post(f"/api/matches/{proposal['id']}/approve", json={}).status_code == 200
    again = client.post(f"/api/matches/{proposal['id']}/approve", json={})
    assert again.status_code == 409 and "rozpatrzono" in again.json["message"]
    assert model.OFFERED == matching.match_of(need_id, "offered")["status"]


def test_a_held_need_is_proposed_when_its_time_comes_on_this_database(matching: MatchingService) -> None:
    matching.settings = replace(matching.settings, hold_hours=48, hold_min_providers=2)
    matching.service.loop.handlers = handlers(matching.service.outbox, clock=lambda: matching.now,
                                              settings=matching.settings)
    matching.volunteer()
    matching.volunteer()
    visit = NOW.replace(hour=9) + timedelta(days=5)
    need_id = matching.need(start=visit)
    assert matching.matches(need_id=need_id) == []
    matching.now = visit - timedelta(hours=48)
    assert scheduler_step(matching.service.db, matching.service.outbox, matching.settings,
                          clock=lambda: matching.now)["proposed"] == 1
    assert matching.match_of(need_id)["status"] == model.PROPOSED


def test_helper_places_offered_declined_expired_and_accepted_on_this_database(matching: MatchingService) -> None:
    import uuid

    from bench.matching.service_harness import TOMORROW_9
    from services.matching.db import helper_offers

    kamilka = {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-12-31",
               "credential_id": str(uuid.uuid4())}
    people = [matching.volunteer(credentials=[kamilka]), matching.volunteer(credentials=[{**kamilka,
              "credential_id": str(uuid.uuid4())}]), matching.volunteer()]
    activity = str(uuid.uuid4())
    matching.publish("community", "HelpersWanted", activity, {
        "activity_id": activity, "count": 1, "involves_children": True, "category": None, "village": "zagnansk",
        "starts_at": TOMORROW_9.isoformat(), "ends_at": (TOMORROW_9 + timedelta(hours=2)).isoformat()})

    def rows() -> list[sa.RowMapping]:
        with matching.service.db.engine.connect() as conn:
            return list(conn.execute(sa.select(helper_offers).order_by(helper_offers.c.created_at)).mappings())

    [first] = rows()
    assert first["volunteer_id"] in people[:2]
    matching.publish("notifications", "ProviderResponded", first["id"], {
        "match_id": first["id"], "volunteer_id": first["volunteer_id"], "response": "decline", "reason": "",
        "activity_id": activity})
    second = next(r for r in rows() if r["status"] == "offered")
    assert second["volunteer_id"] in people[:2] and second["volunteer_id"] != first["volunteer_id"]
    matching.publish("notifications", "ProviderResponded", second["id"], {
        "match_id": second["id"], "volunteer_id": second["volunteer_id"], "response": "accept", "reason": "",
        "activity_id": activity})
    assert [r["status"] for r in rows()] == ["declined", "accepted"]
    assert [e["volunteer_id"] for e in matching.events("HelperAccepted")] == [second["volunteer_id"]]
