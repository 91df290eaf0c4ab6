"""Pure domain of the volunteers service: providers, credentials and what they may do.

Nothing here imports Flask, SQLAlchemy or Kafka. `eligible_categories` answers "which kinds of help may
this provider give on this day", and the Kamilka gate inside it can be satisfied only by the person's
latest (deciding) check when that check is complete, clean, in date and not revoked — an adverse later
check closes every task involving minors at once, whatever older checks say, and no other fact about a
provider opens them. Partner organisations never reach them: the organisation's one check cannot speak
for the member who comes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# Provider types and credential kinds are the codes the volunteers topic carries: contracts/volunteers.py.
from contracts.volunteers import (
    AGREEMENT,
    CONFIDENTIALITY_AUTHORISATION,
    CREDENTIAL_KINDS,  # noqa: F401 (part of this domain's vocabulary: model.CREDENTIAL_KINDS)
    DRIVING_LICENCE,
    FIRST_AID,
    KAMILKA_CHECK,
    NNW_INSURANCE,
    OWN_CAR,
    PAID_NEIGHBOUR,
    PARTNER_ORGANISATION,
    PROVIDER_TYPES,
    STAFF,  # noqa: F401 (model.STAFF)
    VOLUNTEER,
)

CATEGORIES = ("ZAK", "TRN", "TOW", "OPI", "KOR", "NAP", "OGR", "CYF", "URZ", "POS", "ZWI", "DOM", "WSP", "SAS",
              "TEL")
# Respite care where the dependant is a minor: OPI under the Kamilka gate.
OPI_WITH_MINOR = "OPI+minor"
CATEGORIES_INVOLVING_MINORS = frozenset({"KOR", OPI_WITH_MINOR})

KAMILKA_NOT_LISTED = "not_listed"  # the only register result that admits anyone to work with minors
KAMILKA_LISTED = "listed"
KAMILKA_RESULTS = (KAMILKA_NOT_LISTED, KAMILKA_LISTED)
WRITTEN_AGREEMENT_AFTER_DAYS = 30  # art. 44 ust. 2: written form beyond 30 days
NNW_UP_TO_DAYS = 30  # art. 46: accident insurance for work of up to 30 days
WARN_DAYS_AHEAD = 30


@dataclass(frozen=True)
class Credential:
    kind: str
    valid_from: date
    valid_until: date | None = None  # None: no end date (e.g. a driving licence)
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    revoked: bool = False  # revoked by staff, or by a later adverse Kamilka result: counts for nothing
    credential_id: str = field(default="", compare=False)

    def in_date(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def counts_on(self, day: date) -> bool:
        """In date, not revoked and, for a Kamilka check, complete and clean. (Whether a Kamilka check is
        the person's deciding one is a question for `Provider`, which sees all their checks.)"""
        if self.revoked or not self.in_date(day):
            return False
        if self.kind == KAMILKA_CHECK:
            return kamilka_check_complete(self.details)
        return True


def kamilka_check_adverse(details: dict[str, Any]) -> bool:
    """The person is listed in the register, or the KRK information shows an entry."""
    return details.get("register_result") == KAMILKA_LISTED or bool(details.get("krk_entry"))


def kamilka_checked_on(check: Credential) -> date:
    """The day of the register look-up (the order of checks); the start of validity if it is missing."""
    value = check.details.get("register_checked_on")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else check.valid_from
    except ValueError:
        return check.valid_from


def deciding_kamilka_check(credentials: tuple[Credential, ...] | list[Credential]) -> Credential | None:
    """The latest Kamilka check: the greatest register date; of equal dates the one recorded later
    (`credentials` are in recording order). It alone decides, whatever older checks say."""
    checks = [(kamilka_checked_on(c), i, c) for i, c in enumerate(credentials) if c.kind == KAMILKA_CHECK]
    return max(checks, key=lambda t: (t[0], t[1]))[2] if checks else None


KAMILKA_DATES = ("register_checked_on", "krk_seen_on", "foreign_record_seen_on")


def future_check_dates(data: dict[str, Any], today: date) -> dict[str, list[str]]:
    """A Kamilka check's dates that lie after `today` (the centre's calendar day): field → Polish message."""
    if data.get("kind") != KAMILKA_CHECK:
        return {}
    return {name: ["Data nie może być z przyszłości."] for name in KAMILKA_DATES
            if isinstance(data.get(name), date) and data[name] > today}


def kamilka_check_complete(details: dict[str, Any]) -> bool:
    """Register checked with a 'not listed' result, KRK information seen without an entry, abroad covered if
    lived abroad."""
    if details.get("register_result") != KAMILKA_NOT_LISTED or details.get("krk_entry"):
        return False
    if not details.get("register_checked_on") or not details.get("checked_by") or not details.get("krk_seen_on"):
        return False
    abroad = [c for c in details.get("countries_last_20_years") or [] if c != "PL"]
    return not abroad or bool(details.get("foreign_record_seen_on"))


def kamilka_valid_until(register_checked_on: date, krk_seen_on: date, validity_days: int) -> date:
    """A check is as old as its older half: the register look-up or the KRK information."""
    return min(register_checked_on, krk_seen_on) + timedelta(days=validity_days)


@dataclass(frozen=True)
class NeighbourConditions:
    """Art. 50 u.p.s. provider conditions confirmed by staff (acceptance by the resident is per need)."""

    adult: bool = False
    not_family: bool = False  # declared: not a relative of the people they will serve
    lives_nearby: bool = False
    fitness_declared: bool = False  # declaration of psychophysical fitness
    accepted_by_cus: bool = False

    def all_met(self) -> bool:
        return all((self.adult, self.not_family, self.lives_nearby, self.fitness_declared, self.accepted_by_cus))


@dataclass(frozen=True)
class Provider:
    type: str
    verified: bool = False
    paused: bool = False
    erased: bool = False
    credentials: tuple[Credential, ...] = ()
    neighbour: NeighbourConditions = NeighbourConditions()

    def holds(self, kind: str, day: date) -> bool:
        """Some credential of the kind counts on `day` (a renewal counts when the old one has lapsed); for a
        Kamilka check only the deciding (latest) check is looked at."""
        if kind == KAMILKA_CHECK:
            deciding = deciding_kamilka_check(self.credentials)
            return deciding is not None and deciding.counts_on(day)
        return any(c.kind == kind and c.counts_on(day) for c in self.credentials)

    def agreement_on(self, day: date) -> Credential | None:
        return next((c for c in self.credentials if c.kind == AGREEMENT and c.counts_on(day)), None)


def agreement_is_short(agreement: Credential) -> bool:
    if agreement.valid_until is None:
        return False
    return (agreement.valid_until - agreement.valid_from).days + 1 <= WRITTEN_AGREEMENT_AFTER_DAYS


def agreement_problem(valid_from: date, valid_until: date | None, written: bool) -> str | None:
    """Polish message if an agreement breaks art. 44 ust. 2 (written form beyond 30 days)."""
    long = valid_until is None or (valid_until - valid_from).days + 1 > WRITTEN_AGREEMENT_AFTER_DAYS
    if long and not written:
        return "Porozumienie na ponad 30 dni (lub bezterminowe) wymaga formy pisemnej."
    return None


def may_act(provider: Provider, day: date) -> bool:
    """Verified, active, and — for a volunteer — under an in-date agreement (plus NNW if it is short)."""
    if provider.type not in PROVIDER_TYPES or not provider.verified or provider.paused or provider.erased:
        return False
    if provider.type == VOLUNTEER:
        agreement = provider.agreement_on(day)
        if agreement is None:
            return False
        if agreement_is_short(agreement) and not provider.holds(NNW_INSURANCE, day):
            return False
    return True


def eligible_categories(provider: Provider, on_date: date) -> set[str]:
    """Category codes (and OPI_WITH_MINOR) this provider may be matched to on `on_date`."""
    if not may_act(provider, on_date):
        return set()
    holds = lambda kind: provider.holds(kind, on_date)  # noqa: E731
    allowed = {"ZAK", "TOW", "OPI", "NAP", "OGR", "CYF", "POS", "ZWI", "DOM", "WSP", "TEL"}
    if holds(DRIVING_LICENCE) and holds(OWN_CAR):
        allowed.add("TRN")
    if holds(CONFIDENTIALITY_AUTHORISATION):
        allowed.add("URZ")
    if provider.type == PAID_NEIGHBOUR and provider.neighbour.all_met() and holds(FIRST_AID):
        allowed.add("SAS")
    if holds(KAMILKA_CHECK) and provider.type != PARTNER_ORGANISATION:
        # A partner organisation holds one check for all its members: it cannot speak for the one who comes.
        allowed |= CATEGORIES_INVOLVING_MINORS
    return allowed


# --- weekly availability --------------------------------------------------------------------------


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def slot_problems(slots: list[dict[str, Any]]) -> dict[int, str]:
    """Polish messages by slot index: a slot ending before it starts, or overlapping another that day."""
    problems: dict[int, str] = {}
    for i, slot in enumerate(slots):
        if minutes(slot["end"]) <= minutes(slot["start"]):
            problems[i] = "Koniec przedziału musi być później niż jego początek."
    ordered = sorted((s["weekday"], minutes(s["start"]), minutes(s["end"]), i)
                     for i, s in enumerate(slots) if i not in problems)
    latest_end: dict[int, int] = {}
    for day, start, end, j in ordered:
        if start < latest_end.get(day, -1):
            problems[j] = "Przedziały dostępności w tym samym dniu nakładają się."
        latest_end[day] = max(end, latest_end.get(day, -1))
    return problems


def expiring(credentials: list[Credential], today: date, days: int = WARN_DAYS_AHEAD) -> list[Credential]:
    """Credentials still in date today that end within `days` days."""
    horizon = today + timedelta(days=days)
    return [c for c in credentials if c.valid_until is not None and today <= c.valid_until <= horizon]
