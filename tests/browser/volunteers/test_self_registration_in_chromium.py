"""Headless Debian chromium: a person registers as a volunteer, fixes a mistake, confirms the e-mail."""
from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from services.volunteers.db import make_db, volunteers
from wspolnota.broker import free_port
from wspolnota.testing import wait_until


class Inbox:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def server(tmp_path: Path, inbox, live_server) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from services.volunteers.app import create_app

    url = f"sqlite:///{tmp_path / 'volunteers.db'}"
    make_db(url).migrate()
    app = create_app({"DATABASE_URL": url, "SMTP_PORT": inbox[1]})
    yield live_server(app), url
    app.extensions["db"].dispose()


def test_a_person_registers_fixes_a_wrong_phone_and_confirms_the_address(server, inbox, page, artifacts) -> None:  # type: ignore[no-untyped-def]
    base, db_url = server
    page.goto(f"{base}/zglos-sie")
    assert page.get_by_role("heading", name="Zgoda na przetwarzanie danych").is_visible()
    page.get_by_label("Imię i nazwisko").fill("Oksana Melnyk")
    page.get_by_label("Adres e-mail").fill("oksana@example.pl")
    page.get_by_label("Telefon", exact=True).fill("60120")  # too short
    page.get_by_label("Belno").check()
    page.get_by_label("Zakupy i sprawunki (ZAK)").check()
    page.get_by_label("ukraiński").check()  # Polish is ticked already
    page.get_by_label("Kiedy zwykle masz czas?").fill("sob 10:00-13:00")
    consent = page.get_by_label("Zgadzam się na przetwarzanie moich danych")
    consent.focus()
    page.keyboard.press("Space")  # usable from the keyboard
    assert consent.is_checked()
    page.get_by_role("button", name="Wyślij zgłoszenie").click()

    error = page.locator("#phone-err")
    assert "Niepoprawny numer telefonu" in error.inner_text()
    assert page.get_by_label("Telefon", exact=True).get_attribute("aria-describedby") == "phone-err"
    page.screenshot(path=str(artifacts / "volunteers-self-registration-error.png"), full_page=True)
    with make_db(db_url).engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(volunteers)).scalar_one() == 0

    page.get_by_label("Telefon", exact=True).fill("601 202 303")
    assert page.get_by_label("Belno").is_checked() and page.get_by_label("Adres e-mail").input_value() == "oksana@example.pl"
    assert page.get_by_label("polski", exact=True).is_checked() and page.get_by_label("ukraiński").is_checked()
    if not page.get_by_label("Zgadzam się na przetwarzanie moich danych").is_checked():
        page.get_by_label("Zgadzam się na przetwarzanie moich danych").check()
    page.get_by_role("button", name="Wyślij zgłoszenie").click()
    page.get_by_role("heading", name="Dziękujemy za zgłoszenie").wait_for()
    page.screenshot(path=str(artifacts / "volunteers-self-registration-done.png"), full_page=True)

    box, _ = inbox
    wait_until(lambda: box.messages, 10, message="the confirmation e-mail")
    body = email.message_from_string(box.messages[0], policy=email.policy.default).get_content()
    link = re.search(r"http://\S+/zglos-sie/potwierdz/\S+", body)
    assert link, body
    page.goto(link.group(0))
    assert page.get_by_role("heading", name="Adres e-mail potwierdzony").is_visible()
    with make_db(db_url).engine.connect() as conn:
        row = conn.execute(sa.select(volunteers.c.phone, volunteers.c.verified_at, volunteers.c.email_confirmed_at,
                                     volunteers.c.consent_at)).one()
    assert row.phone == "+48601202303" and row.verified_at is None
    assert row.email_confirmed_at is not None and row.consent_at is not None
