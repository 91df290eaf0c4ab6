"""The JSON API: registering, editing, cancelling needs; bad input; the lifecycle's 409s; events."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.needs.conftest import SOON, TOMORROW, need_body

SCRIPT = "<script>alert('x')</script>"
SQL = "'; DROP TABLE needs; --"


def test_a_registered_need_carries_its_category_requirements_and_is_announced_without_personal_data(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register(category="TRN", description="Wizyta u lekarza, ul. Tajna 7", plan_ref="IPUS/2026/1")
    assert need["status"] == "open" and need["requirements"] == ["driving_licence", "own_car"]
    [event] = needs.published("NeedRegistered")
    assert event.key == need["id"]
    assert event.data["requirements"] == ["driving_licence", "own_car"] and event.data["plan_ref"] == "IPUS/2026/1"
    assert "Tajna" not in str(event.data) and "description" not in event.data


def test_a_tutoring_need_is_gated_by_the_kamilka_check_and_marked_as_involving_a_minor(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register(category="KOR")
    assert need["requirements"] == ["kamilka_check"] and need["involves_minor"] is True
    assert needs.published("NeedRegistered")[0].data["involves_minor"] is True


def test_companionship_prefers_the_same_volunteer_unless_staff_say_otherwise(needs) -> None:  # type: ignore[no-untyped-def]
    assert needs.register(category="TOW")["continuity"] is True
    assert needs.register(category="TOW", continuity=False)["continuity"] is False
    assert needs.register(category="ZAK")["continuity"] is False


def test_an_urgent_need_starting_within_a_day_is_accepted_and_flagged(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register(urgency="urgent", window_start=SOON.isoformat(),
                          window_end=(SOON + timedelta(hours=2)).isoformat())
    assert need["urgent"] is True and need["urgency"] == "urgent"


@pytest.mark.parametrize("body, field", [
    ({}, "category"),
    ({k: v for k, v in need_body().items() if k != "resident_ref"}, "resident_ref"),
    (need_body(duration_minutes="godzina"), "duration_minutes"),
    (need_body(slots="dwa"), "slots"),
    (need_body(urgent="bardzo"), "urgent"),
    (need_body(category="XYZ"), "category"),
    (need_body(village="Warszawa"), "village"),
    (need_body(window_end=(TOMORROW - timedelta(hours=1)).isoformat()), "window_end"),
    (need_body(window_start="2020-01-01T10:00:00+00:00", window_end="2020-01-01T12:00:00+00:00"), "window_end"),
    (need_body(window_start="2026-12-01T10:00:00"), "window_start"),
    (need_body(description="x" * 10_000), "description"),
    (need_body(resident_ref="R" * 10_000), "resident_ref"),
    (need_body(village=SCRIPT), "village"),
    (need_body(category=SQL), "category"),
    (need_body(plan_ref=SQL), "plan_ref"),
    (need_body(urgency="urgent"), "urgency"),  # tomorrow 9:00 may be > 24 h away; see the next test
    (need_body(category="KOR", waived_requirements=["kamilka_check"]), "waived_requirements"),
    (need_body(requirements=["telepatia"]), "requirements"),
    (need_body(moderation="byle jak"), "moderation"),
    (need_body(source="gołąb pocztowy"), "source"),
])
def test_bad_input_gets_field_errors_and_nothing_is_stored_or_published(needs, body, field) -> None:  # type: ignore[no-untyped-def]
    if field == "urgency" and datetime.fromisoformat(body["window_start"]) <= datetime.now(UTC) + timedelta(hours=24):
        body["window_start"] = (TOMORROW + timedelta(days=1)).isoformat()
        body["window_end"] = (TOMORROW + timedelta(days=1, hours=4)).isoformat()
    response = needs.client.post("/api/needs", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"], response.json
    assert needs.count("needs") == 0 and needs.count("outbox") == 0


def test_a_body_that_is_not_json_is_refused(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.client.post("/api/needs", data="<xml/>", content_type="application/xml")
    assert response.status_code == 422 and needs.count("needs") == 0


def test_markup_and_sql_in_free_text_are_stored_verbatim_and_harm_nothing(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register(description=f"{SCRIPT} {SQL}", resident_ref=SCRIPT)
    assert needs.client.get(f"/api/needs/{need['id']}").json["description"] == f"{SCRIPT} {SQL}"
    assert needs.count("needs") == 1  # the table is still there
    page = needs.page(f"/needs/{need['id']}") + needs.page("/")
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page


def test_the_same_idempotency_key_twice_stores_one_need(needs) -> None:  # type: ignore[no-untyped-def]
    first = needs.client.post("/api/needs", json=need_body(), headers={"Idempotency-Key": "case-42"})
    again = needs.client.post("/api/needs", json=need_body(), headers={"Idempotency-Key": "case-42"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"] and needs.count("needs") == 1
    assert len(needs.published("NeedRegistered")) == 1


def test_an_open_need_can_be_edited_and_the_change_is_published(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    response = needs.client.patch(f"/api/needs/{need['id']}", json={"category": "TRN", "slots": 2})
    assert response.status_code == 200, response.json
    assert response.json["requirements"] == ["driving_licence", "own_car"] and response.json["slots"] == 2
    [event] = needs.published("NeedUpdated")
    assert event.data["category"] == "TRN" and event.data["slots"] == 2


def test_an_edit_with_bad_values_changes_nothing(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    response = needs.client.patch(f"/api/needs/{need['id']}", json={
        "window_end": (TOMORROW - timedelta(hours=2)).isoformat()})
    assert response.status_code == 422 and "window_end" in response.json["errors"]["json"]
    assert needs.client.get(f"/api/needs/{need['id']}").json["window_end"] == need["window_end"]
    assert needs.published("NeedUpdated") == []


def test_cancelling_publishes_need_cancelled_and_a_second_cancel_is_a_conflict(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    assert needs.client.post(f"/api/needs/{need['id']}/cancel", json={"reason": "rezygnacja"}).status_code == 200
    again = needs.client.post(f"/api/needs/{need['id']}/cancel", json={})
    assert again.status_code == 409 and "anulowana" in again.json["message"]
    [event] = needs.published("NeedCancelled")
    # the typed reason stays in needs (timeline, need page); the bus carries a code, never staff's free text
    assert event.data == {"need_id": need["id"], "reason": "cancelled", "plan_ref": None, "series_id": None}


@pytest.mark.parametrize("target", ["completed", "in_progress", "accepted", "proposed"])
def test_an_invalid_transition_is_a_409_with_a_clear_message(needs, target) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    response = needs.client.post(f"/api/needs/{need['id']}/status", json={"status": target})
    assert response.status_code == 409
    assert response.json["message"].startswith(("Nie można zmienić statusu", "Status „"))
    assert needs.status(need["id"]) == "open"


def test_an_edit_cannot_smuggle_in_a_status_or_another_resident(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    response = needs.client.patch(f"/api/needs/{need['id']}", json={"status": "completed", "resident_ref": "M-X"})
    assert response.status_code == 422 and {"status", "resident_ref"} <= set(response.json["errors"]["json"])
    assert needs.status(need["id"]) == "open"


def test_a_cancelled_need_cannot_be_edited(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    needs.client.post(f"/api/needs/{need['id']}/cancel", json={})
    response = needs.client.patch(f"/api/needs/{need['id']}", json={"slots": 3})
    assert response.status_code == 409 and "edytować" in response.json["message"]


def test_an_unknown_status_or_need_is_reported(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    assert needs.client.post(f"/api/needs/{need['id']}/status", json={"status": "zniknęła"}).status_code == 422
    assert needs.client.get("/api/needs/00000000-0000-4000-8000-000000000000").status_code == 404


def test_the_list_filters_and_pages(needs) -> None:  # type: ignore[no-untyped-def]
    for village in ("belno", "belno", "umer"):
        needs.register(village=village)
    needs.register(category="TRN", village="belno")
    assert len(needs.client.get("/api/needs?village=belno").json) == 3
    assert len(needs.client.get("/api/needs?village=belno&category=TRN").json) == 1
    page = needs.client.get("/api/needs?per_page=3&page=2")
    assert len(page.json) == 1 and page.headers["X-Total-Count"] == "4"
    assert "description" not in page.json[0]


def test_the_openapi_document_describes_the_api_and_the_docs_page_renders_it_offline(needs) -> None:  # type: ignore[no-untyped-def]
    spec = needs.client.get("/api/openapi.json").json
    assert {"/api/needs", "/api/needs/recurring", "/api/needs/{need_id}/status", "/api/residents",
            "/api/packages/{plan_ref}"} <= set(spec["paths"])
    docs = needs.page("/api/docs")
    assert "POST /api/needs" in docs and "NeedCreate" in docs and "<script src" not in docs


def test_needs_whose_window_passed_unserved_expire_and_matching_is_told(needs) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from services.needs.db import needs as needs_table

    served, unserved = needs.register()["id"], needs.register()["id"]
    needs.client.post(f"/api/needs/{served}/cancel", json={})
    with needs.db.transaction() as session:  # both windows are now in the past
        session.execute(sa.update(needs_table).values(window_end=datetime.now(UTC) - timedelta(hours=1)))
    response = needs.client.post("/api/needs/expire-overdue")
    assert response.json == {"expired": [unserved]}
    assert needs.status(unserved) == "expired" and needs.status(served) == "cancelled"
    assert sorted(e.data["reason"] for e in needs.published("NeedCancelled")) == ["cancelled", "expired"]
