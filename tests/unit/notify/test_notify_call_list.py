"""The staff's "Do zadzwonienia" list: residents without a mobile phone get their notices by a call. The list shows
what to say and when, never the phone; opening one task reads the phone from the needs service (naming the staff
member, audited there) and the volunteer's first name from the volunteers service; "Zadzwoniono" / "Nie udało się"
mark it, attempts counted. The dashboard's API lists today's calls without contacts."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from notify_support import VOLUNTEER, FakeHttpServer
from test_notify_resident_notices import RESIDENT, arranged_visit, tasks

from services.notify.app import create_app


def needs_and_volunteers(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    if path.startswith(f"/internal/residents/{RESIDENT}/notice-contact"):
        query = parse_qs(urlparse(path).query)
        return 200, {"resident_ref": RESIDENT, "channel": "call", "consent": True, "phone": "+48 41 311 00 00",
                     "asked_for": query.get("for", [""])[0]}
    if path == f"/internal/volunteers/{VOLUNTEER}/contact":
        return 200, {"name": "Zofia Wiśniewska", "email": "", "phone": "", "preferred_channel": None}
    return 404, {}


@pytest.fixture
def services() -> Any:
    with FakeHttpServer(needs_and_volunteers) as server:
        yield server


@pytest.fixture
def client(db, settings, services):  # type: ignore[no-untyped-def]
    given = replace(settings, needs_internal_url=services.url, volunteers_internal_url=services.url,
                    internal_service_token="shared-token")
    return create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True,
                       "NOTIFY_SETTINGS": given}).test_client()


def test_the_list_says_what_to_say_and_when_but_shows_no_phone(deliver, db, client, services) -> None:
    arranged_visit(deliver, channel="call")
    page = client.get("/do-zadzwonienia")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Do zadzwonienia" in text and "pomoc umówiona" in text and "przypomnienie o wizycie" in text
    assert "[imię wolontariusza — po otwarciu zadania]" in text
    assert "311 00 00" not in text and "Zofia" not in text
    assert services.requests == []  # nothing personal was read for the list


def test_opening_a_task_reads_the_phone_for_the_staff_member_and_the_first_name(deliver, db, client,
                                                                                 services) -> None:
    arranged_visit(deliver, channel="call")
    task = tasks(db)[0]["id"]
    page = client.get(f"/do-zadzwonienia/{task}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "+48 41 311 00 00" in text and "Przyjdzie Zofia z CUS." in text
    assert "Wiśniewska" not in text
    [(_, path, headers, _)] = [r for r in services.requests if "notice-contact" in r[1]]
    assert headers["Authorization"] == "Bearer shared-token"
    assert parse_qs(urlparse(path).query)["purpose"] == [f"zadanie do zadzwonienia {task}"]
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text)
    assert found is not None
    token = found.group(1)
    assert client.post(f"/do-zadzwonienia/{task}", data={"failed": "1"}).status_code == 400  # no CSRF token
    failed = client.post(f"/do-zadzwonienia/{task}", data={"csrf_token": token, "failed": "1"},
                         follow_redirects=True)
    assert "Zapisano próbę" in failed.get_data(as_text=True)
    assert "1 próba" in failed.get_data(as_text=True)
    client.post(f"/do-zadzwonienia/{task}", data={"csrf_token": token, "failed": "1"})
    listed = client.get("/do-zadzwonienia").get_data(as_text=True)
    assert "2 próby" in listed
    done = client.post(f"/do-zadzwonienia/{task}", data={"csrf_token": token, "called": "1"}, follow_redirects=True)
    assert "Zapisano: zadzwoniono." in done.get_data(as_text=True)
    assert {t["id"]: t["status"] for t in tasks(db)}[task] == "done"


def test_the_dashboard_api_lists_todays_calls_without_contacts(deliver, db, client) -> None:
    arranged_visit(deliver, channel="call")
    today = client.get("/api/calls").json
    assert [t["kind"] for t in today] == ["resident_arranged"]  # the reminder is due in two days
    assert set(today[0]) == {"id", "kind", "due_at", "attempts", "need_id"}
    assert [t["kind"] for t in client.get("/api/calls?due=all").json] == ["resident_arranged", "resident_reminder"]
    bad = client.get("/api/calls?due=jutro")
    assert bad.status_code == 422 and "due" in bad.json["errors"]["query"]


def test_an_unknown_task_is_not_found(client) -> None:
    assert client.get("/do-zadzwonienia/00000000-0000-4000-8000-000000000000").status_code == 404
