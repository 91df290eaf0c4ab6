"""Headless Debian chromium: the organiser builds a survey, a resident answers it on a phone-sized screen (after
fixing a missing answer), staff enter a paper sheet with the keyboard only, and the results show the charts."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.community.db import make_db, survey_responses


@pytest.fixture
def server(tmp_path: Path, live_server: Any) -> Iterator[tuple[str, str]]:
    from services.community.app import create_app

    url = f"sqlite:///{tmp_path / 'community.db'}"
    make_db(url).migrate()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True})
    yield live_server(app), url
    app.extensions["db"].dispose()


def add_question(page: Any, kind: str, text: str, options: str = "", low: str = "", high: str = "",
                 required: bool = False) -> None:
    page.get_by_label("Rodzaj pytania").select_option(label=kind)
    page.get_by_label("Treść pytania").fill(text)
    if required:
        page.get_by_label("Odpowiedź wymagana").check()
    if options:
        page.get_by_label("Odpowiedzi do wyboru (każda w osobnym wierszu)").fill(options)
    if low:
        page.get_by_label("Najmniejsza wartość (skala, liczba)").fill(low)
        page.get_by_label("Największa wartość (skala, liczba)").fill(high)
    page.get_by_role("button", name="Dodaj pytanie").click()
    page.wait_for_selector("text=Dodano pytanie.")


def test_a_survey_is_built_answered_on_a_phone_and_on_paper_and_its_results_seen(  # type: ignore[no-untyped-def]
        server, browser, page, artifacts) -> None:
    base, db_url = server
    page.goto(f"{base}/ankiety/nowa")
    page.get_by_label("Tytuł ankiety").fill("Czego potrzebuje Kajetanów?")
    page.get_by_role("button", name="Utwórz ankietę").click()
    page.wait_for_selector("text=Utworzono ankietę. Dodaj pytania.")
    add_question(page, "jednokrotny wybór", "Czy potrzebny jest bus do przychodni?", "tak\nnie", required=True)
    add_question(page, "skala", "Jak ocenia Pan/Pani życie we wsi?", low="1", high="5", required=True)
    add_question(page, "odpowiedź otwarta", "Co zmienić?")
    page.get_by_role("button", name="Opublikuj ankietę").click()
    page.wait_for_selector("text=Ankieta jest opublikowana — link publiczny działa.")
    public_url = page.locator("#link-publiczny").inner_text()
    survey_url = page.url

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                locale="pl-PL", timezone_id="Europe/Warsaw")
    mobile = phone.new_page()
    mobile.goto(public_url)
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    mobile.get_by_label("Miejscowość, w której Pan/Pani mieszka *").select_option(label="Kajetanów")
    mobile.get_by_role("radio", name="tak", exact=True).check()
    mobile.get_by_role("button", name="Wyślij odpowiedzi").click()
    assert mobile.get_by_text("Odpowiedz na to pytanie.").first.is_visible()  # the scale was required
    mobile.get_by_role("radio", name="4", exact=True).check()
    mobile.get_by_label("Co zmienić?").fill("Ławki przy przystanku")
    mobile.screenshot(path=str(artifacts / "community-survey-phone.png"), full_page=True)
    mobile.get_by_role("button", name="Wyślij odpowiedzi").click()
    mobile.wait_for_selector("text=Dziękujemy!")
    phone.close()

    page.goto(survey_url)
    page.get_by_role("link", name="Wpisz ankiety papierowe").click()
    # the click does not wait for the next page: type only once its village select has the focus (under load the
    # keys went to the old page, whose focused link the Enter then followed)
    page.locator("select:focus").wait_for()
    page.keyboard.type("Kaj")  # the village select has the focus: typing picks Kajetanów
    page.keyboard.press("Tab")
    page.keyboard.type("2")  # "nie"
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Zapisano ankietę papierową nr 1. Następna:")
    page.keyboard.type("1")  # the next sheet, same village: the cursor waits in the first answer
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Zapisano ankietę papierową nr 2. Następna:")

    page.goto(survey_url.rstrip("/") + "/wyniki")
    assert page.locator("[data-count=responses]").inner_text() == "3"
    assert page.locator("svg[role=img]").count() == 2
    assert page.get_by_text("Ławki przy przystanku").is_visible()
    page.screenshot(path=str(artifacts / "community-survey-results.png"), full_page=True)
    with sa.create_engine(db_url).connect() as conn:
        channels = conn.execute(sa.select(survey_responses.c.channel).order_by(survey_responses.c.channel)).scalars()
        assert list(channels) == ["online", "paper", "paper"]
