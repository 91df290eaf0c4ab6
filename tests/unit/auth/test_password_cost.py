"""Production hashes staff passwords with argon2id at full cost; the other tests use a cheap one (tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher

from services.front import accounts
from services.front.accounts import AuthStore

PASSWORD = "Zagnansk-2026-haslo"


def test_production_hashes_with_argon2id_over_64_mib_in_three_passes_and_four_lanes(
        production_password_hashing: PasswordHasher, tmp_path: Path) -> None:
    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.migrate()
    store.add("admin", "admin", PASSWORD, "Administratorka")
    stored = store.get("admin")["password_hash"]  # type: ignore[index]
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and PASSWORD not in stored
    assert store.authenticate("admin", PASSWORD).ok
    assert accounts._DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # an unknown login costs the same
    store.dispose()


def test_a_password_hashed_cheaply_is_rehashed_at_production_cost_on_sign_in(
        production_password_hashing: PasswordHasher, tmp_path: Path) -> None:
    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.migrate()
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    accounts._hasher, production = cheap, accounts._hasher
    store.add("admin", "admin", PASSWORD, "Administratorka")
    accounts._hasher = production
    assert store.get("admin")["password_hash"].startswith("$argon2id$v=19$m=8,t=1,p=1$")  # type: ignore[index]
    assert store.authenticate("admin", PASSWORD).ok
    assert store.get("admin")["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # type: ignore[index]
    store.dispose()
