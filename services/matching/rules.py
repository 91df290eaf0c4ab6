"""Hard filters of the matcher: which providers may be proposed for a need at all.

Pure domain code: plain dataclasses in, verdicts with Polish reasons out. Nothing here is a score;
a rule either lets a pair through or says, in words staff can read, why not. The Kamilka gate
(protection of minors) is one of these rules and no weight, setting or staff override can skip it.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from contracts.volunteers import (  # noqa: F401 - re-exported: the matcher's rules speak of these codes
    AGREEMENT,
    CONFIDENTIALITY_AUTHORISATION,
    DRIVING_LICENCE,
    FIRST_AID,
    KAMILKA_CHECK,
    NNW_INSURANCE,
    PAID_NEIGHBOUR,
    PARTNER_ORGANISATION,
    PROVIDER_TYPES,
    STAFF,
    VOLUNTEER,
)
from wspolnota import reference
from wspolnota.localtime import WARSAW, local_day

CATEGORIES = ("ZAK", "TRN", "TOW", "OPI", "KOR", "NAP", "OGR", "CYF", "URZ", "POS", "ZWI", "DOM", "WSP", "SAS",
              "TEL")

# Provider types and credential kinds are the volunteers register's published codes; only the car is
# named differently here ("own_car" on the bus, see projection.CODE_ALIASES).
CAR = "car"
WRITTEN_AGREEMENT_AFTER_DAYS = 30  # art. 44 ust. 2: an agreement for longer must be written; up to it needs NNW

URGENCIES = ("normal", "high", "urgent")
Week = tuple[int, int]  # ISO year and week, in Europe/Warsaw


def iso_week(when: datetime) -> Week:
    """The calendar week (Monday–Sunday, Warsaw time) a moment falls in; naive values are taken as UTC."""
    local = when.astimezone(WARSAW) if when.tzinfo is not None else when
    year, week, _ = local.isocalendar()
    return year, week


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime

    def overlap_hours(self, other: TimeWindow) -> float:
        seconds = (min(self.end, other.end) - max(self.start, other.start)).total_seconds()
        return max(0.0, seconds / 3600)


@dataclass(frozen=True)
class Credential:
    kind: str
    valid_until: date | None = None  # None: does not expire (e.g. a driving licence with no end date)
    valid_from: date | None = None
    written: bool = False  # agreements only: signed in writing

    def valid_on(self, day: date) -> bool:
        started = self.valid_from is None or self.valid_from <= day
        return started and (self.valid_until is None or day <= self.valid_until)

    @property
    def short(self) -> bool:
        """An agreement of up to 30 days (art. 44 ust. 2, art. 46); open-ended or undated ones are long."""
        if self.valid_from is None or self.valid_until is None:
            return False
        return (self.valid_until - self.valid_from).days + 1 <= WRITTEN_AGREEMENT_AFTER_DAYS


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True)
class Need:
    id: str
    category: str
    village: str
    windows: tuple[TimeWindow, ...]
    duration_hours: float
    point: Point | None = None
    urgency: str = "normal"
    slots: int = 1
    involves_minor: bool = False
    personal_care: bool = False  # personal (hygiene) care: paid neighbours only
    language: str = "pl"
    skills: frozenset[str] = frozenset()
    credentials: frozenset[str] = frozenset()  # explicit extra requirements beyond the category's
    beneficiary_ref: str | None = None  # pseudonymous resident id
    relatives: frozenset[str] = frozenset()  # provider ids staff recorded as the resident's relatives
    declined_by: frozenset[str] = frozenset()  # providers excluded after a decline or timeout
    previous_providers: frozenset[str] = frozenset()  # continuity within a support package
    plan_ref: str | None = None

    @property
    def day(self) -> date:
        """The visit's calendar day in Europe/Warsaw (its earliest start; naive values are taken as UTC):
        every date rule (credential validity) is judged on it, never on the UTC date."""
        return local_day(min(w.start for w in self.windows))

    @cached_property  # frozen dataclasses keep a __dict__; the solver asks this once per candidate pair
    def week(self) -> Week:
        """The week whose hours the visit uses: the week of its earliest possible start."""
        return iso_week(min(w.start for w in self.windows))

    @property
    def concerns_minors(self) -> bool:
        return self.category == "KOR" or self.involves_minor

    @property
    def remote(self) -> bool:
        """Help given at a distance (a phone call, `rules.remote` in the reference data): nobody travels."""
        return self.category in reference.remote_categories()


@dataclass(frozen=True)
class Provider:
    id: str
    type: str
    villages: frozenset[str]
    radius_km: float
    availability: tuple[TimeWindow, ...]
    hours_per_week: float
    max_open_tasks: int
    point: Point | None = None
    hours_booked: float = 0.0
    open_tasks: int = 0
    paused: bool = False
    adult: bool = True
    languages: frozenset[str] = frozenset({"pl"})
    skills: frozenset[str] = frozenset()
    credentials: tuple[Credential, ...] = ()
    categories: frozenset[str] | None = None  # categories the provider offers; None: any
    verified: bool = True  # checked and admitted by CUS staff
    neighbour_conditions_met: bool = True  # art. 50 u.p.s. conditions confirmed (paid neighbours)

    # Hours already booked per calendar week (world.load_world); empty: `hours_booked` applies to every week (the
    # solver command's instances and the benchmark give one figure for the week being solved).
    hours_by_week: tuple[tuple[Week, float], ...] = ()

    def holds(self, kind: str, day: date) -> bool:
        return any(c.kind == kind and c.valid_on(day) for c in self.credentials)

    def hours_in_week(self, week: Week) -> float:
        if not self.hours_by_week:
            return self.hours_booked
        return sum(hours for booked_week, hours in self.hours_by_week if booked_week == week)

    def hours_left(self, need: Need) -> float:
        """Weekly hours still free in the week of the need's visit."""
        return self.hours_per_week - self.hours_in_week(need.week)


