"""No public secrets: every process refuses to start with an empty or `dev-only-*` secret, unless development
secrets are asked for explicitly (the tests do, in tests/conftest.py); `wspolnota run` makes its own."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from wspolnota import config
from wspolnota.auth import COOKIE_SETTINGS, SESSION_KEY
from wspolnota.broker import free_port
from wspolnota.cli import embedded_env
from wspolnota.config import MissingSecret

OLD_PUBLIC_KEY = "dev-only-not-secret"  # what SECRET_KEY defaulted to, in the public repository
REAL = {s.name: f"a-real-{s.name.lower()}-from-the-environment" for s in config.SECRETS}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment as in production: no development secrets, every secret set to a real value."""
    monkeypatch.delenv("WSPOLNOTA_DEV_SECRETS")
    monkeypatch.setenv("WSPOLNOTA_VAR_DIR", str(tmp_path))
    for name, value in REAL.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def web_app(service: str, tmp_path: Path) -> Flask:
    import importlib

    if service == "front":
        from services.front.app import create_app

        return create_app({"AUTH_DATABASE_URL": f"sqlite:///{tmp_path / 'auth.db'}"})
    db_url = f"sqlite:///{tmp_path / (service + '.db')}"
    importlib.import_module(f"services.{service}.db").make_db(db_url).migrate()
    app: Flask = importlib.import_module(f"services.{service}.app").create_app({"DATABASE_URL": db_url})
    return app


WEB_SECRETS = [(p.removesuffix("-web"), s.name) for s in config.SECRETS for p in s.processes
               if p.endswith("-web") or p == "front"]


