"""The centre's calendar: Europe/Warsaw.

Every "today" and every local day in the services comes from here. The containers and CI run in UTC, so
`date.today()` would be yesterday in Zagnańsk between midnight and 01:00 (02:00 in summer): a consent given
today would be "in the future", a credential valid until yesterday still in date.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")


def now() -> datetime:
    """The current moment, aware UTC (one place for tests to move the clock)."""
    return datetime.now(UTC)


def local_day(moment: datetime) -> date:
    """The calendar day in Warsaw at `moment` (a naive value is taken as UTC, as SQLite returns it)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(WARSAW).date()


def today() -> date:
    """Today's date in Warsaw."""
    return local_day(now())
