"""The volunteer rates a visit they confirmed: one of three codes and an optional note, once per visit; the note
stays in the volunteers service and FeedbackGiven carries the score only; "potrzebna interwencja" leads to the
concern form of that visit with "incident" chosen; bad input or someone else's visit changes nothing."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.unit.volunteers.conftest import NOW, Outbox
from tests.unit.volunteers.test_volunteers_sign_in import Volunteers, text
from tests.unit.volunteers.test_volunteers_visits import NEED, event, fold, offered, post
from wspolnota.db import Database


@pytest.fixture
def v(db: Database) -> Volunteers:
    return Volunteers(db, CENTRE_PHONE="+48 41 300 00 00")


@pytest.fixture
def me(v: Volunteers) -> tuple[str, Any]:
    volunteer_id = v.register()
    return volunteer_id, v.signed_in_client(volunteer_id)


def confirmed_visit(v: Volunteers, volunteer_id: str, client: Any) -> str:
    match_id = str(uuid.uuid4())
    fold(v.db, offered(match_id, volunteer_id, NOW - timedelta(hours=3)),
         event("MatchAccepted", match_id, volunteer_id, NOW))
    assert post(client, f"/wolontariusz/wizyty/{match_id}/potwierdzenie",
                {"odbyla": "tak", "minuty": "60"}).status_code == 302
    return match_id


def test_a_confirmed_visit_is_rated_once_and_only_the_score_travels(v: Volunteers, me: tuple[str, Any],
                                                                   outbox: Outbox) -> None:
    volunteer_id, client = me
    match_id = confirmed_visit(v, volunteer_id, client)
    assert "Jak poszła wizyta?" in text(client.get("/wolontariusz/wizyty"))
    done = post(client, f"/wolontariusz/wizyty/{match_id}/ocena",
                {"ocena": "difficulties", "notatka": "Pan Zenon był zdenerwowany, kłótnia z sąsiadem."})
    assert done.status_code == 302
    again = post(client, f"/wolontariusz/wizyty/{match_id}/ocena", {"ocena": "good"})
    assert again.status_code == 409 and "już oceniona" in text(again)
    [given] = [d for t, _, d in outbox.all() if t == "FeedbackGiven"]
    assert given == {"feedback_id": given["feedback_id"], "match_id": match_id, "need_id": NEED,
                     "source": "volunteer", "score": 2}
    assert "Zenon" not in outbox.raw() and "kłótnia" not in outbox.raw()
    assert "Twoja ocena: były trudności" in text(client.get("/wolontariusz/wizyty"))


def test_intervention_needed_leads_to_the_incident_report_of_that_visit(v: Volunteers, me: tuple[str, Any],
                                                                        outbox: Outbox) -> None:
    volunteer_id, client = me
    match_id = confirmed_visit(v, volunteer_id, client)
    answer = post(client, f"/wolontariusz/wizyty/{match_id}/ocena", {"ocena": "intervention"})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/wolontariusz/wizyty/{match_id}/niepokoj?rodzaj=incident")
    form = client.get(answer.headers["Location"]).get_data(as_text=True)
    [incident] = re.findall(r'<input[^>]*value="incident"[^>]*>', form)
    assert "checked" in incident
    assert [d["score"] for t, _, d in outbox.all() if t == "FeedbackGiven"] == [3]


@pytest.mark.parametrize("fields, status, message", [
    ({"ocena": "super"}, 422, "Wybierz, jak poszła wizyta."),
    ({"ocena": ""}, 422, "Wybierz, jak poszła wizyta."),
    ({"ocena": "good", "notatka": "x" * 1001}, 422, "najwyżej 1000 znaków"),
])
def test_bad_input_gets_a_polish_message_and_nothing_is_written(v: Volunteers, me: tuple[str, Any], outbox: Outbox,
                                                                fields: dict[str, str], status: int,
                                                                message: str) -> None:
    volunteer_id, client = me
    match_id = confirmed_visit(v, volunteer_id, client)
    answer = post(client, f"/wolontariusz/wizyty/{match_id}/ocena", fields)
    assert answer.status_code == status and message in text(answer)
    assert "FeedbackGiven" not in outbox.types()


def test_a_visit_not_yet_happened_or_someone_elses_cannot_be_rated(v: Volunteers, me: tuple[str, Any],
                                                                  outbox: Outbox) -> None:
    volunteer_id, client = me
    future = str(uuid.uuid4())
    fold(v.db, offered(future, volunteer_id, NOW + timedelta(days=1)), event("MatchAccepted", future, volunteer_id, NOW))
    assert post(client, f"/wolontariusz/wizyty/{future}/ocena", {"ocena": "good"}).status_code == 409
    assert post(client, f"/wolontariusz/wizyty/{uuid.uuid4()}/ocena", {"ocena": "good"}).status_code == 404
    assert client.post(f"/wolontariusz/wizyty/{future}/ocena", data={"ocena": "good"}).status_code == 400
    assert "FeedbackGiven" not in outbox.types()