@pytest.mark.parametrize("bad", ["", "dev-only-not-secret", "dev-only-anything"])
@pytest.mark.parametrize(("service", "secret"), WEB_SECRETS)
def test_a_web_app_refuses_to_start_with_an_empty_or_public_secret(production: pytest.MonkeyPatch, tmp_path: Path,
                                                                   service: str, secret: str, bad: str) -> None:
    production.setenv(secret, bad)
    with pytest.raises(MissingSecret) as refused:
        web_app(service, tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{secret} ") and f"Set {secret} to a long random value" in message
    assert ".env.example" in message


@pytest.mark.parametrize("service", ["front", *config.SERVICES])
def test_a_web_app_starts_with_real_secrets(production: pytest.MonkeyPatch, tmp_path: Path, service: str) -> None:
    app = web_app(service, tmp_path)
    assert app.config["SECRET_KEY"] == REAL["SECRET_KEY"]


def test_with_development_secrets_asked_for_a_web_app_uses_the_public_ones(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    for name in REAL:
        monkeypatch.delenv(name, raising=False)
    app = web_app("volunteers", tmp_path)
    assert (app.config["SECRET_KEY"], app.config["INTERNAL_SERVICE_TOKEN"]) == (OLD_PUBLIC_KEY,
                                                                                "dev-only-internal-token")


def start_worker(command: str, service: str, env: dict[str, str], timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    """`wspolnota COMMAND SERVICE` against a broker port nobody listens on: a worker that did not refuse to start
    keeps waiting for it, and the timeout ends the test."""
    return subprocess.run([sys.executable, "-m", "wspolnota.cli", command, service], env=env, capture_output=True,
                          text=True, timeout=timeout_s, cwd=config.ROOT)


def production_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "WSPOLNOTA_DEV_SECRETS"}
    env.update(REAL, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}", WSPOLNOTA_VAR_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'notify.db'}", **changes)
    return env


@pytest.mark.parametrize(("command", "secret", "bad"), [
    ("consume", "SECRET_KEY", OLD_PUBLIC_KEY),
    ("consume", "SECRET_KEY", ""),
    ("send", "INTERNAL_SERVICE_TOKEN", "dev-only-internal-token"),
    ("send", "NOTIFY_CASE_WEBHOOK_SECRET", "dev-only-webhook-secret"),
    ("send", "NOTIFY_CASE_WEBHOOK_SECRET", ""),
])
@pytest.mark.e2e  # starts the worker process
def test_a_worker_refuses_to_start_with_an_empty_or_public_secret(tmp_path: Path, command: str, secret: str,
                                                                  bad: str) -> None:
    done = start_worker(command, "notify", production_env(tmp_path, **{secret: bad}))
    assert done.returncode != 0
    assert f"{secret} " in done.stderr and f"Set {secret} to a long random value" in done.stderr


def test_the_embedded_run_makes_its_secrets_once_and_keeps_them(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSPOLNOTA_VAR_DIR", str(tmp_path))
    first = embedded_env({"PATH": "/bin"})
    again = embedded_env({"PATH": "/bin"})  # `make run` stopped and started again
    for s in config.SECRETS:
        assert not config.is_public(first[s.name]) and len(first[s.name]) >= 32
        assert again[s.name] == first[s.name]
    assert len({first[s.name] for s in config.SECRETS}) == len(config.SECRETS)  # one value per secret
    kept = tmp_path / "secrets.env"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "var/" in (config.ROOT / ".gitignore").read_text().splitlines()


def test_the_embedded_run_takes_a_real_secret_from_the_environment_but_never_a_public_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSPOLNOTA_VAR_DIR", str(tmp_path))
    env = embedded_env({"SECRET_KEY": "mine-and-long-enough", "INTERNAL_SERVICE_TOKEN": "dev-only-internal-token"})
    assert env["SECRET_KEY"] == "mine-and-long-enough"
    assert not config.is_public(env["INTERNAL_SERVICE_TOKEN"])


def test_every_process_of_the_embedded_run_starts_without_development_secrets(production: pytest.MonkeyPatch,
                                                                              tmp_path: Path) -> None:
    for name in REAL:
        production.delenv(name)
    for name, value in embedded_env(dict(os.environ)).items():
        production.setenv(name, value)
    for process in ("front", *(f"{s}-web" for s in config.SERVICES), "notify-consumer", "notify-sender"):
        assert set(config.require_secrets(process)) <= set(REAL)
    assert web_app("needs", tmp_path).config["SECRET_KEY"] not in ("", OLD_PUBLIC_KEY)


def forged_session_cookie(role: str = "director") -> str:
    """A staff session signed with the old public default key, as anyone who read the repository could make."""
    forger = Flask("forger")
    forger.config.update(SECRET_KEY=OLD_PUBLIC_KEY, **COOKIE_SETTINGS)
    serializer = forger.session_interface.get_signing_serializer(forger)  # type: ignore[attr-defined]
    now = int(time.time())
    cookie: str = serializer.dumps({SESSION_KEY: {"login": "intruz", "name": "Intruz", "role": role,
                                                  "since": now, "seen": now}})
    return cookie


def test_a_cookie_forged_with_the_old_public_key_reads_nothing_from_a_service_run_by_make_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WSPOLNOTA_DEV_SECRETS")
    monkeypatch.setenv("WSPOLNOTA_VAR_DIR", str(tmp_path))
    for name in REAL:
        monkeypatch.delenv(name, raising=False)
    for name, value in embedded_env(dict(os.environ)).items():  # what `wspolnota run` gives the web app
        monkeypatch.setenv(name, value)
    client = web_app("needs", tmp_path).test_client()
    client.set_cookie(str(COOKIE_SETTINGS["SESSION_COOKIE_NAME"]), forged_session_cookie())
    assert client.get("/api/residents").status_code == 401


def test_the_same_forged_cookie_would_be_a_director_on_a_service_with_the_public_key(tmp_path: Path) -> None:
    """The forgery above is well made: only the key stops it (this app runs with the development secrets)."""
    client = web_app("needs", tmp_path).test_client()
    client.set_cookie(str(COOKIE_SETTINGS["SESSION_COOKIE_NAME"]), forged_session_cookie())
    assert client.get("/api/residents").status_code == 200


def test_the_refusal_is_an_exit_with_the_message_not_a_traceback() -> None:
    err: Any = MissingSecret("SECRET_KEY", "")
    assert isinstance(err, SystemExit) and "SECRET_KEY is empty: refusing to start" in str(err.code)
