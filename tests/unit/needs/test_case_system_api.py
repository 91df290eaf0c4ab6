"""The case system's REST API: keys, scopes, idempotency, rate limits, bad bodies, and what reaches the bus."""
from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.needs import apikeys
from tests.unit.needs.conftest import TOMORROW, VOLUNTEER
from wspolnota import localtime

ALL = (apikeys.NEEDS_WRITE, apikeys.NEEDS_READ, apikeys.EXPORTS_READ)


def new_key(needs, name: str = "pomost", scopes: tuple[str, ...] = ALL, rate: int = 100) -> str:  # type: ignore[no-untyped-def]
    with needs.db.transaction() as session:
        return apikeys.add_client(session, name, list(scopes), rate)[1]


def headers(token: str, key: str | None = "klucz-1") -> dict[str, str]:
    out = {"Authorization": f"Bearer {token}"}
    if key is not None:
        out["Idempotency-Key"] = key
    return out


def open_package(needs, plan_ref: str = "IPUS/2026/7", resident_ref: str = "M-PLAN07") -> None:  # type: ignore[no-untyped-def]
    response = needs.client.post("/api/packages", json={
        "plan_ref": plan_ref, "resident_ref": resident_ref, "village": "zagnansk",
        "start_date": localtime.today().isoformat(), "end_date": (localtime.today() + timedelta(days=90)).isoformat()})
    assert response.status_code == 201, response.json


def case_need(**over: Any) -> dict[str, Any]:
    body = {"plan_ref": "IPUS/2026/7", "category": "ZAK", "description": "Zakupy; klucz pod wycieraczką",
            "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
            "duration_minutes": 60, "external_id": "POM-0001"}
    return {**body, **over}


@pytest.fixture
def token(needs) -> str:  # type: ignore[no-untyped-def]
    open_package(needs)
    return new_key(needs)


def post_need(needs, token: str, body: dict[str, Any], key: str | None = "klucz-1"):  # type: ignore[no-untyped-def]
    return needs.client.post("/api/case-system/needs", json=body, headers=headers(token, key))


# --- creating ------------------------------------------------------------------------------------------
def test_a_need_sent_for_a_plan_takes_the_resident_from_its_package_and_is_announced_without_the_description(needs, token) -> None:  # type: ignore[no-untyped-def]
    response = post_need(needs, token, case_need())
    assert response.status_code == 201, response.json
    need = response.json
    assert (need["resident_ref"], need["village"], need["source"]) == ("M-PLAN07", "zagnansk", "case_system")
    assert need["external_id"] == "POM-0001" and need["plan_ref"] == "IPUS/2026/7"
    [event] = needs.published("NeedRegistered")
    assert event.key == need["id"] and event.data["plan_ref"] == "IPUS/2026/7"
    assert "wycieraczk" not in str(event.data)
    timeline = needs.client.get(f"/api/needs/{need['id']}/timeline").json
    assert timeline[0]["actor"] == "system dziedzinowy: pomost"


def test_a_plan_unknown_here_needs_the_residents_pseudonym_and_village(needs, token) -> None:  # type: ignore[no-untyped-def]
    response = post_need(needs, token, case_need(plan_ref="IPUS/OBCY/1"))
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"resident_ref", "village"}
    ok = post_need(needs, token, case_need(plan_ref="IPUS/OBCY/1", resident_ref="M-OBCY01", village="Belno".lower()),
                   key="klucz-2")
    assert ok.status_code == 201 and ok.json["resident_ref"] == "M-OBCY01"


@pytest.mark.parametrize("over, field", [
    ({"category": "XYZ"}, "category"),
    ({"duration_minutes": "godzina"}, "duration_minutes"),
    ({"window_start": "2020-01-01T10:00:00+00:00", "window_end": "2020-01-01T12:00:00+00:00"}, "window_end"),
    ({"plan_ref": "'; DROP TABLE needs; --"}, "plan_ref"),
    ({"resident_ref": "M-KTOSINNY"}, "resident_ref"),  # the plan belongs to M-PLAN07
    ({"source": "staff_form"}, "source"),  # the case system cannot pretend to be a staff form
    ({"village": "Warszawa"}, "village"),
    ({"external_id": "x" * 100}, "external_id"),
])
def test_bad_fields_get_422_with_field_errors_and_nothing_is_stored_or_published(needs, token, over, field) -> None:  # type: ignore[no-untyped-def]
    outbox_before = needs.count("outbox")
    response = post_need(needs, token, case_need(**over))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"], response.json
    assert needs.count("needs") == 0 and needs.count("outbox") == outbox_before
    assert needs.count("idempotency_keys") == 0 and needs.count("case_system_needs") == 0


