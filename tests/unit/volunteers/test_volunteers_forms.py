"""Staff forms and the public self-registration form: Polish, CSRF-protected, confirmation by e-mail."""
from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from services.volunteers import mail
from services.volunteers.db import audit_log, confirmation_mails
from tests.unit.volunteers.conftest import TODAY, count, csrf_token, hidden, make_app, record, register
from wspolnota.broker import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        with self.lock:
            self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def form_page(client, url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return {"csrf_token": csrf_token(html), "submission": hidden(html, "submission")}


def self_registration(**over):  # type: ignore[no-untyped-def]
    body = {"name": "Oksana Melnyk", "email": "oksana@example.pl", "phone": "601 202 303",
            "villages": ["belno", "umer"], "categories": ["ZAK", "TOW"], "languages": ["pl", "uk"],
            "weekly_slots": "sob 10:00-13:00\nśr 17:00-19:00", "consent": "y"}
    return {**body, **over}


def test_the_public_form_shows_the_consent_text_and_labels_every_field(client) -> None:
    html = client.get("/zglos-sie").get_data(as_text=True)
    assert "Zgoda na przetwarzanie danych" in html and "ul. Turystyczna 86" in html
    for field_id in ("name", "email", "phone", "weekly_slots", "notes", "consent"):
        assert f'for="{field_id}"' in html, field_id


def test_the_public_form_offers_languages_by_name_with_polish_checked(client) -> None:
    html = client.get("/zglos-sie").get_data(as_text=True)
    assert re.search(r'<input checked id="languages-0" name="languages" type="checkbox" value="pl">', html), html
    assert '<label for="languages-1">ukraiński</label>' in html and "białoruski" in html and "litewski" in html
    assert "kody, np." not in html


def test_the_public_form_with_no_language_ticked_says_so_in_polish_and_stores_nothing(client, outbox) -> None:
    body = {**form_page(client, "/zglos-sie"), **self_registration()}
    del body["languages"]
    response = client.post("/zglos-sie", data=body)
    assert response.status_code == 422
    assert "Wybierz co najmniej jeden język." in response.get_data(as_text=True)
    assert outbox.all() == []


@pytest.mark.parametrize("url", ["/zglos-sie", "/zglos-sie/dziekujemy", "/zglos-sie/potwierdz/zly-link"])
def test_the_public_registration_pages_have_the_public_header_not_the_staff_navigation(client, url) -> None:
    html = client.get(url).get_data(as_text=True)
    assert '<meta name="viewport"' in html and 'class="volunteer-nav"' in html
    for staff_link in ('href="/needs/"', 'href="/volunteers/"', 'href="/matching/"', 'href="/notify/"'):
        assert staff_link not in html, staff_link


def test_self_registration_sends_a_confirmation_link_and_waits_for_staff(db, smtp, outbox) -> None:
    inbox, port = smtp
    client = make_app(db, AUTH_DISABLED=True, SMTP_PORT=port).test_client()
    response = client.post("/zglos-sie", data={**form_page(client, "/zglos-sie"), **self_registration()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/zglos-sie/dziekujemy")
    [raw] = inbox.messages
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"] == "oksana@example.pl" and message["Subject"].startswith("Potwierdź adres e-mail")
    link = re.search(r"http://localhost(/zglos-sie/potwierdz/\S+)", message.get_content())
    assert link, raw
    [(_, volunteer_id, data)] = outbox.all()
    assert data["verified"] is False and data["languages"] == ["pl", "uk"]
    assert "oksana" not in outbox.raw().lower()
    # Staff cannot verify before the address is confirmed; the draft offer waits.
    refused = client.post(f"/api/volunteers/{volunteer_id}/verify")
    assert refused.status_code == 409
    assert "potwierdzony" in client.get(link.group(1)).get_data(as_text=True)
    assert client.post(f"/api/volunteers/{volunteer_id}/verify").status_code == 200
    assert outbox.types() == ["VolunteerRegistered", "VolunteerUpdated", "OfferPublished"]
    assert outbox.all()[-1][2]["categories"] == ["ZAK", "TOW"]
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(confirmation_mails.c.link, confirmation_mails.c.sent_at)).one()[0] is None


def test_when_smtp_is_down_the_link_is_kept_for_staff(client, db) -> None:
    response = client.post("/zglos-sie", data={**form_page(client, "/zglos-sie"), **self_registration()})
    assert response.status_code == 302
    with db.engine.connect() as conn:
        link, sent_at, error = conn.execute(sa.select(confirmation_mails.c.link, confirmation_mails.c.sent_at,
                                                      confirmation_mails.c.error)).one()
    assert sent_at is None and error and "/zglos-sie/potwierdz/" in link
    assert "nie wysłano e-maila" in client.get("/").get_data(as_text=True)


def test_a_forged_or_expired_link_confirms_nothing(client, app) -> None:
    assert client.get("/zglos-sie/potwierdz/nonsense").status_code == 400
    token = mail.make_token("another-secret", "0b6a3f33-1111-4222-8333-944444444444")
    assert client.get(f"/zglos-sie/potwierdz/{token}").status_code == 400
    assert mail.read_token(app.config["SECRET_KEY"], mail.make_token(app.config["SECRET_KEY"], "x"), -1) is None


def test_a_form_without_its_csrf_token_is_refused(client, db) -> None:
    response = client.post("/zglos-sie", data=self_registration())
    assert response.status_code == 400 and "Formularz wygasł" in response.get_data(as_text=True)
    assert count(db, "volunteers") == 0


def test_staff_register_a_paid_neighbour_with_the_art_50_conditions(client, outbox) -> None:
    data = {**form_page(client, "/wykonawcy/nowy"), "provider_type": "paid_neighbour", "name": "Jan Kowal",
            "email": "jan@example.pl", "phone": "+48 601 202 303", "preferred_channel": "sms",
            "villages": ["umer"], "home_village": "umer", "radius_km": "3", "skills": "gotowanie, sprzątanie",
            "languages": ["pl", "uk"], "weekly_slots": "pon 08:00-12:00", "capacity_hours_per_week": "10",
            "max_open_tasks": "3", "nc_adult": "y", "nc_not_family": "y", "nc_lives_nearby": "y",
            "nc_fitness_declared": "y", "nc_accepted_by_cus": "y", "consent": "y", "verified": "y"}
    response = client.post("/wykonawcy/nowy", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    profile = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "opiekun sąsiedzki" in profile and "poniedziałek 08:00–12:00" in profile
    assert "<dd>polski, ukraiński</dd>" in profile
    kind, volunteer_id, payload = outbox.all()[-1]
    assert payload["languages"] == ["pl", "uk"]
    assert payload["provider_type"] == "paid_neighbour" and payload["neighbour_conditions_met"] is True
    record(client, volunteer_id, kind="first_aid", valid_from=TODAY.isoformat(),
           valid_until=(TODAY + timedelta(days=700)).isoformat())
    assert "SAS" in client.get(f"/api/volunteers/{volunteer_id}").json["eligible_categories"]


def test_staff_record_a_kamilka_check_on_the_profile_page(client, outbox) -> None:
    volunteer_id = register(client)
    page = client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "submission": hidden(page, "submission"), "kind": "kamilka_check",
            "register_checked_on": TODAY.isoformat(), "register_result": "not_listed",
            "krk_seen_on": TODAY.isoformat(), "countries_last_20_years": "PL"}
    response = client.post(f"/wykonawcy/{volunteer_id}/uprawnienia", data=data)
    assert response.status_code == 302
    profile = client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    assert "weryfikacja Kamilka" in profile and "nie figuruje" in profile
    assert outbox.all()[-1][2]["kind"] == "kamilka_check"


def test_staff_edit_pause_resume_and_withdraw_through_the_pages(client, outbox) -> None:
    volunteer_id = register(client)
    edit = client.get(f"/wykonawcy/{volunteer_id}/edycja").get_data(as_text=True)
    response = client.post(f"/wykonawcy/{volunteer_id}/edycja", data={
        "csrf_token": csrf_token(edit), "submission": hidden(edit, "submission"), "provider_type": "volunteer",
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "601202303", "villages": ["belno", "umer"],
        "preferred_channel": "email", "languages": ["pl"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert outbox.all()[-1][2]["villages"] == ["belno", "umer"]
    page = client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    token = csrf_token(page)
    offer = client.post(f"/wykonawcy/{volunteer_id}/oferty", data={
        "csrf_token": token, "submission": hidden(page, "submission"), "categories": ["ZAK"],
        "available_from": "2026-12-01T09:00", "available_to": "2026-12-01T17:00"})
    assert offer.status_code == 302
    published = outbox.all()[-1][2]
    assert published["available_from"].startswith("2026-12-01T08:00")  # 09:00 in Warsaw is 08:00 UTC
    assert client.post(f"/wykonawcy/{volunteer_id}/przerwa", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/wykonawcy/{volunteer_id}/wznowienie", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/oferty/{published['offer_id']}/wycofanie", data={"csrf_token": token}).status_code == 302
    assert outbox.types()[-3:] == ["VolunteerPaused", "VolunteerResumed", "OfferWithdrawn"]


def test_reading_a_profile_page_is_audited(client, db) -> None:
    volunteer_id = register(client)
    client.get(f"/wykonawcy/{volunteer_id}")
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(audit_log.c.action, audit_log.c.volunteer_id)
                            .where(audit_log.c.action != "verify")).all() == [("profile_read", volunteer_id)]


def test_erasure_from_the_page_needs_a_confirmation(client, outbox) -> None:
    volunteer_id = register(client)
    token = csrf_token(client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True))
    unconfirmed = client.post(f"/wykonawcy/{volunteer_id}/usuniecie", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and "Zaznacz potwierdzenie" in unconfirmed.get_data(as_text=True)
    assert "VolunteerErased" not in outbox.types()
    client.post(f"/wykonawcy/{volunteer_id}/usuniecie", data={"csrf_token": token, "confirm": "y"})
    assert outbox.types()[-1] == "VolunteerErased"
    assert "Dane osobowe usunięto" in client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
