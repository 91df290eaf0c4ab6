"""A concern about a resident reaches staff at once without its text ever leaving the needs service: a volunteer
reports only about their own accepted visit (or in general), a retried report is stored and published once,
bad input gets field errors and nothing is written, every read of the text and the acknowledgement is audited."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.needs.conftest import VOLUNTEER, NeedsHarness, resident_body
from wspolnota.testing import signed_in

TOKEN = {"Authorization": "Bearer dev-only-internal-token", "X-Service-Name": "volunteers"}
TEXT = "Pani Genowefa nie otwierała drzwi, a w oknie paliło się światło od dwóch dni."
MATCH = "33333333-4444-4555-8666-777777777777"


def accepted_visit(needs: NeedsHarness) -> dict[str, Any]:
    resident = needs.client.post("/api/residents", json=resident_body()).json
    need = needs.register(resident_ref=resident["ref"])
    needs.match_event("MatchProposed", need["id"], MATCH)
    needs.match_event("MatchAccepted", need["id"], MATCH)
    return {"resident": resident, "need": need}


def send(needs: NeedsHarness, **over: Any) -> Any:
    body = {"id": str(uuid.uuid4()), "text": TEXT, "volunteer_id": VOLUNTEER, "match_id": MATCH, **over}
    return needs.client.post("/internal/concerns", json=body, headers=TOKEN)


def everything_on_the_bus(needs: NeedsHarness) -> str:
    needs.published()
    return b"".join(m.value or b"" for t in list(needs.system.broker.logs)
                    for m in needs.system.broker.messages(t)).decode()


def test_a_volunteers_concern_about_their_visit_is_stored_and_published_without_its_text(needs) -> None:  # type: ignore[no-untyped-def]
    visit = accepted_visit(needs)
    concern_id = str(uuid.uuid4())
    answer = send(needs, id=concern_id)
    assert answer.status_code == 201, answer.json
    assert answer.json == {"id": concern_id, "created": True}
    [event] = needs.published("ConcernReported")
    assert event.data == {"concern_id": concern_id, "need_id": visit["need"]["id"],
                          "resident_ref": visit["resident"]["ref"], "urgent": True, "kind": "concern"}
    bus = everything_on_the_bus(needs)
    assert "Genowefa" not in bus and "światło" not in bus and "drzwi" not in bus
    kept = " ".join(str(r["body"]) for r in needs.rows("outbox"))
    assert concern_id in kept and "światło" not in kept and TEXT not in kept
    [row] = needs.rows("concerns")
    assert row["text"] == TEXT and row["reported_by"] == f"wolontariusz:{VOLUNTEER}"
    assert ("create", "concern", f"wolontariusz:{VOLUNTEER}") in [
        (a["action"], a["subject"], a["actor"]) for a in needs.rows("audit_log")]


def test_a_retried_report_is_stored_and_published_once(needs) -> None:  # type: ignore[no-untyped-def]
    accepted_visit(needs)
    concern_id = str(uuid.uuid4())
    assert send(needs, id=concern_id).status_code == 201
    again = send(needs, id=concern_id)
    assert again.status_code == 200 and again.json == {"id": concern_id, "created": False}
    assert needs.count("concerns") == 1 and len(needs.published("ConcernReported")) == 1
    other = send(needs, id=concern_id, text="Inna treść pod tym samym numerem.")
    assert other.status_code == 409 and needs.count("concerns") == 1


def test_a_volunteer_reports_only_about_a_visit_they_were_accepted_for(needs) -> None:  # type: ignore[no-untyped-def]
    accepted_visit(needs)
    someone_else = "99999999-2222-4333-8444-555555555555"
    assert send(needs, volunteer_id=someone_else).status_code == 409
    assert send(needs, match_id="00000000-0000-4000-8000-000000000000").status_code == 409
    assert needs.count("concerns") == 0 and needs.published("ConcernReported") == []


def test_a_general_concern_names_no_resident_and_goes_to_the_organiser(needs) -> None:  # type: ignore[no-untyped-def]
    answer = send(needs, match_id=None)
    assert answer.status_code == 201
    [event] = needs.published("ConcernReported")
    assert event.data["resident_ref"] is None and event.data["need_id"] is None
    recipient = needs.client.get(f"/internal/concerns/{answer.json['id']}/recipient", headers=TOKEN)
    assert recipient.json["email"] == ""


@pytest.mark.parametrize("over, field", [
    ({"text": ""}, "text"), ({"text": "   "}, "text"), ({"text": "x" * 4001}, "text"), ({"text": 5}, "text"),
    ({"id": "nie-uuid"}, "id"), ({"volunteer_id": "ktoś"}, "volunteer_id"), ({"urgent": "tak"}, "urgent"),
    ({"match_id": ["a"]}, "match_id"),
])
def test_bad_input_gets_a_field_error_and_nothing_is_written(needs, over: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    accepted_visit(needs)
    answer = send(needs, **over)
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"]["json"]
    assert needs.count("concerns") == 0 and needs.published("ConcernReported") == []


def test_the_internal_api_wants_the_service_token(needs) -> None:  # type: ignore[no-untyped-def]
    body = {"id": str(uuid.uuid4()), "text": TEXT, "volunteer_id": VOLUNTEER}
    assert needs.client.post("/internal/concerns", json=body).status_code == 401
    assert needs.client.post("/internal/concerns", json=body,
                             headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert needs.client.post("/internal/concerns", data="not json", headers=TOKEN).status_code == 422
    assert needs.count("concerns") == 0


def test_the_social_worker_is_assigned_on_the_residents_card_audited_and_found_at_send_time(needs) -> None:  # type: ignore[no-untyped-def]
    visit = accepted_visit(needs)
    resident_id = visit["resident"]["id"]
    url = f"/residents/{resident_id}/pracownik-socjalny"
    bad = needs.submit(url, {"social_worker_email": "nie-adres"})
    assert bad.status_code == 422 and "Podaj adres e-mail" in bad.get_data(as_text=True)
    assert needs.submit(url, {"social_worker_email": "A.Nowak@cus.example.pl"}).status_code == 302
    assert ("update", "resident", "social_worker_email") in [
        (a["action"], a["subject"], a["fields"]) for a in needs.rows("audit_log")]
    concern = send(needs).json
    recipient = needs.client.get(f"/internal/concerns/{concern['id']}/recipient", headers=TOKEN)
    assert recipient.status_code == 200 and recipient.json["email"] == "a.nowak@cus.example.pl"
    assert needs.client.get(f"/internal/concerns/{concern['id']}/recipient").status_code == 401
    assert needs.client.get(f"/internal/concerns/{uuid.uuid4()}/recipient", headers=TOKEN).status_code == 404


def test_staff_read_the_concern_audited_and_acknowledge_it_once(needs) -> None:  # type: ignore[no-untyped-def]
    accepted_visit(needs)
    concern = send(needs).json
    listed = needs.client.get("/api/concerns").json
    assert [c["id"] for c in listed] == [concern["id"]] and "text" not in listed[0]
    assert TEXT not in needs.client.get("/api/concerns").get_data(as_text=True)
    signed_in(needs.client, "social_worker", "as.nowak")
    page = needs.page(f"/zgloszenia/{concern['id']}")
    assert "w oknie paliło się światło" in page
    assert ("read", "concern", "as.nowak") in [(a["action"], a["subject"], a["actor"])
                                               for a in needs.rows("audit_log")]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page)
    assert token is not None
    assert needs.client.post(f"/zgloszenia/{concern['id']}/przyjete").status_code == 400
    done = needs.client.post(f"/zgloszenia/{concern['id']}/przyjete", data={"csrf_token": token.group(1)})
    assert done.status_code == 302
    [row] = needs.rows("concerns")
    assert row["acknowledged_by"] == "as.nowak" and row["acknowledged_at"] is not None
    assert needs.client.get("/api/concerns").json == []
    assert len(needs.client.get("/api/concerns?status=all").json) == 1
    assert needs.client.get("/api/concerns?status=zle").status_code == 422


def test_staff_take_a_concern_by_phone_and_a_double_submit_stores_it_once(needs) -> None:  # type: ignore[no-untyped-def]
    visit = accepted_visit(needs)
    form = needs.page(f"/zgloszenia/nowe?resident_ref={visit['resident']['ref']}")
    hidden = dict(re.findall(r'<input[^>]*name="(csrf_token|concern_id)"[^>]*value="([^"]*)"', form))
    fields = {**hidden, "resident_ref": visit["resident"]["ref"], "text": TEXT, "urgent": "y"}
    assert needs.client.post("/zgloszenia/nowe", data=fields).status_code == 302
    assert needs.client.post("/zgloszenia/nowe", data=fields).status_code == 302
    assert needs.count("concerns") == 1 and len(needs.published("ConcernReported")) == 1
    [row] = needs.rows("concerns")
    assert row["channel"] == "phone" and row["resident_ref"] == visit["resident"]["ref"]


@pytest.mark.parametrize("fields, message", [
    ({"text": ""}, "Opisz, co Cię niepokoi."),
    ({"text": "x" * 4001}, "najwyżej 4000 znaków"),
    ({"resident_ref": "M-NIEMA", "text": TEXT}, "Nie ma mieszkańca o takim pseudonimie."),
])
def test_a_bad_phone_intake_gets_a_polish_error_and_nothing_is_written(needs, fields: dict[str, str],  # type: ignore[no-untyped-def]
                                                                       message: str) -> None:
    answer = needs.submit("/zgloszenia/nowe", fields)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert needs.count("concerns") == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=0, max_size=60))
def test_any_text_is_either_refused_with_a_message_or_kept_exactly_trimmed(text: str) -> None:
    from services.needs import concerns
    from wspolnota import errors

    try:
        kept = concerns.check_text(text)
    except errors.Invalid as err:
        assert not text.strip() and err.errors == {"text": concerns.TEXT_EMPTY}
    else:
        assert kept == text.strip() and kept


def test_erasing_the_resident_removes_the_text_of_their_concerns_and_their_social_worker(needs) -> None:  # type: ignore[no-untyped-def]
    visit = accepted_visit(needs)
    resident_id = visit["resident"]["id"]
    needs.submit(f"/residents/{resident_id}/pracownik-socjalny", {"social_worker_email": "a.nowak@cus.example.pl"})
    concern = send(needs).json
    assert needs.client.post(f"/api/residents/{resident_id}/erase", json={"reason": "wniosek"}).status_code == 200
    [row] = needs.rows("concerns")
    assert TEXT not in row["text"] and row["reported_by"] == f"wolontariusz:{VOLUNTEER}"
    recipient = needs.client.get(f"/internal/concerns/{concern['id']}/recipient", headers=TOKEN)
    assert recipient.json["email"] == ""
