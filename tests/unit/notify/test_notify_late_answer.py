"""A late acceptance (MatchAnswerTooLate): the provider is told the truth on their channels, the organiser
sees it in the ledger and by e-mail, and the offer's link page says what happened to the offer."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from notify_support import VOLUNTEER, event, ledger, match_data, offered

from services.notify.app import create_app
from services.notify.db import matches_seen, notifications
from services.notify.links import link_url

PROVIDER = f"wolontariusz:{VOLUNTEER}"


def test_a_provider_who_accepted_too_late_is_told_the_task_went_to_someone_else(db, deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchExpired", match_data()))
    deliver(event("MatchAnswerTooLate", match_data(status="passed_on")))
    to_provider = {r["channel"]: r for r in ledger(db, kind="match_too_late", recipient=PROVIDER)}
    assert set(to_provider) == {"sms", "email"}
    assert "innej osobie" in to_provider["sms"]["body"]  # the SMS may lose its diacritics to save parts
    assert "przekazaliśmy innej osobie" in to_provider["email"]["body"]
    assert "Nie przychodź" in to_provider["email"]["body"]
    [staff] = ledger(db, kind="match_too_late", recipient="organizator")
    assert staff["channel"] == "email" and "termin odpowiedzi minął" in staff["body"]


def test_an_acceptance_of_a_covered_offer_says_it_is_no_longer_needed(db, deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchCancelled", match_data(reason="covered")))
    deliver(event("MatchAnswerTooLate", match_data(status="not_needed", reason="covered")))
    [sms] = ledger(db, kind="match_too_late", recipient=PROVIDER, channel="sms")
    assert "nieaktualne" in sms["body"]
    [staff] = ledger(db, kind="match_too_late", recipient="organizator")
    assert "zadanie już objęte przez innego wykonawcę" in staff["body"]


def accept_link(db, settings) -> str:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        offer_id = conn.execute(sa.select(notifications.c.cause_event_id)
                                .where(notifications.c.kind == "match_offered")).scalars().first()
    return link_url("", settings.link_secret, offer_id, "accept")


def test_the_link_page_after_the_deadline_says_the_task_goes_to_someone_else(db, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    deliver(event("MatchOffered", offered()))
    with db.engine.begin() as conn:
        conn.execute(sa.update(matches_seen).values(deadline=datetime.now(UTC) - timedelta(minutes=1)))
    app = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SETTINGS": settings})
    page = app.test_client().get(accept_link(db, settings))
    assert page.status_code == 410
    assert "przekazane innej osobie" in page.get_data(as_text=True)


def test_the_link_page_of_a_covered_offer_says_someone_else_took_it(db, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchCancelled", match_data(reason="covered")))
    app = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SETTINGS": settings})
    page = app.test_client().get(accept_link(db, settings)).get_data(as_text=True)
    assert "objęła je inna osoba albo zostało odwołane" in page