@dataclass(frozen=True)
class Candidate:
    """One need × provider pair under examination, with the travel distance already known."""

    need: Need
    provider: Provider
    km: float


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str = ""


PASS = Verdict(True)


def fail(reason: str) -> Verdict:
    return Verdict(False, reason)


def haversine_km(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


# --- the rules, in the order the funnel applies them ------------------------------------------------


def provider_not_paused(c: Candidate) -> Verdict:
    return fail("Wykonawca ma przerwę w działalności") if c.provider.paused else PASS


def provider_verified(c: Candidate) -> Verdict:
    return PASS if c.provider.verified else fail("Wykonawca nie został jeszcze zweryfikowany przez CUS")


def category_offered(c: Candidate) -> Verdict:
    if c.provider.categories is not None and c.need.category not in c.provider.categories:
        return fail("Wykonawca nie oferuje pomocy w tej kategorii")
    return PASS


def not_declined_before(c: Candidate) -> Verdict:
    if c.provider.id in c.need.declined_by:
        return fail("Wykonawca odmówił już tej potrzeby lub nie odpowiedział na ofertę")
    return PASS


def kamilka_gate(c: Candidate) -> Verdict:
    """Ustawa Kamilka: no contact with minors without a recorded, in-date check. Never bypassable.

    A partner organisation holds one check for all its members, which cannot speak for the member who
    comes: partners are kept away from every need involving minors until checks are kept per person."""
    if not c.need.concerns_minors:
        return PASS
    if c.provider.type == PARTNER_ORGANISATION:
        return fail("Organizacja partnerska nie może realizować zadań z udziałem małoletnich "
                    "(brak weryfikacji Kamilka osoby, która przyjdzie)")
    if not c.provider.holds(KAMILKA_CHECK, c.need.day):
        return fail("Brak aktualnej weryfikacji Kamilka (ochrona małoletnich)")
    return PASS


def _agreements(c: Candidate) -> list[Credential]:
    return [a for a in c.provider.credentials if a.kind == AGREEMENT and a.valid_on(c.need.day)]


def volunteer_agreement(c: Candidate) -> Verdict:
    """Volunteering act art. 44: a volunteer works under an agreement in date on the visit's day, written
    when it is for more than 30 days (or open-ended). Paid neighbours, partner organisations and staff are
    not volunteers under the act."""
    if c.provider.type != VOLUNTEER:
        return PASS
    agreements = _agreements(c)
    if not agreements:
        return fail("Brak aktualnego porozumienia wolontariackiego (art. 44 ustawy o wolontariacie)")
    if all(not a.short and not a.written for a in agreements):
        return fail("Porozumienie na ponad 30 dni (lub bezterminowe) wymaga formy pisemnej (art. 44 ust. 2)")
    return PASS


def nnw_insurance_for_short_agreement(c: Candidate) -> Verdict:
    """Volunteering act art. 46: under an agreement of up to 30 days the volunteer must hold accident (NNW)
    insurance in date on the visit's day; a long agreement's insurance is the ZUS one (not ours to check)."""
    if c.provider.type != VOLUNTEER:
        return PASS
    agreements = [a for a in _agreements(c) if a.short or a.written]
    if any(not a.short for a in agreements) or c.provider.holds(NNW_INSURANCE, c.need.day):
        return PASS
    return fail("Brak aktualnego ubezpieczenia NNW (porozumienie do 30 dni, art. 46 ustawy o wolontariacie)")


def neighbour_services_only_by_paid_neighbours(c: Candidate) -> Verdict:
    if c.need.category != "SAS":
        return PASS
    if c.provider.type != PAID_NEIGHBOUR:
        return fail("Usługi sąsiedzkie świadczy tylko opiekun sąsiedzki (art. 50 u.p.s.)")
    if not c.provider.adult:
        return fail("Opiekun sąsiedzki musi być pełnoletni")
    if not c.provider.neighbour_conditions_met:
        return fail("Opiekun sąsiedzki nie ma potwierdzonych warunków art. 50 u.p.s.")
    if not c.provider.holds(FIRST_AID, c.need.day):
        return fail("Brak aktualnego szkolenia z pierwszej pomocy")
    return PASS


def not_a_relative(c: Candidate) -> Verdict:
    """Staff record the resident's relatives on the need; CUS never matches them to it, in any category
    (for neighbour services art. 50 u.p.s. rules it out; docs/matching.md)."""
    if c.provider.id in c.need.relatives:
        return fail("Wykonawca jest członkiem rodziny osoby wspieranej")
    return PASS


def no_personal_care_by_volunteers(c: Candidate) -> Verdict:
    if c.need.personal_care and c.provider.type != PAID_NEIGHBOUR:
        return fail("Czynności opiekuńcze (higiena) wykonuje tylko opiekun sąsiedzki, nie wolontariusz")
    return PASS


def driving_licence_and_car_for_transport(c: Candidate) -> Verdict:
    if c.need.category != "TRN":
        return PASS
    day = c.need.day
    if not c.provider.holds(DRIVING_LICENCE, day):
        return fail("Brak ważnego prawa jazdy")
    if not c.provider.holds(CAR, day):
        return fail("Brak samochodu z aktualnym ubezpieczeniem")
    return PASS


def confidentiality_authorisation_for_paperwork(c: Candidate) -> Verdict:
    if c.need.category == "URZ" and not c.provider.holds(CONFIDENTIALITY_AUTHORISATION, c.need.day):
        return fail("Brak upoważnienia do przetwarzania danych (sprawy urzędowe)")
    return PASS


def required_credentials_in_date(c: Candidate) -> Verdict:
    missing = sorted(k for k in c.need.credentials if not c.provider.holds(k, c.need.day))
    if missing:
        return fail("Brak aktualnych uprawnień: " + ", ".join(CREDENTIAL_NAMES_PL.get(k, k) for k in missing))
    return PASS


def skills_present(c: Candidate) -> Verdict:
    """Skills are the words volunteers use in the register; compared without regard to case or spacing."""
    held = {skill_key(s) for s in c.provider.skills}
    missing = sorted(s for s in c.need.skills if skill_key(s) not in held)
    return fail("Brak umiejętności: " + ", ".join(missing)) if missing else PASS


def skill_key(skill: str) -> str:
    return " ".join(skill.split()).casefold()


def language_spoken(c: Candidate) -> Verdict:
    if c.need.language not in c.provider.languages:
        return fail(f"Wykonawca nie mówi w języku osoby wspieranej ({c.need.language})")
    return PASS


def within_area(c: Candidate) -> Verdict:
    if c.need.remote:
        return PASS  # a call: the provider's villages and radius do not matter (docs/matching.md)
    if c.need.village in c.provider.villages or (c.provider.radius_km > 0 and c.km <= c.provider.radius_km):
        return PASS  # a radius of 0 means "only the villages listed", even next door
    return fail(f"Poza obszarem działania ({c.km:.1f} km > {c.provider.radius_km:g} km)")


def time_windows_overlap(c: Candidate) -> Verdict:
    needed = c.need.duration_hours
    for window in c.need.windows:
        if any(window.overlap_hours(free) >= needed for free in c.provider.availability):
            return PASS
    return fail("Brak wspólnego terminu na cały czas trwania wizyty")


def weekly_hours_left(c: Candidate) -> Verdict:
    if c.need.duration_hours > c.provider.hours_left(c.need) + 1e-9:
        return fail("Wyczerpany tygodniowy limit godzin wykonawcy")
    return PASS


def open_tasks_left(c: Candidate) -> Verdict:
    if c.provider.open_tasks >= c.provider.max_open_tasks:
        return fail("Wykonawca ma już maksymalną liczbę otwartych zadań")
    return PASS


Rule = Callable[[Candidate], Verdict]

RULES: tuple[Rule, ...] = (
    provider_not_paused,
    provider_verified,
    not_declined_before,
    category_offered,
    kamilka_gate,
    volunteer_agreement,
    nnw_insurance_for_short_agreement,
    neighbour_services_only_by_paid_neighbours,
    not_a_relative,
    no_personal_care_by_volunteers,
    driving_licence_and_car_for_transport,
    confidentiality_authorisation_for_paperwork,
    required_credentials_in_date,
    skills_present,
    language_spoken,
    within_area,
    time_windows_overlap,
    weekly_hours_left,
    open_tasks_left,
)

# Rules that depend on the provider's current load or on the offer history; the rest are stable
# for a given need and provider and can be cached between re-solves.
DYNAMIC_RULES: tuple[Rule, ...] = (
    provider_not_paused, provider_verified, not_declined_before, weekly_hours_left, open_tasks_left,
)
STATIC_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r not in DYNAMIC_RULES)

