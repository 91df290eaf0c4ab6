"""Small builders for needs and providers: a sensible default, overridden per test.

A volunteer works under a written, open-ended agreement (volunteering act art. 44) unless the test says
`agreement=False`: the rules of the act are tested on their own, every other test gets them satisfied.
"""
from dataclasses import replace
from datetime import date, datetime

from services.matching.rules import AGREEMENT, VOLUNTEER, Credential, Need, Point, Provider, TimeWindow

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


WRITTEN_AGREEMENT = Credential(AGREEMENT, None, date(2026, 1, 1), written=True)


def with_agreement(provider: Provider) -> Provider:
    """The provider as a volunteer under a written agreement (other provider types need none)."""
    if provider.type != VOLUNTEER or any(c.kind == AGREEMENT for c in provider.credentials):
        return provider
    return replace(provider, credentials=(*provider.credentials, WRITTEN_AGREEMENT))


def a_provider(agreement: bool = True, **overrides) -> Provider:
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
    provider = replace(provider, **overrides)
    return with_agreement(provider) if agreement else provider
