"""Staff forms in Polish: create, edit, cancel, residents, packages; CSRF; duplicates; inert markup."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from services.needs.model import WARSAW
from wspolnota import localtime

LOCAL_TOMORROW = (datetime.now(WARSAW) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def fields(**over):  # type: ignore[no-untyped-def]
    base = {"resident_ref": "M-FORM01", "category": "ZAK", "village": "siodla", "description": "Zakupy na tydzień",
            "kind": "one_off", "window_start": LOCAL_TOMORROW.strftime("%Y-%m-%dT%H:%M"),
            "window_end": (LOCAL_TOMORROW + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "60", "urgency": "normal", "slots": "1", "moderation": "review",
            "source": "phone"}
    return {**base, **over}


def error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-bledy">([^<]*)</p>', html)
    assert found, f"no error shown next to {field}"
    return found.group(1)


def test_a_need_created_through_the_form_is_stored_published_and_shown_in_polish_local_time(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.submit("/needs/new", fields())
    assert response.status_code == 302
    page = needs.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zapisano potrzebę." in page and "Siodła" in page
    assert LOCAL_TOMORROW.strftime("%d.%m.%Y 10:00") in page
    [event] = needs.published("NeedRegistered")
    assert event.data["village"] == "siodla"
    assert needs.rows("needs")[0]["source"] == "phone"


def test_the_form_has_a_label_for_every_field(needs) -> None:  # type: ignore[no-untyped-def]
    html = needs.page("/needs/new")
    for field_id in ("resident_ref", "category", "village", "description", "window_start", "window_end",
                     "duration_minutes", "urgency", "slots", "plan_ref", "time_from", "until"):
        assert f'for="{field_id}"' in html, field_id
    assert 'lang="pl"' in html


@pytest.mark.parametrize("over, field, message", [
    ({"category": ""}, "category", "To pole jest wymagane."),
    ({"duration_minutes": "godzina"}, "duration_minutes", "Nieprawidłowa liczba całkowita"),
    ({"window_end": (LOCAL_TOMORROW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")}, "window_end",
     "Koniec okna musi być po jego początku."),
    ({"window_start": "2020-01-01T10:00", "window_end": "2020-01-01T12:00"}, "window_end", "Okno czasowe już minęło."),
    ({"window_start": "wczoraj"}, "window_start", "Nieprawidłowa data i czas"),
    ({"village": "Kielce"}, "village", "Nieprawidłowy wybór"),
    ({"description": "x" * 10_000}, "description", "Najwyżej 2000 znaków."),
    ({"category": "KOR", "waived_requirements": "kamilka_check"}, "waived_requirements",
     "Wymogu wynikającego z przepisów nie można usunąć"),
    ({"kind": "recurring", "plan_ref": "IPUS/1", "weekdays": "0", "time_from": "10:00", "time_to": "12:00",
      "starts_on": localtime.today().isoformat(), "until": (localtime.today() + timedelta(days=20)).isoformat()},
     "plan_ref", "Nie ma pakietu wsparcia"),
])
def test_a_bad_form_shows_a_polish_message_next_to_the_field_and_stores_nothing(needs, over, field, message) -> None:  # type: ignore[no-untyped-def]
    response = needs.submit("/needs/new", fields(**over))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_next_to(html, field)
    assert 'aria-invalid="true"' in html and "Popraw zaznaczone pola." in html
    assert needs.count("needs") == 0 and needs.count("outbox") == 0


def test_injected_markup_comes_back_inert_in_a_rejected_form(needs) -> None:  # type: ignore[no-untyped-def]
    script = "<script>alert('x')</script>"
    response = needs.submit("/needs/new", fields(description=script, resident_ref=script, category=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<script>alert" not in html and "&lt;script&gt;alert(" in html


def test_a_form_without_its_csrf_token_is_refused(needs) -> None:  # type: ignore[no-untyped-def]
    response = needs.client.post("/needs/new", data=fields())
    assert response.status_code == 400 and "Formularz wygasł" in response.get_data(as_text=True)
    assert needs.count("needs") == 0


def test_submitting_the_same_form_twice_stores_one_need(needs) -> None:  # type: ignore[no-untyped-def]
    html = needs.page("/needs/new")
    hidden = dict(re.findall(r'<input[^>]*name="(csrf_token|submission_id)"[^>]*value="([^"]*)"', html))
    first = needs.client.post("/needs/new", data={**hidden, **fields()})
    second = needs.client.post("/needs/new", data={**hidden, **fields()})
    assert first.status_code == 302 and second.status_code == 409
    assert "został już wysłany" in second.get_data(as_text=True)
    assert needs.count("needs") == 1 and len(needs.published("NeedRegistered")) == 1


def test_a_recurring_need_is_created_through_the_form_inside_its_package(needs) -> None:  # type: ignore[no-untyped-def]
    start = localtime.today() + timedelta(days=1)
    opened = needs.submit("/packages/new", {"plan_ref": "IPUS/2026/3", "resident_ref": "M-FORM01",
                                            "village": "siodla", "start_date": start.isoformat(),
                                            "end_date": (start + timedelta(days=90)).isoformat()})
    assert opened.status_code == 302
    response = needs.submit("/needs/new", fields(
        kind="recurring", plan_ref="IPUS/2026/3", category="TOW", weekdays=["1", "4"], time_from="15:00",
        time_to="17:00", starts_on=start.isoformat(), until=(start + timedelta(days=13)).isoformat()))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert needs.count("needs") == 4
    package = needs.page("/packages/IPUS/2026/3")
    assert "Pakiet wsparcia IPUS/2026/3" in package and package.count("15:00") == 4


def test_a_recurrence_past_the_plans_end_is_refused_on_the_form(needs) -> None:  # type: ignore[no-untyped-def]
    start = localtime.today() + timedelta(days=1)
    needs.submit("/packages/new", {"plan_ref": "IPUS/9", "resident_ref": "M-1", "village": "umer",
                                   "start_date": start.isoformat(), "end_date": (start + timedelta(days=10)).isoformat()})
    response = needs.submit("/needs/new", fields(
        kind="recurring", plan_ref="IPUS/9", weekdays=["0", "1", "2"], time_from="09:00", time_to="10:00",
        starts_on=start.isoformat(), until=(start + timedelta(days=30)).isoformat()))
    assert response.status_code == 422
    assert "poza koniec planu" in error_next_to(response.get_data(as_text=True), "until")
    assert needs.count("needs") == 0


def test_staff_edit_and_cancel_a_need_through_the_forms(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    edit_url = f"/needs/{need['id']}/edit"
    form = needs.page(edit_url)
    assert "Zakupy w Belnie</textarea>" in form
    edited = needs.submit(edit_url, fields(slots="2", village="belno"))
    assert edited.status_code == 302
    assert needs.client.get(f"/api/needs/{need['id']}").json["slots"] == 2
    cancelled = needs.submit(f"/needs/{need['id']}/cancel", {"reason": "rodzina pomoże"})
    assert cancelled.status_code == 302
    page = needs.page(f"/needs/{need['id']}")
    assert "anulowana" in page and "rodzina pomoże" in page and "Edytuj" not in page
    assert [e.type for e in needs.published()] == ["NeedRegistered", "NeedUpdated", "NeedCancelled"]


def test_a_status_change_the_lifecycle_forbids_is_explained_on_the_page(needs) -> None:  # type: ignore[no-untyped-def]
    need = needs.register()
    html = needs.page(f"/needs/{need['id']}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = needs.client.post(f"/needs/{need['id']}/status", data={"csrf_token": token, "status": "completed"},
                                 follow_redirects=True)
    assert "Nie można zmienić statusu z „otwarta” na „zakończona”." in response.get_data(as_text=True)
    assert needs.status(need["id"]) == "open"


def test_a_resident_is_registered_through_the_form_and_a_bad_phone_is_explained(needs) -> None:  # type: ignore[no-untyped-def]
    person = {"name": "Bronisława Testowa", "address": "ul. Zmyślona 3", "village": "umer", "phone": "12",
              "preferred_channel": "phone", "legal_basis": "art6_1_c"}
    bad = needs.submit("/residents/new", person)
    assert bad.status_code == 422 and "Numer telefonu" in error_next_to(bad.get_data(as_text=True), "phone")
    good = needs.submit("/residents/new", {**person, "phone": "+48 41 000 00 00"})
    assert good.status_code == 302 and needs.count("residents") == 1
    card = needs.client.get(good.headers["Location"]).get_data(as_text=True)
    assert "Bronisława Testowa" in card and "art. 6 ust. 1 lit. c RODO" in card


def test_the_list_filters_by_village_category_status_urgency_and_plan_and_pages(needs) -> None:  # type: ignore[no-untyped-def]
    for _ in range(27):
        needs.register(village="umer")
    needs.register(village="belno", category="TRN", plan_ref="IPUS/5")
    page1 = needs.page("/")
    assert "Znaleziono: 28." in page1 and "strona 1 z 2" in page1 and 'rel="next"' in page1
    assert "Znaleziono: 1." in needs.page("/?village=belno&category=TRN&status=open&urgency=normal&plan_ref=IPUS/5")
    assert "Znaleziono: 0." in needs.page("/?status=completed")
    assert "strona 2 z 2" in needs.page("/?page=2")


@pytest.mark.parametrize("url", ["/reference", "/audit", "/packages", "/residents", "/residents/new", "/packages/new"])
def test_every_staff_page_renders(needs, url) -> None:  # type: ignore[no-untyped-def]
    assert "Wspólnota" in needs.page(url)


def test_the_reference_page_lists_categories_with_legal_requirements_and_villages(needs) -> None:  # type: ignore[no-untyped-def]
    html = needs.page("/reference")
    assert "Korepetycje" in html and "(wymóg prawny)" in html and "Tumlin-Dąbrówka" in html
