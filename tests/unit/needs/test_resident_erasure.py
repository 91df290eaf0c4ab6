"""RODO art. 17: staff erase a resident — personal data and free text go, the pseudonym and the statistics stay,
unfinished needs are cancelled and every service hears ResidentErased, all in one transaction."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.needs.app import create_app
from tests.unit.needs.conftest import resident_body
from wspolnota import localtime
from wspolnota.testing import signed_in

SECRETS = ("Genowefa", "Przykładowa", "Wymyślona", "600 000 001", "genowefa@example.pl", "klatka schodowa",
           "Zakupy w Belnie", "syn pani G.")


def a_resident_with_needs(needs) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body(
        email="genowefa@example.pl", notes="Wejście od podwórza, klatka schodowa B")).json
    open_need = needs.register(resident_ref=resident["ref"])
    done = needs.register(resident_ref=resident["ref"], category="TOW")
    match_id = str(uuid.uuid4())
    needs.match_event("MatchAccepted", done["id"], match_id)
    needs.match_event("MatchCompleted", done["id"], match_id, hours=1.5)
    cancelled = needs.register(resident_ref=resident["ref"])
    needs.client.post(f"/api/needs/{cancelled['id']}/cancel", json={"reason": "syn pani G. zrobił zakupy"})
    other = needs.register(resident_ref="M-INNY01", description="Opis innej osoby")
    return {"resident": resident, "open": open_need, "done": done, "cancelled": cancelled, "other": other}


def erase(needs, resident_id: str, reason: str = "wniosek nr 12/2026"):  # type: ignore[no-untyped-def]
    return needs.client.post(f"/api/residents/{resident_id}/erase", json={"reason": reason})


def need_row(needs, need_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return next(r for r in needs.rows("needs") if r["id"] == need_id)


def test_erasure_blanks_every_personal_field_and_keeps_the_pseudonym_and_statistics(needs) -> None:  # type: ignore[no-untyped-def]
    world = a_resident_with_needs(needs)
    resident = world["resident"]
    needs.published()

    def kept_outbox() -> str:
        return repr([bytes(r["body"]).decode() for r in needs.rows("outbox")])

    assert "syn pani G." not in kept_outbox()  # the reason staff typed stays in needs: the bus gets a code
    response = erase(needs, resident["id"])
    assert response.status_code == 200, response.json
    [row] = needs.rows("residents")
    assert (row["ref"], row["village"], row["legal_basis"]) == (resident["ref"], "lekomin", "art6_1_e")
    assert row["address"] == row["phone"] == row["email"] == row["notes"] == row["preferred_channel"] == ""
    assert row["name"] == "(usunięto — RODO)" and row["erased_at"] and row["erasure_reason"] == "wniosek nr 12/2026"
    done = need_row(needs, world["done"]["id"])
    assert (done["status"], done["category"], done["village"], done["hours_delivered"], done["visits_delivered"]
            ) == ("completed", "TOW", "belno", 1.5, 1)
    assert done["window_start"] and done["resident_ref"] == resident["ref"]
    dump = repr(needs.rows("residents") + needs.rows("needs") + needs.rows("need_timeline")
                + needs.rows("support_packages"))
    for secret in SECRETS:
        assert secret not in dump, secret
    assert "syn pani G." not in kept_outbox() and "resident_erased" in kept_outbox()  # what a replay would send
    assert need_row(needs, world["other"]["id"])["description"] == "Opis innej osoby"  # another resident's need


def test_the_audit_log_keeps_who_erased_whom_and_when(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    app = create_app({"DATABASE_URL": needs.db.url, "TESTING": True, "SECRET_KEY": "erase"})
    client = signed_in(app.test_client(), "social_worker", "as.nowak")
    assert client.post(f"/api/residents/{resident['id']}/erase", json={"reason": "wniosek 3/2026"}).status_code == 200
    [entry] = [a for a in needs.rows("audit_log") if a["action"] == "erase"]
    assert (entry["actor"], entry["subject"], entry["subject_id"]) == ("as.nowak", "resident", resident["id"])
    assert f"ref={resident['ref']}" in entry["fields"] and "needs.description" in entry["fields"] and entry["at"]
    assert "Genowefa" not in repr(needs.rows("audit_log"))
    app.extensions["db"].dispose()


def test_unfinished_needs_are_cancelled_and_finished_ones_keep_their_status(needs) -> None:  # type: ignore[no-untyped-def]
    world = a_resident_with_needs(needs)
    cancelled = erase(needs, world["resident"]["id"]).json["cancelled_needs"]
    assert cancelled == [world["open"]["id"]]
    assert need_row(needs, world["open"]["id"])["status"] == "cancelled"
    assert need_row(needs, world["done"]["id"])["status"] == "completed"
    assert need_row(needs, world["other"]["id"])["status"] == "open"
    history = needs.client.get(f"/api/needs/{world['open']['id']}/timeline").json
    assert history[-1]["detail"] == "usunięcie danych mieszkańca (RODO)"


def test_the_events_say_which_needs_were_cancelled_and_who_was_erased_without_personal_data(needs) -> None:  # type: ignore[no-untyped-def]
    world = a_resident_with_needs(needs)
    before = {e.id for e in needs.published()}
    erase(needs, world["resident"]["id"])
    events = sorted((e for e in needs.published() if e.id not in before), key=lambda e: e.type)
    assert [e.type for e in events] == ["NeedCancelled", "ResidentErased"]
    assert events[0].data["need_id"] == world["open"]["id"] and events[0].data["reason"] == "resident_erased"
    erased = events[1]
    assert erased.key == world["resident"]["ref"] and erased.data["resident_ref"] == world["resident"]["ref"]
    assert sorted(erased.data["need_ids"]) == sorted(world[k]["id"] for k in ("open", "done", "cancelled"))
    assert erased.data["erased_at"] and erased.data["plan_refs"] == []
    everything = b"".join(m.value or b"" for t in list(needs.system.broker.logs)
                          for m in needs.system.broker.messages(t)).decode()
    for secret in SECRETS[:5] + ("wniosek nr 12/2026",):
        assert secret not in everything, secret


def test_an_open_support_package_refuses_the_erasure_and_nothing_changes(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    need = needs.register(resident_ref=resident["ref"])
    start = localtime.today() + timedelta(days=1)
    needs.client.post("/api/packages", json={"plan_ref": "IPUS/E/1", "resident_ref": resident["ref"],
                                             "village": "lekomin", "start_date": start.isoformat(),
                                             "end_date": (start + timedelta(days=60)).isoformat()})
    before = len(needs.published())
    refused = erase(needs, resident["id"])
    assert refused.status_code == 409
    assert "otwarty pakiet wsparcia (IPUS) IPUS/E/1" in refused.json["message"]
    assert needs.rows("residents")[0]["name"] == "Genowefa Przykładowa"
    assert need_row(needs, need["id"])["status"] == "open" and len(needs.published()) == before
    assert not [a for a in needs.rows("audit_log") if a["action"] == "erase"]
    needs.client.post("/api/packages/IPUS/E/1/close", json={"reason": "koniec planu"})
    assert erase(needs, resident["id"]).status_code == 200
    assert needs.rows("support_packages")[0]["close_reason"] == ""
    assert needs.published("ResidentErased")[0].data["plan_refs"] == ["IPUS/E/1"]


def test_an_erased_resident_cannot_be_erased_edited_or_given_new_needs(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    erase(needs, resident["id"])
    assert erase(needs, resident["id"]).status_code == 409
    assert needs.client.patch(f"/api/residents/{resident['id']}", json={"notes": "x"}).status_code == 409
    again = needs.client.post("/api/needs", json={**needs_body(resident["ref"])})
    assert again.status_code == 422 and "resident_ref" in again.json["errors"]["json"]
    assert len(needs.published("ResidentErased")) == 1


def needs_body(ref: str) -> dict[str, Any]:
    from tests.unit.needs.conftest import need_body

    return need_body(resident_ref=ref)


def test_unknown_resident_is_404_and_a_reason_is_required(needs) -> None:  # type: ignore[no-untyped-def]
    assert erase(needs, str(uuid.uuid4())).status_code == 404
    resident = needs.client.post("/api/residents", json=resident_body()).json
    missing = needs.client.post(f"/api/residents/{resident['id']}/erase", json={})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]["json"]
    assert needs.rows("residents")[0]["erased_at"] is None


def test_staff_erase_through_the_card_with_a_confirmation_step(needs) -> None:  # type: ignore[no-untyped-def]
    world = a_resident_with_needs(needs)
    resident_id = world["resident"]["id"]
    card = needs.page(f"/residents/{resident_id}")
    assert f"/residents/{resident_id}/erase" in card
    confirm = needs.page(f"/residents/{resident_id}/erase")
    assert "Potrzeby do anulowania: 1." in confirm and "Genowefa" not in confirm
    unticked = needs.submit(f"/residents/{resident_id}/erase", {"reason": "wniosek 1/2026"})
    assert unticked.status_code == 422 and "Zaznacz potwierdzenie" in unticked.get_data(as_text=True)
    assert needs.rows("residents")[0]["erased_at"] is None
    done = needs.submit(f"/residents/{resident_id}/erase", {"reason": "wniosek 1/2026", "confirm": "y"})
    assert done.status_code == 302
    card = needs.page(f"/residents/{resident_id}")
    assert "Dane osobowe usunięto (RODO)" in card and "wniosek 1/2026" in card
    assert "Genowefa" not in card and f"/residents/{resident_id}/edit" not in card


def test_the_page_refuses_with_a_polish_message_while_a_package_is_open(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    start = localtime.today() + timedelta(days=1)
    needs.client.post("/api/packages", json={"plan_ref": "IPUS/E/2", "resident_ref": resident["ref"],
                                             "village": "lekomin", "start_date": start.isoformat(),
                                             "end_date": (start + timedelta(days=60)).isoformat()})
    refused = needs.submit(f"/residents/{resident['id']}/erase", {"reason": "wniosek", "confirm": "y"})
    assert refused.status_code == 409
    assert "Najpierw zamknij pakiet" in refused.get_data(as_text=True)
    assert needs.rows("residents")[0]["erased_at"] is None


def test_the_form_without_its_csrf_token_erases_nothing(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    response = needs.client.post(f"/residents/{resident['id']}/erase", data={"reason": "x", "confirm": "y"})
    assert response.status_code == 400
    assert needs.rows("residents")[0]["erased_at"] is None and not needs.published("ResidentErased")


def test_only_roles_that_write_cases_may_erase(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    app = create_app({"DATABASE_URL": needs.db.url, "TESTING": True, "SECRET_KEY": "erase"})
    url = f"/api/residents/{resident['id']}/erase"
    assert app.test_client().post(url, json={"reason": "x"}).status_code == 401
    auditor = signed_in(app.test_client(), "auditor")
    assert auditor.post(url, json={"reason": "x"}).status_code == 403
    assert auditor.get(f"/residents/{resident['id']}/erase").status_code == 403
    assert needs.rows("residents")[0]["erased_at"] is None
    worker = signed_in(app.test_client(), "osl")
    assert worker.post(url, json={"reason": "x"}).status_code == 200
    app.extensions["db"].dispose()


def test_the_erasure_page_and_the_erased_card_read_in_english(needs) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.test_i18n import polish_left

    resident = needs.client.post("/api/residents", json=resident_body()).json
    page = needs.page(f"/residents/{resident['id']}/erase?lang=en")
    assert "Erase personal data" in page and polish_left(page) == []
    erase(needs, resident["id"], "wniosek 5")
    card = needs.page(f"/residents/{resident['id']}?lang=en")
    assert "Personal data erased (GDPR)" in card and polish_left(card) == []
