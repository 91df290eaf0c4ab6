"""The volunteers service's command line:

    python -m services.volunteers.cli expire-credentials [--date YYYY-MM-DD]
    python -m services.volunteers.cli announce-organisations

The first runs the daily credential expiry once on the bootstrap's database and clock (`wspolnota jobs volunteers`
runs it on a schedule); the second publishes a fresh profile snapshot of every partner organisation (its name, kind
and KRS for the community's partner register), once after upgrading from a version whose snapshots lacked them."""
from __future__ import annotations

import argparse
import logging
from datetime import date

from services.volunteers import handlers, jobs
from services.volunteers.bootstrap import bootstrap
from wspolnota import localtime
from wspolnota.logs import setup_logging

log = logging.getLogger("volunteers.jobs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.volunteers.cli")
    sub = parser.add_subparsers(dest="job", required=True)
    expire = sub.add_parser("expire-credentials", help="announce expired credentials; count warnings")
    expire.add_argument("--date", type=date.fromisoformat, default=None, help="today's date (default: today on the service's clock, in Warsaw)")
    sub.add_parser("announce-organisations", help="publish every partner organisation's profile snapshot again")
    args = parser.parse_args(argv)
    setup_logging("volunteers", "jobs")
    parts = bootstrap()
    parts.db.migrate()
    if args.job == "announce-organisations":
        try:
            with parts.db.transaction() as session:
                assert parts.outbox is not None
                announced = handlers.announce_organisations(session, parts.outbox,
                                                            localtime.local_day(parts.clock()))
        finally:
            parts.dispose()
        log.info("announce-organisations: %d partner organisation(s)", announced)
        print(f"announced={announced}")
        return 0
    try:
        report = jobs.expire_credentials(parts.db, args.date or localtime.local_day(parts.clock()))
    finally:
        parts.dispose()
    log.info("expire-credentials: %d expired, %d expiring within 30 days", report.expired, report.expiring_soon)
    print(f"expired={report.expired} expiring_soon={report.expiring_soon}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
