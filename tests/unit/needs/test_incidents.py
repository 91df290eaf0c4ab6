"""Incidents and safeguarding: a concern has a kind and a deadline to act by its severity; one still unacknowledged
past it is escalated once (ConcernEscalated, ids and codes only) however often the job runs; staff close an
acknowledged concern with an outcome that is kept here and audited; the pages say "przekroczony termin" and
"eskalowano do dyrektora"; a resident's feedback call is logged on the need's page and published without its note."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from services.needs import concerns, jobs
from services.needs.db import concerns as concern_table
from tests.unit.needs.conftest import NeedsHarness
from tests.unit.needs.test_concerns import TEXT, accepted_visit, send
from wspolnota.testing import signed_in


def rows(needs: NeedsHarness) -> list[dict[str, Any]]:
    """The concerns with their times read as the service reads them (aware datetimes)."""
    with needs.db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(concern_table)).mappings()]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html)
    assert found is not None
    return found.group(1)


def test_the_deadline_is_24_hours_for_an_urgent_report_and_72_for_another(needs: NeedsHarness) -> None:
    accepted_visit(needs)
    send(needs, urgent=True)
    send(needs, urgent=False, kind="incident")
    found = sorted(rows(needs), key=lambda r: r["urgent"])
    hours = [(r["kind"], (r["due_at"] - r["created_at"]) / timedelta(hours=1)) for r in found]
    assert hours == [("incident", 72), ("concern", 24)]
    assert concerns.due_hours(True) == 24 and concerns.due_hours(False) == 72


def test_a_report_carries_its_kind_on_the_bus_and_an_unknown_kind_is_a_field_error(needs: NeedsHarness) -> None:
    accepted_visit(needs)
    assert send(needs, kind="safeguarding").status_code == 201
    [event] = needs.published("ConcernReported")
    assert event.data["kind"] == "safeguarding" and TEXT not in str(event.data)
    bad = send(needs, kind="plotka")
    assert bad.status_code == 422 and "kind" in bad.json["errors"]["json"]
    assert needs.count("concerns") == 1


def test_an_unacknowledged_concern_past_its_deadline_is_escalated_once(needs: NeedsHarness) -> None:
    accepted_visit(needs)
    send(needs, urgent=True)
    [row] = rows(needs)
    assert jobs.escalate_concerns(needs.db, row["due_at"] - timedelta(minutes=1)) == 0
    later = row["due_at"] + timedelta(minutes=1)
    assert jobs.escalate_concerns(needs.db, later) == 1
    assert jobs.escalate_concerns(needs.db, later) == 0
    assert jobs.escalate_concerns(needs.db, later + timedelta(days=3)) == 0
    [event] = needs.published("ConcernEscalated")
    assert event.data == {"concern_id": row["id"], "kind": "concern", "urgent": True}
    assert rows(needs)[0]["escalated_at"] is not None
    assert ("update", "concern", "system") in [(a["action"], a["subject"], a["actor"])
                                              for a in needs.rows("audit_log")]


def test_an_acknowledged_concern_is_never_escalated(needs: NeedsHarness) -> None:
    accepted_visit(needs)
    concern = send(needs).json
    with needs.db.transaction() as session:
        assert concerns.acknowledge(session, concern["id"], "as.nowak")
    [row] = rows(needs)
    assert jobs.escalate_concerns(needs.db, row["due_at"] + timedelta(days=1)) == 0
    assert needs.published("ConcernEscalated") == []


def test_the_page_list_and_api_say_overdue_and_escalated(needs: NeedsHarness) -> None:
    accepted_visit(needs)
    concern = send(needs, kind="incident").json
    [before] = rows(needs)
    with needs.db.transaction() as session:
        session.execute(sa.update(concern_table).values(created_at=before["created_at"] - timedelta(days=2),
                                                        due_at=before["due_at"] - timedelta(days=2)))
    [row] = rows(needs)
    jobs.escalate_concerns(needs.db, row["due_at"] + timedelta(minutes=1))
    [listed] = needs.client.get("/api/concerns").json
    assert listed["overdue"] is True and listed["escalated_at"] and listed["kind"] == "incident"
    assert "text" not in listed
    signed_in(needs.client, "social_worker", "as.nowak")
    page = needs.page(f"/zgloszenia/{concern['id']}")
    assert "przekroczony termin" in page and "eskalowano do dyrektora" in page
    overview = needs.page("/zgloszenia")
    assert "przekroczony termin" in overview and "eskalowano do dyrektora" in overview


def test_staff_close_an_acknowledged_concern_with_an_outcome_audited(needs: NeedsHarness) -> None:
    accepted_visit(needs)
    concern = send(needs).json
    signed_in(needs.client, "social_worker", "as.nowak")
    page = needs.page(f"/zgloszenia/{concern['id']}")
    token = csrf(page)
    early = needs.client.post(f"/zgloszenia/{concern['id']}/zamkniete", data={"csrf_token": token,
                                                                               "outcome": "Wizyta domowa."})
    assert early.status_code == 409 and "Najpierw przyjmij" in early.get_data(as_text=True)
    needs.client.post(f"/zgloszenia/{concern['id']}/przyjete", data={"csrf_token": token})
    empty = needs.client.post(f"/zgloszenia/{concern['id']}/zamkniete", data={"csrf_token": token, "outcome": " "})
    assert empty.status_code == 422 and "Opisz, co zostało zrobione." in empty.get_data(as_text=True)
    assert needs.client.post(f"/zgloszenia/{concern['id']}/zamkniete", data={"outcome": "x"}).status_code == 400
    done = needs.client.post(f"/zgloszenia/{concern['id']}/zamkniete",
                             data={"csrf_token": token, "outcome": "Wizyta domowa, pani ma opiekę sąsiadki."})
    assert done.status_code == 302
    [row] = needs.rows("concerns")
    assert row["outcome"] == "Wizyta domowa, pani ma opiekę sąsiadki." and row["closed_by"] == "as.nowak"
    assert "opiekę sąsiadki" in needs.page(f"/zgloszenia/{concern['id']}")
    reads = [a["fields"] for a in needs.rows("audit_log") if a["action"] == "read" and a["subject"] == "concern"]
    assert "text,outcome" in reads
    assert "sąsiadki" not in str([e.data for e in needs.published()])


def test_staff_record_their_own_observation_of_a_safeguarding_kind(needs: NeedsHarness) -> None:
    visit = accepted_visit(needs)
    signed_in(needs.client, "social_worker", "as.nowak")
    form = needs.page(f"/zgloszenia/nowe?resident_ref={visit['resident']['ref']}")
    hidden = dict(re.findall(r'<input[^>]*name="(csrf_token|concern_id)"[^>]*value="([^"]*)"', form))
    answer = needs.client.post("/zgloszenia/nowe", data={**hidden, "resident_ref": visit["resident"]["ref"],
                                                         "text": TEXT, "channel": "staff", "kind": "safeguarding"})
    assert answer.status_code == 302
    [row] = needs.rows("concerns")
    assert (row["channel"], row["kind"], row["reported_by"]) == ("staff", "safeguarding", "as.nowak")


def resident_with_sms(needs: NeedsHarness, **over: Any) -> dict[str, Any]:
    resident = needs.client.post("/api/residents", json={
        "name": "Genowefa Przykładowa", "address": "ul. Wymyślona 1", "village": "lekomin",
        "phone": "+48 600 100 200", "preferred_channel": "sms", "legal_basis": "art6_1_e", **over}).json
    need = needs.register(resident_ref=resident["ref"])
    match_id = str(uuid.uuid4())
    needs.match_event("MatchProposed", need["id"], match_id)
    needs.match_event("MatchAccepted", need["id"], match_id)
    return {"resident": resident, "need": need, "match_id": match_id}


TOKEN = {"Authorization": "Bearer dev-only-internal-token"}


def test_notify_reads_the_sms_consent_and_phone_of_a_matchs_resident_audited(needs: NeedsHarness) -> None:
    visit = resident_with_sms(needs)
    url = f"/internal/matches/{visit['match_id']}/feedback-contact"
    assert needs.client.get(url).status_code == 401
    answer = needs.client.get(url, headers=TOKEN).json
    assert answer == {"match_id": visit["match_id"], "need_id": visit["need"]["id"], "sms": True,
                      "phone": "+48 600 100 200"}
    assert ("read", "notify") in [(a["action"], a["actor"]) for a in needs.rows("audit_log")]
    assert needs.client.get(f"/internal/matches/{uuid.uuid4()}/feedback-contact", headers=TOKEN).status_code == 404


def test_without_sms_as_the_chosen_channel_no_phone_is_given(needs: NeedsHarness) -> None:
    visit = resident_with_sms(needs, preferred_channel="phone")
    answer = needs.client.get(f"/internal/matches/{visit['match_id']}/feedback-contact", headers=TOKEN).json
    assert answer["sms"] is False and answer["phone"] == ""


def test_staff_log_a_residents_call_on_the_need_page_once_and_the_note_stays_here(needs: NeedsHarness) -> None:
    visit = resident_with_sms(needs)
    signed_in(needs.client, "social_worker", "as.nowak")
    page = needs.page(f"/needs/{visit['need']['id']}")
    assert "Ocena wizyt przez mieszkańca" in page
    hidden = dict(re.findall(r'<input[^>]*name="(csrf_token|feedback_id)"[^>]*value="([^"]*)"', page))
    fields = {**hidden, "match_id": visit["match_id"], "score": "3", "note": "Wolontariusz spóźnił się godzinę."}
    url = f"/needs/{visit['need']['id']}/ocena"
    assert needs.client.post(url, data=fields).status_code == 302
    assert needs.client.post(url, data=fields).status_code == 302  # a double submit
    [row] = needs.rows("resident_feedback")
    assert row["score"] == 3 and row["logged_by"] == "as.nowak"
    [event] = needs.published("FeedbackGiven")
    assert event.data == {"feedback_id": row["id"], "match_id": visit["match_id"], "need_id": visit["need"]["id"],
                          "source": "resident_call", "score": 3}
    assert "spóźnił" not in str(event.data)
    assert "spóźnił" in needs.page(f"/needs/{visit['need']['id']}")


def test_a_bad_call_log_writes_nothing(needs: NeedsHarness) -> None:
    visit = resident_with_sms(needs)
    page = needs.page(f"/needs/{visit['need']['id']}")
    hidden = dict(re.findall(r'<input[^>]*name="(csrf_token|feedback_id)"[^>]*value="([^"]*)"', page))
    url = f"/needs/{visit['need']['id']}/ocena"
    for bad in ({"match_id": visit["match_id"], "score": "9"}, {"match_id": str(uuid.uuid4()), "score": "1"},
                {"match_id": visit["match_id"], "score": "1", "note": "x" * 2001}):
        assert needs.client.post(url, data={**hidden, **bad}).status_code == 302
    assert needs.count("resident_feedback") == 0 and needs.published("FeedbackGiven") == []
    assert needs.client.post(url, data={"match_id": visit["match_id"], "score": "1"}).status_code == 400


def test_erasing_the_resident_removes_their_call_notes_and_concern_outcomes(needs: NeedsHarness) -> None:
    visit = resident_with_sms(needs)
    with needs.db.transaction() as session:
        from services.needs import feedback
        from services.needs.handlers import PUBLISHES
        from wspolnota.transport.outbox import Outbox

        feedback.log_call(session, Outbox(needs.db, PUBLISHES), feedback_id=str(uuid.uuid4()),
                          need_id=visit["need"]["id"], match_id=visit["match_id"], score=2,
                          note="Pani Genowefa mówi, że było miło.", actor="as.nowak")
    resident_id = visit["resident"]["id"]
    assert needs.client.post(f"/api/residents/{resident_id}/erase", json={"reason": "wniosek"}).status_code == 200
    [row] = needs.rows("resident_feedback")
    assert row["note"] == "" and row["score"] == 2
