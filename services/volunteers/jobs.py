"""Daily jobs of the volunteers service.

    python -m services.volunteers.cli expire-credentials [--date YYYY-MM-DD]   (or `wspolnota jobs volunteers`)

Run it once a day (cron / a Kubernetes CronJob). It is safe to run more often: each credential's
CredentialExpired is written once, in the same transaction that marks it as announced.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from services.volunteers import handlers
from wspolnota import localtime
from wspolnota.db import Database
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




# Run by `wspolnota jobs volunteers` (hourly by default: the job is idempotent, so "daily" is met within the hour).
# `now` is aware UTC: the day that has passed is judged on the Warsaw calendar, not the UTC one.
PERIODIC = {"expire-credentials": lambda db, now: expire_credentials(db, localtime.local_day(now))}
