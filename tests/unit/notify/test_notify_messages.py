"""Polish texts: every kind renders, HTML is autoescaped, SMS parts are counted, quiet hours hold."""
from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from services.notify.links import link_url
from services.notify.messages import KINDS, quiet_until, render, sms_length, sms_text

CONTEXT = {"category_code": "TRN", "village_code": "belno", "window_start": "2026-12-01T08:00:00+00:00",
           "deadline": "2026-11-30T17:00:00+00:00", "urgent": False, "link": "https://cus.example/notify/o/x",
           "accept_link": "https://cus.example/notify/o/a", "decline_link": "https://cus.example/notify/o/d",
           "need_id": "N-1", "match_id": "M-1", "reason": "", "for_provider": True, "credential_code": "first_aid",
           "expired": False, "valid_until": "31.12.2026", "hours": 48, "plan_ref": "IPUS/2026/017", "paused": False,
           "status": "passed_on", "activity_kind": "workshop", "window_end": "2026-12-01T11:00:00+00:00",
           "activity_id": "A-1", "involves_children": True, "venue_changed": True, "text": "Zabierzcie fartuchy.",
           "scope": "visit", "short_notice": True, "visits": "1 wizyta", "notice": "skipped", "series_id": "S-1",
           "until": "10:15",
           "duration_minutes": 90, "first_name": "{imie}", "changed": False, "not_found": False}  # residents' notices


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_polish_subject_sms_and_email(kind: str) -> None:
    text = render(kind, **CONTEXT)
    assert text.subject and text.sms.startswith("CUS Zagnańsk") and text.email
    assert "{{" not in text.email + text.sms


def test_an_offer_names_the_help_place_and_time_in_warsaw_time_with_both_links() -> None:
    text = render("match_offered", **CONTEXT)
    assert "Transport i towarzyszenie" in text.subject and "Belno" in text.subject
    assert "01.12.2026 (wtorek), godz. 09:00" in text.email  # 08:00 UTC is 09:00 in Warsaw in winter
    assert "Przyjmuję zadanie: https://cus.example/notify/o/a" in text.email
    assert "https://cus.example/notify/o/d" in text.email
    assert "01.12 09:00" in text.sms and "https://cus.example/notify/o/x" in text.sms


def test_markup_from_an_event_is_inert_in_the_html_mail() -> None:
    text = render("match_cancelled", **{**CONTEXT, "reason": "<script>alert(1)</script>", "for_provider": False})
    html = text.html()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert '<a href="https://cus.example/notify/o/a">' in render("match_offered", **CONTEXT).html()


@pytest.mark.parametrize("text, encoding, segments", [
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),   # extension characters take two septets
    ("€" * 81, "GSM-7", 2),
    ("ą" * 70, "UCS-2", 1),   # one Polish letter switches the whole text to UCS-2
    ("ą" + "a" * 70, "UCS-2", 2),
    ("ż" * 134, "UCS-2", 2),
    ("ż" * 135, "UCS-2", 3),
])
def test_sms_parts_are_counted_as_gsm7_or_ucs2(text: str, encoding: str, segments: int) -> None:
    length = sms_length(text)
    assert (length.encoding, length.segments) == (encoding, segments)


def test_polish_letters_are_dropped_only_when_that_saves_sms_parts() -> None:
    short = "Zażółć gęślą jaźń"
    assert sms_text(short) == short
    long = "Zażółć gęślą jaźń. " * 5
    assert sms_length(long).segments == 2 and sms_text(long) == "Zazolc gesla jazn. " * 5
    assert sms_length(sms_text(long)).segments == 1


def test_an_offer_sms_with_its_link_fits_in_two_parts() -> None:
    link = link_url("https://cus-zagnansk.pl/notify", "secret", "6f1c1d7e-8f7a-4a4b-9c1e-2b9a0d3c4e5f", "choose")
    text = sms_text(render("match_offered", **{**CONTEXT, "link": link, "urgent": True}).sms)
    assert sms_length(text).segments <= 2


WINDOW = (time(20, 0), time(8, 0))


@pytest.mark.parametrize("utc_now, expected", [
    (datetime(2026, 11, 26, 19, 30, tzinfo=UTC), datetime(2026, 11, 27, 7, 0, tzinfo=UTC)),  # 20:30 Warsaw
    (datetime(2026, 11, 26, 6, 59, tzinfo=UTC), datetime(2026, 11, 26, 7, 0, tzinfo=UTC)),   # 07:59 Warsaw
    (datetime(2026, 11, 26, 7, 0, tzinfo=UTC), None),                                        # 08:00 Warsaw
    (datetime(2026, 11, 26, 18, 59, tzinfo=UTC), None),                                      # 19:59 Warsaw
    (datetime(2026, 7, 1, 18, 30, tzinfo=UTC), datetime(2026, 7, 2, 6, 0, tzinfo=UTC)),      # summer time
    (datetime(2026, 3, 28, 20, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),     # night of the change
])
def test_quiet_hours_end_at_eight_in_the_morning_warsaw_time(utc_now: datetime, expected: datetime | None) -> None:
    assert quiet_until(utc_now, *WINDOW) == expected


def test_a_helper_offer_names_the_activity_village_day_and_hours_without_anyone_s_data() -> None:
    text = render("helper_offered", **CONTEXT)
    assert "warsztat" in text.subject and "Belno" in text.subject
    assert "01.12.2026 (wtorek), godz. 09:00–12:00" in text.email and "biorą udział dzieci" in text.email
    assert "01.12 09:00-12:00" in text.sms and "https://cus.example/notify/o/x" in text.sms