CREDENTIAL_NAMES_PL = {
    DRIVING_LICENCE: "prawo jazdy",
    CAR: "samochód",
    KAMILKA_CHECK: "weryfikacja Kamilka",
    FIRST_AID: "szkolenie z pierwszej pomocy",
    CONFIDENTIALITY_AUTHORISATION: "upoważnienie do przetwarzania danych",
    AGREEMENT: "porozumienie wolontariackie",
    NNW_INSURANCE: "ubezpieczenie NNW",
}


@dataclass(frozen=True)
class Rejection:
    rule: str
    reason: str


def first_rejection(candidate: Candidate, rules: Sequence[Rule] = RULES) -> Rejection | None:
    for rule in rules:
        verdict = rule(candidate)
        if not verdict.passed:
            return Rejection(rule.__name__, verdict.reason)
    return None


def is_feasible(candidate: Candidate, rules: Sequence[Rule] = RULES) -> bool:
    return first_rejection(candidate, rules) is None


def distance_km(need: Need, provider: Provider) -> float:
    if need.remote:
        return 0.0  # nobody travels: no distance cost either
    if need.point is None or provider.point is None:
        return 0.0 if need.village in provider.villages else math.inf
    return haversine_km(need.point, provider.point)


@dataclass
class Funnel:
    """How many need × provider pairs entered, and how many each rule removed (first failing rule)."""

    examined: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def passed(self) -> int:
        return self.examined - sum(self.removed.values())

    def record(self, rejection: Rejection | None) -> None:
        self.examined += 1
        if rejection is not None:
            self.removed[rejection.rule] += 1
            self.reasons[rejection.reason] += 1

    def merge(self, other: Funnel) -> None:
        self.examined += other.examined
        self.removed.update(other.removed)
        self.reasons.update(other.reasons)

    def as_rows(self) -> list[tuple[str, int]]:
        return [(rule.__name__, self.removed.get(rule.__name__, 0)) for rule in RULES]

    def explain_pl(self, limit: int = 3) -> str:
        if self.examined == 0:
            return "Brak wykonawców w rejestrze"
        top = "; ".join(f"{reason} ({n})" for reason, n in self.reasons.most_common(limit))
        return f"Żaden wykonawca nie spełnia warunków: {top}"


def funnel(
    needs: Iterable[Need],
    providers: Sequence[Provider],
    km: Callable[[Need, Provider], float] = distance_km,
) -> Funnel:
    """Run every rule over every pair and count, per rule, the candidates it removed."""
    total = Funnel()
    for need in needs:
        for provider in providers:
            total.record(first_rejection(Candidate(need, provider, km(need, provider))))
    return total
