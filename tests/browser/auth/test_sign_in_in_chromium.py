"""In chromium: a staff member signs in at the front door, works in a service under the strict CSP, signs out."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from services.front.accounts import AuthStore

PASSWORD = "Zagnansk-2026-haslo"


@pytest.fixture
def base(tmp_path: Path, live_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from services.front.app import create_app as front_app
    from services.needs.app import create_app as needs_app
    from services.needs.db import make_db

    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.migrate()
    store.add("osl.kowalska", "osl", PASSWORD, "Anna Kowalska")
    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    front = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": "browser"})
    needs = needs_app({"DATABASE_URL": url, "SECRET_KEY": "browser"})
    front.wsgi_app = DispatcherMiddleware(front.wsgi_app, {"/needs": needs.wsgi_app})  # type: ignore[method-assign]
    yield live_server(front)
    needs.extensions["db"].dispose()
    store.dispose()


def test_staff_sign_in_open_the_need_form_under_the_csp_and_sign_out(base: str, page: Any, artifacts: Path) -> None:
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    page.goto(f"{base}/needs/needs/new")
    assert "/auth/login" in page.url
    page.get_by_label("Login").fill("osl.kowalska")
    page.get_by_label("Hasło").fill("zle-haslo-zupelnie")
    page.get_by_role("button", name="Zaloguj się").click()
    assert page.get_by_role("alert").inner_text() == "Nieprawidłowy login lub hasło."

    page.get_by_label("Hasło").fill(PASSWORD)
    page.get_by_label("Hasło").press("Enter")
    page.wait_for_url(f"{base}/needs/needs/new")
    assert "Anna Kowalska" in page.locator("header").inner_text()
    # the static enhancement script ran (inline scripts would have been blocked)
    page.wait_for_function("document.getElementById('resident_ref').getAttribute('list') === 'znani-mieszkancy'")
    page.screenshot(path=str(artifacts / "auth-signed-in-need-form.png"), full_page=True)
    assert violations == []

    page.get_by_role("button", name="Wyloguj").click()
    page.wait_for_url(f"{base}/auth/login")
    assert "Wylogowano." in page.content()
    page.goto(f"{base}/needs/")
    assert "/auth/login" in page.url
