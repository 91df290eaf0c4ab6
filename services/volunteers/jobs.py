"""Daily jobs of the volunteers service.

    python -m services.volunteers.jobs expire-credentials [--date YYYY-MM-DD]

Run it once a day (cron / a Kubernetes CronJob). It is safe to run more often: each credential's
CredentialExpired is written once, in the same transaction that marks it as announced.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import date

from services.volunteers import handlers
from wspolnota import localtime
from wspolnota.db import Database
from wspolnota.logs import setup_logging
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("volunteers.jobs")


@dataclass(frozen=True)
class ExpiryReport:
    expired: int  # CredentialExpired events written now
    expiring_soon: int  # in-date credentials ending within 30 days (the staff warning list)


def expire_credentials(db: Database, today: date) -> ExpiryReport:
    outbox = Outbox(db, handlers.PUBLISHES)
    with db.transaction() as session:
        expired = handlers.expire_credentials(session, outbox, today)
        soon = len(handlers.expiring_soon(session, today))
    return ExpiryReport(expired, soon)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.volunteers.jobs")
    sub = parser.add_subparsers(dest="job", required=True)
    expire = sub.add_parser("expire-credentials", help="announce expired credentials; count warnings")
    expire.add_argument("--date", type=date.fromisoformat, default=None, help="today's date (default: today on the service's clock, in Warsaw)")
    args = parser.parse_args(argv)
    setup_logging("volunteers", "jobs")
    from services.volunteers.bootstrap import bootstrap  # the bootstrap lists this module's PERIODIC jobs

    parts = bootstrap()
    parts.db.migrate()
    try:
        report = expire_credentials(parts.db, args.date or localtime.local_day(parts.clock()))
    finally:
        parts.dispose()
    log.info("expire-credentials: %d expired, %d expiring within 30 days", report.expired, report.expiring_soon)
    print(f"expired={report.expired} expiring_soon={report.expiring_soon}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# Run by `wspolnota jobs volunteers` (hourly by default: the job is idempotent, so "daily" is met within the hour).
# `now` is aware UTC: the day that has passed is judged on the Warsaw calendar, not the UTC one.
PERIODIC = {"expire-credentials": lambda db, now: expire_credentials(db, localtime.local_day(now))}
