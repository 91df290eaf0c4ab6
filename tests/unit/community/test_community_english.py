"""The community staff pages read in English with no Polish interface text left (data stays as typed)."""
from __future__ import annotations

from typing import Any

from services.community import assets, diagnosis, surveys
from services.community.handlers import PUBLISHES
from tests.unit.test_i18n import polish_left
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox


def test_the_community_pages_in_english_keep_no_polish_interface_text(organiser: Any, db: Database) -> None:
    with db.transaction() as session:
        survey = surveys.create_survey(session, {"title": "Survey 2026", "villages": ["zagnansk"]})
        question = surveys.add_question(session, survey["id"], {"kind": "single", "text": "Bus?", "required": True,
                                                                "options": ["yes", "no"]})
        surveys.add_question(session, survey["id"], {"kind": "scale", "text": "Rating", "min_value": 1,
                                                     "max_value": 5})
        surveys.add_question(session, survey["id"], {"kind": "text", "text": "Notes"})
        surveys.publish(session, survey["id"])
        surveys.submit_response(session, survey["id"], "zagnansk", {question["id"]: 0}, channel="paper")
        assets.add_asset(session, Outbox(db, PUBLISHES), {"kind": "place", "subtype": "swietlica", "village": "zagnansk", "name": "Hall",
                                   "capacity": 40, "accessible": True})
        version = diagnosis.create_version(session, {"scope": "gmina", "title": "Diagnosis", "conclusions": "Ok"})
    village_names = {"Zagnańsk", "Kajetanów", "Samsonów", "Tumlin", "Jaworze", "Umer", "Belno", "Goleniawy",
                     "Kołomań", "Lekomin", "Długojów", "Chrusty", "Gruszka", "Jasle", "Janaszów", "Szałas",
                     "Samsonów-Piechotne", "Zachełmie", "Bartków", "Borowa Góra", "Siodła", "Osiedle"}
    pages = ["/", "/zasoby", "/zasoby/nowy", "/ankiety", "/ankiety/nowa", f"/ankiety/{survey['id']}",
             f"/ankiety/{survey['id']}/papierowe", f"/ankiety/{survey['id']}/wyniki",
             f"/ankiety/{survey['id']}/kontakty", "/diagnoza", f"/diagnoza/{version['id']}"]
    for path in pages:
        response = organiser.get(path + "?lang=en")
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert '<html lang="en">' in page, path
        left = [w for w in polish_left(page) if w not in village_names]
        assert left == [], (path, left)
