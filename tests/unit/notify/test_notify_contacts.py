"""Contact details come from the volunteers service's internal API at send time, with the shared token."""
from __future__ import annotations

import pytest
from notify_support import FakeHttpServer

from services.notify.channels import NotOnThisChannel, PermanentFailure, TemporaryFailure
from services.notify.contacts import AddressBook, VolunteerContacts
from services.notify.settings import Settings
from wspolnota.broker import free_port

VOLUNTEER = "33333333-3333-4333-8333-333333333333"
CONTACT = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48601202303",
           "preferred_channel": "sms"}


def volunteers_api(method: str, path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
    if headers.get("Authorization") != "Bearer right-token":
        return 401, {"message": "Brak uprawnień."}
    if path == f"/internal/volunteers/{VOLUNTEER}/contact":
        return 200, CONTACT
    return 404, {"message": "Nie znaleziono."}


def test_the_contact_is_fetched_with_the_bearer_token() -> None:
    with FakeHttpServer(volunteers_api) as api:
        contact = VolunteerContacts(api.url, "right-token").fetch(VOLUNTEER)
    assert (contact.email, contact.phone, contact.preferred_channel) == ("zofia@example.pl", "+48601202303", "sms")
    [(method, path, headers, _)] = api.requests
    assert (method, path, headers["Authorization"]) == ("GET", f"/internal/volunteers/{VOLUNTEER}/contact",
                                                        "Bearer right-token")


def test_a_wrong_token_is_a_temporary_failure_that_names_the_setting() -> None:
    with FakeHttpServer(volunteers_api) as api, pytest.raises(TemporaryFailure, match="INTERNAL_SERVICE_TOKEN"):
        VolunteerContacts(api.url, "wrong").fetch(VOLUNTEER)


def test_an_unknown_volunteer_is_a_permanent_failure() -> None:
    with FakeHttpServer(volunteers_api) as api, pytest.raises(PermanentFailure, match="404"):
        VolunteerContacts(api.url, "right-token").fetch("44444444-4444-4444-8444-444444444444")


def test_an_unreachable_volunteers_service_is_a_temporary_failure() -> None:
    with pytest.raises(TemporaryFailure, match="nie odpowiada"):
        VolunteerContacts(f"http://127.0.0.1:{free_port()}", "t", timeout_s=2).fetch(VOLUNTEER)


def test_the_address_book_picks_the_channel_address_and_staff_come_from_settings() -> None:
    settings = Settings.from_env({"NOTIFY_ORGANISER_EMAIL": "osl@cus.example", "NOTIFY_ORGANISER_PHONE": ""})
    with FakeHttpServer(volunteers_api) as api:
        book = AddressBook(settings, VolunteerContacts(api.url, "right-token"))
        assert book.address(f"wolontariusz:{VOLUNTEER}", "sms") == "+48601202303"
        with pytest.raises(NotOnThisChannel, match="woli kanał SMS"):  # the volunteer asked for SMS
            book.address(f"wolontariusz:{VOLUNTEER}", "email")
        assert book.address(f"wolontariusz:{VOLUNTEER}", "email", urgent=True) == "zofia@example.pl"
    assert book.address("organizator", "email") == "osl@cus.example"
    assert book.address("organizator", "sms") is None
    assert book.address("system_cus", "webhook") == settings.case_webhook_url


def test_without_a_stated_preference_a_volunteer_gets_both_channels() -> None:
    def api(*_):  # type: ignore[no-untyped-def]
        return 200, {**CONTACT, "preferred_channel": None}

    with FakeHttpServer(api) as server:
        book = AddressBook(Settings.from_env({}), VolunteerContacts(server.url, "t"))
        assert book.address(f"wolontariusz:{VOLUNTEER}", "email") == "zofia@example.pl"
        assert book.address(f"wolontariusz:{VOLUNTEER}", "sms") == "+48601202303"
