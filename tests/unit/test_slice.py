"""The walking skeleton on the in-memory bus: need + offer → proposal → notification."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
PERSON = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303", "villages": ["belno"]}


def need(**over):  # type: ignore[no-untyped-def]
    body = {"resident_ref": "R-017", "category": "ZAK", "village": "belno", "description": "Zakupy: ul. Leśna 5",
            "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
            "duration_minutes": 60}
    return {**body, **over}


def offer(**over):  # type: ignore[no-untyped-def]
    body = {"categories": ["ZAK", "TOW"], "available_from": TOMORROW.isoformat(),
            "available_to": (TOMORROW + timedelta(hours=8)).isoformat()}
    return {**body, **over}


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


def register_volunteer_with_offer(clients, **offer_over):  # type: ignore[no-untyped-def]
    volunteer = clients["volunteers"].post("/api/volunteers", json=PERSON)
    assert volunteer.status_code == 201, volunteer.json
    clients["volunteers"].post(f"/api/volunteers/{volunteer.json['id']}/credentials", json=WRITTEN_AGREEMENT)
    response = clients["volunteers"].post(f"/api/volunteers/{volunteer.json['id']}/offers", json=offer(**offer_over))
    assert response.status_code == 201, response.json
    return volunteer.json["id"]


def count(system, service: str, table: str) -> int:  # type: ignore[no-untyped-def]
    with system[service].db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_need_and_a_fitting_offer_end_in_a_notification_for_the_organiser(system, clients) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = register_volunteer_with_offer(clients)
    created = clients["needs"].post("/api/needs", json=need())
    assert created.status_code == 201
    system.pump()
    [proposal] = clients["matching"].get("/api/proposals").json
    assert (proposal["need_id"], proposal["volunteer_id"]) == (created.json["id"], volunteer_id)
    [note] = clients["notify"].get("/api/notifications").json
    assert note["need_id"] == created.json["id"] and note["recipient"] == "organizator"
    assert note["subject"] == "Nowa propozycja dopasowania: Zakupy i sprawunki, Belno"
    assert clients["needs"].get(f"/api/needs/{created.json['id']}").json["status"] == "proposed"
    page = clients["notify"].get("/").get_data(as_text=True)
    assert "Nowa propozycja dopasowania" in page
    assert count(system, "volunteers", "assignments") == 1


def test_an_offer_in_another_village_is_not_proposed(system, clients) -> None:  # type: ignore[no-untyped-def]
    register_volunteer_with_offer(clients, villages=["umer"])
    clients["needs"].post("/api/needs", json=need())
    system.pump()
    assert clients["matching"].get("/api/proposals").json == []
    assert clients["notify"].get("/api/notifications").json == []


def test_an_offer_arriving_after_the_need_still_finds_it(system, clients) -> None:  # type: ignore[no-untyped-def]
    clients["needs"].post("/api/needs", json=need())
    system.pump()
    register_volunteer_with_offer(clients)
    system.pump()
    assert len(clients["notify"].get("/api/notifications").json) == 1


def test_no_resident_or_volunteer_personal_data_travels_on_the_bus(system, clients) -> None:  # type: ignore[no-untyped-def]
    register_volunteer_with_offer(clients)
    clients["needs"].post("/api/needs", json=need())
    system.pump()
    everything = b"".join(m.value or b"" for topic in list(system.broker.logs)
                          for m in system.broker.messages(topic)).decode()
    assert everything, "the bus carried nothing"
    for secret in ("Wiśniewska", "zofia@example.pl", "601 202 303", "Leśna"):
        assert secret not in everything


@pytest.mark.parametrize("body, field", [
    ({}, "category"),
    (need(category="XYZ"), "category"),
    (need(village="Warszawa"), "village"),
    (need(duration_minutes="godzina"), "duration_minutes"),
    (need(window_end=(TOMORROW - timedelta(hours=1)).isoformat()), "window_end"),
    (need(window_start="2020-01-01T10:00:00+00:00", window_end="2020-01-01T12:00:00+00:00"), "window_end"),
    (need(window_start="2026-12-01T10:00:00"), "window_start"),
    (need(description="x" * 10_000), "description"),
    (need(duration_minutes=600, window_end=(TOMORROW + timedelta(hours=1)).isoformat()), "duration_minutes"),
])
def test_a_bad_need_gets_field_errors_and_nothing_is_stored_or_published(system, clients, body, field) -> None:  # type: ignore[no-untyped-def]
    response = clients["needs"].post("/api/needs", json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert count(system, "needs", "needs") == 0 and count(system, "needs", "outbox") == 0


@pytest.mark.parametrize("body, field", [
    ({**PERSON, "email": "nie-mail"}, "email"),
    ({**PERSON, "phone": "12"}, "phone"),
    ({**PERSON, "villages": ["Kraków"]}, "villages"),
    ({**PERSON, "name": "<script>alert(1)</script>" * 20}, "name"),
])
def test_a_bad_volunteer_gets_field_errors_and_nothing_is_stored(system, clients, body, field) -> None:  # type: ignore[no-untyped-def]
    response = clients["volunteers"].post("/api/volunteers", json=body)
    assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert count(system, "volunteers", "volunteers") == 0 and count(system, "volunteers", "outbox") == 0


def test_an_offer_ending_before_it_starts_is_refused(system, clients) -> None:  # type: ignore[no-untyped-def]
    volunteer = clients["volunteers"].post("/api/volunteers", json=PERSON).json
    response = clients["volunteers"].post(f"/api/volunteers/{volunteer['id']}/offers", json=offer(
        available_to=(TOMORROW - timedelta(hours=1)).isoformat()))
    assert response.status_code == 422 and "available_to" in response.json["errors"]["json"]
    assert count(system, "volunteers", "offers") == 0 and count(system, "volunteers", "outbox") == 1


def test_a_non_json_body_is_a_clear_error(clients) -> None:  # type: ignore[no-untyped-def]
    response = clients["needs"].post("/api/needs", data="category=ZAK", content_type="text/plain")
    assert response.status_code == 422


def test_injected_markup_is_shown_inert_on_the_staff_page(system, clients) -> None:  # type: ignore[no-untyped-def]
    register_volunteer_with_offer(clients)
    clients["needs"].post("/api/needs", json=need(resident_ref="<script>alert(1)</script>"))
    system.pump()
    page = clients["needs"].get("/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_every_service_publishes_its_openapi_document(clients) -> None:  # type: ignore[no-untyped-def]
    for name, client in clients.items():
        spec = client.get("/api/openapi.json")
        assert spec.status_code == 200, name
        assert json.loads(spec.data)["paths"], name
