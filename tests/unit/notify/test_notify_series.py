"""A weekly series through the provider's link: accept this visit or the whole series; step back from an accepted
visit or the series with a reason from the list; the organiser is told once per step-back (urgent at short
notice), of a series accepted, of a week sent to the cascade and of a commitment ended."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from notify_support import MATCH, NEED, VOLUNTEER, event, ledger, match_data, offered, outbox_events

from services.notify.app import create_app
from services.notify.links import link_url

SERIES = "S-2026-0001"
ORGANISER = "organizator"
PROVIDER = f"wolontariusz:{VOLUNTEER}"
COMMITMENT = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def app(db, settings):  # type: ignore[no-untyped-def]
    return create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SETTINGS": settings})


def csrf(page: str) -> str:
    return re.search(r'name="(?:sb-)?csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def offer_link(deliver, settings, **over) -> str:  # type: ignore[no-untyped-def]
    offer = event("MatchOffered", offered(series_id=SERIES, **over))
    deliver(offer)
    return link_url("", settings.link_secret, str(offer.id), "choose")


def test_an_occurrence_of_a_series_may_be_accepted_for_the_whole_series(app, db, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    url = offer_link(deliver, settings)
    client = app.test_client()
    page = client.get(url).get_data(as_text=True)
    assert "Przyjmuję tę wizytę" in page and "Przyjmuję cały cykl (co tydzień do końca planu)" in page
    done = client.post(url, data={"csrf_token": csrf(page), "accept_series": "1"}, follow_redirects=True)
    assert "Przyjęto cały cykl" in done.get_data(as_text=True)
    [published] = outbox_events(db, "ProviderResponded")
    assert published["data"] == {"match_id": MATCH, "volunteer_id": VOLUNTEER, "response": "accept", "reason": "",
                                 "scope": "series"}


def test_a_one_off_offer_has_no_series_button(app, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    offer = event("MatchOffered", offered())
    deliver(offer)
    page = app.test_client().get(link_url("", settings.link_secret, str(offer.id), "choose")).get_data(as_text=True)
    assert "Przyjmuję zadanie" in page and "cały cykl" not in page


def accepted(app, db, deliver, settings, series: bool):  # type: ignore[no-untyped-def]
    url = offer_link(deliver, settings)
    client = app.test_client()
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf(page), "accept_series" if series else "accept": "1"})
    deliver(event("MatchAccepted", match_data()))
    return client, url


def test_an_accepted_visit_can_be_stepped_back_from_once_with_a_reason(app, db, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    client, url = accepted(app, db, deliver, settings, series=False)
    page = client.get(url).get_data(as_text=True)
    assert "Nie mogę przyjść" in page and "Rezygnuję z cyklu" not in page  # only this visit was accepted
    refused = client.post(url, data={"csrf_token": csrf(page), "sb-visit": "1", "sb-csrf_token": csrf(page), "sb-reason": ""})
    assert refused.status_code == 422 and "Wybierz powód rezygnacji." in refused.get_data(as_text=True)
    assert outbox_events(db, "ProviderSteppedBack") == []
    done = client.post(url, data={"csrf_token": csrf(page), "sb-visit": "1", "sb-csrf_token": csrf(page), "sb-reason": "illness"},
                       follow_redirects=True).get_data(as_text=True)
    assert "nie możesz przyjść" in done and "Nie mogę przyjść" not in done
    client.post(url, data={"csrf_token": csrf(page), "sb-visit": "1", "sb-csrf_token": csrf(page), "sb-reason": "illness"})
    [published] = outbox_events(db, "ProviderSteppedBack")
    assert published["data"] == {"match_id": MATCH, "volunteer_id": VOLUNTEER, "scope": "visit", "reason": "illness"}


def test_after_accepting_the_series_the_provider_may_leave_the_whole_series(app, db, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    client, url = accepted(app, db, deliver, settings, series=True)
    page = client.get(url).get_data(as_text=True)
    assert "Rezygnuję z cyklu" in page
    client.post(url, data={"csrf_token": csrf(page), "sb-series": "1", "sb-csrf_token": csrf(page), "sb-reason": "family"})
    [published] = outbox_events(db, "ProviderSteppedBack")
    assert published["data"]["scope"] == "series" and published["data"]["reason"] == "family"
    assert "rezygnujesz z cyklu" in client.get(url).get_data(as_text=True)


def test_no_step_back_before_matching_confirmed_the_acceptance(app, db, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    url = offer_link(deliver, settings)
    client = app.test_client()
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf(page), "accept": "1"})
    assert "Nie mogę przyjść" not in client.get(url).get_data(as_text=True)


def stepped_back(**over):  # type: ignore[no-untyped-def]
    return event("MatchSteppedBack", match_data(**{"scope": "visit", "reason": "illness", "short_notice": False,
                                                    "visit_start": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                                                    "cancelled": 1, **over}))


def test_the_organiser_is_told_once_per_step_back_and_urgently_at_short_notice(db, deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("MatchOffered", offered(series_id=SERIES)))
    deliver(event("MatchAccepted", match_data()))
    deliver(event("MatchCancelled", match_data(reason="stepped_back")))
    late = stepped_back(short_notice=True, scope="series", cancelled=3, reason="family")
    deliver(late)
    deliver(late)  # delivered twice: still one message
    assert [r for r in ledger(db, kind="match_cancelled") if r["recipient"] in (ORGANISER, PROVIDER)] == []
    [told] = ledger(db, kind="match_stepped_back")
    assert told["recipient"] == ORGANISER and told["urgent"]
    assert told["subject"].startswith("PILNE: Rezygnacja z cyklu wizyt: Zakupy i sprawunki, Belno")
    assert "sprawy rodzinne" in told["body"] and "3 wizyty" in told["body"]
    assert [r["kind"] for r in ledger(db, kind="match_cancelled")] == ["match_cancelled"]  # the case system only


def test_a_step_back_with_notice_is_not_urgent(db, deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("MatchOffered", offered()))
    deliver(stepped_back())
    [told] = ledger(db, kind="match_stepped_back")
    assert not told["urgent"] and told["subject"].startswith("Rezygnacja z wizyty")
    assert "1 wizyta" in told["body"] and "choroba" in told["body"]


def test_the_organiser_hears_of_a_week_sent_to_the_cascade_and_of_a_commitment_ended(db, deliver) -> None:  # type: ignore[no-untyped-def]
    deliver(event("NeedRegistered", {
        "need_id": NEED, "resident_ref": "R-1", "category": "KOR", "village": "belno",
        "window_start": "2026-12-18T09:00:00+00:00", "window_end": "2026-12-18T13:00:00+00:00",
        "duration_minutes": 60, "urgent": False, "slots": 1, "series_id": SERIES}))
    ids = {"commitment_id": COMMITMENT, "series_id": SERIES, "volunteer_id": VOLUNTEER}
    deliver(event("SeriesVisitSkipped", {**ids, "need_id": NEED, "reason": "kamilka_gate"}))
    deliver(event("SeriesCommitmentEnded", {**ids, "reason": "credential_revoked"}, key=SERIES))
    deliver(event("SeriesCommitmentEnded", {**ids, "reason": "stepped_back"}, key=SERIES))  # told by the step-back
    skipped, ended = ledger(db, kind="series_notice")
    assert "Korepetycje" in skipped["subject"] or "Belno" in skipped["subject"]
    assert "weryfikacji Kamilka" in skipped["body"] and "kaskady" in skipped["body"]
    assert "uprawnienie wykonawcy cofnięte" in ended["body"]
    assert VOLUNTEER not in skipped["body"] + ended["body"]


def test_once_the_visit_is_over_only_the_series_can_be_left(app, db, deliver, settings) -> None:  # type: ignore[no-untyped-def]
    past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    url = offer_link(deliver, settings, deadline=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    client = app.test_client()
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf(page), "accept_series": "1"})
    deliver(event("MatchAccepted", match_data(agreed_start=past, category="ZAK", village="belno",
                                              window_start=past)))
    page = client.get(url).get_data(as_text=True)
    assert "Rezygnuję z cyklu" in page and "Nie mogę przyjść" not in page
    client.post(url, data={"sb-csrf_token": csrf(page), "sb-visit": "1", "sb-reason": "other"})
    assert outbox_events(db, "ProviderSteppedBack") == []  # this visit is over: nothing to leave
    client.post(url, data={"sb-csrf_token": csrf(page), "sb-series": "1", "sb-reason": "other"})
    [published] = outbox_events(db, "ProviderSteppedBack")
    assert published["data"]["scope"] == "series"