def test_a_body_that_is_not_json_is_refused_and_the_key_stays_free(needs, token) -> None:  # type: ignore[no-untyped-def]
    response = needs.client.post("/api/case-system/needs", data="<xml/>", content_type="application/xml",
                                 headers=headers(token))
    assert response.status_code == 422 and needs.count("needs") == 0
    assert post_need(needs, token, case_need()).status_code == 201


def test_a_closed_plan_takes_no_new_needs(needs, token) -> None:  # type: ignore[no-untyped-def]
    assert needs.client.post("/api/packages/IPUS/2026/7/close", json={"reason": "koniec"}).status_code == 200
    response = post_need(needs, token, case_need())
    assert response.status_code == 422 and "plan_ref" in response.json["errors"]["json"]


def test_an_external_id_already_registered_is_a_conflict_under_a_new_idempotency_key(needs, token) -> None:  # type: ignore[no-untyped-def]
    first = post_need(needs, token, case_need())
    again = post_need(needs, token, case_need(duration_minutes=90), key="klucz-2")
    assert again.status_code == 409 and first.json["id"] in again.json["message"]
    assert needs.count("needs") == 1


# --- idempotency --------------------------------------------------------------------------------------
def test_the_same_key_and_body_replays_the_first_answer_and_creates_nothing_more(needs, token) -> None:  # type: ignore[no-untyped-def]
    first = post_need(needs, token, case_need())
    body = dict(reversed(list(case_need().items())))  # same content, other key order
    again = post_need(needs, token, body)
    assert (again.status_code, again.get_data()) == (first.status_code, first.get_data())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert needs.count("needs") == 1 and len(needs.published("NeedRegistered")) == 1


def test_the_same_key_with_another_body_is_refused_with_409_and_changes_nothing(needs, token) -> None:  # type: ignore[no-untyped-def]
    post_need(needs, token, case_need())
    response = post_need(needs, token, case_need(slots=2))
    assert response.status_code == 409 and "Idempotency-Key" in response.json["message"]
    assert needs.count("needs") == 1 and len(needs.published("NeedRegistered")) == 1


def test_idempotency_keys_belong_to_one_client(needs, token) -> None:  # type: ignore[no-untyped-def]
    other = new_key(needs, "drugi-system")
    assert post_need(needs, token, case_need()).status_code == 201
    assert post_need(needs, other, case_need(external_id="INNY-1")).status_code == 201
    assert needs.count("needs") == 2


def test_a_write_without_an_idempotency_key_is_refused(needs, token) -> None:  # type: ignore[no-untyped-def]
    response = post_need(needs, token, case_need(), key=None)
    assert response.status_code == 400 and "Idempotency-Key" in response.json["message"]
    assert needs.count("needs") == 0


