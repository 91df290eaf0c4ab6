"""Providers answer through signed, single-use, expiring links; the answer goes to matching as ProviderResponded."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from notify_support import MATCH, VOLUNTEER, event, ledger, match_data, offered, outbox_events

from services.notify.app import create_app
from services.notify.db import matches_seen
from services.notify.links import link_url, make_token


@pytest.fixture
def app(db, settings):  # type: ignore[no-untyped-def]
    return create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SETTINGS": settings})


@pytest.fixture
def offer_id(deliver) -> str:  # type: ignore[no-untyped-def]
    offer = event("MatchOffered", offered())
    deliver(offer)
    return str(offer.id)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def path(settings, offer_id: str, action: str) -> str:  # type: ignore[no-untyped-def]
    return link_url("", settings.link_secret, offer_id, action)


def test_the_accept_link_shows_the_offer_in_polish_and_one_tap_accepts_it(app, db, settings, offer_id) -> None:
    client = app.test_client()
    url = path(settings, offer_id, "accept")
    page = client.get(url).get_data(as_text=True)
    assert "Zakupy i sprawunki" in page and "Belno" in page and "Przyjmuję zadanie" in page
    response = client.post(url, data={"csrf_token": csrf(page), "accept": "1"})
    assert response.status_code == 302
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dziękujemy — zadanie przyjęte" in done
    [published] = outbox_events(db, "ProviderResponded")
    assert published["key"] == MATCH
    assert published["data"] == {"match_id": MATCH, "volunteer_id": VOLUNTEER, "response": "accept", "reason": ""}


def test_an_answer_withdraws_the_copy_of_the_offer_not_yet_sent(app, db, settings, offer_id) -> None:
    client = app.test_client()
    url = path(settings, offer_id, "accept")
    client.post(url, data={"csrf_token": csrf(client.get(url).get_data(as_text=True)), "accept": "1"})
    statuses = {r["channel"]: (r["status"], r["last_error"]) for r in ledger(db, kind="match_offered")}
    assert statuses == {"sms": ("cancelled", "wolontariusz już odpowiedział"),
                        "email": ("cancelled", "wolontariusz już odpowiedział")}


def test_a_link_works_only_once(app, db, settings, offer_id) -> None:
    client = app.test_client()
    url = path(settings, offer_id, "accept")
    client.post(url, data={"csrf_token": csrf(client.get(url).get_data(as_text=True)), "accept": "1"})
    other = path(settings, offer_id, "decline")  # the SMS and e-mail links share one answer
    again = client.get(other).get_data(as_text=True)
    assert "została już zapisana" in again and "Nie mogę pomóc" not in again
    late = client.post(other, data={"decline": "1", "reason": "busy"})
    assert "została już zapisana" in late.get_data(as_text=True)
    assert len(outbox_events(db, "ProviderResponded")) == 1


def test_declining_needs_a_reason_from_the_list(app, db, settings, offer_id) -> None:
    client = app.test_client()
    url = path(settings, offer_id, "decline")
    page = client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": csrf(page), "decline": "1", "reason": ""})
    assert refused.status_code == 422 and "Wybierz powód odmowy." in refused.get_data(as_text=True)
    assert outbox_events(db, "ProviderResponded") == []
    client.post(url, data={"csrf_token": csrf(page), "decline": "1", "reason": "distance"})
    [published] = outbox_events(db, "ProviderResponded")
    assert published["data"]["response"] == "decline" and published["data"]["reason"] == "To dla mnie za daleko"


def test_a_post_without_the_csrf_token_changes_nothing(app, db, settings, offer_id) -> None:
    response = app.test_client().post(path(settings, offer_id, "accept"), data={"accept": "1"})
    assert response.status_code == 400 and "Formularz wygasł" in response.get_data(as_text=True)
    assert outbox_events(db, "ProviderResponded") == []


def test_a_tampered_link_is_not_recognised(app, settings, offer_id) -> None:
    url = path(settings, offer_id, "accept")
    response = app.test_client().get(url[:-3] + "abc")
    assert response.status_code == 404 and "Nieprawidłowy link" in response.get_data(as_text=True)
    forged = "/o/" + make_token("someone-elses-secret", offer_id, "accept")
    assert app.test_client().get(forged).status_code == 404


def test_an_expired_link_says_so(db, settings, offer_id) -> None:
    from dataclasses import replace

    app = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "NOTIFY_SETTINGS": replace(settings, link_max_age_h=-1.0)})
    response = app.test_client().get(path(settings, offer_id, "accept"))
    assert response.status_code == 410 and "Link wygasł" in response.get_data(as_text=True)


def test_an_answer_after_the_deadline_is_refused(app, db, settings, offer_id) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.update(matches_seen).values(deadline=datetime.now(UTC) - timedelta(minutes=1)))
    response = app.test_client().get(path(settings, offer_id, "accept"))
    assert response.status_code == 410 and "nieaktualna" in response.get_data(as_text=True)


def test_an_offer_cancelled_meanwhile_cannot_be_accepted(app, db, deliver, settings, offer_id) -> None:
    deliver(event("MatchCancelled", match_data(reason="Potrzeba odwołana")))
    response = app.test_client().get(path(settings, offer_id, "accept"))
    assert response.status_code == 410 and outbox_events(db, "ProviderResponded") == []


def test_staff_never_see_the_providers_signed_links(app, offer_id) -> None:
    page = app.test_client().get("/").get_data(as_text=True)
    assert "/o/…" in page and not re.search(r"/o/[A-Za-z0-9_\-]{20,}", page)
    api = app.test_client().get("/api/notifications").json
    assert all(not re.search(r"/o/[A-Za-z0-9_\-]{20,}", n["body"]) for n in api)
