"""API keys managed by an administrator: on the staff page (token shown once) and by `wspolnota apikey`."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.needs import apikeys
from services.needs.db import make_db
from wspolnota.testing import signed_in


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """The needs app with staff sign-in switched on (roles matter here)."""
    from services.needs.app import create_app

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "klucze"})
    yield app
    app.extensions["db"].dispose()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html).group(1)  # type: ignore[union-attr]


def export_status(client: Any, token: str) -> int:
    return client.get("/api/case-system/delivered?plan_ref=IPUS/X/1",
                      headers={"Authorization": f"Bearer {token}"}).status_code


def test_an_administrator_makes_a_key_on_the_page_sees_it_once_and_can_revoke_it(app) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in(app.test_client(), "admin")
    page = admin.get("/case-system").get_data(as_text=True)
    made = admin.post("/case-system/clients", data={"csrf_token": csrf(page), "name": "pomost",
                                                    "scopes": ["needs:write", "exports:read"], "rate_limit": "30"})
    html = made.get_data(as_text=True)
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    token = re.search(r"<code>(wsp_[A-Za-z0-9_-]{40,})</code>", html).group(1)  # type: ignore[union-attr]
    assert "nie zostanie pokazany ponownie" in html
    assert token not in admin.get("/case-system").get_data(as_text=True)  # once only
    assert export_status(app.test_client(), token) == 404  # a valid key: the plan is simply unknown

    page = admin.get("/case-system").get_data(as_text=True)
    revoked = admin.post("/case-system/clients/pomost/revoke", data={"csrf_token": csrf(page)})
    assert revoked.status_code == 302
    assert export_status(app.test_client(), token) == 401
    assert "unieważniony" in admin.get("/case-system").get_data(as_text=True)


def test_a_second_client_with_the_same_name_gets_a_polish_field_error(app) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in(app.test_client(), "admin")
    for expected in (201, 422):
        page = admin.get("/case-system").get_data(as_text=True)
        response = admin.post("/case-system/clients", data={"csrf_token": csrf(page), "name": "pomost",
                                                            "scopes": ["needs:read"], "rate_limit": "10"})
        assert response.status_code == expected
    assert "Klient o tej nazwie już istnieje" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["osl", "ipus_coordinator", "director", "auditor"])
def test_only_an_administrator_makes_or_revokes_keys(app, role: str) -> None:  # type: ignore[no-untyped-def]
    with app.extensions["db"].transaction() as session:
        token = apikeys.add_client(session, "pomost", [apikeys.EXPORTS_READ])[1]
    staff = signed_in(app.test_client(), role)
    page = staff.get("/case-system").get_data(as_text=True)
    assert "Utwórz klucz" not in page and "Unieważnij" not in page
    assert staff.post("/case-system/clients", data={"csrf_token": csrf(page), "name": "x",
                                                    "scopes": ["needs:read"], "rate_limit": "1"}).status_code == 403
    assert staff.post("/case-system/clients/pomost/revoke", data={"csrf_token": csrf(page)}).status_code == 403
    assert export_status(app.test_client(), token) == 404


def test_the_command_line_adds_lists_and_revokes_keys_without_ever_listing_a_token(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from wspolnota import cli

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    with pytest.raises(SystemExit) as done:
        cli.main(["apikey", "add", "pomost", "--database-url", url, "--scopes", "needs:write,exports:read",
                  "--rate-limit", "20"])
    assert done.value.code == 0
    token = re.search(r"(wsp_\S+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
    assert apikeys.main(["list", "--database-url", url]) == 0
    listed = capsys.readouterr().out
    assert "pomost" in listed and "exports:read,needs:write" in listed and "20/min" in listed and token not in listed
    assert apikeys.main(["revoke", "pomost", "--database-url", url]) == 0
    assert apikeys.main(["revoke", "pomost", "--database-url", url]) == 2  # nothing active left to revoke
    assert apikeys.main(["add", "inny", "--database-url", url, "--scopes", "needs:everything"]) == 2
    db = make_db(url)
    with db.transaction() as session, pytest.raises(apikeys.Refused, match="unieważniony"):
        apikeys.authenticate(session, f"Bearer {token}")
    db.dispose()
