"""Browser tests: Debian's chromium driven by Playwright (never a downloaded browser), apps served locally."""
from __future__ import annotations

import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from bench.stack import Stack
from wspolnota.broker import free_port, wait_for_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
OSL_LOGIN, OSL_PASSWORD = "anna.osl", "journey-password-1"  # the organiser of the browser journeys


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing and CI must run the browser tests", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Any:
    """A desktop tab in Polish, Warsaw time."""
    tab = browser.new_page(locale="pl-PL", timezone_id="Europe/Warsaw")
    tab.set_default_timeout(20_000)
    return tab


@pytest.fixture
def artifacts() -> Path:
    """Screenshots are kept here as test artefacts (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    """Serve a WSGI app on a free local port in a thread; returns its base URL."""
    running: list[tuple[Any, threading.Thread]] = []

    def serve(app: Any) -> str:
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        running.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_port}"

    yield serve
    for httpd, thread in running:
        httpd.shutdown()
        thread.join(10)


@pytest.fixture
def stack(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Stack]:
    """The whole system (bench/stack.py) with an organiser's account and notify's sender and local sink."""
    s = Stack(tmp_path, kafka_bootstrap, f"j{uuid.uuid4().hex[:8]}.")
    # notify's sender and its local sink, as `make run` starts them: the sink is what the test inbox shows. Every
    # notify process has the settings: the consumer writes the signed links with the public address.
    smtp, http = free_port(), free_port()
    s.service_env["notify"] = {
        "NOTIFY_SINK_SMTP_PORT": str(smtp), "NOTIFY_SINK_HTTP_PORT": str(http), "NOTIFY_SMTP_PORT": str(smtp),
        "NOTIFY_SMS_GATEWAY_URL": f"http://127.0.0.1:{http}/sms", "NOTIFY_CASE_WEBHOOK_URL": f"http://127.0.0.1:{http}/webhook",
        "VOLUNTEERS_INTERNAL_URL": f"http://127.0.0.1:{s.ports['volunteers']}", "NOTIFY_PUBLIC_URL": f"{s.url}/notify",
        "NOTIFY_QUIET_HOURS": "00:00-00:00"}
    # the volunteer's visits page reads a resident's details from needs' internal API
    s.service_env["volunteers"] = {"NEEDS_INTERNAL_URL": f"http://127.0.0.1:{s.ports['needs']}"}
    try:
        s.start()
        from services.front.accounts import AuthStore

        accounts = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
        accounts.add(OSL_LOGIN, "osl", OSL_PASSWORD, display_name="Anna Organizatorka")
        accounts.dispose()
        s._spawn("notify-sink", [sys.executable, "-m", "services.notify.sink"], s.env("notify"))
        wait_for_port(smtp)
        s._spawn("notify-sender", [sys.executable, "-m", "wspolnota.cli", "send", "notify"], s.env("notify"))
        yield s
    finally:
        s.stop_all()
