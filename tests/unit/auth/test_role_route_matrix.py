"""Every route of every service, for anonymous callers and for each of the six roles, against wspolnota.access."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from wspolnota import access
from wspolnota.config import SERVICES
from wspolnota.testing import signed_in

TOKEN_AUTH = {("volunteers", "internal_api.contact"),  # public to the session check, guarded by its own token
              ("needs", "needs_concerns_internal.report"), ("needs", "needs_concerns_internal.recipient"),
              ("needs", "needs_requests_internal.requester_contact"),
              ("needs", "needs_checks_internal.check_recipient"),
              ("needs", "needs_calls_internal.record_outcome"), ("needs", "needs_calls_internal.recipient"),
              ("community", "community_internal_api.registration_contact"),
              ("needs", "needs_feedback_internal.feedback_contact"),  # notify's feedback request SMS
              ("notify", "notify_sms_inbound.sms_inbound")}  # the SMS gateway's bearer token
TOKEN_AUTH |= {("needs", e) for e in access.POLICIES["needs"] if e.startswith("case_system_api.")}  # API keys
TOKEN_AUTH |= {("needs", "needs_notices_internal.notice_contact")}


def service_app(service: str, tmp_path: Path) -> Flask:
    url = f"sqlite:///{tmp_path / f'{service}.db'}"
    importlib.import_module(f"services.{service}.db").make_db(url).migrate()
    app = importlib.import_module(f"services.{service}.app").create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "matrix", "PROPAGATE_EXCEPTIONS": False})
    return app


def calls(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule; path arguments get a made-up value."""
    out = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<path:{arg}>", "x").replace(f"<{arg}>", "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url.replace("<filename>", "style.css")))
    return out


@pytest.fixture(params=SERVICES)
def app(request: Any, tmp_path: Path) -> Any:
    app = service_app(request.param, tmp_path)
    yield request.param, app
    app.extensions["db"].dispose()


def test_every_endpoint_of_every_service_has_an_access_rule(app) -> None:  # type: ignore[no-untyped-def]
    service, flask_app = app
    endpoints = {rule.endpoint for rule in flask_app.url_map.iter_rules()}
    assert endpoints - set(access.POLICIES[service]) == set(), "add these endpoints to wspolnota/access.py"
    assert set(access.POLICIES[service]) - endpoints == set(), "wspolnota/access.py names endpoints that do not exist"


def test_anonymous_callers_reach_only_public_routes(app) -> None:  # type: ignore[no-untyped-def]
    service, flask_app = app
    client = flask_app.test_client()
    for endpoint, method, url in calls(flask_app):
        response = client.open(url, method=method)
        what = f"{service} {method} {url} ({endpoint}) -> {response.status_code}"
        if access.POLICIES[service][endpoint] == access.PUBLIC:
            if (service, endpoint) not in TOKEN_AUTH:
                assert response.status_code not in (401, 403), what
        elif url.startswith(("/api/", "/internal/")):
            assert response.status_code == 401 and response.json["message"] == "Zaloguj się.", what
        else:
            assert response.status_code == 302, what
            assert response.headers["Location"].startswith("/auth/login?next="), what


@pytest.mark.parametrize("role", access.ROLES)
def test_each_role_gets_exactly_the_routes_its_policy_allows(app, role: str) -> None:  # type: ignore[no-untyped-def]
    service, flask_app = app
    client = signed_in(flask_app.test_client(), role)
    allowed_somewhere = 0
    for endpoint, method, url in calls(flask_app):
        roles = access.allowed_roles(service, endpoint, method)
        response = client.open(url, method=method)
        what = f"{role}: {service} {method} {url} ({endpoint}) -> {response.status_code}"
        if roles == access.PUBLIC or role in roles:
            allowed_somewhere += 1
            if (service, endpoint) not in TOKEN_AUTH:
                assert response.status_code not in (401, 403), what
        else:
            assert response.status_code == 403, what
    assert allowed_somewhere > 5


def test_the_auditor_never_writes_and_only_admin_manages_users() -> None:
    for service, policy in access.POLICIES.items():
        for endpoint, entry in policy.items():
            if entry != access.PUBLIC:
                assert access.AUDITOR not in entry["write"], f"{service} {endpoint}"
    assert access.allowed_roles("needs", "needs.audit_page", "GET") >= {access.AUDITOR}
    assert access.allowed_roles("needs", "needs.audit_page", "GET") == {access.AUDITOR, access.ADMIN, access.DIRECTOR}


def test_an_endpoint_nobody_listed_is_denied_to_everyone() -> None:
    assert access.allowed_roles("needs", "needs.something_new", "GET") == frozenset()


def test_post_forms_without_a_csrf_token_are_refused_for_signed_in_staff(app) -> None:  # type: ignore[no-untyped-def]
    service, flask_app = app
    flask_app.config["WTF_CSRF_ENABLED"] = True
    client = signed_in(flask_app.test_client(), access.ADMIN)
    refused = []
    for endpoint, method, url in calls(flask_app):
        if method == "POST" and not url.startswith(("/api/", "/internal/")):
            response = client.post(url, data={"x": "1"})
            if (service, endpoint) in {("notify", "notify.provider_response"), ("notify", "notify_checks.visit_check"),
                                       ("notify", "notify_checks.need_check")}:
                assert response.status_code == 404  # an unknown signed link is refused before its form is read
                continue
            assert response.status_code == 400, f"{service} POST {url} -> {response.status_code}"
            refused.append(url)
    assert refused
