"""The volunteer's journey in real Chromium on a phone (390×844) against the real system: every service in its own
processes on the real broker (bench/stack.py), behind the one front-door address.

Staff register a weekly series of four visits in a support package whose first window has already started → the
organiser approves the first proposal → the volunteer signs in by the link from notify's test inbox → accepts the
whole series on "Moje wizyty" → sees four visits → steps back from the last one and the organiser is told (notify's
test inbox) → once the first visit's time has come, confirms it happened with its minutes (the resident's first
name and address are shown then) → downloads the certificate of volunteering from the space and its text names the
hours' scope. A screenshot of every step is kept in test-artifacts/volunteer-journey-*.png.
"""
from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bench.stack import Stack
from wspolnota.localtime import WARSAW
from wspolnota.testing import WRITTEN_AGREEMENT, wait_until

pytestmark = pytest.mark.e2e  # starts service processes; part of `make test`

EMAIL = "jan.sasiad@example.pl"
VILLAGE = "zagnansk"
PHONE = {"width": 390, "height": 844}
PLAN = "IPUS/J/1"


def inbox(stack: Stack) -> str:
    return html.unescape(stack.http.get(f"{stack.url}/notify/skrzynka", timeout=10).text)


def a_volunteer(stack: Stack) -> str:
    made = stack.post("/volunteers/api/volunteers", {"name": "Jan Sąsiad", "email": EMAIL,
                                                      "phone": "+48 600 000 018", "villages": [VILLAGE]})
    assert made.status_code == 201, made.text
    vid = str(made.json()["id"])
    assert stack.post(f"/volunteers/api/volunteers/{vid}/credentials", WRITTEN_AGREEMENT).status_code == 201
    # a provider staff register is verified already (409 "already verified"); verify anyway for clarity
    assert stack.post(f"/volunteers/api/volunteers/{vid}/verify", {}).status_code in (200, 204, 409)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    offer = stack.post(f"/volunteers/api/volunteers/{vid}/offers", {
        "categories": ["ZAK"], "available_from": now.isoformat(),
        "available_to": (now + timedelta(days=30)).isoformat()})
    assert offer.status_code == 201, offer.text
    return vid


def first_window(now: datetime) -> tuple[datetime, datetime]:
    """The first week's window, whatever the hour: open now (it started up to half an hour ago) for an hour and a
    half, cut at 23:59 because a weekly window may not cross midnight (needs refuses it). When less than 20 minutes
    of today would be left for the 15-minute visit, it is tomorrow's 00:00–01:30, which comes within 20 minutes (the
    journey waits that long for the visit's time anyway)."""
    start = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
    end = min(start + timedelta(hours=1, minutes=30), now.replace(hour=23, minute=59, second=0, microsecond=0))
    if end - now < timedelta(minutes=20):
        start = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=1, minutes=30)
    return start, end


