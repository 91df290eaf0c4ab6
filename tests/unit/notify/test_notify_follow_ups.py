""""Did it happen?" and "is it still needed?": one message per check whatever is redelivered, a signed single-use
link page with Polish errors for bad minutes, and the answer published once (VisitOutcomeGiven, NeedCheckAnswered)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from notify_support import MATCH, NEED, VOLUNTEER, event, ledger, match_data, offered, outbox_events

from services.notify.app import create_app
from services.notify.follow_ups import check_minutes, visit_check_id
from services.notify.links import link_url

CHECK = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def app(db, settings):  # type: ignore[no-untyped-def]
    return create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SETTINGS": settings})


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def accepted_visit(deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("MatchOffered", offered()))
    deliver(event("MatchAccepted", match_data()))


@pytest.fixture
def visit_url(deliver, settings) -> str:  # type: ignore[no-untyped-def]
    accepted_visit(deliver)
    deliver(event("VisitCheckDue", {"match_id": MATCH, "provider_id": VOLUNTEER, "need_id": NEED}))
    return link_url("", settings.link_secret, visit_check_id(MATCH), "visit_check", path="w")


def test_the_provider_is_asked_once_on_both_channels_whatever_is_redelivered(deliver, db) -> None:
    accepted_visit(deliver)
    due = {"match_id": MATCH, "provider_id": VOLUNTEER, "need_id": NEED}
    deliver(event("VisitCheckDue", due))
    deliver(event("VisitCheckDue", due))  # published again (another event id): still the same check
    rows = ledger(db, kind="visit_check")
    assert sorted(r["channel"] for r in rows) == ["email", "sms"]
    assert {r["recipient"] for r in rows} == {"wolontariusz:" + VOLUNTEER}
    assert all("Czy wizyta" in r["subject"] and "/w/" in r["body"] for r in rows)


def test_no_question_about_a_visit_already_decided(deliver, db) -> None:
    accepted_visit(deliver)
    deliver(event("MatchCompleted", match_data(hours=1.0)))
    deliver(event("VisitCheckDue", {"match_id": MATCH, "provider_id": VOLUNTEER, "need_id": NEED}))
    assert ledger(db, kind="visit_check") == []


def test_a_completion_withdraws_the_question_not_yet_sent(deliver, db) -> None:
    accepted_visit(deliver)
    deliver(event("VisitCheckDue", {"match_id": MATCH, "provider_id": VOLUNTEER, "need_id": NEED}))
    deliver(event("MatchCompleted", match_data(hours=1.0)))
    assert {r["status"] for r in ledger(db, kind="visit_check")} == {"cancelled"}


@pytest.mark.parametrize(("typed", "error"), [
    ("", "Podaj, ile minut trwała wizyta."), ("półtorej godziny", "Podaj liczbę minut — same cyfry, np. 60."),
    ("-5", "Podaj liczbę minut — same cyfry, np. 60."), ("4", "Podaj od 5 do 600 minut."),
    ("601", "Podaj od 5 do 600 minut."), ("1.5", "Podaj liczbę minut — same cyfry, np. 60.")])
def test_bad_minutes_get_a_polish_error_and_change_nothing(app, db, visit_url, typed, error) -> None:
    client = app.test_client()
    page = client.get(visit_url).get_data(as_text=True)
    assert "Tak, odbyła się" in page and "Nie odbyła się" in page
    response = client.post(visit_url, data={"csrf_token": csrf(page), "minutes": typed, "happened": "1"})
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert outbox_events(db, "VisitOutcomeGiven") == []


def test_minutes_rule_edges() -> None:
    assert check_minutes("5") == (5, None) and check_minutes(" 600 ") == (600, None)
    assert check_minutes("0")[0] is None and check_minutes(None)[0] is None


def test_it_happened_publishes_the_minutes_once_and_the_link_is_then_used(app, db, visit_url) -> None:
    client = app.test_client()
    page = client.get(visit_url).get_data(as_text=True)
    response = client.post(visit_url, data={"csrf_token": csrf(page), "minutes": "90", "happened": "1"})
    assert response.status_code == 302
    assert "Zapisaliśmy wizytę (90 min)" in client.get(response.headers["Location"]).get_data(as_text=True)
    [published] = outbox_events(db, "VisitOutcomeGiven")
    assert published["key"] == MATCH
    assert published["data"] == {"match_id": MATCH, "volunteer_id": VOLUNTEER, "happened": True, "minutes": 90}
    assert {r["status"] for r in ledger(db, kind="visit_check")} == {"cancelled"}  # the copies not sent yet
    again = client.get(visit_url)
    assert again.status_code == 410 and "Link został już użyty" in again.get_data(as_text=True)
    late = client.post(visit_url, data={"csrf_token": csrf(page), "not_happened": "1"})
    assert late.status_code == 410
    assert len(outbox_events(db, "VisitOutcomeGiven")) == 1


def test_it_did_not_happen_needs_no_minutes(app, db, visit_url) -> None:
    client = app.test_client()
    page = client.get(visit_url).get_data(as_text=True)
    assert client.post(visit_url, data={"csrf_token": csrf(page), "minutes": "abc",
                                        "not_happened": "1"}).status_code == 302
    [published] = outbox_events(db, "VisitOutcomeGiven")
    assert published["data"]["happened"] is False and published["data"]["minutes"] is None


def test_a_post_without_the_csrf_token_changes_nothing(app, db, visit_url) -> None:
    assert app.test_client().post(visit_url, data={"minutes": "60", "happened": "1"}).status_code == 400
    assert outbox_events(db, "VisitOutcomeGiven") == []


def test_an_expired_a_tampered_or_an_offer_link_is_refused_in_polish(db, settings, visit_url) -> None:
    later = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True,
                        "NOTIFY_SETTINGS": settings.__class__(**{**settings.__dict__, "check_link_max_age_h": -1})})
    expired = later.test_client().get(visit_url)
    assert expired.status_code == 410 and "Link wygasł" in expired.get_data(as_text=True)
    client = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True,
                         "NOTIFY_SETTINGS": settings}).test_client()
    assert client.get(visit_url[:-3] + "xyz").status_code == 404
    offer_link = link_url("", settings.link_secret, visit_check_id(MATCH), "accept", path="w")
    assert "Nieprawidłowy link" in client.get(offer_link).get_data(as_text=True)
    assert outbox_events(db, "VisitOutcomeGiven") == []


def test_a_decided_visit_is_not_asked_on_the_page(app, db, deliver, visit_url) -> None:
    deliver(event("MatchCancelled", match_data(reason="did_not_happen")))
    page = app.test_client().get(visit_url)
    assert page.status_code == 410 and "Wizyta jest już rozliczona" in page.get_data(as_text=True)


# -- is it still needed? ----------------------------------------------------------------------------------------
@pytest.fixture
def need_url(deliver, settings) -> str:  # type: ignore[no-untyped-def]
    deliver(event("NeedRegistered", {
        "need_id": NEED, "category": "ZAK", "village": "belno", "window_start": datetime.now(UTC).isoformat(),
        "window_end": (datetime.now(UTC) + timedelta(days=20)).isoformat(), "duration_minutes": 60,
        "urgent": False, "slots": 1, "resident_ref": "R-1"}))
    deliver(event("NeedCheckDue", {"need_id": NEED, "check_id": CHECK}))
    deliver(event("NeedCheckDue", {"need_id": NEED, "check_id": CHECK}))  # redelivered
    return link_url("", settings.link_secret, CHECK, "need_check", path="p")


def test_the_requesting_worker_gets_one_email_and_answers_once(app, db, need_url) -> None:
    [row] = ledger(db, kind="need_check")
    assert (row["recipient"], row["channel"]) == ("pracownik_potrzeby:" + NEED, "email")
    assert "Czy potrzeba jest nadal aktualna?" == row["subject"] and "/p/" in row["body"]
    client = app.test_client()
    page = client.get(need_url).get_data(as_text=True)
    assert "Nadal potrzebna" in page and "Już niepotrzebna" in page
    assert client.post(need_url, data={"csrf_token": csrf(page), "gone": "1"}).status_code == 302
    [published] = outbox_events(db, "NeedCheckAnswered")
    assert published["data"] == {"need_id": NEED, "check_id": CHECK, "still_needed": False}
    again = client.post(need_url, data={"csrf_token": csrf(page), "still": "1"})
    assert again.status_code == 410 and "Link został już użyty" in again.get_data(as_text=True)
    assert len(outbox_events(db, "NeedCheckAnswered")) == 1


def test_a_need_closed_meanwhile_is_not_asked_on_the_page(app, deliver, need_url) -> None:
    deliver(event("NeedCancelled", {"need_id": NEED, "reason": "cancelled"}))
    page = app.test_client().get(need_url)
    assert page.status_code == 410 and "Potrzeba jest już zamknięta" in page.get_data(as_text=True)


def test_staff_never_see_the_check_links(app, visit_url, need_url) -> None:
    page = app.test_client().get("/").get_data(as_text=True)
    assert visit_url.split("/")[-1] not in page and need_url.split("/")[-1] not in page


def test_the_link_pages_are_rate_limited_per_address(db, settings, visit_url) -> None:
    from services.notify.bootstrap import bootstrap

    frozen = datetime.now(UTC).replace(second=30)  # one window for the three requests
    strict = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True}, parts=bootstrap(
        db.url, settings=settings.__class__(**{**settings.__dict__, "link_pages_per_minute": 2}),
        clock=lambda: frozen))
    client = strict.test_client()
    assert [client.get(visit_url).status_code for _ in range(2)] == [200, 200]
    refused = client.get(visit_url)
    assert refused.status_code == 429 and "Zbyt wiele prób" in refused.get_data(as_text=True)
