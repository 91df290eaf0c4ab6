"""The diagnosis report: needs beside providers from events, assets, survey results and conclusions, versioned."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from contracts import needs as need_contract
from contracts import volunteers as volunteer_contract
from services.community import handlers, surveys
from services.community.db import diagnoses
from wspolnota.db import Database
from wspolnota.transport import new_event
from wspolnota.transport.envelope import Catalog

NEED = "11111111-1111-4111-8111-111111111111"
NEED2 = "22222222-2222-4222-8222-222222222222"
VOL = "33333333-3333-4333-8333-333333333333"


def deliver(app: Flask, source: str, event_type: str, data: dict[str, Any]) -> None:
    parts = app.extensions["wspolnota.parts"]
    catalog = Catalog(need_contract.EVENTS) if source == "needs" else Catalog(volunteer_contract.EVENTS)
    event = new_event(catalog, source, event_type, data.get("need_id") or data["volunteer_id"], data)
    with parts.db.transaction() as session:
        parts.handlers[event.type](session, event)


def need(need_id: str, village: str) -> dict[str, Any]:
    start = datetime(2026, 3, 5, 9, tzinfo=UTC)
    return {"need_id": need_id, "resident_ref": "M-ABCDEF", "category": "ZAK", "village": village,
            "window_start": start.isoformat(), "window_end": start.replace(hour=12).isoformat(),
            "duration_minutes": 60, "urgent": False, "slots": 1}


def test_the_service_follows_needs_and_providers_by_village(app: Flask) -> None:
    assert set(app.extensions["wspolnota.parts"].handlers) <= handlers.CONSUMES.types()
    deliver(app, "needs", "NeedRegistered", need(NEED, "zagnansk"))
    deliver(app, "needs", "NeedRegistered", need(NEED2, "zagnansk"))
    deliver(app, "needs", "NeedCompleted", {"need_id": NEED2, "hours": 1.0})
    deliver(app, "volunteers", "VolunteerRegistered", {"volunteer_id": VOL, "provider_type": "volunteer",
                                                       "villages": ["zagnansk", "kajetanow"]})
    deliver(app, "volunteers", "VolunteerRegistered", {"volunteer_id": VOL, "provider_type": "volunteer",
                                                       "villages": ["zagnansk", "kajetanow"]})  # again: idempotent
    db: Database = app.extensions["db"]
    from services.community import diagnosis

    with db.engine.connect() as conn:
        rows = {r["village"]: r for r in diagnosis.needs_beside_providers(conn, None)}
    assert rows["zagnansk"] == {"village": "zagnansk", "open": 1, "completed": 1, "cancelled": 0, "providers": 1}
    assert rows["kajetanow"]["providers"] == 1 and rows["kajetanow"]["open"] == 0
    deliver(app, "volunteers", "VolunteerPaused", {"volunteer_id": VOL})
    with db.engine.connect() as conn:
        assert diagnosis.needs_beside_providers(conn, "zagnansk")[0]["providers"] == 0
    deliver(app, "volunteers", "VolunteerErased", {"volunteer_id": VOL})


def test_a_diagnosis_is_versioned_and_earlier_versions_stay_readable(app: Flask, organiser: Any, reader: Any,
                                                                       db: Database) -> None:
    organiser.post("/zasoby/nowy", data={"kind": "place", "subtype": "swietlica", "village": "zagnansk",
                                         "name": "Świetlica w Zagnańsku", "capacity": "50"})
    organiser.post("/zasoby/nowy", data={"kind": "leader", "subtype": "soltys", "village": "zagnansk",
                                         "name": "Bronisław Testowy", "consent_date": "2026-01-10"})
    parts = app.extensions["wspolnota.parts"]
    with db.transaction() as session:
        survey = surveys.create_survey(session, {"title": "Potrzeby seniorów"})
        question = surveys.add_question(session, survey["id"], {"kind": "single", "text": "Czy potrzebny jest bus?",
                                                                "required": True, "options": ["tak", "nie"]})
        surveys.add_question(session, survey["id"], {"kind": "text", "text": "Uwagi"})
        surveys.publish(session, survey["id"])
        surveys.submit_response(session, survey["id"], "zagnansk", {question["id"]: 0}, channel="paper")
        surveys.submit_response(session, survey["id"], "kajetanow", {question["id"]: 1}, channel="paper")
    deliver(app, "needs", "NeedRegistered", need(NEED, "zagnansk"))
    first = organiser.post("/diagnoza", data={"scope": "zagnansk", "title": "Diagnoza Zagnańska 2026",
                                              "conclusions": "Brakuje transportu.\nŚwietlica jest za mała."})
    assert first.status_code == 302
    page = reader.get(first.headers["Location"]).get_data(as_text=True)
    assert "Diagnoza Zagnańska 2026" in page and "Brakuje transportu." in page and "<svg" in page
    assert "Świetlica w Zagnańsku" in page and 'data-version="1"' in page
    assert "Bronisław Testowy" not in page  # a leader is frozen by role only (consent can be withdrawn)
    with db.engine.connect() as conn:
        snap = conn.execute(sa.select(diagnoses.c.snapshot)).scalar_one()
    assert snap["surveys"][0]["responses"] == 1  # the village's answers only
    assert snap["needs_providers"] == [{"village": "zagnansk", "open": 1, "completed": 0, "cancelled": 0,
                                        "providers": 0}]
    organiser.post("/zasoby/nowy", data={"kind": "equipment", "village": "zagnansk", "name": "Namiot 6x3",
                                         "lendable": "y"})
    second = organiser.post("/diagnoza", data={"scope": "zagnansk", "title": "Diagnoza Zagnańska 2026 — korekta",
                                               "conclusions": "Namiot jest do wypożyczenia."})
    newer = reader.get(second.headers["Location"]).get_data(as_text=True)
    assert 'data-version="2"' in newer and "Namiot 6x3" in newer
    older = reader.get(first.headers["Location"]).get_data(as_text=True)
    assert "Namiot 6x3" not in older and "To wcześniejsza wersja diagnozy." in older  # frozen as written
    gmina = organiser.post("/diagnoza", data={"scope": "gmina", "title": "Diagnoza gminy"})
    assert 'data-version="1"' in reader.get(gmina.headers["Location"]).get_data(as_text=True)
    assert parts is not None


def test_a_diagnosis_form_with_errors_stores_nothing(organiser: Any, reader: Any, db: Database) -> None:
    response = organiser.post("/diagnoza", data={"scope": "atlantyda", "title": ""})
    assert response.status_code == 422 and "To pole jest wymagane." in response.get_data(as_text=True)
    assert reader.post("/diagnoza", data={"scope": "gmina", "title": "X"}).status_code == 403
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(diagnoses)).scalar() == 0
