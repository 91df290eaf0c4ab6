"""Helper places on matching's staff pages: the "Pomocnicy na zajęciach" section of the review page and one
activity's offers with the reason places are still missing."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bench.matching.service_harness import TOMORROW_9
from services.matching.app import create_app
from tests.unit.matching.test_matching_service_helpers import KAMILKA, answer, offers, wanted
from wspolnota.web import local_dt


@pytest.fixture
def client(matching):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "SECRET_KEY": "test", "MATCHING_CLOCK": lambda: matching.now,
                      "MATCHING_SETTINGS": matching.settings})
    return app.test_client()


def helper_rows(page: str) -> list[list[str]]:
    [body] = re.findall(r'<h2 id="pomocnicy">.*?<tbody>(.*?)</tbody>', page, re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_review_page_lists_activities_with_wanted_accepted_offered_and_missing_places(matching, client) -> None:  # type: ignore[no-untyped-def]
    first, _second = matching.volunteer(), matching.volunteer()
    activity = wanted(matching, count=3)
    [offer] = offers(matching, volunteer_id=first)
    answer(matching, offer, "accept")
    page = client.get("/").get_data(as_text=True)
    assert "Pomocnicy na zajęciach (1)" in page
    [row] = helper_rows(page)
    assert row[0] == "wydarzenie integracyjne" and row[1] == "Zagnańsk" and row[3] == "nie"
    assert row[4:7] == ["3", "1", "1"] and row[8] == "1"  # wanted, accepted, waiting for an answer, missing
    [waiting] = offers(matching, status="offered")
    assert row[7] == local_dt(waiting["deadline"]) != ""  # the answer due
    assert f'href="/pomocnicy/{activity}"' in page


def test_without_activities_the_section_says_so(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/").get_data(as_text=True)
    assert "Pomocnicy na zajęciach (0)" in page and "Brak zajęć, na które potrzeba pomocników." in page


def test_an_activity_lists_its_offers_with_links_to_the_register_and_says_why_places_are_missing(matching, client) -> None:  # type: ignore[no-untyped-def]
    cleared = matching.volunteer(credentials=[KAMILKA])
    matching.volunteer()  # no Kamilka check
    matching.volunteer(village="kajetanow", radius_km=0)  # out of the area too, but Kamilka is judged first
    activity = wanted(matching, count=2, children=True)
    [offer] = offers(matching)
    assert offer["volunteer_id"] == cleared
    page = client.get(f"/pomocnicy/{activity}").get_data(as_text=True)
    assert f'href="/volunteers/wykonawcy/{cleared}"' in page
    assert "czeka na odpowiedź" in page and "tak — tylko wykonawcy z aktualną weryfikacją Kamilka" in page
    assert "Dlaczego brakuje pomocników" in page
    assert "Wykonawcy, którzy nie dostali jeszcze propozycji: 2 — żaden nie spełnia warunków" in page
    [why] = re.findall(r'<h2 id="dlaczego">.*?</table>', page, re.S)
    [(reason, count)] = re.findall(r'<td lang="pl">(.*?)</td><td class="num">(\d+)</td>', why)
    assert "Kamilka" in reason and count == "2"  # the first rule that stops each of them


def test_a_declined_offer_shows_its_status_and_no_deadline(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    activity = wanted(matching)
    [offer] = offers(matching)
    answer(matching, offer, "decline", "no_time")
    page = client.get(f"/pomocnicy/{activity}").get_data(as_text=True)
    assert "odmowa wykonawcy" in page and "Brak wykonawców w rejestrze, którzy nie dostali jeszcze propozycji." in page


def test_an_activity_over_is_no_longer_listed_and_an_unknown_one_is_not_found(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    wanted(matching)
    matching.now = TOMORROW_9 + timedelta(hours=4)
    assert "Pomocnicy na zajęciach (0)" in client.get("/").get_data(as_text=True)
    assert client.get("/pomocnicy/00000000-0000-4000-8000-000000000000").status_code == 404
