"""The embedded run's front door proxies with one HTTP session for everyone: a cookie an upstream sets reaches
the browser that asked, and is never kept by the proxy and sent along with another visitor's request (a staff
member's session must not reach a volunteer opening an offer link or a resident answering a survey)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.front.accounts import AuthStore
from wspolnota.config import SERVICES


@Request.application
def upstream(request: Request) -> Response:
    if request.path == "/set":
        answer = Response("set")
        answer.set_cookie("wspolnota_session", "someone-else-s-session")
        return answer
    return Response(request.headers.get("Cookie", ""))


@pytest.fixture
def front(tmp_path: Path) -> Iterator[Any]:
    from services.front.app import create_app as front_app

    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    httpd = make_server("127.0.0.1", 0, upstream, threaded=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    app = front_app({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": "one-secret-for-all-apps",
                     "UPSTREAMS": {s: f"http://127.0.0.1:{httpd.server_port}" for s in SERVICES}})
    yield app
    httpd.shutdown()
    store.dispose()


def test_a_cookie_set_upstream_goes_to_its_browser_and_not_to_the_next_visitor(front: Any) -> None:
    first = front.test_client().get("/notify/set")
    assert "wspolnota_session=someone-else-s-session" in first.headers.get("Set-Cookie", "")
    assert front.test_client().get("/notify/echo").get_data(as_text=True) == ""
