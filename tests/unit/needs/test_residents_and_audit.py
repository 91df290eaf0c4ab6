"""Residents' personal data stays here, has a legal basis, and every read of it is audited."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.needs.conftest import resident_body
from wspolnota import localtime
from wspolnota.testing import signed_in, signed_out


def test_a_resident_gets_a_pseudonym_and_lists_show_only_that(needs) -> None:  # type: ignore[no-untyped-def]
    created = needs.client.post("/api/residents", json=resident_body())
    assert created.status_code == 201, created.json
    assert created.json["ref"].startswith("M-") and created.json["legal_basis"] == "art6_1_e"
    listed = needs.client.get("/api/residents").json
    assert listed == [{"id": created.json["id"], "ref": created.json["ref"], "village": "lekomin"}]
    assert "Przykładowa" not in needs.page("/residents")


def test_every_read_of_a_residents_card_is_audited_with_who_what_and_when(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    signed_in(needs.client, "osl", "osl.kowalska")
    needs.client.get(f"/api/residents/{resident['id']}")
    signed_out(needs.client)
    needs.client.get(f"/residents/{resident['id']}")
    reads = [a for a in needs.rows("audit_log") if a["action"] == "read"]
    assert [(a["actor"], a["subject_id"]) for a in reads] == [
        ("osl.kowalska", resident["id"]), ("pracownik CUS (bez logowania)", resident["id"])]
    assert all("name" in a["fields"] and "phone" in a["fields"] and a["at"] for a in reads)
    assert reads[0]["purpose"] == f"GET /api/residents/{resident['id']}"


def test_the_card_shows_who_has_seen_it(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    signed_in(needs.client, "social_worker", "as.nowak")
    needs.client.get(f"/api/residents/{resident['id']}")
    card = needs.page(f"/residents/{resident['id']}")
    assert "Genowefa Przykładowa" in card and "as.nowak" in card and "rejestrze odczytów" in card


def test_reading_a_needs_description_is_audited_too(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    needs.client.get(f"/api/needs/{need['id']}")
    assert [(a["subject"], a["fields"]) for a in needs.rows("audit_log")] == [("need", "description")]


def test_no_resident_data_ever_reaches_the_bus(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    needs.register(resident_ref=resident["ref"])
    needs.published()
    everything = b"".join(m.value or b"" for t in list(needs.system.broker.logs)
                          for m in needs.system.broker.messages(t)).decode()
    assert resident["ref"] in everything
    for secret in ("Genowefa", "Wymyślona", "600 000 001"):
        assert secret not in everything


@pytest.mark.parametrize("over, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 10_000}, "name"),
    ({"village": "Kielce"}, "village"),
    ({"phone": "12"}, "phone"),
    ({"phone": ""}, "phone"),  # preferred channel is the phone
    ({"preferred_channel": "email"}, "email"),
    ({"email": "nie-mail", "preferred_channel": "email"}, "email"),
    ({"legal_basis": "bo tak"}, "legal_basis"),
    ({"legal_basis": "consent"}, "consent_date"),
    ({"legal_basis": "consent", "consent_date": (localtime.today() + timedelta(days=3)).isoformat()}, "consent_date"),
    ({"ref": "'; DROP TABLE residents; --"}, "ref"),
])
def test_a_bad_resident_gets_field_errors_and_nothing_is_stored(needs, over, field) -> None:  # type: ignore[no-untyped-def]
    response = needs.client.post("/api/residents", json=resident_body(**over))
    assert response.status_code == 422 and field in response.json["errors"]["json"], response.json
    assert needs.count("residents") == 0 and needs.count("audit_log") == 0


def test_consent_is_recorded_with_its_date(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.client.post("/api/residents", json=resident_body(legal_basis="consent",
                                                                      consent_date="2026-10-01"))
    assert response.status_code == 201 and response.json["consent_date"] == "2026-10-01"


def test_a_pseudonym_is_unique(needs) -> None:  # type: ignore[no-untyped-def]
    assert needs.client.post("/api/residents", json=resident_body(ref="M-ABC123")).status_code == 201
    again = needs.client.post("/api/residents", json=resident_body(ref="M-ABC123"))
    assert again.status_code == 422 and "ref" in again.json["errors"]["json"]
    assert needs.count("residents") == 1


def test_a_resident_can_be_corrected_and_the_change_is_audited(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    response = needs.client.patch(f"/api/residents/{resident['id']}", json={"address": "ul. Inna 2"})
    assert response.status_code == 200 and response.json["address"] == "ul. Inna 2"
    assert [a["action"] for a in needs.rows("audit_log")] == ["create", "update"]
