"""Helper places at community activities: offered through the provider's channels with signed links, once per
offer; the answer goes back to matching as ProviderResponded with the activity's id."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notify_support import VOLUNTEER, event, ledger, outbox_events

from services.notify.app import create_app
from services.notify.contacts import VOLUNTEER as CONTACT_VOLUNTEER
from services.notify.links import link_url

ACTIVITY = "44444444-4444-4444-8444-444444444444"
OFFER = "55555555-5555-4555-8555-555555555555"
STARTS = (datetime.now(UTC) + timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)


def helper(**over: Any) -> dict[str, Any]:
    return {"match_id": OFFER, "activity_id": ACTIVITY, "volunteer_id": VOLUNTEER, **over}


def helper_offered(**over: Any) -> dict[str, Any]:
    return helper(deadline=(datetime.now(UTC) + timedelta(days=1)).isoformat(), village="belno",
                  starts_at=STARTS.isoformat(), ends_at=(STARTS + timedelta(hours=3)).isoformat(),
                  involves_children=True, kind="workshop", category=None, **over)


@pytest.fixture
def app(db, settings):  # type: ignore[no-untyped-def]
    return create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SETTINGS": settings})


@pytest.fixture
def offer_id(deliver) -> str:  # type: ignore[no-untyped-def]
    offer = event("HelperOffered", helper_offered(), key=ACTIVITY)
    deliver(offer)
    return str(offer.id)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_helper_offer_goes_by_sms_and_email_with_activity_village_and_time(db, offer_id) -> None:  # type: ignore[no-untyped-def]
    rows = ledger(db, kind="helper_offered")
    assert sorted(r["channel"] for r in rows) == ["email", "sms"]
    assert all(r["recipient"] == CONTACT_VOLUNTEER + VOLUNTEER and r["match_id"] == OFFER for r in rows)
    email = next(r for r in rows if r["channel"] == "email")
    assert "warsztat" in email["subject"] and "Belno" in email["subject"]
    assert f"{STARTS.astimezone(__import__('zoneinfo').ZoneInfo('Europe/Warsaw')):%d.%m.%Y}" in email["body"]
    assert "dzieci" in email["body"] and "/o/" in email["body"]


def test_the_same_offer_delivered_twice_is_sent_once(db, deliver) -> None:  # type: ignore[no-untyped-def]
    offer = event("HelperOffered", helper_offered(), key=ACTIVITY)
    deliver(offer)
    deliver(offer)
    assert len(ledger(db, kind="helper_offered")) == 2  # one per channel


def test_accepting_by_link_answers_matching_with_the_activity(app, db, settings, offer_id) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    url = link_url("", settings.link_secret, offer_id, "accept")
    page = client.get(url).get_data(as_text=True)
    assert "Pomoc przy zajęciach" in page and "warsztat" in page and "Belno" in page
    assert 'href="/needs/"' not in page  # a volunteer's page: no staff navigation
    done = client.post(url, data={"csrf_token": csrf(page), "accept": "1"}, follow_redirects=True)
    assert "Dziękujemy — zadanie przyjęte" in done.get_data(as_text=True)
    assert 'href="/needs/"' not in done.get_data(as_text=True)
    [published] = outbox_events(db, "ProviderResponded")
    assert published["data"] == {"match_id": OFFER, "volunteer_id": VOLUNTEER, "response": "accept",
                                 "reason": "", "activity_id": ACTIVITY}
    assert {r["status"] for r in ledger(db, kind="helper_offered")} == {"cancelled"}


def test_an_offer_that_expired_cannot_be_answered(app, deliver, settings, offer_id) -> None:  # type: ignore[no-untyped-def]
    deliver(event("HelperExpired", helper(), key=ACTIVITY))
    response = app.test_client().get(link_url("", settings.link_secret, offer_id, "accept"))
    assert response.status_code == 410


def test_a_cancelled_acceptance_tells_the_helper_not_to_come(db, deliver, offer_id) -> None:  # type: ignore[no-untyped-def]
    deliver(event("HelperAccepted", helper(), key=ACTIVITY))
    [panel] = ledger(db, kind="helper_accepted")
    assert panel["channel"] == "panel" and VOLUNTEER not in panel["body"]
    deliver(event("HelperCancelled", helper(reason="activity_cancelled", accepted=True), key=ACTIVITY))
    rows = ledger(db, kind="helper_cancelled")
    assert sorted(r["channel"] for r in rows) == ["email", "sms"]
    assert "Nie przychodz" in next(r for r in rows if r["channel"] == "sms")["body"]
    assert "zajęcia odwołane" in next(r for r in rows if r["channel"] == "email")["body"]
