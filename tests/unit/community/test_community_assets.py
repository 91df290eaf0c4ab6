"""The community assets register: places, leaders (with consent), equipment and transport, per village."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.community import model
from services.community.db import assets, audit_log
from wspolnota.db import Database

PLACE = {"kind": "place", "subtype": "swietlica", "village": "zagnansk", "name": "Świetlica wiejska",
         "capacity": 60, "accessible": True}


def test_a_place_needs_a_capacity_and_a_leader_needs_consent() -> None:
    assert model.asset_errors(PLACE) == {}
    assert model.asset_errors({**PLACE, "capacity": None}) == {"capacity": "Podaj, ile osób się mieści."}
    leader = {"kind": "leader", "subtype": "soltys", "village": "zagnansk", "name": "Sołtys Zagnańska"}
    assert model.asset_errors(leader) == {
        "consent_date": "Lidera można wpisać tylko za jego zgodą — podaj datę zgody."}
    assert model.asset_errors({**leader, "consent_date": "2026-01-10", "capacity": 5}) == {
        "capacity": "Lider nie ma pojemności — zostaw to pole puste."}
    assert set(model.asset_errors({"kind": "castle", "village": "atlantis", "name": " "})) == {
        "kind", "village", "name"}
    assert model.asset_errors({**PLACE, "subtype": "soltys"}) == {
        "subtype": "Ten typ nie pasuje do rodzaju zasobu."}


def test_the_organiser_adds_a_place_and_staff_see_it_per_village(organiser: Any, reader: Any) -> None:
    form = {"kind": "place", "subtype": "remiza", "village": "kajetanow", "name": "Remiza OSP Kajetanów",
            "capacity": "80", "accessible": "y", "accessibility_note": "podjazd od strony parkingu"}
    response = organiser.post("/zasoby/nowy", data=form)
    assert response.status_code == 302
    page = reader.get("/zasoby?village=kajetanow").get_data(as_text=True)
    assert "Remiza OSP Kajetanów" in page and "podjazd od strony parkingu" in page
    assert "Remiza OSP Kajetanów" not in reader.get("/zasoby?village=zagnansk").get_data(as_text=True)
    assert reader.post("/zasoby/nowy", data=form).status_code == 403  # a social worker reads only


def test_bad_input_is_answered_in_polish_beside_the_fields_and_nothing_is_stored(organiser: Any,
                                                                                 db: Database) -> None:
    response = organiser.post("/zasoby/nowy", data={"kind": "leader", "village": "zagnansk", "name": "Jan",
                                                    "capacity": "dużo"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Podaj liczbę całkowitą." in page
    response = organiser.post("/zasoby/nowy", data={"kind": "leader", "village": "zagnansk", "name": "Jan"})
    assert response.status_code == 422
    assert "Lidera można wpisać tylko za jego zgodą" in response.get_data(as_text=True)
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar() == 0


def test_a_leader_who_withdraws_consent_is_blanked_and_the_erasure_audited(organiser: Any, db: Database) -> None:
    organiser.post("/zasoby/nowy", data={"kind": "leader", "subtype": "kgw", "village": "zagnansk",
                                         "name": "Maria Zielińska", "contact": "600 100 200",
                                         "consent_date": "2026-01-10"})
    with db.engine.connect() as conn:
        asset_id = conn.execute(sa.select(assets.c.id)).scalar_one()
    assert organiser.post(f"/zasoby/{asset_id}/usun").status_code == 302
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(assets)).mappings().one()
        actions = conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    assert row["active"] is False and "Zielińska" not in row["name"] and row["contact"] == ""
    assert actions == ["create", "erase"]
    assert "Zielińska" not in organiser.get("/zasoby").get_data(as_text=True)
    assert organiser.get(f"/zasoby/{asset_id}").status_code == 404
