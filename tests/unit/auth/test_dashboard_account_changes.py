"""Account changes reach open sessions: the front door re-reads the account on every request it serves, so a
deactivated account or a changed role ends the session at the next request (and the embedded run's proxy no
longer forwards it to the services); the session cookie is HTTPS-only when SESSION_COOKIE_SECURE says so."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from services.front.accounts import AuthStore
from wspolnota import auth

PASSWORD = "Zagnansk-2026-haslo"
SECRET = "one-secret-for-all-apps"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuthStore]:
    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.migrate()
    store.add("admin", "admin", PASSWORD, "Administratorka")
    store.add("osl.kowalska", "osl", PASSWORD, "Anna Kowalska")
    yield store
    store.dispose()


@pytest.fixture
def front(store: AuthStore, tmp_path: Path) -> Iterator[Any]:
    """The front door as in the embedded run: the needs service behind its proxy, served over HTTP."""
    from services.front.app import create_app as front_app
    from services.needs.app import create_app as needs_app
    from services.needs.db import make_db

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    needs = needs_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    httpd = make_server("127.0.0.1", 0, needs, threaded=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    unreachable = "http://127.0.0.1:1"
    app = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": SECRET, "DASHBOARD_TIMEOUT_S": (0.5, 0.5),
                     "UPSTREAMS": {"needs": f"http://127.0.0.1:{httpd.server_port}", "volunteers": unreachable,
                                   "matching": unreachable, "notify": unreachable,
                                   "community": unreachable}})
    yield app
    httpd.shutdown()
    needs.extensions["db"].dispose()


def sign_in(client: Any, login: str) -> Any:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/auth/login", data={"login": login, "password": PASSWORD, "csrf_token": token})


def sections(client: Any) -> list[str]:
    return re.findall(r'data-section="(\w+)"', client.get("/").get_data(as_text=True))


def test_a_deactivated_account_loses_its_open_session_at_the_next_request(front: Any, store: AuthStore) -> None:
    client = front.test_client()
    sign_in(client, "osl.kowalska")
    assert client.get("/needs/").status_code == 200  # through the front door's proxy

    store.update("osl.kowalska", active=False)

    refused = client.get("/needs/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/auth/login")
    assert client.get("/").status_code == 302
    assert sign_in(client, "osl.kowalska").status_code == 401


def test_a_changed_role_ends_the_session_and_the_next_sign_in_brings_the_new_role(front: Any,
                                                                                  store: AuthStore) -> None:
    client = front.test_client()
    sign_in(client, "osl.kowalska")
    assert sections(client) == ["concerns", "proposals", "offers", "unmatched", "credentials", "failed", "surveys", "plans",
                                "activities", "requests", "visit_checks", "need_checks", "calls", "call_list",
                                "feedback"]

    store.update("osl.kowalska", role="social_worker")

    assert client.get("/").status_code == 302
    sign_in(client, "osl.kowalska")
    assert sections(client) == ["concerns", "proposals", "offers", "unmatched", "requests", "calls", "call_list",
                                "feedback"]


def test_an_unchanged_account_keeps_its_session(front: Any, store: AuthStore) -> None:
    client = front.test_client()
    sign_in(client, "osl.kowalska")
    store.update("osl.kowalska", display_name="Anna Kowalska-Nowak")
    assert client.get("/").status_code == 200
    assert client.get("/needs/").status_code == 200


def test_the_session_cookie_is_https_only_when_configured(store: AuthStore, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from services.front.app import create_app as front_app
    from services.matching.app import create_app as matching_app

    def cookie_after_sign_in() -> str:
        client = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": SECRET}).test_client()
        answer = sign_in(client, "osl.kowalska")
        return next(v for v in answer.headers.getlist("Set-Cookie") if v.startswith("wspolnota_session="))

    assert "Secure" not in cookie_after_sign_in()  # the embedded http run
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    assert "Secure" in cookie_after_sign_in()
    service = matching_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'matching.db'}", "SECRET_KEY": SECRET})
    assert service.config["SESSION_COOKIE_SECURE"] is True  # the services write the same cookie the same way
    assert auth.cookie_settings()["SESSION_COOKIE_NAME"] == "wspolnota_session"


# --- compose: nginx sends service URLs straight to the services, which ask the front door -------------------
@pytest.fixture
def served_front(store: AuthStore) -> Iterator[tuple[Any, str]]:
    from services.front.app import create_app as front_app

    auth._verdicts.clear()
    app = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": SECRET})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield app, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    auth._verdicts.clear()


def session_checked(front: Any, seconds_ago: int) -> str:
    """Sign in at the front door; the session cookie as if the front door last read the account `seconds_ago`."""
    client = front.test_client()
    sign_in(client, "osl.kowalska")
    serializer = front.session_interface.get_signing_serializer(front)
    data = serializer.loads(client.get_cookie("wspolnota_session").value)
    data[auth.SESSION_KEY]["checked"] -= seconds_ago
    return serializer.dumps(data)  # type: ignore[no-any-return]


def service_client(check_url: str, cookie: str, tmp_path: Path) -> Any:
    from services.matching.app import create_app as matching_app
    from services.matching.db import make_db

    url = f"sqlite:///{tmp_path / 'matching.db'}"
    if not (tmp_path / "matching.db").exists():
        make_db(url).migrate()
    service = matching_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "AUTH_CHECK_URL": check_url})
    client = service.test_client()
    client.set_cookie("wspolnota_session", cookie)
    return client


def test_a_service_asks_the_front_door_about_an_older_session_and_drops_a_deactivated_one(
        served_front: tuple[Any, str], store: AuthStore, tmp_path: Path) -> None:
    front, url = served_front
    fresh, older = session_checked(front, 0), session_checked(front, auth.RECHECK_S + 30)
    assert service_client(url, older, tmp_path).get("/api/proposals").status_code == 200  # the front door: valid

    store.update("osl.kowalska", active=False)
    auth._verdicts.clear()  # the service's memory of the answer (60 s) has run out

    assert service_client(url, older, tmp_path).get("/api/proposals").status_code == 401
    # a session the front door checked a moment ago is trusted for up to a minute without asking
    assert service_client(url, fresh, tmp_path).get("/api/proposals").status_code == 200


def test_when_the_front_door_does_not_answer_the_service_trusts_the_signed_cookie(
        served_front: tuple[Any, str], store: AuthStore, tmp_path: Path) -> None:
    front, _ = served_front
    older = session_checked(front, auth.RECHECK_S + 30)
    store.update("osl.kowalska", active=False)
    assert service_client("http://127.0.0.1:1", older, tmp_path).get("/api/proposals").status_code == 200


def test_the_front_doors_session_check_answers_204_or_401(served_front: tuple[Any, str], store: AuthStore) -> None:
    front, _ = served_front
    client = front.test_client()
    assert client.get("/auth/check").status_code == 401
    sign_in(client, "osl.kowalska")
    assert client.get("/auth/check").status_code == 204
    store.update("osl.kowalska", role="director")
    assert client.get("/auth/check").status_code == 401
