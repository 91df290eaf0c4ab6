"""Browser tests: Debian's chromium driven by Playwright (never a downloaded browser), apps served locally."""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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