def test_concurrent_duplicates_create_one_need_and_every_caller_gets_the_same_answer(needs, token) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(4)
    answers: list[tuple[int, bytes]] = []

    def send() -> None:
        client = needs.app.test_client()
        barrier.wait()
        response = client.post("/api/case-system/needs", json=case_need(), headers=headers(token))
        answers.append((response.status_code, response.get_data()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 4 and len(set(answers)) == 1 and answers[0][0] == 201
    assert needs.count("needs") == 1 and len(needs.published("NeedRegistered")) == 1


# --- update and cancel --------------------------------------------------------------------------------
def test_an_update_changes_the_terms_publishes_need_updated_and_replays_on_retry(needs, token) -> None:  # type: ignore[no-untyped-def]
    need = post_need(needs, token, case_need()).json
    url = f"/api/case-system/needs/{need['id']}"
    first = needs.client.put(url, json={"duration_minutes": 90, "slots": 2}, headers=headers(token, "zmiana-1"))
    assert first.status_code == 200 and (first.json["duration_minutes"], first.json["slots"]) == (90, 2)
    again = needs.client.put(url, json={"slots": 2, "duration_minutes": 90}, headers=headers(token, "zmiana-1"))
    assert again.get_data() == first.get_data()
    assert len(needs.published("NeedUpdated")) == 1
    bad = needs.client.put(url, json={"status": "completed"}, headers=headers(token, "zmiana-2"))
    assert bad.status_code == 422 and "status" in bad.json["errors"]["json"]


def test_a_cancel_publishes_need_cancelled_once_and_a_second_cancel_is_a_conflict(needs, token) -> None:  # type: ignore[no-untyped-def]
    need = post_need(needs, token, case_need()).json
    url = f"/api/case-system/needs/{need['id']}/cancel"
    first = needs.client.post(url, json={"reason": "pobyt w szpitalu"}, headers=headers(token, "anuluj-1"))
    assert first.status_code == 200 and first.json["status"] == "cancelled"
    assert needs.client.post(url, json={"reason": "pobyt w szpitalu"},
                             headers=headers(token, "anuluj-1")).get_data() == first.get_data()
    assert needs.client.post(url, json={}, headers=headers(token, "anuluj-2")).status_code == 409
    [event] = needs.published("NeedCancelled")
    assert event.data["plan_ref"] == "IPUS/2026/7"
    edit = needs.client.put(f"/api/case-system/needs/{need['id']}", json={"slots": 2}, headers=headers(token, "z-3"))
    assert edit.status_code == 409


def test_needs_staff_registered_are_not_the_case_systems_to_change(needs, token) -> None:  # type: ignore[no-untyped-def]
    staff_need = needs.register(plan_ref="IPUS/2026/7", resident_ref="M-PLAN07")
    url = f"/api/case-system/needs/{staff_need['id']}"
    assert needs.client.get(url, headers=headers(token, None)).status_code == 404
    assert needs.client.post(f"{url}/cancel", json={}, headers=headers(token)).status_code == 404
    assert needs.status(staff_need["id"]) == "open"


def test_a_read_of_a_need_by_the_case_system_is_audited_under_its_name(needs, token) -> None:  # type: ignore[no-untyped-def]
    need = post_need(needs, token, case_need()).json
    response = needs.client.get(f"/api/case-system/needs/{need['id']}", headers=headers(token, None))
    assert response.status_code == 200 and response.json["description"].startswith("Zakupy")
    [entry] = [r for r in needs.rows("audit_log") if r["action"] == "read"]
    assert entry["actor"] == "system dziedzinowy: pomost" and entry["subject_id"] == need["id"]


# --- keys, scopes, rate limits -------------------------------------------------------------------------
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer wsp_nieistniejacy", "Basic cG9tb3N0Omhhc2xv"])
def test_a_missing_or_unknown_key_gets_401_and_nothing_happens(needs, token, authorization) -> None:  # type: ignore[no-untyped-def]
    sent = {"Idempotency-Key": "k"} | ({"Authorization": authorization} if authorization else {})
    response = needs.client.post("/api/case-system/needs", json=case_need(), headers=sent)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert needs.count("needs") == 0


def test_the_staff_session_does_not_open_the_case_system_api(needs) -> None:  # type: ignore[no-untyped-def]
    open_package(needs)  # the test app has staff sign-in switched off: a staff caller would pass everywhere
    assert needs.client.post("/api/case-system/needs", json=case_need(), headers={"Idempotency-Key": "k"}
                             ).status_code == 401


def test_a_revoked_key_is_refused_at_once(needs, token) -> None:  # type: ignore[no-untyped-def]
    assert post_need(needs, token, case_need()).status_code == 201
    with needs.db.transaction() as session:
        apikeys.revoke_client(session, "pomost")
    response = post_need(needs, token, case_need(external_id="POM-2"), key="klucz-2")
    assert response.status_code == 401 and "unieważniony" in response.json["message"]


def test_a_key_without_the_scope_gets_403(needs, token) -> None:  # type: ignore[no-untyped-def]
    reader = new_key(needs, "tylko-eksport", scopes=(apikeys.EXPORTS_READ,))
    writer = new_key(needs, "tylko-zapis", scopes=(apikeys.NEEDS_WRITE,))
    assert post_need(needs, reader, case_need()).status_code == 403
    assert needs.count("needs") == 0
    need = post_need(needs, writer, case_need()).json
    assert needs.client.get(f"/api/case-system/needs/{need['id']}", headers=headers(writer, None)).status_code == 403
    assert needs.client.get("/api/case-system/delivered?plan_ref=IPUS/2026/7",
                            headers=headers(writer, None)).status_code == 403
    assert needs.client.get("/api/case-system/delivered?plan_ref=IPUS/2026/7",
                            headers=headers(reader, None)).status_code == 200


def test_keys_are_kept_only_as_hashes(needs, token) -> None:  # type: ignore[no-untyped-def]
    [client] = needs.rows("api_clients")
    assert token not in str(client) and client["key_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) > 40 and token.startswith(client["key_prefix"])


def test_over_the_rate_limit_a_client_gets_429_with_retry_after_and_others_are_not_slowed(needs, token) -> None:  # type: ignore[no-untyped-def]
    now = [1_800_000_010.0]  # 10 s into a minute
    needs.app.config["CASE_SYSTEM_CLOCK"] = lambda: now[0]
    slow = new_key(needs, "wolny", rate=2)
    url = "/api/case-system/delivered?plan_ref=IPUS/2026/7"
    assert [needs.client.get(url, headers=headers(slow, None)).status_code for _ in range(2)] == [200, 200]
    refused = needs.client.get(url, headers=headers(slow, None))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "50"
    assert needs.client.get(url, headers=headers(token, None)).status_code == 200
    assert post_need(needs, slow, case_need()).status_code == 429 and needs.count("needs") == 0
    now[0] += 50  # the next minute
    assert needs.client.get(url, headers=headers(slow, None)).status_code == 200


def test_the_rate_limit_is_counted_in_the_database_for_every_worker(needs, token) -> None:  # type: ignore[no-untyped-def]
    from services.needs.app import create_app

    needs.app.config["CASE_SYSTEM_CLOCK"] = lambda: 1_800_000_000.0
    second_worker = create_app({"DATABASE_URL": needs.db.url, "TESTING": True,
                                "CASE_SYSTEM_CLOCK": lambda: 1_800_000_001.0}).test_client()
    slow = new_key(needs, "wolny", rate=1)
    url = "/api/case-system/delivered?plan_ref=IPUS/2026/7"
    assert needs.client.get(url, headers=headers(slow, None)).status_code == 200
    assert second_worker.get(url, headers=headers(slow, None)).status_code == 429
    second_worker.application.extensions["db"].dispose()


# --- OpenAPI ------------------------------------------------------------------------------------------------
def test_the_openapi_document_describes_the_case_system_api_and_its_bearer_keys(needs) -> None:  # type: ignore[no-untyped-def]
    spec = needs.client.get("/api/openapi.json").json
    assert spec["components"]["securitySchemes"]["caseSystemKey"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["caseSystemKey"][
            "description"]}
    create = spec["paths"]["/api/case-system/needs"]["post"]
    assert create["security"] == [{"caseSystemKey": []}]
    assert {"in": "header", "name": "Idempotency-Key"}.items() <= create["parameters"][0].items()
    assert "CaseNeedCreate" in str(create["requestBody"]) and {"201", "409", "422", "429"} <= set(create["responses"])
    for path in ("/api/case-system/needs/{need_id}", "/api/case-system/needs/{need_id}/cancel",
                 "/api/case-system/imports", "/api/case-system/delivered"):
        assert path in spec["paths"]
    assert "text/csv" in spec["paths"]["/api/case-system/imports"]["post"]["requestBody"]["content"]
    assert "/api/case-system/imports" in needs.page("/api/docs")  # the readable page renders it too


def test_volunteer_ids_never_reach_the_case_system(needs, token) -> None:  # type: ignore[no-untyped-def]
    need = post_need(needs, token, case_need()).json
    needs.match_event("MatchCompleted", need["id"], "33333333-4444-4555-8666-777777777777", hours=2.0)
    export = needs.client.get("/api/case-system/delivered?plan_ref=IPUS/2026/7", headers=headers(token, None))
    read = needs.client.get(f"/api/case-system/needs/{need['id']}", headers=headers(token, None))
    assert VOLUNTEER not in export.get_data(as_text=True) + read.get_data(as_text=True)
    with needs.db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM need_matches")).scalar_one() == 1


def test_the_case_system_finds_its_needs_by_its_own_id_or_by_plan(needs, token) -> None:  # type: ignore[no-untyped-def]
    first = post_need(needs, token, case_need()).json
    post_need(needs, token, case_need(external_id="POM-0002"), key="klucz-2")
    found = needs.client.get("/api/case-system/needs?external_id=POM-0001", headers=headers(token, None))
    assert found.status_code == 200 and [n["id"] for n in found.json] == [first["id"]]
    assert "description" not in found.json[0] and found.json[0]["external_id"] == "POM-0001"
    by_plan = needs.client.get("/api/case-system/needs?plan_ref=IPUS/2026/7", headers=headers(token, None)).json
    assert {n["external_id"] for n in by_plan} == {"POM-0001", "POM-0002"}
    assert needs.client.get("/api/case-system/needs", headers=headers(token, None)).status_code == 422
    writer = new_key(needs, "tylko-zapis", scopes=(apikeys.NEEDS_WRITE,))
    assert needs.client.get("/api/case-system/needs?plan_ref=IPUS/2026/7",
                            headers=headers(writer, None)).status_code == 403


def test_an_idempotency_key_older_than_the_retention_is_forgotten(needs, token) -> None:  # type: ignore[no-untyped-def]
    post_need(needs, token, case_need())
    with needs.db.transaction() as session:
        session.execute(sa.text("UPDATE idempotency_keys SET created_at = :old"),
                        {"old": (datetime.now(UTC) - timedelta(days=31)).replace(tzinfo=None)})
    reused = post_need(needs, token, case_need(external_id="POM-0002"))
    assert reused.status_code == 201 and needs.count("needs") == 2 and needs.count("idempotency_keys") == 1
