"""Pure domain of the needs service: lifecycle, requirements, recurrence, urgency.

Nothing here imports Flask, Kafka or SQLAlchemy; handlers and forms call these functions and turn
their exceptions into 409/422 answers or Polish messages next to form fields.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from contracts.needs import REQUIREMENT_CODES
from wspolnota import reference
from wspolnota.localtime import WARSAW

# --- lifecycle (docs/needs.md) -------------------------------------------------------------------------
OPEN, PROPOSED, APPROVED, OFFERED, ACCEPTED = "open", "proposed", "approved", "offered", "accepted"
IN_PROGRESS, COMPLETED, CANCELLED, EXPIRED, FOLLOW_UP = (
    "in_progress", "completed", "cancelled", "expired", "needs_follow_up")
STATUSES = (OPEN, PROPOSED, APPROVED, OFFERED, ACCEPTED, IN_PROGRESS, COMPLETED, CANCELLED, EXPIRED, FOLLOW_UP)
TERMINAL = frozenset({COMPLETED, CANCELLED})

STATUS_PL = {OPEN: "otwarta", PROPOSED: "zaproponowano", APPROVED: "zatwierdzona", OFFERED: "zaoferowana",
             ACCEPTED: "przyjęta", IN_PROGRESS: "w realizacji", COMPLETED: "zakończona",
             CANCELLED: "anulowana", EXPIRED: "wygasła", FOLLOW_UP: "wymaga kontaktu"}

TRANSITIONS: dict[str, frozenset[str]] = {
    # open → approved/offered: matching's cascade offers the next candidate without a new proposal
    OPEN: frozenset({PROPOSED, APPROVED, OFFERED, CANCELLED, EXPIRED, FOLLOW_UP}),
    # proposed → offered: categories with automatic moderation skip the staff review
    PROPOSED: frozenset({APPROVED, OFFERED, OPEN, CANCELLED, EXPIRED, FOLLOW_UP}),
    APPROVED: frozenset({OFFERED, OPEN, PROPOSED, CANCELLED, EXPIRED, FOLLOW_UP}),
    OFFERED: frozenset({ACCEPTED, APPROVED, PROPOSED, OPEN, CANCELLED, EXPIRED, FOLLOW_UP}),
    ACCEPTED: frozenset({IN_PROGRESS, COMPLETED, OPEN, PROPOSED, APPROVED, OFFERED, CANCELLED, FOLLOW_UP}),
    IN_PROGRESS: frozenset({COMPLETED, CANCELLED, FOLLOW_UP}),
    FOLLOW_UP: frozenset({OPEN, IN_PROGRESS, COMPLETED, CANCELLED}),
    EXPIRED: frozenset({FOLLOW_UP}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
}

# What staff may set by hand; proposed/approved/offered/accepted come only from the matching service.
STAFF_TARGETS = frozenset({IN_PROGRESS, COMPLETED, CANCELLED, EXPIRED, FOLLOW_UP, OPEN})
EDITABLE = frozenset({OPEN, PROPOSED, FOLLOW_UP})


class InvalidTransition(Exception):
    """A status change the lifecycle does not allow (the API answers 409)."""

    def __init__(self, current: str, target: str, why: str = ""):
        self.current, self.target = current, target
        message = why or (f"Nie można zmienić statusu z „{STATUS_PL.get(current, current)}” "
                          f"na „{STATUS_PL.get(target, target)}”.")
        super().__init__(message)
        self.message = message


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


PROGRESS = (OPEN, PROPOSED, APPROVED, OFFERED, ACCEPTED, IN_PROGRESS, COMPLETED)


def may_follow_matching(current: str, wanted: str) -> bool:
    """Match events may also move a need forward past steps this service never heard about
    (e.g. it was offline or the cascade skipped a step); they never revive a closed need."""
    if can_transition(current, wanted):
        return True
    return (current in PROGRESS and wanted in PROGRESS
            and PROGRESS.index(wanted) > PROGRESS.index(current))


def check_transition(current: str, target: str, by_staff: bool = False) -> None:
    if target not in STATUSES:
        raise InvalidTransition(current, target, f"Nieznany status: {target}.")
    if by_staff and target not in STAFF_TARGETS:
        raise InvalidTransition(current, target, f"Status „{STATUS_PL[target]}” nadaje tylko serwis dopasowań.")
    if not can_transition(current, target):
        raise InvalidTransition(current, target)


def check_editable(status: str) -> None:
    if status not in EDITABLE:
        raise InvalidTransition(status, status, f"Potrzeby w statusie „{STATUS_PL.get(status, status)}” "
                                                "nie można już edytować; anuluj ją i zgłoś nową.")


# --- status from the need's matches --------------------------------------------------------------------
LIVE_MATCH = ("proposed", "approved", "offered", "accepted")  # in order of progress
MATCH_STATUS_PL = {"proposed": "zaproponowane", "approved": "zatwierdzone", "rejected": "odrzucone",
                   "offered": "zaoferowane", "accepted": "przyjęte", "declined": "odmowa",
                   "expired": "bez odpowiedzi", "cancelled": "odwołane", "completed": "wykonane"}


@dataclass(frozen=True)
class MatchState:
    status: str
    was_accepted: bool = False


def status_from_matches(matches: Iterable[MatchState], slots: int) -> str:
    """The need's status implied by its matches: the furthest live match, completions fill the slots."""
    matches = list(matches)
    completed = sum(1 for m in matches if m.status == "completed")
    if completed >= slots:
        return COMPLETED
    if completed:
        return IN_PROGRESS
    live = [LIVE_MATCH.index(m.status) for m in matches if m.status in LIVE_MATCH]
    if live:
        return LIVE_MATCH[max(live)]
    if any(m.status == "cancelled" and m.was_accepted for m in matches):
        return FOLLOW_UP  # an agreed visit fell through: someone must call the resident
    return OPEN


