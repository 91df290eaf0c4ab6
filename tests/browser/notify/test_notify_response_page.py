"""A provider on a phone opens the SMS link, sees the offer in Polish and accepts it with one tap;
staff see the test inbox. Real Chromium against the app served by werkzeug."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.notify.app import create_app
from services.notify.db import make_db, sink_messages
from services.notify.handlers import CONSUMES, PUBLISHES, handlers
from services.notify.links import link_url
from services.notify.settings import Settings
from wspolnota.transport import new_event
from wspolnota.transport.outbox import Outbox

MATCH = {"match_id": "22222222-2222-4222-8222-222222222222", "need_id": "11111111-1111-4111-8111-111111111111",
         "volunteer_id": "33333333-3333-4333-8333-333333333333"}

@pytest.fixture
def served(tmp_path: Path, live_server):  # type: ignore[no-untyped-def]
    db = make_db(f"sqlite:///{tmp_path / 'notify.db'}")
    db.migrate()
    settings = Settings.from_env({}, link_secret="browser-secret")
    offer = new_event(CONSUMES, "matching", "MatchOffered", MATCH["need_id"], {
        **MATCH, "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "urgent": True,
        "category": "TRN", "village": "belno", "window_start": (datetime.now(UTC) + timedelta(days=2)).isoformat()})
    with db.transaction() as session:
        handlers(Outbox(db, PUBLISHES), settings)["MatchOffered"](session, offer)
    with db.engine.begin() as conn:
        conn.execute(sa.insert(sink_messages).values(
            channel="sms", message_id="ref-1", recipient="+48601202303", subject="",
            body="CUS Zagnańsk (PILNE): Transport i towarzyszenie, Belno", deliveries=1,
            received_at=datetime.now(UTC)))
    base = live_server(create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True,
                                   "NOTIFY_SETTINGS": settings}))
    yield base, link_url(base, settings.link_secret, str(offer.id), "choose"), db
    db.dispose()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A phone: the provider opens the link from an SMS."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="pl-PL")
    return context.new_page()


def test_a_provider_accepts_an_offer_on_a_phone(served, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    _, link, db = served
    page.goto(link)
    assert page.locator("h1").inner_text() == "Prośba o pomoc — pilne"
    assert "Transport i towarzyszenie" in page.content() and "Belno" in page.content()
    accept = page.get_by_role("button", name="Przyjmuję zadanie")
    assert accept.bounding_box()["height"] >= 44  # a comfortable touch target
    page.screenshot(path=str(artifacts / "notify-response-mobile.png"), full_page=True)
    accept.tap()
    page.wait_for_selector("text=Dziękujemy — zadanie przyjęte")
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(db.outbox.c.type).where(db.outbox.c.type == "ProviderResponded")).all()


def test_declining_without_a_reason_shows_a_polish_error_next_to_the_field(served, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    _, link, _ = served
    page.goto(link)
    page.get_by_role("button", name="Nie mogę pomóc").click()
    assert page.locator("#reason-error").inner_text() == "Wybierz powód odmowy."
    page.get_by_label("Powód odmowy").select_option(label="Nie mam wtedy czasu")
    page.get_by_role("button", name="Nie mogę pomóc").click()
    page.wait_for_selector("text=Dziękujemy za odpowiedź")
    assert "Nie mam wtedy czasu" in page.content()


def test_staff_see_the_test_inbox(served, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = served
    page.goto(f"{base}/skrzynka")
    assert page.locator("h1").inner_text() == "Skrzynka testowa"
    assert "CUS Zagnańsk (PILNE)" in page.content()
    page.screenshot(path=str(artifacts / "notify-test-inbox.png"), full_page=True)