def a_weekly_series(stack: Stack) -> list[str]:
    """Four weekly visits from today, the first window already open (it started up to half an hour ago)."""
    now = datetime.now(WARSAW)
    start, end = first_window(now)
    resident = stack.post("/needs/api/residents", {
        "name": "Halina Przykładowa", "address": "ul. Leśna 3", "village": VILLAGE, "phone": "+48 500 000 222",
        "preferred_channel": "phone", "legal_basis": "art6_1_e"})
    assert resident.status_code == 201, resident.text
    ref = resident.json()["ref"]
    today = start.date()
    assert stack.post("/needs/api/packages", {
        "plan_ref": PLAN, "resident_ref": ref, "village": VILLAGE, "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=60)).isoformat()}).status_code == 201
    series = stack.post("/needs/api/needs/recurring", {
        "resident_ref": ref, "category": "ZAK", "village": VILLAGE, "description": "Zakupy co tydzień",
        "duration_minutes": 15, "plan_ref": PLAN, "recurrence": {
            "weekdays": [today.weekday()], "time_from": f"{start:%H:%M}", "time_to": f"{end:%H:%M}",
            "starts_on": today.isoformat(), "until": (today + timedelta(days=21)).isoformat()}})
    assert series.status_code == 201, series.text
    return [n["id"] for n in series.json()["needs"]]


def test_a_volunteer_accepts_a_series_steps_back_once_confirms_a_visit_and_gets_the_certificate(
        stack: Stack, browser: Any, artifacts: Path) -> None:
    volunteer_id = a_volunteer(stack)
    need_ids = a_weekly_series(stack)
    assert len(need_ids) == 4

    # the organiser approves the first week's proposal (the review queue)
    def first_proposal() -> Any:
        rows = stack.get("/matching/api/proposals")
        return next((p for p in rows if p["need_id"] == need_ids[0] and p["status"] == "proposed"), None)
    try:
        proposal = wait_until(first_proposal, 180, interval_s=1.0, message="the first week's proposal")
    except TimeoutError as err:  # what the processes said: a CI run keeps nothing else
        raise AssertionError(f"{err}\n{stack.log_tails(('needs-relay', 'volunteers-relay', 'matching-consumer'))}"
                             ) from None
    assert proposal["volunteer_id"] == volunteer_id
    assert stack.post(f"/matching/api/matches/{proposal['id']}/approve", {}).status_code == 200

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="pl-PL",
                                timezone_id="Europe/Warsaw", accept_downloads=True)
    page = phone.new_page()
    page.set_default_timeout(20_000)
    space = f"{stack.url}/volunteers/wolontariusz"

    def screenshot(name: str) -> None:
        page.screenshot(path=str(artifacts / f"volunteer-journey-{name}.png"), full_page=True)

    # sign in by the link from notify's test inbox
    page.goto(f"{space}/logowanie")
    page.get_by_label(re.compile("e-mail|telefon", re.I)).first.fill(EMAIL)
    page.get_by_role("button", name=re.compile("link", re.I)).first.click()
    screenshot("link-asked")
    link = wait_until(lambda: re.search(r"(https?://\S+/volunteers/wolontariusz/wejscie/\S+)", inbox(stack)), 120,
                      interval_s=1.0, message="the sign-in link in the test inbox")
    page.goto(link.group(1))
    page.get_by_role("button").filter(has_text=re.compile("Zaloguj|Wejdź", re.I)).first.click()
    page.wait_for_url(f"{space}/")
    screenshot("signed-in")

    # the offer on "Moje wizyty": accept the whole series
    page.get_by_role("link", name="Moje wizyty i propozycje").click()

    def shows(text: str) -> bool:
        page.goto(f"{space}/wizyty")
        return text in page.content()
    wait_until(lambda: shows("Przyjmuję cały cykl"), 120, interval_s=1.0, message="the offer on the visits page")
    screenshot("offer")
    page.get_by_role("button", name="Przyjmuję cały cykl").click()
    page.wait_for_selector("text=Przyjęto cały cykl wizyt")

    def visits() -> int:
        page.goto(f"{space}/wizyty")
        return int(page.locator("article.visit.upcoming").count() + page.locator("article.visit.past").count())
    wait_until(lambda: visits() == 4, 180, interval_s=1.0, message="four visits on the page")
    assert page.locator("article.visit.upcoming").count() >= 3
    screenshot("four-visits")

    # step back from the last week; the organiser is told
    last = page.locator("article.visit.upcoming").last
    last.locator("summary").click()
    last.get_by_label("Choroba").check()
    last.get_by_role("button", name="Rezygnuję z tej wizyty").click()
    page.wait_for_selector("text=Organizator został powiadomiony")
    screenshot("stepped-back")
    wait_until(lambda: "Rezygnacja z wizyty" in inbox(stack), 120, interval_s=1.0,
               message="the organiser told of the step-back")

    # the first visit's time has come: its resident's details show, and it is confirmed with its minutes
    wait_until(lambda: shows("Ile minut trwała wizyta?"), 20 * 60, interval_s=5.0,
               message="the first visit in the past visits")
    past = page.locator("article.visit.past").first
    assert "Halina" in past.inner_text() and "ul. Leśna 3" in past.inner_text()
    assert "Przykładowa" not in page.content()  # the first name only
    past.get_by_label("Ile minut trwała wizyta?").fill("45")
    past.get_by_role("button", name="Wizyta się odbyła").click()
    page.wait_for_selector("text=Zapisano godziny wizyty")
    assert "Potwierdzono: 45 min." in page.content() or "Wizyta zaliczona" in page.content()
    screenshot("visit-confirmed")

    # the certificate from the space
    page.goto(f"{space}/")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Pobierz zaświadczenie")).click()
    pdf = Path(download.value.path()).read_bytes()
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Jan Sąsiad" in words and "Zakupy i sprawunki" in words
    screenshot("certificate-downloaded")
    phone.close()


def test_the_first_window_fits_every_minute_of_the_day() -> None:
    """The journey runs at any hour: its window never crosses midnight, holds the 15-minute visit, and its visit's
    time comes within the 20 minutes the journey waits for it."""
    day = datetime(2026, 12, 7, tzinfo=WARSAW)
    for minute in range(24 * 60):
        now = day + timedelta(minutes=minute)
        start, end = first_window(now)
        assert start.date() == end.date() and start < end, now
        assert end - max(start, now) >= timedelta(minutes=15), now
        assert start - now <= timedelta(minutes=20), now
