"""The staff session every service reads: the cookie, its checks, `enforce`, `actor_name`, security headers.

- The sign-in pages, the accounts database and the `wspolnota user` command are the front service's
  (services/front: accounts.py, pages.py, db.py; accounts in AUTH_DATABASE_URL, default var/auth.db).
  This module imports no service: the front service hands its accounts store to the runtime as the app's
  `extensions["auth_store"]` (anything with `get(login) -> account dict | None`).
- The session is Flask's signed cookie (shared SECRET_KEY, cookie path "/", HttpOnly, SameSite=Lax): every
  service behind the one address verifies it locally. It ends after 8 h without activity or 12 h after sign-in,
  or on sign-out.
- `enforce(service)` runs before every request of every service: wspolnota.access decides (default deny);
  anonymous callers get 401 JSON (API) or a redirect to the sign-in page (HTML); a wrong role gets 403.
- Account changes: the role is copied into the cookie at sign-in. The front door (the only app holding the
  accounts database) re-reads the account on every request it serves: a deactivated or deleted account, or one
  whose role an admin changed, ends the session there and then (the person signs in again and gets the new
  role, or cannot sign in at all). In the embedded run every request passes through the front door's proxy,
  which forwards the ended session as no session, so the change takes effect at the very next request. In
  compose nginx sends service URLs straight to the services: a service trusts a session the front door checked
  less than RECHECK_S (60 s) ago and asks the front door (`GET /auth/check`, WSPOLNOTA_FRONT_URL) about an
  older one, remembering the answer for 60 s — so there the change takes effect within about a minute. If the
  front door does not answer, the service trusts the signed cookie (logged). See docs/dashboard.md.
- SESSION_COOKIE_SECURE (wspolnota.config) makes the cookie HTTPS-only: off for the embedded http run, on in
  compose.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask, current_app, g, jsonify, redirect, render_template, request, session

from wspolnota import access, config

log = logging.getLogger("wspolnota.auth")

IDLE_TIMEOUT_S = 8 * 3600
ABSOLUTE_TIMEOUT_S = 12 * 3600
TOUCH_EVERY_S = 60
RECHECK_S = 60  # a service asks the front door about a session the front door has not checked for this long
CHECK_TIMEOUT_S = 2.0
SESSION_KEY = "staff"
LOGIN_URL = "/auth/login"

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
COOKIE_SETTINGS = {
    "SESSION_COOKIE_NAME": "wspolnota_session",
    "SESSION_COOKIE_PATH": "/",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}


def cookie_settings() -> dict[str, Any]:
    """COOKIE_SETTINGS plus SESSION_COOKIE_SECURE from the environment (read when an app is created)."""
    return {**COOKIE_SETTINGS, "SESSION_COOKIE_SECURE": config.get_bool("SESSION_COOKIE_SECURE")}

# --- the session -------------------------------------------------------------------------------------------
def start_session(user: dict[str, Any], now: float | None = None) -> None:
    now = time.time() if now is None else now
    session.clear()  # no fixation: a fresh session (and CSRF token) for the signed-in person
    session[SESSION_KEY] = {"login": user["login"], "name": user.get("display_name") or user["login"],
                            "role": user["role"], "since": int(now), "seen": int(now), "checked": int(now)}
    session.permanent = False


def current_user() -> dict[str, Any] | None:
    """The signed-in staff member of this request ({login, name, role}) or None."""
    if "staff_user" in g:
        return g.staff_user  # type: ignore[no-any-return]
    user = session.get(SESSION_KEY)
    now = time.time()
    if not isinstance(user, dict) or user.get("role") not in access.ROLES:
        user = None
    elif now - user.get("seen", 0) > IDLE_TIMEOUT_S or now - user.get("since", 0) > ABSOLUTE_TIMEOUT_S:
        session.pop(SESSION_KEY, None)
        user = None
    elif not _account_still_valid(user, now):
        session.pop(SESSION_KEY, None)
        g.session_ended = True
        user = None
    elif now - user.get("seen", 0) > TOUCH_EVERY_S:
        touched = {"seen": int(now)}
        if "auth_store" in current_app.extensions:
            touched["checked"] = int(now)  # the front door has just read the account
        session[SESSION_KEY] = user = {**user, **touched}
    g.staff_user = user
    return user


_verdicts: dict[tuple[str, str, int], tuple[bool, float]] = {}
_verdicts_lock = threading.Lock()


def _account_still_valid(user: dict[str, Any], now: float) -> bool:
    """Is the account behind this session still active, with the same role?

    The front door reads the accounts database on every request. A service (no database) trusts a session the
    front door checked in the last RECHECK_S seconds; an older one it asks the front door about
    (AUTH_CHECK_URL, from WSPOLNOTA_FRONT_URL; compose sets it), remembering the answer for RECHECK_S. Without
    that URL, or when the front door does not answer, the service trusts the signed cookie."""
    store = current_app.extensions.get("auth_store")
    if store is None:
        return _ask_front_door(user, now)
    account = store.get(user.get("login", ""))
    if account is None or not account["active"]:
        log.info("session ended: the account is deactivated or gone")
        return False
    if account["role"] != user.get("role"):
        log.info("session ended: the account's role was changed")
        return False
    return True


def _ask_front_door(user: dict[str, Any], now: float) -> bool:
    url = current_app.config.get("AUTH_CHECK_URL")
    if not url or now - user.get("checked", 0) <= RECHECK_S:
        return True
    key = (str(user.get("login")), str(user.get("role")), int(user.get("since", 0)))
    with _verdicts_lock:
        known = _verdicts.get(key)
    if known is not None and now - known[1] <= RECHECK_S:
        return known[0]
    import requests

    name = current_app.config["SESSION_COOKIE_NAME"]
    try:
        answer = requests.get(url.rstrip("/") + "/auth/check", cookies={name: request.cookies.get(name, "")},
                              timeout=CHECK_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as err:
        log.warning("front door did not answer the session check (%s); trusting the signed cookie",
                    type(err).__name__)
        return True
    if answer.status_code not in (204, 401):
        log.warning("front door answered the session check with HTTP %s; trusting the signed cookie",
                    answer.status_code)
        return True
    valid = answer.status_code == 204
    with _verdicts_lock:
        if len(_verdicts) > 10_000:
            _verdicts.clear()
        _verdicts[key] = (valid, now)
    if not valid:
        log.info("session ended: the front door no longer knows it")
    return valid


def session_cookie_for_upstream() -> str | None:
    """The session cookie value to send to a service on the signed-in person's behalf, or None.

    Re-signed from this request's session, so a session the front door has just ended is never forwarded, and
    stamped as checked now (the front door has just read the account), so the service need not ask back."""
    user = current_user()
    if user is None:
        return None
    app = current_app
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return serializer.dumps({**session, SESSION_KEY: {**user, "checked": int(time.time())}})  # type: ignore[no-any-return]


def actor_name(default: str) -> str:
    """Who is at the keyboard, for audit logs: "Jan Kowalski (jkowalski)", else `default`."""
    from flask import has_request_context

    if not has_request_context():
        return default
    user = current_user()
    if not user:
        return default
    return f"{user['name']} ({user['login']})"[:200] if user["name"] != user["login"] else user["login"]


def auth_disabled(app: Flask) -> bool:
    """Only a test app may switch sign-in off (TESTING and AUTH_DISABLED both set)."""
    return bool(app.testing and app.config.get("AUTH_DISABLED"))


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/internal/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def enforce(service: str) -> Any:
    """before_request of every service app."""
    if request.url_rule is None or auth_disabled(current_app):
        return None  # 404/405 answer themselves
    allowed = access.allowed_roles(service, request.endpoint, request.method)
    if allowed == access.PUBLIC:
        return None
    user = current_user()
    if user is None:
        if wants_json():
            return jsonify(code=401, status="Unauthorized", message="Zaloguj się."), 401
        target = request.script_root + request.full_path.rstrip("?")
        return redirect(f"{LOGIN_URL}?{_urlencode(next=target)}")
    if user["role"] not in allowed:
        if wants_json():
            return jsonify(code=403, status="Forbidden", message="Brak uprawnień do tej operacji."), 403
        return render_template("auth/forbidden.html", user=user), 403
    return None


def _urlencode(**kw: str) -> str:
    from urllib.parse import urlencode

    return urlencode(kw)


def security_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_user_or_none() is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def current_user_or_none() -> dict[str, Any] | None:
    try:
        return g.get("staff_user")
    except RuntimeError:
        return None


def install(app: Flask, service: str) -> None:
    """Cookie settings, sign-in enforcement, security headers and the layout's `staff_user`."""
    app.config.update(cookie_settings())  # every app must read and write the same cookie
    app.config.setdefault("AUTH_CHECK_URL", config.get("WSPOLNOTA_FRONT_URL"))
    app.before_request(lambda: enforce(service))
    app.after_request(security_headers)

    @app.context_processor
    def _staff():  # type: ignore[no-untyped-def]
        from flask_wtf.csrf import generate_csrf

        return {"staff_user": current_user(), "role_pl": access.ROLE_PL, "csrf_token": generate_csrf}