EVENT_PL = {"NeedRegistered": "zgłoszenie", "RequestConverted": "z prośby mieszkańca",
            "NeedUpdated": "zmiana danych",
            "MatchProposed": "propozycja wykonawcy", "MatchApproved": "propozycja zatwierdzona",
            "MatchRejected": "propozycja odrzucona", "MatchOffered": "oferta wysłana do wykonawcy",
            "MatchAccepted": "wykonawca przyjął", "MatchDeclined": "wykonawca odmówił",
            "MatchExpired": "brak odpowiedzi wykonawcy", "MatchCancelled": "wizyta odwołana",
            "MatchCompleted": "wizyta wykonana", "call_outcome": "telefon życzliwości",
            "call_need": "potrzeba z telefonu życzliwości"}


def event_pl(kind: str) -> str:
    """A timeline entry's kind in words staff read (status changes are stored as `status:<code>`)."""
    if kind.startswith("status:"):
        return "zmiana statusu: " + STATUS_PL.get(kind.removeprefix("status:"), kind)
    return EVENT_PL.get(kind, kind)


# --- requirements (REQUIREMENT_CODES: the codes events carry, contracts/needs.py) -------------------
REQUIREMENT_PL = {
    "driving_licence": "prawo jazdy",
    "own_car": "własny samochód",
    "kamilka_check": "sprawdzenie w rejestrze (ustawa Kamilka) i informacja z KRK",
    "first_aid": "szkolenie z pierwszej pomocy",
    "confidentiality_authorisation": "upoważnienie do przetwarzania danych",
    "nnw_insurance": "ubezpieczenie NNW",
}


@dataclass(frozen=True)
class Requirement:
    code: str
    legal: bool
    basis: str = ""


class RequirementError(ValueError):
    def __init__(self, message: str, codes: list[str]):
        super().__init__(message)
        self.message, self.codes = message, codes


def category_requirements(category: str, involves_minor: bool) -> list[Requirement]:
    """Requirements that follow from the category's rules in the reference data (and from minors)."""
    rules: dict[str, Any] = reference.categories()[category].get("rules", {})
    found: dict[str, Requirement] = {}
    for item in rules.get("requirements", []):
        when = item.get("when")
        if when == "involves_minor" and not involves_minor:
            continue
        found[item["code"]] = Requirement(item["code"], bool(item.get("legal")), item.get("basis", ""))
    if involves_minor or rules.get("involves_minors"):
        found["kamilka_check"] = Requirement("kamilka_check", True,
                                             "ustawa z 13 maja 2016 r. (ustawa Kamilka), art. 21")
    return sorted(found.values(), key=lambda r: REQUIREMENT_CODES.index(r.code)
                  if r.code in REQUIREMENT_CODES else 99)


def involves_minor(category: str, declared: bool) -> bool:
    return declared or bool(reference.categories()[category].get("rules", {}).get("involves_minors"))


def resolve_requirements(category: str, minor: bool, explicit: Iterable[str] = (),
                         waived: Iterable[str] = ()) -> list[str]:
    """(category's requirements − waived ones) ∪ explicit ones; a legal requirement cannot be waived."""
    derived = category_requirements(category, minor)
    waived = set(waived)
    legal = sorted(r.code for r in derived if r.legal and r.code in waived)
    if legal:
        names = ", ".join(REQUIREMENT_PL.get(c, c) for c in legal)
        raise RequirementError(f"Wymogu wynikającego z przepisów nie można usunąć: {names}.", legal)
    unknown = sorted(set(explicit) - set(REQUIREMENT_CODES))
    if unknown:
        raise RequirementError(f"Nieznany wymóg: {', '.join(unknown)}.", unknown)
    codes = {r.code for r in derived if r.code not in waived} | set(explicit)
    return [c for c in REQUIREMENT_CODES if c in codes]


