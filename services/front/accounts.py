"""Staff accounts: adding and changing them, checking a password, the lockout, and the first admin.

- Passwords: argon2id (argon2-cffi). Five failed attempts lock the account for 15 minutes.
- `wspolnota user add|set` (`user_command`) and the first start of `wspolnota run` (`first_admin`) come here
  through the CLI's registry of entry points (wspolnota/registry.py); the admin also manages accounts at
  /auth/users (services/front/pages.py).
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.front.db import AccountsDatabase, users
from wspolnota import access
from wspolnota.service import Clock, utc_now

log = logging.getLogger("wspolnota.auth")

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


class AuthError(Exception):
    """A Polish message for the person at the keyboard."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    user: dict[str, Any] | None = None
    message: str = ""


class AuthStore(AccountsDatabase):
    """The staff accounts: queries, changes and password checks on the accounts database. `clock` gives the
    time of changes and of the lockout (the front's bootstrap clock; tests inject their own)."""

    def __init__(self, url: str | None = None, clock: Clock = utc_now):
        super().__init__(url)
        self.clock = clock

    # queries
    def get(self, login: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.login == normalise(login))).mappings().first()
        return dict(row) if row else None

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(users).order_by(users.c.login)).mappings()]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()

    # changes
    def add(self, login: str, role: str, password: str, display_name: str = "") -> None:
        login = normalise(login)
        check_login(login)
        check_role(role)
        check_password(password)
        if self.get(login):
            raise AuthError(f"Użytkownik „{login}” już istnieje.")
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(sa.insert(users).values(
                login=login, display_name=(display_name or login).strip()[:120], role=role,
                password_hash=_hasher.hash(password), active=True, failed_attempts=0, created_at=now,
                password_changed_at=now))

    def update(self, login: str, *, role: str | None = None, active: bool | None = None,
               password: str | None = None, unlock: bool = False, display_name: str | None = None) -> None:
        values: dict[str, Any] = {}
        if role is not None:
            check_role(role)
            values["role"] = role
        if active is not None:
            values["active"] = active
        if display_name:
            values["display_name"] = display_name.strip()[:120]
        if password:
            check_password(password)
            values.update(password_hash=_hasher.hash(password), password_changed_at=self.clock())
        if unlock or password:
            values.update(failed_attempts=0, locked_until=None)
        if not values:
            return
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(users).where(users.c.login == normalise(login)).values(**values))
        if done.rowcount == 0:
            raise AuthError("Nie ma takiego użytkownika.")

    def authenticate(self, login: str, password: str, now: datetime | None = None) -> Outcome:
        """Check a password; count failures and lock the account after MAX_FAILURES of them."""
        now = now or self.clock()
        wrong = Outcome(False, message="Nieprawidłowy login lub hasło.")
        user = self.get(login)
        if user is None or not user["active"]:
            _verify(_DUMMY_HASH, password)  # the same work whether or not the login exists
            return wrong
        if user["locked_until"] is not None and user["locked_until"] > now:
            return Outcome(False, message="Konto jest czasowo zablokowane po kolejnych nieudanych próbach "
                                          "logowania. Spróbuj ponownie za 15 minut lub poproś administratora "
                                          "o odblokowanie.")
        if not _verify(user["password_hash"], password):
            failures = (user["failed_attempts"] or 0) + 1
            values: dict[str, Any] = {"failed_attempts": failures}
            if failures >= MAX_FAILURES:
                values = {"failed_attempts": 0, "locked_until": now + LOCKOUT}
                log.warning("account locked after %d failed sign-ins", MAX_FAILURES)
            with self.engine.begin() as conn:
                conn.execute(sa.update(users).where(users.c.id == user["id"]).values(**values))
            return wrong
        values = {"failed_attempts": 0, "locked_until": None}
        if _hasher.check_needs_rehash(user["password_hash"]):
            values["password_hash"] = _hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(sa.update(users).where(users.c.id == user["id"]).values(**values))
        return Outcome(True, user=user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise(login: str) -> str:
    return (login or "").strip().lower()


def check_login(login: str) -> None:
    if not (2 <= len(login) <= 64) or not all(ch.isalnum() or ch in "._-@" for ch in login):
        raise AuthError("Login: 2–64 znaki, litery, cyfry lub . _ - @.")


def check_role(role: str) -> None:
    if role not in access.ROLES:
        raise AuthError(f"Nieznana rola „{role}”. Dozwolone: {', '.join(access.ROLES)}.")


def check_password(password: str) -> None:
    if len(password or "") < 12:
        raise AuthError("Hasło musi mieć co najmniej 12 znaków.")


def ensure_first_admin(store: AuthStore, password: str | None = None) -> str | None:
    """An empty accounts database gets `admin`; returns the one-time password if it was generated."""
    if store.count():
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    store.add("admin", access.ADMIN, password, "Administrator")
    return generated
