"""The community JSON API: the same rules as the pages, field errors as 422 JSON, nothing half-written."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.community.db import assets, survey_responses, surveys
from wspolnota.db import Database


def test_assets_through_the_api(organiser: Any, reader: Any, db: Database) -> None:
    created = organiser.post("/api/assets", json={"kind": "transport", "subtype": "bus", "village": "zagnansk",
                                                  "name": "Bus gminny", "capacity": 9, "lendable": True})
    assert created.status_code == 201 and created.json["capacity"] == 9
    assert [a["name"] for a in reader.get("/api/assets?kind=transport").json] == ["Bus gminny"]
    bad = organiser.post("/api/assets", json={"kind": "leader", "village": "atlantyda", "name": "X", "extra": 1})
    assert bad.status_code == 422
    assert bad.json["errors"]["json"]["village"] == ["Nieznana miejscowość: atlantyda."]
    assert bad.json["errors"]["json"]["extra"] == ["Nieznane pole."]
    rule = organiser.post("/api/assets", json={"kind": "leader", "village": "zagnansk", "name": "Sołtys"})
    assert rule.status_code == 422
    assert rule.json["errors"]["json"] == {
        "consent_date": ["Lidera można wpisać tylko za jego zgodą — podaj datę zgody."]}
    patched = organiser.patch(f"/api/assets/{created.json['id']}", json={"capacity": 0})
    assert patched.status_code == 422 and patched.json["errors"]["json"]["capacity"]
    assert reader.post("/api/assets", json={}).status_code == 403
    assert organiser.get("/api/assets/nie-ma").status_code == 404
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar() == 1


def test_a_survey_through_the_api(organiser: Any, db: Database) -> None:
    missing = organiser.post("/api/surveys", json={"villages": ["zagnansk"]})
    assert missing.status_code == 422 and missing.json["errors"]["json"]["title"] == ["To pole jest wymagane."]
    survey = organiser.post("/api/surveys", json={"title": "Transport", "villages": ["zagnansk"]}).json
    bad_q = organiser.post(f"/api/surveys/{survey['id']}/questions", json={"kind": "scale", "text": "Ocena",
                                                                           "min_value": 3, "max_value": 2})
    assert bad_q.status_code == 422 and "max_value" in bad_q.json["errors"]["json"]
    q = organiser.post(f"/api/surveys/{survey['id']}/questions", json={
        "kind": "single", "text": "Czy jeździ Pan/Pani do Kielc?", "required": True,
        "options": ["codziennie", "czasem", "nigdy"]}).json
    early = organiser.post(f"/api/surveys/{survey['id']}/responses", json={"village": "zagnansk",
                                                                           "answers": {q["id"]: 0}})
    assert early.status_code == 409 and "nie została jeszcze opublikowana" in early.json["message"]
    assert organiser.post(f"/api/surveys/{survey['id']}/publish").json["status"] == "published"
    wrong = organiser.post(f"/api/surveys/{survey['id']}/responses", json={"village": "kajetanow",
                                                                           "answers": {q["id"]: 5}})
    assert wrong.status_code == 422
    assert wrong.json["errors"]["json"] == {"village": ["Wybierz swoją miejscowość z listy."],
                                            q["id"]: ["Wybierz odpowiedź z listy."]}
    ok = organiser.post(f"/api/surveys/{survey['id']}/responses", json={"village": "zagnansk",
                                                                        "answers": {q["id"]: 1}})
    assert ok.status_code == 201 and ok.json["channel"] == "paper"
    results = organiser.get(f"/api/surveys/{survey['id']}/results").json
    assert results["responses"] == 1 and results["questions"][0]["counts"] == [0, 1, 0]
    closed = organiser.post(f"/api/surveys/{survey['id']}/close")
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert organiser.post(f"/api/surveys/{survey['id']}/close").status_code == 409
    assert [s["responses"] for s in organiser.get("/api/surveys").json] == [1]
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(survey_responses)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(surveys)).scalar() == 1


def test_a_diagnosis_through_the_api(organiser: Any, reader: Any) -> None:
    bad = organiser.post("/api/diagnoses", json={"scope": "atlantyda", "title": ""})
    assert bad.status_code == 422 and set(bad.json["errors"]["json"]) == {"scope", "title"}
    first = organiser.post("/api/diagnoses", json={"scope": "gmina", "title": "Diagnoza 2026"}).json
    second = organiser.post("/api/diagnoses", json={"scope": "gmina", "title": "Diagnoza 2026 (2)",
                                                    "conclusions": "Wnioski"}).json
    assert (first["version"], second["version"]) == (1, 2)
    assert reader.get(f"/api/diagnoses/{first['id']}").json["snapshot"]["scope"] == "gmina"
    assert len(reader.get("/api/diagnoses").json) == 2
    assert reader.post("/api/diagnoses", json={"scope": "gmina", "title": "X"}).status_code == 403