RULE_PL = {
    "no_bank_cards": "bez dostępu do kart płatniczych; paragony przy rozliczeniu",
    "continuity": "najlepiej ta sama osoba przy kolejnych wizytach",
    "no_personal_care_by_volunteers": "bez opieki osobistej (higienicznej) przez wolontariuszy",
    "kamilka_if_minor": "przy dziecku — sprawdzenie z ustawy Kamilka",
    "involves_minors": "zadanie z udziałem dzieci",
    "no_gas_or_electrical_installations": "bez prac przy instalacjach gazowych i elektrycznych",
    "seasonal": "prace sezonowe",
    "never_handles_passwords_or_pins": "pomagający nigdy nie poznaje haseł ani PIN-ów",
    "escalation_to_social_worker": "w razie niepokoju — zgłoszenie do pracownika socjalnego",
    "provider_types": "tylko opiekun sąsiedzki (usługa płatna)",
    "adult": "wykonawca pełnoletni",
    "not_family": "wykonawca spoza rodziny",
    "nearby": "wykonawca mieszkający w pobliżu",
    "remote": "pomoc na odległość (telefon): bez dojazdu, bez limitu odległości",
}


def category_rules_pl(category: str) -> list[str]:
    """The category's rules other than requirements, in words staff read."""
    rules = reference.categories()[category].get("rules", {})
    return [RULE_PL[k] for k in rules if k in RULE_PL and rules[k]]


# --- urgency and time windows (the urgency codes, URGENCIES: contracts/needs.py) --------------------
URGENCY_PL = {"normal": "zwykła", "high": "wysoka", "urgent": "pilna (w ciągu 24 h)"}
URGENT_WITHIN = timedelta(hours=24)


class WindowError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def check_window(start: datetime, end: datetime, duration_minutes: int, urgency: str, now: datetime) -> None:
    """A one-off need's window judged at `now` (the service's clock, services/needs/clock.py)."""
    if end <= start:
        raise WindowError("window_end", "Koniec okna musi być po jego początku.")
    if end < now:
        raise WindowError("window_end", "Okno czasowe już minęło.")
    if start < now - timedelta(hours=1):
        raise WindowError("window_start", "Początek okna jest w przeszłości.")
    if (end - start) < timedelta(minutes=duration_minutes):
        raise WindowError("duration_minutes", "Okno jest krótsze niż czas trwania.")
    if urgency == "urgent" and start > now + URGENT_WITHIN:
        raise WindowError("urgency", "Pilna potrzeba musi się zacząć w ciągu 24 godzin.")


# --- recurrence ------------------------------------------------------------------------------------
WEEKDAYS_PL = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
MAX_OCCURRENCES = 380  # a one-year plan with a visit every day, and a little more


@dataclass(frozen=True)
class WeeklyPattern:
    weekdays: tuple[int, ...]  # 0 = Monday
    time_from: time
    time_to: time
    starts_on: date
    until: date


def expand(pattern: WeeklyPattern, duration_minutes: int, plan_end: date | None,
           today: date) -> list[tuple[datetime, datetime]]:
    """UTC windows of every occurrence of a weekly pattern, checked against the plan's end and `today`
    (the Warsaw day by the service's clock)."""
    if not pattern.weekdays:
        raise WindowError("weekdays", "Wybierz co najmniej jeden dzień tygodnia.")
    if pattern.time_to <= pattern.time_from:
        raise WindowError("time_to", "Godzina końca musi być po godzinie początku.")
    span = datetime.combine(today, pattern.time_to) - datetime.combine(today, pattern.time_from)
    if span < timedelta(minutes=duration_minutes):
        raise WindowError("duration_minutes", "Okno jest krótsze niż czas trwania.")
    if pattern.starts_on < today:
        raise WindowError("starts_on", "Data rozpoczęcia jest w przeszłości.")
    if pattern.until < pattern.starts_on:
        raise WindowError("until", "Data zakończenia musi być po dacie rozpoczęcia.")
    if plan_end is not None and pattern.until > plan_end:
        raise WindowError("until", f"Powtarzanie nie może wykraczać poza koniec planu "
                                   f"({plan_end.strftime('%d.%m.%Y')}).")
    windows = []
    day = pattern.starts_on
    while day <= pattern.until:
        if day.weekday() in pattern.weekdays:
            start = datetime.combine(day, pattern.time_from, WARSAW).astimezone(UTC)
            end = datetime.combine(day, pattern.time_to, WARSAW).astimezone(UTC)
            windows.append((start, end))
        day += timedelta(days=1)
    if not windows:
        raise WindowError("weekdays", "W podanym okresie nie wypada żadne spotkanie.")
    if len(windows) > MAX_OCCURRENCES:
        raise WindowError("until", f"Za dużo terminów ({len(windows)}); najwyżej {MAX_OCCURRENCES}.")
    return windows


# --- support packages (IPUS) ---------------------------------------------------------------------------
PLAN_MAX = timedelta(days=366)  # an IPUS lasts up to a year


def check_plan_period(start: date, end: date) -> None:
    if end < start:
        raise WindowError("end_date", "Koniec planu musi być po jego początku.")
    if end - start > PLAN_MAX:
        raise WindowError("end_date", "Plan IPUS trwa najwyżej rok.")
