"""A volunteer's sign-in link crosses the in-memory bus: the volunteers service asks, notify records one message
on the channel typed (also when the bus delivers the request twice), the link in it signs the person in once, and
neither the bus nor notify's staff views carry the link's secret."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.notify.db import notifications
from services.volunteers.bootstrap import bootstrap as volunteers_bootstrap
from wspolnota import config
from wspolnota.testing import InMemorySystem, ManualClock

NOW = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def system(tmp_path: Path, clock: ManualClock) -> Iterator[InMemorySystem]:
    s = InMemorySystem(tmp_path, services=("volunteers", "notify"), clock=clock)
    yield s
    s.close()


@pytest.fixture
def volunteers(system: InMemorySystem, clock: ManualClock) -> Any:
    from services.volunteers.app import create_app

    return create_app({"DATABASE_URL": system["volunteers"].db.url, "TESTING": True, "AUTH_DISABLED": True},
                      parts=volunteers_bootstrap(system["volunteers"].db.url, clock=clock))


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found
    return found.group(1)


def ask(app: Any, identifier: str) -> None:
    client = app.test_client()
    page = client.get("/wolontariusz/logowanie")
    answer = client.post("/wolontariusz/logowanie", data={"csrf_token": csrf(page.get_data(as_text=True)),
                                                          "identifier": identifier})
    assert answer.status_code == 302


def sign_in_rows(system: InMemorySystem) -> list[dict[str, Any]]:
    with system["notify"].db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(notifications).where(
            notifications.c.kind == "volunteer_sign_in").order_by(notifications.c.created_at)).mappings()]


def link_path(body: str) -> str:
    found = re.search(r"https?://[^/\s]+/volunteers(/wolontariusz/wejscie/[A-Za-z0-9_\-.]+)", body)
    assert found, body
    return found.group(1)


def test_a_requested_link_is_recorded_once_by_notify_and_signs_the_volunteer_in_once(
        system: InMemorySystem, volunteers: Any) -> None:
    staff = volunteers.test_client()
    volunteer_id = staff.post("/api/volunteers", json={"name": "Zofia Wiśniewska", "email": "zofia@example.pl",
                                                       "phone": "+48 601 202 303", "villages": ["belno"],
                                                       "preferred_channel": "sms"}).json["id"]
    ask(volunteers, "zofia@example.pl")
    system.pump()
    # the bus delivers the request again (at least once): still one message
    requests = [m for m in system.broker.messages(config.topic("volunteers"))
                if json.loads(m.value)["type"] == "SignInLinkRequested"]
    assert len(requests) == 1
    producer = system.broker.producer()
    producer.send(config.topic("volunteers"), requests[0].key, requests[0].value, [])
    producer.flush()
    system.pump()

    [row] = sign_in_rows(system)
    assert (row["recipient"], row["channel"], row["urgent"]) == (f"wolontariusz:{volunteer_id}", "email", True)
    assert "Link do logowania" in row["subject"] and "działa tylko raz" in row["body"]
    path = link_path(row["body"])
    token = path.rsplit("/", 1)[1]
    on_the_bus = " ".join(m.value.decode() for t in ("volunteers", "notifications")
                          for m in system.broker.messages(config.topic(t)))
    assert token not in on_the_bus and token.split(".")[1] not in on_the_bus
    assert "zofia@example.pl" not in on_the_bus and "601202303" not in on_the_bus

    client = volunteers.test_client()
    page = client.get(path)
    assert client.post(path, data={"csrf_token": csrf(page.get_data(as_text=True))}).status_code == 302
    assert "Zofia Wiśniewska" in client.get("/wolontariusz/").get_data(as_text=True)
    again = volunteers.test_client()
    assert again.get(path).status_code == 410


def test_a_phone_number_asks_for_an_sms_and_staff_never_see_the_link(system: InMemorySystem,
                                                                      volunteers: Any) -> None:
    from services.notify.app import create_app as notify_app

    volunteers.test_client().post("/api/volunteers", json={
        "name": "Jan Kowalski", "email": "jan@example.pl", "phone": "602 000 111", "villages": ["belno"]})
    ask(volunteers, "602 000 111")
    system.pump()
    [row] = sign_in_rows(system)
    assert row["channel"] == "sms" and "wolontariusz/wejscie/" in row["body"]
    token = link_path(row["body"]).rsplit("/", 1)[1]
    notify = notify_app({"DATABASE_URL": system["notify"].db.url, "TESTING": True, "AUTH_DISABLED": True})
    client = notify.test_client()
    for page in ("/", "/api/notifications"):
        response = client.get(page)
        assert response.status_code == 200 and "wejscie/" in response.get_data(as_text=True), page
        assert token not in response.get_data(as_text=True), page
