"""The community's assets register reaches matching's village map on the in-memory bus: a place is shown with
its kind and accessibility, an edit replaces it, a removal takes it off, a local leader is only counted (no name,
role or contact on the bus), and `republish` brings assets recorded before the events existed."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.community import assets
from services.community.db import assets as asset_table
from services.matching.db import community_assets
from wspolnota.testing import InMemorySystem

HALL = {"kind": "place", "subtype": "swietlica", "village": "kajetanow", "name": "Świetlica w Kajetanowie",
        "capacity": 60, "accessible": True}
STATION = {"kind": "place", "subtype": "remiza", "village": "kajetanow", "name": "Remiza OSP Kajetanów",
           "capacity": 80, "accessible": False}
LEADER = {"kind": "leader", "subtype": "soltys", "village": "kajetanow", "name": "Jadwiga Nowakowska",
          "contact": "tel. 601 100 200", "consent_date": date(2026, 3, 1)}


@pytest.fixture
def system(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = InMemorySystem(tmp_path, services=("community", "matching"))
    yield s
    s.close()


@pytest.fixture
def map_client(system):  # type: ignore[no-untyped-def]
    from services.matching.app import create_app

    app = create_app({"DATABASE_URL": system["matching"].db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "SECRET_KEY": "test"})
    yield app.test_client()
    app.extensions["db"].dispose()


def add(system, data):  # type: ignore[no-untyped-def]
    community = system["community"]
    with community.db.transaction() as session:
        row = assets.add_asset(session, community.outbox, data, actor="test")
    system.pump()
    return row["id"]


def known(system) -> dict[str, sa.RowMapping]:  # type: ignore[no-untyped-def]
    with system["matching"].db.engine.connect() as conn:
        return {r["asset_id"]: r for r in conn.execute(sa.select(community_assets)).mappings()}


def kajetanow_row(page: str) -> list[str]:
    [row] = re.findall(r'<th scope="row">Kajetanów</th>(.*?)</tr>', page, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_places_appear_on_the_map_by_kind_with_the_accessible_ones_marked(system, map_client) -> None:  # type: ignore[no-untyped-def]
    add(system, HALL)
    add(system, STATION)
    page = map_client.get("/mapa").get_data(as_text=True)
    assert kajetanow_row(page)[3:7] == ["2", "1", "remiza OSP: 1, świetlica wiejska: 1", "0"]
    assert 'class="marker places"' in page and "♿1" in page
    assert "miejsca spotkań 2 (remiza OSP: 1, świetlica wiejska: 1), dostępne 1" in page  # the text alternative


def test_an_edit_replaces_the_place_and_a_removal_takes_it_off(system, map_client) -> None:  # type: ignore[no-untyped-def]
    hall = add(system, HALL)
    community = system["community"]
    with community.db.transaction() as session:
        assets.update_asset(session, community.outbox, hall, {"accessible": False, "capacity": 40})
    system.pump()
    assert known(system)[hall]["accessible"] is False and known(system)[hall]["capacity"] == 40
    with community.db.transaction() as session:
        assets.remove_asset(session, community.outbox, hall)
    system.pump()
    assert known(system) == {}
    assert kajetanow_row(map_client.get("/mapa").get_data(as_text=True))[3] == "0"


def test_a_local_leader_is_counted_but_never_named_on_the_bus(system, map_client) -> None:  # type: ignore[no-untyped-def]
    leader = add(system, LEADER)
    [row] = known(system).values()
    assert (row["kind"], row["name"], row["subtype"], row["capacity"]) == ("leader", None, "", None)
    assert kajetanow_row(map_client.get("/mapa").get_data(as_text=True))[-1] == "1"
    community = system["community"]
    with community.db.transaction() as session:
        assets.remove_asset(session, community.outbox, leader)  # consent withdrawn
    system.pump()
    assert known(system) == {}
    everything = b"".join(m.value or b"" for topic in list(system.broker.logs)
                          for m in system.broker.messages(topic)).decode()
    for secret in ("Nowakowska", "601 100 200", "soltys"):
        assert secret not in everything


def test_republish_brings_assets_recorded_before_the_events_and_twice_changes_nothing(system) -> None:  # type: ignore[no-untyped-def]
    community = system["community"]
    with community.db.transaction() as session:  # as if recorded before the events existed: straight into the table
        session.execute(sa.insert(asset_table).values(
            id="00000000-0000-4000-8000-0000000000a1", kind="place", village="belno", name="Szkoła w Belnie",
            subtype="szkola", capacity=200, accessible=True, lendable=False, active=True,
            created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    assert known(system) == {}
    with community.db.transaction() as session:
        assert assets.republish(session, community.outbox) == 1
    system.pump()
    assert assets.main(["republish", "--database-url", community.db.url]) == 0  # the command, a second time
    system.pump()
    [row] = known(system).values()
    assert (row["village"], row["name"], row["accessible"]) == ("belno", "Szkoła w Belnie", True)
