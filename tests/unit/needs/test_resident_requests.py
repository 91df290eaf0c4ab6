"""A resident (or a relative or neighbour) asks for help on the public form without an account, or staff write down
a phone call; every bad field gets a Polish error and nothing is stored; a double submit is one request; the
public form is rate-limited and has a honeypot; staff triage the queue (oldest first), read a request (audited),
turn it into a need with a resident record or close it with a reason; the bus carries ids and codes only."""
from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.needs import resident_requests as rr
from tests.unit.needs.conftest import NeedsHarness, resident_body
from wspolnota.testing import signed_in

TOKEN = {"Authorization": "Bearer dev-only-internal-token", "X-Service-Name": "notify"}
GOOD: dict[str, Any] = {"for_whom": "family", "requester_name": "Anna Przykładowa", "person_name": "Jan Przykładowy",
                        "village": "belno", "address": "ul. Wymyślona 3", "help_kinds": ["shopping", "transport"],
                        "details": "Tata nie wychodzi z domu po operacji biodra.", "urgency": "week",
                        "phone": "601 202 303", "email": "", "consent": "y"}


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*name="(csrf_token|submission|submission_id)"[^>]*value="([^"]*)"', html))


def errors_on(html: str) -> list[str]:
    return [html_lib.unescape(e) for e in re.findall(r'<p class="error" id="[^"]*">([^<]*)</p>', html)]


def open_form(needs: NeedsHarness, url: str = "/prosba") -> dict[str, str]:
    return hidden_fields(needs.page(url))


def send(needs: NeedsHarness, token: dict[str, str] | None = None, url: str = "/prosba", **over: Any) -> Any:
    fields = {**(token or open_form(needs, url)), **GOOD, **over}
    return needs.client.post(url, data={k: v for k, v in fields.items() if v is not None})


def nothing_stored(needs: NeedsHarness) -> bool:
    return needs.count("resident_requests") == 0 and needs.published("RequestReceived") == []


def test_a_good_request_is_stored_once_and_published_without_personal_data(needs) -> None:  # type: ignore[no-untyped-def]
    answer = send(needs)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/prosba/dziekujemy")
    [row] = needs.rows("resident_requests")
    assert (row["status"], row["channel"], row["for_whom"], row["reply_channel"]) == ("new", "online", "family", "sms")
    assert row["help_kinds"] == "shopping,transport" and row["person_name"] == "Jan Przykładowy"
    [event] = needs.published("RequestReceived")
    assert event.data == {"request_id": row["id"], "village": "belno", "channel": "online"}
    kept = " ".join(str(r["body"]) for r in needs.rows("outbox"))
    assert "Przykładow" not in kept and "601" not in kept and "biodra" not in kept


def test_the_public_form_has_the_public_header_the_notice_and_no_staff_navigation(needs) -> None:  # type: ignore[no-untyped-def]
    page = needs.page("/prosba")
    assert "Poproś o pomoc" in page and 'aria-label="Usługi"' not in page and "/matching/" not in page
    assert "Informacja o przetwarzaniu danych (RODO, art. 13)" in page
    for words in ("Administratorem", "Centrum Usług Społecznych w Zagnańsku", "art. 6 ust. 1 lit. a RODO",
                  "przez 90 dni", "Prezesa Urzędu Ochrony Danych Osobowych"):
        assert words in page
    thanks = needs.page("/prosba/dziekujemy")
    assert "Co dalej" in thanks and 'aria-label="Usługi"' not in thanks


