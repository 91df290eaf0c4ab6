"""The embedded run's front door on :8000: one staff URL for the four services.

In compose this job is nginx's (deploy/nginx.conf). Locally we proxy in Python so that `make run`
needs nothing outside the virtualenv; it is a development convenience, not a production proxy.
"""
from __future__ import annotations

import os
from typing import Any

import requests
from flask import Flask, Response, redirect, render_template, request

from wspolnota import auth, config
from wspolnota.web import SERVICE_TITLES, common

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-encoding", "content-length"}


def upstreams() -> dict[str, str]:
    """Where each service's gunicorn listens (WSPOLNOTA_<SERVICE>_URL, default 127.0.0.1:800N)."""
    return {s: os.environ.get(f"WSPOLNOTA_{s.upper()}_URL", f"http://127.0.0.1:{8001 + i}")
            for i, s in enumerate(config.SERVICES)}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder="templates")
    app.config.update(SECRET_KEY=config.get("SECRET_KEY"), AUTH_DATABASE_URL=auth.default_url(),
                      **auth.COOKIE_SETTINGS)
    app.config.update(test_config or {})
    app.register_blueprint(common)
    from wspolnota import i18n

    i18n.install(app)
    # The sign-in pages and user management live here; the services verify the session cookie themselves.
    store = auth.AuthStore(app.config["AUTH_DATABASE_URL"])
    store.migrate()
    app.extensions["auth_store"] = store
    app.register_blueprint(auth.build_blueprint(lambda: store))
    app.after_request(auth.security_headers)
    targets = upstreams()
    http = requests.Session()

    @app.context_processor
    def _layout():  # type: ignore[no-untyped-def]
        from flask_wtf.csrf import generate_csrf

        return {"service_title": "Panel", "service": "front", "staff_user": auth.current_user(),
                "role_pl": auth.access.ROLE_PL, "csrf_token": generate_csrf}

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        if auth.current_user() is None:
            return redirect(f"{auth.LOGIN_URL}?next=/")
        return render_template("index.html", services=SERVICE_TITLES)

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
        headers = {k: v for k, v in request.headers if k.lower() not in HOP_BY_HOP | {"host"}}
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
