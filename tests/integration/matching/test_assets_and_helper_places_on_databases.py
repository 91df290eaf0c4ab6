"""On both engines (SQLite, PostgreSQL): community writes an asset and its event in one transaction (and nothing
on a refused one), matching folds the asset events idempotently into the map, and helper places show on the staff
pages and count as the provider's load through the store."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bench.matching.service_harness import TOMORROW_9, MatchingService
from services.community.app import create_app as community_app
from services.community.db import assets as asset_table
from services.matching import reports
from services.matching.app import create_app as matching_app
from services.matching.rules import iso_week
from services.matching.world import load_world
from tests.unit.matching.test_matching_service_helpers import answer, offers, wanted
from wspolnota.transport import decode

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def matching(tmp_path: Path, new_database: Callable[[], str]) -> Iterator[MatchingService]:
    service = MatchingService(tmp_path, database_url=new_database())
    yield service
    service.close()


def test_an_asset_and_its_event_are_written_together_and_a_refused_one_writes_neither(database_url: str) -> None:
    app = community_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test",
                         "WTF_CSRF_ENABLED": False, "AUTH_DISABLED": True}, clock=lambda: NOW)
    db = app.extensions["db"]
    db.migrate()
    client = app.test_client()
    form = {"kind": "place", "subtype": "swietlica", "village": "kajetanow", "name": "Świetlica w Kajetanowie",
            "capacity": "60", "accessible": "y"}
    assert client.post("/zasoby/nowy", data=form).status_code == 302
    assert client.post("/zasoby/nowy", data={**form, "kind": "leader", "capacity": ""}).status_code == 422  # no consent
    with db.engine.connect() as conn:
        [asset_id] = conn.execute(sa.select(asset_table.c.id)).scalars().all()
        bodies = conn.execute(sa.select(db.outbox.c.body).where(db.outbox.c.type == "AssetRecorded")).scalars().all()
    [event] = [decode(bytes(b)) for b in bodies]
    assert event.data == {"asset_id": asset_id, "kind": "place", "subtype": "swietlica", "village": "kajetanow",
                          "name": "Świetlica w Kajetanowie", "capacity": 60, "accessible": True, "lendable": False}
    app.extensions["db"].dispose()


def test_asset_events_fold_once_into_the_map_and_a_removal_takes_the_place_off(matching: MatchingService) -> None:
    hall = str(uuid.uuid4())
    data = {"asset_id": hall, "kind": "place", "subtype": "swietlica", "village": "belno", "name": "Świetlica",
            "capacity": 50, "accessible": True, "lendable": False}
    for _ in range(2):  # a republish, or the same event again
        matching.publish("community", "AssetRecorded", hall, data)
    matching.publish("community", "AssetRecorded", str(uuid.uuid4()), {
        "asset_id": str(uuid.uuid4()), "kind": "leader", "village": "belno"})
    places, rows = reports.map_places(reports.load_facts(matching.service.db, NOW))
    [belno] = [p for p in places if p.code == "belno"]
    assert (belno.places, belno.accessible, belno.kinds) == (1, 1, "świetlica wiejska: 1")
    assert [r for r in rows if r[0] == "Belno"][0][4:] == [1, 1, "świetlica wiejska: 1", 0, 1]
    matching.publish("community", "AssetRemoved", hall, {"asset_id": hall})
    places, _rows = reports.map_places(reports.load_facts(matching.service.db, NOW))
    assert [p.places for p in places if p.code == "belno"] == [0]


def test_helper_places_show_on_the_review_page_and_count_as_load(matching: MatchingService) -> None:
    volunteer = matching.volunteer()
    other = matching.volunteer()
    activity = wanted(matching, count=3)
    [offer] = offers(matching, volunteer_id=volunteer)
    answer(matching, offer, "accept")
    app = matching_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                        "SECRET_KEY": "test", "MATCHING_CLOCK": lambda: matching.now,
                        "MATCHING_SETTINGS": matching.settings})
    client: Any = app.test_client()
    page = client.get("/").get_data(as_text=True)
    [body] = re.findall(r'<h2 id="pomocnicy">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert re.findall(r'<td class="num">(\d+)</td>', body) == ["3", "1", "1", "1"]
    assert re.search(r"<td>\d\d\.\d\d\.\d{4} \d\d:\d\d</td>", body)  # the soonest answer due
    detail = client.get(f"/pomocnicy/{activity}").get_data(as_text=True)
    assert f'href="/volunteers/wykonawcy/{volunteer}"' in detail and f'href="/volunteers/wykonawcy/{other}"' in detail
    app.extensions["db"].dispose()
    with matching.service.db.transaction() as session:
        world = load_world(session, matching.now, matching.settings)
    for pid in (volunteer, other):  # accepted and offered alike
        assert world.providers[pid].open_tasks == 1
        assert world.providers[pid].hours_in_week(iso_week(TOMORROW_9)) == 3.0
    with matching.service.db.transaction() as session:
        later = load_world(session, TOMORROW_9 + timedelta(hours=3, minutes=1), matching.settings)
    assert later.providers[volunteer].open_tasks == 0


def test_a_rebuild_of_the_projection_restores_the_assets(matching: MatchingService) -> None:
    from services.matching import projection
    from services.matching.db import community_assets

    kept, gone = str(uuid.uuid4()), str(uuid.uuid4())
    for asset_id in (kept, gone):
        matching.publish("community", "AssetRecorded", asset_id, {
            "asset_id": asset_id, "kind": "place", "subtype": "remiza", "village": "umer", "name": "Remiza",
            "capacity": 80, "accessible": False, "lendable": False})
    matching.publish("community", "AssetRemoved", gone, {"asset_id": gone})
    with matching.service.db.transaction() as session:
        projection.rebuild(session)
    with matching.service.db.engine.connect() as conn:
        assert conn.execute(sa.select(community_assets.c.asset_id)).scalars().all() == [kept]
