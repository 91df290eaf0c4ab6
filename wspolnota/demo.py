"""The command line shared by the services' demo seeds (`python -m services.<name>.seed --demo`)."""
from __future__ import annotations

import argparse
from collections.abc import Callable

from wspolnota.db import Database


def seed_main(service: str, parser: argparse.ArgumentParser, argv: list[str] | None,
              make_db: Callable[[str | None], Database],
              seed: Callable[[Database, argparse.Namespace], dict[str, int]],
              summary: Callable[[dict[str, int], argparse.Namespace], str]) -> int:
    """Refuse without --demo, migrate the service's database, seed it and print one line of what was added.

    `parser` brings the seed's own options; --demo and --database-url are added here."""
    parser.add_argument("--demo", action="store_true", help="fill a fictional municipality (never real people)")
    parser.add_argument("--database-url", help=f"default: DATABASE_URL or var/{service}.db")
    args = parser.parse_args(argv)
    if not args.demo:
        parser.error("only demo data can be seeded: pass --demo")
    db = make_db(args.database_url)
    try:
        db.migrate()
        counts = seed(db, args)
    finally:
        db.dispose()
    if not any(counts.values()):
        print(f"{service}: demo data already present; nothing added")
    else:
        print(f"{service}: demo data added — {summary(counts, args)} (events wait in the outbox for the relay)")
    return 0
