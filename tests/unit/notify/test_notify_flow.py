"""Notify on the in-memory bus: an offer event becomes SMS and e-mail rows once, even when the bus
delivers it twice, and the provider's answer through the link leaves on `notifications` as ProviderResponded."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from notify_support import MATCH, VOLUNTEER, event, ledger, offered

from services.notify.app import create_app
from services.notify.links import link_url
from wspolnota import config
from wspolnota.testing import InMemorySystem
from wspolnota.transport import encode


@pytest.fixture
def system(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = InMemorySystem(tmp_path, services=("notify",))
    yield s
    s.close()


def publish(system, e) -> None:  # type: ignore[no-untyped-def]
    producer = system.broker.producer()
    producer.send(config.topic("matches"), e.key.encode(), encode(e), [])
    producer.flush()


def test_an_offer_delivered_twice_is_recorded_once_and_the_answer_goes_back_on_the_bus(system, settings) -> None:
    offer = event("MatchOffered", offered())
    publish(system, offer)
    publish(system, offer)  # at-least-once delivery
    system.pump()
    db = system["notify"].db
    assert sorted(r["channel"] for r in ledger(db, kind="match_offered")) == ["email", "sms"]

    client = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SETTINGS": settings}).test_client()
    url = link_url("", settings.link_secret, str(offer.id), "accept")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(url).get_data(as_text=True))
    client.post(url, data={"csrf_token": token.group(1), "accept": "1"})  # type: ignore[union-attr]
    system.pump()
    published = [json.loads(m.value) for m in system.broker.messages(config.topic("notifications"))]
    [answer] = [p for p in published if p["type"] == "ProviderResponded"]
    assert answer["key"] == MATCH
    assert answer["data"] == {"match_id": MATCH, "volunteer_id": VOLUNTEER, "response": "accept", "reason": ""}
    assert {p["type"] for p in published} == {"NotificationRecorded", "ProviderResponded"}
