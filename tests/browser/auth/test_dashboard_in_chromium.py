"""In chromium: the organiser signs in at the front door and sees the day's work, read from the four real
services (each served over HTTP), with one service down; keyboard only, under the strict CSP."""
from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.front.accounts import AuthStore
from wspolnota import localtime

PASSWORD = "Zagnansk-2026-haslo"
SECRET = "browser"
NOW = datetime.now(UTC)


@pytest.fixture
def site(tmp_path: Path, live_server) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from services.front.app import create_app as front_app
    from services.matching.app import create_app as matching_app
    from services.matching.db import make_db as matching_db
    from services.matching.db import proposals
    from services.needs.app import create_app as needs_app
    from services.needs.db import make_db as needs_db
    from services.needs.db import needs
    from services.volunteers.app import create_app as volunteers_app
    from services.volunteers.db import credentials, volunteers
    from services.volunteers.db import make_db as volunteers_db

    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.migrate()
    store.add("osl.kowalska", "osl", PASSWORD, "Anna Kowalska")
    apps = {}
    for name, factory, make_db in (("needs", needs_app, needs_db), ("volunteers", volunteers_app, volunteers_db),
                                   ("matching", matching_app, matching_db)):
        url = f"sqlite:///{tmp_path / (name + '.db')}"
        make_db(url).migrate()
        apps[name] = factory({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    proposal = str(uuid.uuid4())
    with apps["matching"].extensions["db"].engine.begin() as conn:
        conn.execute(sa.insert(proposals).values(
            id=proposal, need_id=str(uuid.uuid4()), volunteer_id=str(uuid.uuid4()), offer_id=str(uuid.uuid4()),
            category="ZAK", village="samsonow", window_start=datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
            status="proposed", reason="najbliżej, wolne popołudnie", created_at=NOW, urgent=True, score=12,
            updated_at=NOW))
    with apps["needs"].extensions["db"].engine.begin() as conn:
        conn.execute(sa.insert(needs).values(
            id=str(uuid.uuid4()), resident_ref="R-0001", category="TRN", village="kajetanow", description="",
            window_start=NOW + timedelta(days=2), window_end=NOW + timedelta(days=2, hours=3), duration_minutes=90,
            urgent=False, slots=1, status="open", created_at=NOW - timedelta(days=3),
            updated_at=NOW - timedelta(days=3)))
    volunteer = str(uuid.uuid4())
    with apps["volunteers"].extensions["db"].engine.begin() as conn:
        conn.execute(sa.insert(volunteers).values(
            id=volunteer, name="Jan Wolontariusz", email="jan@example.org", phone="600100200",
            provider_type="volunteer", villages=["zagnansk"], created_at=NOW))
        conn.execute(sa.insert(credentials).values(
            id=str(uuid.uuid4()), volunteer_id=volunteer, kind="kamilka_check", valid_from=date(2025, 1, 1),
            valid_until=localtime.today() + timedelta(days=12), details={}, recorded_by="test", recorded_at=NOW))
    with socket.socket() as probe:  # notify is down: nothing listens on this port
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    upstreams = {name: live_server(app) for name, app in apps.items()} | {"notify": down}
    front = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": SECRET, "UPSTREAMS": upstreams})
    yield live_server(front), proposal
    for app in apps.values():
        app.extensions["db"].dispose()
    store.dispose()


def test_the_organiser_signs_in_and_sees_the_days_work(site: tuple[str, str], page: Any, artifacts: Path) -> None:
    base, proposal = site
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    page.goto(base + "/")
    assert "/auth/login" in page.url
    page.get_by_label("Login").fill("osl.kowalska")
    page.get_by_label("Hasło").fill(PASSWORD)
    page.get_by_label("Hasło").press("Enter")
    page.wait_for_url(base + "/")

    assert page.get_by_role("heading", name="Propozycje do przejrzenia").is_visible()
    proposals = page.get_by_role("region", name="Propozycje do przejrzenia")
    assert "Liczba: 1" in proposals.inner_text()
    review = proposals.get_by_role("link", name="Przejrzyj: Zakupy i sprawunki — Samsonów")
    assert review.get_attribute("href") == f"/matching/matches/{proposal}"
    assert "03.12.2026 09:00" in proposals.inner_text()  # Europe/Warsaw
    assert "Liczba: 1" in page.get_by_role("region", name="Potrzeby bez dopasowania dłużej niż 48 godzin").inner_text()
    credentials = page.get_by_role("region", name="Uprawnienia wygasłe lub wygasające w ciągu 30 dni").inner_text()
    assert "weryfikacja Kamilka" in credentials and "za 12 dni" in credentials
    assert "Jan Wolontariusz" not in page.content()
    failed = page.get_by_role("region", name="Nieudane powiadomienia")
    assert "Niedostępne — usługa nie odpowiada." in failed.inner_text()
    page.screenshot(path=str(artifacts / "dashboard-organiser.png"), full_page=True)

    # keyboard: from the summary to the section, then into the review page through the front door's proxy
    page.get_by_role("link", name="Propozycje do przejrzenia").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/#sekcja-proposals")  # a hash change lands after the key press, not with it
    review.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/matching/matches/{proposal}")
    assert violations == []
