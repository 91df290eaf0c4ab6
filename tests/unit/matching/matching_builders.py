"""Small builders for needs and providers: a sensible default, overridden per test."""
from dataclasses import replace
from datetime import date, datetime

from services.matching.rules import Credential, Need, Point, Provider, TimeWindow

THURSDAY = date(2026, 11, 26)
ZAGNANSK = Point(50.9790, 20.6600)
SAMSONOW = Point(50.9870, 20.5950)


def window(start_hour: float, end_hour: float, day: date = THURSDAY) -> TimeWindow:
    base = datetime(day.year, day.month, day.day)
    return TimeWindow(base.replace(hour=int(start_hour), minute=int(start_hour % 1 * 60)),
                      base.replace(hour=int(end_hour), minute=int(end_hour % 1 * 60)))


def credential(kind: str, valid_until: date | None = date(2027, 12, 31)) -> Credential:
    return Credential(kind, valid_until)


def a_need(**overrides) -> Need:
    need = Need(
        id="N-1",
        category="ZAK",
        village="Zagnańsk",
        point=ZAGNANSK,
        windows=(window(10, 14),),
        duration_hours=2,
    )
    return replace(need, **overrides)


def a_provider(**overrides) -> Provider:
    provider = Provider(
        id="W-1",
        type="volunteer",
        villages=frozenset({"Zagnańsk"}),
        radius_km=5,
        point=ZAGNANSK,
        availability=(window(8, 18),),
        hours_per_week=6,
        max_open_tasks=3,
    )
    return replace(provider, **overrides)
