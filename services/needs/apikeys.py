"""API keys of case-system clients: hashed at rest, scoped, revocable, rate limited.

A key is a high-entropy random token shown once when it is made. The database keeps its SHA-256 and a
short prefix to find the row; the comparison is constant-time. `python -m services.needs.apikeys` (or
`wspolnota apikey`) adds, lists and revokes keys.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.needs import clock
from services.needs.db import api_clients, api_rate_windows
from wspolnota import ratelimit
from wspolnota.db import Database

NEEDS_WRITE, NEEDS_READ, EXPORTS_READ = "needs:write", "needs:read", "exports:read"
SCOPES = (NEEDS_WRITE, NEEDS_READ, EXPORTS_READ)
TOKEN_PREFIX = "wsp_"
PREFIX_LEN = len(TOKEN_PREFIX) + 8
DEFAULT_RATE_LIMIT = 60  # requests per client per minute
WINDOW_S = 60


class KeyCommandError(ValueError):
    """A key command that cannot be carried out (message for the operator)."""


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    scopes: frozenset[str]
    rate_limit_per_minute: int


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits of randomness


def parse_scopes(text: str) -> list[str]:
    scopes = sorted({s.strip() for s in text.split(",") if s.strip()})
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise KeyCommandError(f"unknown or no scopes {unknown}; choose from {', '.join(SCOPES)}")
    return scopes


def add_client(session: Session, name: str, scopes: list[str], rate_limit: int = DEFAULT_RATE_LIMIT
               ) -> tuple[dict[str, Any], str]:
    """A new client and its token (the only time the token exists outside the caller's hands)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise KeyCommandError("the client's name must have 1-100 characters")
    if rate_limit < 1:
        raise KeyCommandError("the rate limit must be at least 1 request per minute")
    if session.execute(sa.select(api_clients.c.id).where(api_clients.c.name == name)).first():
        raise KeyCommandError(f"a client named {name!r} already exists (revoke it or pick another name)")
    token = new_token()
    row = {"id": str(uuid.uuid4()), "name": name, "key_prefix": token[:PREFIX_LEN], "key_hash": digest(token),
           "scopes": ",".join(parse_scopes(",".join(scopes))), "rate_limit_per_minute": rate_limit,
           "created_at": clock.now(), "revoked_at": None, "last_used_at": None}
    session.execute(sa.insert(api_clients).values(**row))
    return row, token


def list_clients(session: Session) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(
        sa.select(api_clients.c.name, api_clients.c.key_prefix, api_clients.c.scopes,
                  api_clients.c.rate_limit_per_minute, api_clients.c.created_at, api_clients.c.revoked_at,
                  api_clients.c.last_used_at).order_by(api_clients.c.created_at)).mappings()]


def revoke_client(session: Session, name: str) -> None:
    done = session.execute(sa.update(api_clients).where(api_clients.c.name == name,
                                                        api_clients.c.revoked_at.is_(None))
                           .values(revoked_at=clock.now()))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise KeyCommandError(f"no active client named {name!r}")


class Refused(Exception):
    """The key is missing, unknown or revoked (401)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def authenticate(session: Session, header: str | None) -> Client:
    """The client behind `Authorization: Bearer <token>`; Refused otherwise."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Refused("Wymagany klucz API: nagłówek Authorization: Bearer <klucz>.")
    wanted = digest(token)
    found = None
    for row in session.execute(sa.select(api_clients).where(
            api_clients.c.key_prefix == token[:PREFIX_LEN])).mappings():
        if hmac.compare_digest(row["key_hash"], wanted):
            found = row
    if found is None:
        raise Refused("Nieprawidłowy klucz API.")
    if found["revoked_at"] is not None:
        raise Refused("Ten klucz API został unieważniony.")
    session.execute(sa.update(api_clients).where(api_clients.c.id == found["id"])
                    .values(last_used_at=clock.now()))
    return Client(found["id"], found["name"], frozenset(found["scopes"].split(",")),
                  found["rate_limit_per_minute"])


def take_request(db: Database, client: Client, now: float) -> int | None:
    """Count one request in the client's current minute; the seconds to wait when over its limit.

    A fixed window per client in the database, so every gunicorn worker counts into the same row:
    the UPDATE locks it (PostgreSQL) or the write transaction is exclusive (SQLite, BEGIN IMMEDIATE).
    """
    window = int(now // WINDOW_S) * WINDOW_S
    taken = ratelimit.count_request(db, api_rate_windows, client.id, WINDOW_S, now)
    count = client.rate_limit_per_minute + 1 if taken is None else taken
    if count > client.rate_limit_per_minute:
        return max(1, int(window + WINDOW_S - now + 0.999))
    return None


# --- command line ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    from services.needs.bootstrap import bootstrap

    parser = argparse.ArgumentParser(prog="wspolnota apikey", description="case-system API keys (needs service)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="needs database (default: DATABASE_URL or var/needs.db)")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="make a key; the token is printed once", parents=[common])
    add.add_argument("name")
    add.add_argument("--scopes", required=True, help=f"comma separated: {', '.join(SCOPES)}")
    add.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT, help="requests per minute")
    sub.add_parser("list", help="clients, scopes, state (never the tokens)", parents=[common])
    revoke = sub.add_parser("revoke", help="revoke a client's key at once", parents=[common])
    revoke.add_argument("name")
    args = parser.parse_args(argv)
    db = bootstrap(args.database_url).db
    db.migrate()
    try:
        with db.transaction() as session:
            if args.action == "add":
                row, token = add_client(session, args.name, parse_scopes(args.scopes), args.rate_limit)
                print(f"{row['name']}: scopes {row['scopes']}, {row['rate_limit_per_minute']} requests/min")
                print(f"token (shown only now, store it in the case system): {token}")
            elif args.action == "list":
                for c in list_clients(session):
                    state = f"revoked {c['revoked_at']:%Y-%m-%d %H:%M}" if c["revoked_at"] else "active"
                    print(f"{c['name']}\t{c['key_prefix']}…\t{c['scopes']}\t{c['rate_limit_per_minute']}/min\t{state}")
            else:
                revoke_client(session, args.name)
                print(f"{args.name}: revoked")
    except KeyCommandError as err:
        print(f"error: {err}")
        return 2
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
