"""A resident's notices: staff record on the resident's form how the resident hears about their visits (SMS, a call
from staff without a mobile phone, or nothing) with the date of the consent; bad combinations get Polish errors and
nothing is written; a change of the channel they are reached on is published as a code; notify reads the phone
through the internal API, each read audited."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.needs import clock
from services.needs.resident_notices import is_mobile
from tests.unit.needs.conftest import NeedsHarness, resident_body
from tests.unit.needs.test_staff_forms import error_next_to

TOKEN = {"Authorization": "Bearer dev-only-internal-token", "X-Service-Name": "notify"}


def today() -> str:
    return clock.today().isoformat()


def form_fields(**over: Any) -> dict[str, Any]:
    return {"name": "Bronisława Testowa", "address": "ul. Zmyślona 3", "village": "umer", "phone": "+48 600 000 002",
            "preferred_channel": "phone", "legal_basis": "art6_1_c", "notice_channel": "sms",
            "notice_consent_date": today(), **over}


def notices_published(needs: NeedsHarness) -> list[dict[str, Any]]:
    return [e.data for e in needs.published("ResidentNoticesChanged")]


@pytest.mark.parametrize(("phone", "mobile"), [
    ("+48 600 000 002", True), ("600000002", True), ("0048 512 345 678", True), ("+48 88 123 45 67", True),
    ("+48 41 311 00 00", False), ("41 311 00 00", False), ("12", False), ("", False)])
def test_only_a_polish_mobile_number_takes_an_sms(phone: str, mobile: bool) -> None:
    assert is_mobile(phone) is mobile


def test_staff_record_sms_notices_with_the_consent_and_it_is_published_as_a_code(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.submit("/residents/new", form_fields())
    assert response.status_code == 302, response.get_data(as_text=True)
    [row] = needs.rows("residents")
    assert (row["notice_channel"], str(row["notice_consent_date"])) == ("sms", today())
    assert row["notice_consent_by"] == "pracownik CUS (bez logowania)"
    assert notices_published(needs) == [{"resident_ref": row["ref"], "channel": "sms"}]
    card = needs.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Powiadomienia o wizytach" in card and "SMS" in card
    bus = str(notices_published(needs))
    assert "600" not in bus and "Bronisława" not in bus


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"notice_consent_date": ""}, "notice_consent_date", "Bez zgody mieszkańca nie wysyłamy powiadomień"),
    ({"phone": "", "preferred_channel": "letter"}, "notice_channel", "Do SMS potrzebny jest numer telefonu komórkowego"),
    ({"phone": "+48 41 311 00 00"}, "notice_channel", "SMS nie dojdzie na telefon stacjonarny"),
    ({"notice_channel": "call", "phone": "", "preferred_channel": "letter"}, "notice_channel", "Do telefonu od pracownika potrzebny jest numer"),
    ({"notice_consent_date": "2999-01-01"}, "notice_consent_date", "Data zgody nie może być w przyszłości."),
    ({"notice_channel": "fax"}, "notice_channel", "")])
def test_a_combination_that_cannot_reach_the_resident_is_explained_and_nothing_is_written(
        needs, over: dict[str, Any], field: str, message: str) -> None:  # type: ignore[no-untyped-def]
    response = needs.submit("/residents/new", form_fields(**over))
    assert response.status_code == 422
    assert message in error_next_to(response.get_data(as_text=True), field)
    assert needs.count("residents") == 0 and notices_published(needs) == []


def test_a_landline_resident_is_put_on_the_staff_call_list_and_can_withdraw_later(needs) -> None:  # type: ignore[no-untyped-def]
    created = needs.client.post("/api/residents", json=resident_body(
        phone="+48 41 311 00 00", notice_channel="call", notice_consent_date=today()))
    assert created.status_code == 201, created.json
    assert created.json["notice_channel"] == "call"
    rid, ref = created.json["id"], created.json["ref"]
    withdrawn = needs.client.patch(f"/api/residents/{rid}", json={"notice_channel": "none",
                                                                  "notice_consent_date": None})
    assert withdrawn.status_code == 200 and withdrawn.json["notice_consent_by"] == ""
    assert notices_published(needs) == [{"resident_ref": ref, "channel": "call"},
                                        {"resident_ref": ref, "channel": "none"}]
    unchanged = needs.client.patch(f"/api/residents/{rid}", json={"notes": "bez zmian w powiadomieniach"})
    assert unchanged.status_code == 200 and len(notices_published(needs)) == 2


def test_the_api_refuses_sms_without_consent_with_field_errors_and_writes_nothing(needs) -> None:  # type: ignore[no-untyped-def]
    bad = needs.client.post("/api/residents", json=resident_body(notice_channel="sms"))
    assert bad.status_code == 422
    assert "notice_consent_date" in bad.json["errors"]["json"]
    assert needs.count("residents") == 0 and notices_published(needs) == []
    made = needs.client.post("/api/residents", json=resident_body()).json
    dropped = needs.client.patch(f"/api/residents/{made['id']}", json={
        "notice_channel": "sms", "notice_consent_date": today(), "phone": ""})
    assert dropped.status_code == 422 and needs.rows("residents")[0]["phone"] == "+48 600 000 001"


def test_notify_reads_the_phone_only_with_the_consent_and_every_read_is_audited(needs) -> None:  # type: ignore[no-untyped-def]
    made = needs.client.post("/api/residents", json=resident_body(notice_channel="sms",
                                                                  notice_consent_date=today())).json
    url = f"/internal/residents/{made['ref']}/notice-contact"
    assert needs.client.get(url).status_code == 401
    answer = needs.client.get(url, query_string={"purpose": "SMS do mieszkańca o wizycie"}, headers=TOKEN)
    assert answer.status_code == 200
    assert answer.json == {"resident_ref": made["ref"], "channel": "sms", "consent": True, "consent_date": today(),
                           "phone": "+48 600 000 001"}
    staff = needs.client.get(url, query_string={"purpose": "zadanie do zadzwonienia", "for": "anna.osl"},
                             headers=TOKEN)
    assert staff.status_code == 200
    reads = [(a["actor"], a["purpose"]) for a in needs.rows("audit_log") if a["action"] == "read"]
    assert ("notify", "SMS do mieszkańca o wizycie") in reads and ("notify: anna.osl", "zadanie do zadzwonienia") in reads
    needs.client.patch(f"/api/residents/{made['id']}", json={"notice_channel": "none"})
    assert needs.client.get(url, headers=TOKEN).json["phone"] == ""
    assert needs.client.get("/internal/residents/M-NOBODY/notice-contact", headers=TOKEN).status_code == 404


def test_an_erased_resident_has_no_notice_contact(needs) -> None:  # type: ignore[no-untyped-def]
    made = needs.client.post("/api/residents", json=resident_body(notice_channel="sms",
                                                                  notice_consent_date=today())).json
    assert needs.client.post(f"/api/residents/{made['id']}/erase", json={"reason": "wniosek 1/2026"}).status_code == 200
    assert needs.client.get(f"/internal/residents/{made['ref']}/notice-contact", headers=TOKEN).status_code == 404
    [row] = needs.rows("residents")
    assert (row["notice_channel"], row["notice_consent_date"]) == ("none", None)


def test_a_consent_dated_yesterday_is_kept_with_who_recorded_it(needs) -> None:  # type: ignore[no-untyped-def]
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    made = needs.client.post("/api/residents", json=resident_body(notice_channel="call",
                                                                  notice_consent_date=yesterday))
    assert made.status_code == 201 and made.json["notice_consent_date"] == yesterday