def test_the_thanks_page_gives_the_centres_phone(needs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CENTRE_PHONE", "41 311 00 00")
    assert 'href="tel:413110000"' in needs.page("/prosba/dziekujemy")


@pytest.mark.parametrize("over, field, message", [
    ({"for_whom": None}, "for_whom", rr.E_FOR_WHOM),
    ({"for_whom": "kot"}, "for_whom", rr.E_FOR_WHOM),
    ({"requester_name": "  "}, "requester_name", rr.E_NAME),
    ({"requester_name": "x" * 201}, "requester_name", rr.E_NAME_LONG),
    ({"person_name": ""}, "person_name", rr.E_PERSON),
    ({"village": ""}, "village", rr.E_VILLAGE),
    ({"village": "Warszawa"}, "village", rr.E_VILLAGE),
    ({"village": "<script>alert(1)</script>"}, "village", rr.E_VILLAGE),
    ({"address": "a" * 301}, "address", rr.E_ADDRESS_LONG),
    ({"help_kinds": None}, "help_kinds", rr.E_HELP),
    ({"help_kinds": ["teleportacja"]}, "help_kinds", rr.E_HELP),
    ({"help_kinds": ["other"], "details": ""}, "details", rr.E_DETAILS),
    ({"details": "d" * 2001}, "details", rr.E_DETAILS_LONG),
    ({"urgency": None}, "urgency", rr.E_URGENCY),
    ({"urgency": "wczoraj"}, "urgency", rr.E_URGENCY),
    ({"phone": "dzwoń wieczorem"}, "phone", rr.E_PHONE),
    ({"phone": "12"}, "phone", rr.E_PHONE),
    ({"email": "anna@"}, "email", rr.E_EMAIL),
    ({"phone": "", "email": ""}, "phone", rr.E_CONTACT),
    ({"phone": "", "email": "anna@example.pl", "reply_channel": "sms"}, "reply_channel", rr.E_REPLY_SMS),
    ({"email": "", "reply_channel": "email"}, "reply_channel", rr.E_REPLY_EMAIL),
    ({"reply_channel": "gołąb"}, "reply_channel", rr.E_REPLY),
    ({"consent": None}, "consent", rr.E_CONSENT),
])
def test_every_bad_field_gets_its_polish_error_and_nothing_is_stored(needs, over, field, message) -> None:  # type: ignore[no-untyped-def]
    answer = send(needs, **over)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert message in errors_on(page)
    assert f'id="{field}-bledy"' in page and "Popraw zaznaczone pola." in page
    assert nothing_stored(needs)


def test_an_empty_form_names_every_missing_field_at_once(needs) -> None:  # type: ignore[no-untyped-def]
    answer = needs.client.post("/prosba", data=open_form(needs))
    assert answer.status_code == 422
    found = errors_on(answer.get_data(as_text=True))
    for message in (rr.E_FOR_WHOM, rr.E_NAME, rr.E_VILLAGE, rr.E_HELP, rr.E_URGENCY, rr.E_CONTACT, rr.E_CONSENT):
        assert message in found
    assert nothing_stored(needs)


def test_a_form_without_its_csrf_token_stores_nothing(needs) -> None:  # type: ignore[no-untyped-def]
    answer = send(needs, token={"submission": "abc"})
    assert answer.status_code == 400 and "Formularz wygasł" in answer.get_data(as_text=True)
    assert nothing_stored(needs)


def test_a_double_submit_of_the_same_form_is_one_request(needs) -> None:  # type: ignore[no-untyped-def]
    token = open_form(needs)
    assert send(needs, token=token).status_code == 302
    again = send(needs, token=token)
    assert again.status_code == 302 and again.headers["Location"].endswith("/prosba/dziekujemy")
    assert needs.count("resident_requests") == 1 and len(needs.published("RequestReceived")) == 1


def test_a_filled_honeypot_looks_like_success_and_stores_nothing(needs) -> None:  # type: ignore[no-untyped-def]
    answer = send(needs, website="http://spam.example")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/prosba/dziekujemy")
    assert nothing_stored(needs)


def test_the_public_form_is_rate_limited_per_address(needs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEEDS_PUBLIC_REQUESTS_PER_HOUR", "2")
    assert send(needs).status_code == 302
    assert send(needs, requester_name="").status_code == 422  # a refused post counts too
    refused = send(needs)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert "zbyt wiele próśb" in refused.get_data(as_text=True)
    assert needs.count("resident_requests") == 1


def submitted(needs: NeedsHarness, **over: Any) -> dict[str, Any]:
    assert send(needs, **over).status_code == 302
    return sorted(needs.rows("resident_requests"), key=lambda r: r["created_at"])[-1]


def test_the_queue_lists_open_requests_oldest_first_with_their_age_and_no_personal_data(needs) -> None:  # type: ignore[no-untyped-def]
    first = submitted(needs, village="belno")
    second = submitted(needs, village="lekomin")
    page = needs.page("/prosby")
    assert page.index(first["id"]) < page.index(second["id"])
    assert "Przykładow" not in page and "601 202 303" not in page and "biodra" not in page
    assert "min" in page and "nowa" in page
    listed = needs.client.get("/api/requests").json
    assert [r["id"] for r in listed] == [first["id"], second["id"]]
    assert set(listed[0]) == {"id", "status", "channel", "village", "help_kinds", "urgency", "created_at"}


def test_opening_a_request_is_an_audited_read_and_puts_it_in_triage(needs) -> None:  # type: ignore[no-untyped-def]
    row = submitted(needs)
    page = needs.page(f"/prosby/{row['id']}")
    assert "Anna Przykładowa" in page and "601 202 303" in page and "biodra" in page
    [after] = needs.rows("resident_requests")
    assert after["status"] == "triage" and after["triage_by"]
    assert ("read", "request", row["id"]) in [(a["action"], a["subject"], a["subject_id"])
                                              for a in needs.rows("audit_log")]


def test_staff_close_a_request_with_a_reason_and_it_is_final(needs) -> None:  # type: ignore[no-untyped-def]
    row = submitted(needs)
    url = f"/prosby/{row['id']}"
    bad = needs.submit(f"{url}/zamknij", {"reason": "bo tak"}, form_url=url)
    assert bad.status_code == 422 and rr.E_REASON in errors_on(bad.get_data(as_text=True))
    done = needs.submit(f"{url}/zamknij", {"reason": "referred", "note": "Przekazano do MOPS w Kielcach."},
                        form_url=url)
    assert done.status_code == 302
    [after] = needs.rows("resident_requests")
    assert (after["status"], after["close_reason"], after["close_note"]) == (
        "closed", "referred", "Przekazano do MOPS w Kielcach.")
    [event] = needs.published("RequestClosed")
    assert event.data == {"request_id": row["id"], "reason": "referred"}
    token = hidden_fields(needs.page("/prosby/nowa"))["csrf_token"]  # the closed request shows no form
    again = needs.client.post(f"{url}/zamknij", data={"csrf_token": token, "reason": "resolved"})
    assert again.status_code == 409 and rr.DECIDED in again.get_data(as_text=True)
    assert len(needs.published("RequestClosed")) == 1
    assert "MOPS" not in " ".join(str(r["body"]) for r in needs.rows("outbox"))


def convert_fields(needs: NeedsHarness, request_id: str) -> dict[str, str]:
    page = needs.page(f"/prosby/{request_id}/potrzeba")
    found = {m[0]: html_lib.unescape(m[1]) for m in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"',
                                                                  page) if m[0] != "resident"}
    return {**found, "category": "ZAK", "village": "belno", "urgency": "normal", "r_channel": "sms",
            "r_legal_basis": "art6_1_e", "description": html_lib.unescape(
                re.search(r'<textarea[^>]*name="description"[^>]*>\s*([^<]*)</textarea>', page).group(1))}  # type: ignore[union-attr]


def test_turning_a_request_into_a_need_makes_the_resident_and_the_need_and_links_them(needs) -> None:  # type: ignore[no-untyped-def]
    row = submitted(needs)
    fields = convert_fields(needs, row["id"])
    assert fields["r_name"] == "Jan Przykładowy" and fields["r_phone"] == "601 202 303"
    assert fields["description"].startswith("Z prośby mieszkańca: zakupy")
    answer = needs.client.post(f"/prosby/{row['id']}/potrzeba", data={**fields, "resident": "new"})
    assert answer.status_code == 302, errors_on(answer.get_data(as_text=True))
    [need] = needs.rows("needs")
    [resident] = needs.rows("residents")
    [after] = needs.rows("resident_requests")
    assert (after["status"], after["need_id"], after["resident_ref"]) == ("converted", need["id"], resident["ref"])
    assert need["resident_ref"] == resident["ref"] and resident["name"] == "Jan Przykładowy"
    [event] = needs.published("RequestConverted")
    assert event.data == {"request_id": row["id"], "need_id": need["id"]}
    assert len(needs.published("NeedRegistered")) == 1
    assert "z prośby mieszkańca" in needs.page(f"/needs/{need['id']}")
    twice = needs.client.post(f"/prosby/{row['id']}/potrzeba", data={**fields, "resident": "new"})
    assert twice.status_code == 302 and needs.count("needs") == 1  # already decided: back to the request


def test_a_request_is_turned_into_a_need_of_a_resident_who_has_a_card(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    row = submitted(needs)
    fields = convert_fields(needs, row["id"])
    unknown = needs.client.post(f"/prosby/{row['id']}/potrzeba",
                                data={**fields, "resident": "existing", "resident_ref": "M-NIEMA1"})
    assert unknown.status_code == 422 and "Nie ma mieszkańca o takim pseudonimie." in errors_on(
        unknown.get_data(as_text=True))
    assert needs.count("needs") == 0 and needs.rows("resident_requests")[0]["status"] == "triage"
    bad_need = needs.client.post(f"/prosby/{row['id']}/potrzeba", data={
        **fields, "resident": "existing", "resident_ref": resident["ref"], "window_start": "2020-01-01T10:00"})
    assert bad_need.status_code == 422 and needs.count("needs") == 0
    done = needs.client.post(f"/prosby/{row['id']}/potrzeba",
                             data={**fields, "resident": "existing", "resident_ref": resident["ref"]})
    assert done.status_code == 302 and needs.count("residents") == 1
    assert needs.rows("needs")[0]["resident_ref"] == resident["ref"]


def test_staff_take_a_request_by_phone_as_the_signed_in_person(needs) -> None:  # type: ignore[no-untyped-def]
    answer = send(needs, url="/prosby/nowa")
    assert answer.status_code == 302
    [row] = needs.rows("resident_requests")
    assert row["channel"] == "phone" and row["taken_by"]
    assert needs.published("RequestReceived")[0].data["channel"] == "phone"
    bad = send(needs, url="/prosby/nowa", phone="", email="")
    assert bad.status_code == 422 and rr.E_CONTACT in errors_on(bad.get_data(as_text=True))


def test_notify_reads_the_requesters_contact_with_the_token_and_each_read_is_audited(needs) -> None:  # type: ignore[no-untyped-def]
    row = submitted(needs, email="anna@example.pl", reply_channel="email")
    assert needs.client.get(f"/internal/requests/{row['id']}/contact").status_code == 401
    found = needs.client.get(f"/internal/requests/{row['id']}/contact", headers=TOKEN).json
    assert found == {"request_id": row["id"], "phone": "601 202 303", "email": "anna@example.pl",
                     "reply_channel": "email", "status": "new"}
    assert ("read", "request", "usługa:notify") in [(a["action"], a["subject"], a["actor"])
                                                     for a in needs.rows("audit_log")]
    assert needs.client.get("/internal/requests/nie-ma/contact", headers=TOKEN).status_code == 404


def test_closed_requests_lose_their_personal_data_after_the_retention_period(needs) -> None:  # type: ignore[no-untyped-def]
    from services.needs import jobs

    row = submitted(needs)
    kept = submitted(needs, requester_name="Ktoś Inny")
    needs.submit(f"/prosby/{row['id']}/zamknij", {"reason": "resolved", "note": "Syn pomógł."},
                 form_url=f"/prosby/{row['id']}")
    now = datetime.now(UTC)
    assert jobs.erase_old_requests(needs.db, now + timedelta(days=89)) == 0
    assert jobs.erase_old_requests(needs.db, now + timedelta(days=91)) == 1
    by_id = {r["id"]: r for r in needs.rows("resident_requests")}
    gone = by_id[row["id"]]
    assert gone["requester_name"] == rr.ERASED and gone["phone"] == gone["email"] == gone["details"] == ""
    assert gone["close_note"] == "" and gone["person_name"] == "" and gone["erased_at"] is not None
    assert (gone["village"], gone["close_reason"]) == ("belno", "resolved")
    assert by_id[kept["id"]]["requester_name"] == "Ktoś Inny"  # still open: kept
    assert needs.client.get(f"/internal/requests/{row['id']}/contact", headers=TOKEN).status_code == 404
    assert jobs.erase_old_requests(needs.db, now + timedelta(days=92)) == 0


@pytest.mark.parametrize("role, may_triage", [
    ("osl", True), ("social_worker", True), ("director", True), ("admin", True),
    ("ipus_coordinator", False), ("auditor", False)])
def test_the_queue_and_the_requests_are_for_the_triage_roles(tmp_path, role, may_triage) -> None:  # type: ignore[no-untyped-def]
    from services.needs.app import create_app
    from wspolnota.testing import InMemorySystem

    system = InMemorySystem(tmp_path, services=("needs",))
    app = create_app({"DATABASE_URL": system["needs"].db.url, "TESTING": True})
    try:
        client = app.test_client()
        assert client.get("/prosba").status_code == 200  # public: no account
        assert client.get("/prosby").status_code in (302, 401, 403)
        signed_in(client, role)
        assert (client.get("/prosby").status_code == 200) is may_triage
        assert (client.get("/prosby/nowa").status_code == 200) is may_triage
        assert client.get("/api/requests").status_code == 200  # ids and codes: every staff role
    finally:
        system.close()
