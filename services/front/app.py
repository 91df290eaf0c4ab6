"""The front service: sign-in and staff accounts (`/auth/...`), the dashboard (`/`), and in the embedded run
the front door on :8000 — one staff URL for the five services.

Proxying `/<service>/...` is nginx's job in compose (deploy/nginx.conf, which sends `/` and `/auth/` here).
Locally we proxy in Python so that `make run` needs nothing outside the virtualenv; it is a development
convenience, not a production proxy.
"""
from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from flask import Flask, Response, g, redirect, render_template, request

from services.front import dashboard, pages
from services.front.accounts import AuthStore
from services.front.bootstrap import bootstrap
from services.front.db import default_url
from wspolnota import access, auth, config
from wspolnota.service import Parts
from wspolnota.web import SERVICE_TITLES, common, local_dt

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-encoding", "content-length"}


def upstreams() -> dict[str, str]:
    """Where each service's gunicorn listens (WSPOLNOTA_<SERVICE>_URL, default 127.0.0.1:800N)."""
    return {s: config.get(f"WSPOLNOTA_{s.upper()}_URL").rstrip("/") for s in config.SERVICES}


def without_cookie(header: str, name: str) -> str:
    """A Cookie header minus one cookie (a session the front door has ended is not forwarded)."""
    kept = [part for part in header.split(";") if part.strip().split("=", 1)[0] != name]
    return ";".join(kept).strip()


def create_app(test_config: dict[str, Any] | None = None, parts: Parts | None = None) -> Flask:
    """`parts` default to the front's bootstrap on AUTH_DATABASE_URL (or the test config's)."""
    app = Flask(__name__, template_folder="templates")
    app.config.update(SECRET_KEY=config.get("SECRET_KEY"), AUTH_DATABASE_URL=default_url(),
                      **auth.cookie_settings())
    app.config.update(test_config or {})
    app.config.update(config.require_secrets("front", app.config))  # no public or empty SECRET_KEY
    app.register_blueprint(common)
    from wspolnota import i18n

    i18n.install(app)
    # The sign-in pages and user management live here; the services verify the session cookie themselves.
    parts = parts or bootstrap(app.config["AUTH_DATABASE_URL"])
    app.extensions["wspolnota.parts"] = parts  # current_parts(): the accounts store and the clock
    store: AuthStore = parts.db  # type: ignore[assignment]
    store.migrate()
    app.extensions["auth_store"] = store  # wspolnota.auth re-reads the account behind each session here
    app.register_blueprint(pages.bp)
    app.after_request(auth.security_headers)
    targets = {**upstreams(), **app.config.get("UPSTREAMS", {})}
    http = requests.Session()  # one for every visitor: it must keep no cookie (another's session) between requests
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    app.add_template_filter(local_dt)

    @app.context_processor
    def _layout():  # type: ignore[no-untyped-def]
        from flask_wtf.csrf import generate_csrf

        return {"service_title": "Panel", "service": "front", "staff_user": auth.current_user(),
                "role_pl": access.ROLE_PL, "csrf_token": generate_csrf}

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        """The organiser's dashboard (services/front/dashboard.py): the day's work, read on the person's behalf."""
        user = auth.current_user()
        if user is None:
            return redirect(f"{auth.LOGIN_URL}?next=/")
        modes = dashboard.sections_for(user["role"], app.config.get("DASHBOARD_SECTIONS"))
        cookie = (app.config["SESSION_COOKIE_NAME"], auth.session_cookie_for_upstream() or "")
        now = parts.clock()
        sections = dashboard.gather(targets, cookie, modes, now,
                                    timeout=app.config.get("DASHBOARD_TIMEOUT_S",
                                                           (dashboard.CONNECT_TIMEOUT_S, dashboard.READ_TIMEOUT_S)))
        return render_template("index.html", services=SERVICE_TITLES, sections=sections, specs=dashboard.SPECS,
                               now=now)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return {"status": "ok"}

    @app.route("/<service>", methods=["GET"])
    def bare(service: str):  # type: ignore[no-untyped-def]
        if service not in targets:
            return Response("Nie znaleziono.", 404)
        return redirect(f"/{service}/", 308)

    @app.route("/<service>/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/<service>/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def proxy(service: str, path: str):  # type: ignore[no-untyped-def]
        if service not in targets:
            return Response("Nie znaleziono.", 404)
        auth.current_user()  # re-checks the account: a deactivated one's session ends here
        headers = {k: v for k, v in request.headers if k.lower() not in HOP_BY_HOP | {"host"}}
        if g.get("session_ended") and "Cookie" in headers:
            headers["Cookie"] = without_cookie(headers["Cookie"], app.config["SESSION_COOKIE_NAME"])
        headers.update({"X-Forwarded-Prefix": f"/{service}", "X-Forwarded-Host": request.host,
                        "X-Forwarded-Proto": request.scheme, "X-Forwarded-For": request.remote_addr or ""})
        try:
            upstream = http.request(request.method, f"{targets[service]}/{path}", params=request.query_string,
                                    data=request.get_data(), headers=headers, allow_redirects=False, timeout=30)
        except requests.ConnectionError:
            return Response(f"Usługa „{SERVICE_TITLES[service]}” jest chwilowo niedostępna.", 502)
        out = [(k, v) for k, v in upstream.raw.headers.items() if k.lower() not in HOP_BY_HOP]
        return Response(upstream.content, upstream.status_code, out)

    return app
