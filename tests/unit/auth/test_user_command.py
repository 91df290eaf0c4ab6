"""`wspolnota user add|set` manages staff accounts from the shell; `make run` seeds the first admin."""
from __future__ import annotations

from pathlib import Path

import pytest

from services.front.accounts import AuthStore
from wspolnota import cli


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    monkeypatch.setenv("AUTH_DATABASE_URL", url)
    monkeypatch.setenv("WSPOLNOTA_USER_PASSWORD", "haslo-z-wiersza-polecen")
    return url


def test_an_added_user_can_sign_in_with_the_given_role(accounts: str, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["user", "add", "ipus.zielinska", "--role", "ipus_coordinator", "--name", "Ewa Zielińska"])
    store = AuthStore(accounts)
    outcome = store.authenticate("ipus.zielinska", "haslo-z-wiersza-polecen")
    assert outcome.ok and outcome.user["role"] == "ipus_coordinator"  # type: ignore[index]
    assert "dodano" in capsys.readouterr().out
    store.dispose()


def test_an_unknown_role_or_a_short_password_is_refused_in_polish(accounts: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="Nieznana rola"):
        cli.main(["user", "add", "ktos", "--role", "wolontariusz"])
    monkeypatch.setenv("WSPOLNOTA_USER_PASSWORD", "krotkie")
    with pytest.raises(SystemExit, match="co najmniej 12 znaków"):
        cli.main(["user", "add", "ktos", "--role", "osl"])


def test_the_first_start_prints_a_one_time_admin_password_once(accounts: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cli.first_admin()
    printed = capsys.readouterr().out
    password = printed.split("admin  ")[1].split()[0]
    store = AuthStore(accounts)
    assert store.authenticate("admin", password).ok
    cli.first_admin()
    assert capsys.readouterr().out == "" and store.count() == 1
    store.dispose()


def test_the_first_admin_takes_the_password_from_the_environment(accounts: str, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WSPOLNOTA_ADMIN_PASSWORD", "haslo-administratora")
    cli.first_admin()
    assert capsys.readouterr().out == ""
    store = AuthStore(accounts)
    assert store.authenticate("admin", "haslo-administratora").ok
    store.dispose()
