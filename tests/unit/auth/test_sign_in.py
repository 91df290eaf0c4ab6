"""One sign-in at the front door opens every service; lockout, expiry, sign-out, users, headers, the audit actor."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from services.front import accounts, db, pages
from services.front.accounts import AuthStore
from wspolnota import auth
from wspolnota.config import ROOT

PASSWORD = "Zagnansk-2026-haslo"
SECRET = "one-secret-for-all-apps"


@pytest.fixture
def store(tmp_path: Path) -> Any:
    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.migrate()
    store.add("admin", "admin", PASSWORD, "Administratorka")
    store.add("osl.kowalska", "osl", PASSWORD, "Anna Kowalska")
    store.add("audytor", "auditor", PASSWORD)
    yield store
    store.dispose()


@pytest.fixture
def site(store: AuthStore, tmp_path: Path) -> Any:
    """The front door with the needs service mounted under /needs, as behind nginx: one origin, one cookie."""
    from services.front.app import create_app as front_app
    from services.needs.app import create_app as needs_app
    from services.needs.db import make_db

    url = f"sqlite:///{tmp_path / 'needs.db'}"
    make_db(url).migrate()
    front = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": SECRET})
    needs = needs_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    front.wsgi_app = DispatcherMiddleware(front.wsgi_app, {"/needs": needs.wsgi_app})  # type: ignore[method-assign]
    yield front.test_client(), needs
    needs.extensions["db"].dispose()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def sign_in(client: Any, login: str, password: str = PASSWORD, next_: str = "/") -> Any:
    page = client.get(f"/auth/login?next={next_}").get_data(as_text=True)
    return client.post(f"/auth/login?next={next_}", data={"login": login, "password": password,
                                                          "csrf_token": csrf(page)})


def test_staff_sign_in_once_at_the_front_door_and_the_service_knows_them(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    first = client.get("/needs/residents")
    assert first.status_code == 302 and first.headers["Location"] == "/auth/login?next=%2Fneeds%2Fresidents"
    signed = sign_in(client, "OSL.Kowalska", next_="/needs/residents")
    assert signed.status_code == 302 and signed.headers["Location"] == "/needs/residents"
    page = client.get("/needs/residents").get_data(as_text=True)
    assert "Anna Kowalska" in page and "Wyloguj" in page


def test_a_wrong_password_is_refused_in_polish_without_saying_which_part_was_wrong(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    wrong = sign_in(client, "osl.kowalska", "nie-to-haslo-wcale")
    assert wrong.status_code == 401 and "Nieprawidłowy login lub hasło." in wrong.get_data(as_text=True)
    unknown = sign_in(client, "nikt-taki", "nie-to-haslo-wcale")
    assert "Nieprawidłowy login lub hasło." in unknown.get_data(as_text=True)
    assert client.get("/needs/").status_code == 302


def test_five_failures_lock_the_account_for_fifteen_minutes(store: AuthStore) -> None:
    now = datetime.now(UTC)
    for _ in range(accounts.MAX_FAILURES):
        assert not store.authenticate("osl.kowalska", "zle-haslo-123456", now).ok
    locked = store.authenticate("osl.kowalska", PASSWORD, now + timedelta(minutes=14))
    assert not locked.ok and "zablokowane" in locked.message
    assert store.authenticate("osl.kowalska", PASSWORD, now + timedelta(minutes=16)).ok


def test_the_sign_in_page_judges_the_lockout_by_the_front_doors_clock(store: AuthStore) -> None:
    from services.front.app import create_app as front_app
    from services.front.bootstrap import bootstrap

    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    front = front_app({"SECRET_KEY": SECRET}, bootstrap(store.url, clock=lambda: now[0]))
    client = front.test_client()
    for _ in range(accounts.MAX_FAILURES):
        assert sign_in(client, "osl.kowalska", "zle-haslo-123456").status_code == 401
    now[0] += timedelta(minutes=14)
    locked = sign_in(client, "osl.kowalska")
    assert locked.status_code == 401 and "zablokowane" in locked.get_data(as_text=True)
    now[0] += timedelta(minutes=2)
    assert sign_in(client, "osl.kowalska").status_code == 302
    front.extensions["auth_store"].dispose()


def test_the_admin_unlocks_an_account_and_a_success_clears_the_count(store: AuthStore) -> None:
    for _ in range(accounts.MAX_FAILURES):
        store.authenticate("osl.kowalska", "zle-haslo-123456")
    store.update("osl.kowalska", unlock=True)
    assert store.authenticate("osl.kowalska", PASSWORD).ok
    assert store.get("osl.kowalska")["failed_attempts"] == 0  # type: ignore[index]


def test_passwords_are_stored_as_argon2id_hashes(store: AuthStore) -> None:
    stored = store.get("admin")["password_hash"]  # type: ignore[index]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_out_ends_the_session_everywhere(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    sign_in(client, "osl.kowalska")
    page = client.get("/needs/").get_data(as_text=True)
    assert client.post("/auth/logout", data={}).status_code == 400  # the sign-out form needs its CSRF token
    out = client.post("/auth/logout", data={"csrf_token": csrf(page)})
    assert out.status_code == 302
    assert client.get("/needs/").status_code == 302
    assert client.get("/needs/api/needs").status_code == 401


def test_a_session_idle_for_more_than_eight_hours_has_expired(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    sign_in(client, "osl.kowalska")
    assert client.get("/needs/").status_code == 200
    with client.session_transaction() as session:
        staff = session[auth.SESSION_KEY]
        session[auth.SESSION_KEY] = {**staff, "seen": int(time.time()) - auth.IDLE_TIMEOUT_S - 1}
    assert client.get("/needs/").status_code == 302


def test_a_cookie_signed_with_another_key_is_not_a_session(site, store: AuthStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from services.front.app import create_app as front_app

    forger = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": "someone-elses-key"}).test_client()
    sign_in(forger, "admin")
    cookie = forger.get_cookie(auth.COOKIE_SETTINGS["SESSION_COOKIE_NAME"])
    client, _ = site
    client.set_cookie(cookie.key, cookie.value)
    assert client.get("/needs/").status_code == 302


def test_only_the_admin_manages_users_and_a_new_user_can_sign_in(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    sign_in(client, "osl.kowalska")
    refused = client.get("/auth/users")
    assert refused.status_code == 403 and "Brak uprawnień" in refused.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))})
    sign_in(client, "admin")
    page = client.get("/auth/users").get_data(as_text=True)
    assert "osl.kowalska" in page and "Nowy użytkownik" in page
    short = client.post("/auth/users", data={"login": "pw.nowak", "role": "social_worker", "password": "krotkie",
                                              "csrf_token": csrf(page)})
    assert short.status_code == 422 and "co najmniej 12 znaków" in short.get_data(as_text=True)
    added = client.post("/auth/users", data={"login": "pw.nowak", "display_name": "Piotr Nowak",
                                              "role": "social_worker", "password": PASSWORD, "csrf_token": csrf(page)})
    assert added.status_code == 302
    fresh = Client(client.application)
    assert sign_in(fresh, "pw.nowak").status_code == 302
    assert fresh.get("/needs/residents").status_code == 200


def test_the_auditor_reads_the_audit_log_but_cannot_register_a_need(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    sign_in(client, "audytor")
    assert client.get("/needs/audit").status_code == 200
    assert client.post("/needs/api/needs", json={}).status_code == 403
    forbidden = client.post("/needs/needs/new", data={})
    assert forbidden.status_code == 403 and "Brak uprawnień" in forbidden.get_data(as_text=True)


def test_the_audit_log_names_the_signed_in_person_and_ignores_a_claimed_header(site) -> None:  # type: ignore[no-untyped-def]
    from services.needs.db import audit_log

    client, needs = site
    sign_in(client, "osl.kowalska")
    resident = client.post("/needs/api/residents", json={
        "name": "Genowefa Przykładowa", "address": "ul. Zmyślona 1", "village": "lekomin", "phone": "+48500000000",
        "preferred_channel": "phone", "legal_basis": "art6_1_e"})
    assert resident.status_code == 201, resident.json
    client.get(f"/needs/api/residents/{resident.json['id']}", headers={"X-Staff-User": "ktos.inny"})
    with needs.extensions["db"].engine.connect() as conn:
        actors = {row.actor for row in conn.execute(audit_log.select())}
    assert actors == {"Anna Kowalska (osl.kowalska)"}


def test_after_sign_in_only_local_paths_are_followed(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    assert sign_in(client, "osl.kowalska", next_="//evil.example/").headers["Location"] == "/"
    assert pages.safe_next("https://evil.example/") == "/" and pages.safe_next("/needs/") == "/needs/"


HOSTILE_NEXT = [
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\r\n/evil.example", "\t//evil.example",
    " //evil.example", "/ /evil.example", "/\u00a0/evil.example", "/\u200b/evil.example", "/\x00/evil.example",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "//evil.example", "///evil.example",
    "https:evil.example", "https://evil.example", "javascript:alert(1)", "evil.example",
    "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example", "/%09/evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_after_sign_in_no_next_parameter_leads_off_site(site, target: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    assert sign_in(client, "osl.kowalska", next_=quote(target, safe="")).headers["Location"] == "/"


@pytest.mark.parametrize("query", ["/%09/evil.example", "/%0A/evil.example", "/%0d/evil.example", "/%5C/evil.example",
                                   "%2F%2Fevil.example", "/%252F/evil.example", "https%3Aevil.example"])
def test_after_sign_in_an_encoded_next_parameter_does_not_lead_off_site_either(site, query: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    assert sign_in(client, "osl.kowalska", next_=query).headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/needs/residents", "/needs/residents?q=Le%C5%9Bna+5&page=2", "/needs/#top"])
def test_after_sign_in_a_local_path_is_followed(site, target: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    assert sign_in(client, "osl.kowalska", next_=quote(target, safe="")).headers["Location"] == target


def test_every_response_carries_the_security_headers(site) -> None:  # type: ignore[no-untyped-def]
    client, _ = site
    for url in ("/auth/login", "/needs/healthz", "/needs/api/needs"):
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], url
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"], url
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "same-origin", url


def test_no_page_template_has_inline_scripts_event_handlers_or_inline_styles() -> None:
    templates = [p for p in ROOT.glob("services/*/templates/**/*.html") if "messages" not in p.parts]
    templates += list(ROOT.glob("wspolnota/templates/**/*.html"))
    assert ROOT / "services/front/templates/auth/login.html" in templates
    assert len(templates) > 10
    offenders = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text) \
                or "javascript:" in text or re.search(r"\sstyle\s*=", text) or "<style" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_first_start_creates_one_admin_with_a_one_time_password(tmp_path: Path) -> None:
    store = AuthStore(f"sqlite:///{tmp_path / 'first.db'}")
    store.migrate()
    generated = accounts.ensure_first_admin(store)
    assert generated and store.authenticate("admin", generated).ok
    assert accounts.ensure_first_admin(store) is None and store.count() == 1
    store.dispose()


def test_the_accounts_table_matches_its_migrations(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = AuthStore(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    store.dispose()
    assert diff == []
