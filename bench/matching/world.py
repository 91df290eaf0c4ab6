"""Seeded generator of a rural gmina like Zagnańsk: villages, residents' needs and providers for one week.

Everything random for one (scenario, seed) is drawn here, including each provider's answer to each
possible offer, so every policy meets exactly the same people, needs and answers (common random numbers)
and the comparisons between policies are paired.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from services.matching.rules import (
    AGREEMENT,
    CAR,
    CONFIDENTIALITY_AUTHORISATION,
    DRIVING_LICENCE,
    FIRST_AID,
    KAMILKA_CHECK,
    PAID_NEIGHBOUR,
    PARTNER_ORGANISATION,
    STAFF,
    STATIC_RULES,
    VOLUNTEER,
    Candidate,
    Credential,
    Need,
    Point,
    Provider,
    TimeWindow,
    first_rejection,
)

WEEK_START = datetime(2026, 11, 30)  # a Monday; simulated time t is hours after this moment
WEEK_HOURS = 168.0
RESIDENTS = 13_000
CENTRE = (50.97, 20.65)

# name, relative size: a few large villages and many small ones (≈ Zagnańsk's sołectwa and hamlets)
VILLAGES = [
    ("Zagnańsk", 18), ("Samsonów", 12), ("Tumlin", 9), ("Kajetanów", 8), ("Jaworze", 6), ("Bartków", 5),
    ("Chrusty", 5), ("Lekomin", 4), ("Belno", 4), ("Gruszka", 3.5), ("Kaniów", 3), ("Siodła", 3),
    ("Szałas", 3), ("Zachełmie", 2.5), ("Długojów", 2.5), ("Goleniawy", 2), ("Tumlin-Węgle", 2),
    ("Samsonów-Ciągłe", 2), ("Umer", 1.5), ("Janaszów", 1.5), ("Kołomań", 1.2), ("Borowa Góra", 1),
    ("Zabłocie", 1), ("Tumlin-Podgród", 0.8), ("Dąbrowa", 0.7),
]

CATEGORY_SHARES = {
    "ZAK": 18, "TRN": 14, "TOW": 11, "OPI": 6, "KOR": 6, "NAP": 6, "OGR": 6,
    "CYF": 7, "URZ": 5, "POS": 6, "ZWI": 3, "DOM": 6, "WSP": 3, "SAS": 3,
}
URGENCY_SHARES = {"normal": 0.6, "high": 0.25, "urgent": 0.15}
# Days from the report to the visit's (first) day: urgent today, or tomorrow if reported too late in the
# day; high within two days; normal one-off within a week.
LEAD_DAYS = {"urgent": (0, 0), "high": (1, 2), "normal": (1, 6)}
# Categories delivered as recurring series or IPUS support packages (DOMAIN d.2 "cadence"): about half of
# their normal needs are planned visits of a package, known 3–10 days ahead.
PACKAGE_CATEGORIES = frozenset({"TOW", "OPI", "KOR", "POS", "ZWI", "DOM", "WSP"})
PACKAGE_SHARE = 0.5
PACKAGE_LEAD_DAYS = (3, 10)
DAY_START, LAST_START, DAY_END = 8.0, 17.0, 20.0  # visits happen in the daytime, 8:00–20:00
AVAILABILITY_WEEKS = 3  # providers' weekly slots expanded over the weeks visits can fall in


@dataclass(frozen=True)
class Scenario:
    name: str
    volunteer_share: float  # providers per resident
    needs_per_thousand: float  # per week


SCENARIOS = {
    "normal": Scenario("normal", 0.01, 3),
    "scarce": Scenario("scarce", 0.005, 8),
    "surge": Scenario("surge", 0.005, 15),
}


@dataclass(frozen=True)
class Arrival:
    time: float  # simulated hours since WEEK_START
    need: Need
    deadline: float  # the need must be confirmed before this (start of its last window)
    release: float  # when a provider's open task ends (end of the last window)
    start: float = 0.0  # start of the first window
    week: int = 0  # calendar week of the visit (of its first window): the weekly hour limit is per week


@dataclass
class World:
    scenario: Scenario
    seed: int
    villages: list[tuple[str, Point, int]]
    providers: list[Provider]
    arrivals: list[Arrival]
    km: np.ndarray  # needs × providers
    accepts: np.ndarray  # needs × providers: would this provider accept an offer of this need?
    answers_in_time: np.ndarray  # needs × providers: does the provider answer before the timeout?
    answer_delay: np.ndarray  # needs × providers, hours
    feasible: list[list[tuple[str, float]]]  # per need, statically feasible (provider id, km)


def at(hours: float) -> datetime:
    return WEEK_START + timedelta(hours=float(hours))


def day_of(hours: float) -> date:
    return at(hours).date()


def make_villages(rng: np.random.Generator) -> list[tuple[str, Point, int]]:
    sizes = np.array([s for _, s in VILLAGES])
    residents = np.round(sizes / sizes.sum() * RESIDENTS).astype(int)
    result = []
    for (name, _), people in zip(VILLAGES, residents, strict=True):
        # villages spread over ≈ 12 × 11 km around the gmina centre, the big ones nearer the middle
        spread = 0.015 if people > 1000 else 0.028
        point = Point(CENTRE[0] + rng.normal(0, spread), CENTRE[1] + rng.normal(0, spread * 1.5))
        result.append((name, point, int(people)))
    return result


def near(point: Point, rng: np.random.Generator, km_sd: float = 0.7) -> Point:
    return Point(point.lat + rng.normal(0, km_sd / 111), point.lon + rng.normal(0, km_sd / 70))


def weekly_slots(rng: np.random.Generator) -> tuple[TimeWindow, ...]:
    """A repeating weekly pattern of 3–6 free blocks, expanded over the simulated weeks."""
    blocks = []
    for _ in range(rng.integers(3, 7)):
        day = int(rng.integers(0, 7))
        start = float(rng.choice([8, 9, 10, 12, 14, 15, 16]))
        length = float(rng.choice([3, 4, 5, 6]))
        blocks.append((day, start, min(start + length, 21)))
    return tuple(
        TimeWindow(at(24 * (week * 7 + day) + start), at(24 * (week * 7 + day) + end))
        for week in range(AVAILABILITY_WEEKS) for day, start, end in blocks
    )


def credentials(rng: np.random.Generator, kind: str) -> tuple[Credential, ...]:
    held: list[Credential] = []
    far = date(2028, 1, 1)
    if rng.random() < 0.55:
        held += [Credential(DRIVING_LICENCE, None), Credential(CAR, far)]
    if rng.random() < 0.22:
        # a few checks lapse during the simulated week
        held.append(Credential(KAMILKA_CHECK, day_of(rng.uniform(0, 168)) if rng.random() < 0.1 else far))
    if rng.random() < 0.3:
        held.append(Credential(CONFIDENTIALITY_AUTHORISATION, far))
    if kind == PAID_NEIGHBOUR or rng.random() < 0.3:
        held.append(Credential(FIRST_AID, far))
    if kind == VOLUNTEER:  # art. 44: every volunteer works under a written agreement (no draw: same worlds)
        held.append(Credential(AGREEMENT, None, date(2026, 1, 1), written=True))
    return tuple(held)


def make_provider(index: int, rng: np.random.Generator, villages: list[tuple[str, Point, int]]) -> Provider:
    weights = np.array([people for _, _, people in villages], dtype=float)
    home_name, home_point, _ = villages[rng.choice(len(villages), p=weights / weights.sum())]
    kind = str(rng.choice([VOLUNTEER, PAID_NEIGHBOUR, PARTNER_ORGANISATION, STAFF], p=[0.85, 0.07, 0.05, 0.03]))
    skills = {s for s, p in (("smartfon", 0.4), ("narzędzia", 0.3), ("matematyka", 0.25)) if rng.random() < p}
    return Provider(
        id=f"W-{index:04d}",
        type=kind,
        villages=frozenset({home_name}),
        radius_km=float(rng.choice([3, 5, 8, 10, 15], p=[0.15, 0.3, 0.3, 0.15, 0.1])),
        availability=weekly_slots(rng),
        hours_per_week=float(rng.choice([2, 3, 4, 6, 8], p=[0.2, 0.25, 0.25, 0.2, 0.1])),
        max_open_tasks=int(rng.choice([1, 2, 3, 4], p=[0.2, 0.4, 0.3, 0.1])),
        point=near(home_point, rng),
        languages=frozenset({"pl", "uk"}) if rng.random() < 0.05 else frozenset({"pl"}),
        skills=frozenset(skills),
        credentials=credentials(rng, kind),
    )


def make_need(index: int, arrival: float, rng: np.random.Generator, villages) -> Arrival:
    weights = np.array([people for _, _, people in villages], dtype=float)
    name, centre, _ = villages[rng.choice(len(villages), p=weights / weights.sum())]
    category = str(rng.choice(list(CATEGORY_SHARES), p=np.array(list(CATEGORY_SHARES.values())) / 100))
    urgency = str(rng.choice(list(URGENCY_SHARES), p=list(URGENCY_SHARES.values())))
    duration = float(rng.choice([2, 3, 4])) if category == "TRN" else float(rng.choice([1, 1.5, 2, 3]))
    planned = urgency == "normal" and category in PACKAGE_CATEGORIES and rng.random() < PACKAGE_SHARE
    slack = float(rng.choice([2, 4, 6, 8]))
    first_start, first_end = first_window(arrival, urgency, planned, duration, slack, rng)
    spans = [(first_start, first_end)]
    if rng.random() < 0.3:  # a second acceptable day, same hours
        shift = 24.0 * int(rng.integers(1, 3))
        spans.append((first_start + shift, first_end + shift))
    windows = tuple(TimeWindow(at(s), at(e)) for s, e in spans)
    need = Need(
        id=f"N-{index:04d}",
        category=category,
        village=name,
        point=near(centre, rng),
        windows=windows,
        duration_hours=duration,
        urgency=urgency,
        slots=2 if (category == "OGR" and rng.random() < 0.5) or (category == "NAP" and rng.random() < 0.2) else 1,
        involves_minor=category == "OPI" and rng.random() < 0.3,
        personal_care=category == "OPI" and rng.random() < 0.15,
        language=_after_installation_draw(category, rng) + ("uk" if rng.random() < 0.03 else "pl"),
        skills=frozenset(required_skill(category, rng)),
    )
    return Arrival(arrival, need, deadline=max(s for s, _ in spans), release=max(e for _, e in spans),
                   start=first_start, week=int(first_start // WEEK_HOURS))


def _after_installation_draw(category: str, rng: np.random.Generator) -> str:
    """Worlds used to mark 5 % of repairs as gas or electrical installation work, which no provider could take.
    The needs service now refuses such a need at intake, so the world no longer marks any (those repairs are
    ordinary ones); the random draw stays (and yields "") so that every other need of a seeded world is as it was."""
    if category == "NAP":
        rng.random()
    return ""


def first_window(arrival: float, urgency: str, planned: bool, duration: float, slack: float,
                 rng: np.random.Generator) -> tuple[float, float]:
    """The first acceptable window, in the daytime (8:00–20:00) of the visit's day."""
    day, hour = divmod(arrival, 24.0)
    low, high = PACKAGE_LEAD_DAYS if planned else LEAD_DAYS[urgency]
    offset = int(rng.integers(low, high + 1))
    earliest = DAY_START
    if offset == 0:  # an urgent need today: from two hours after the report, if the day allows it
        earliest = max(DAY_START, np.ceil(hour) + 2)
        if earliest + duration > DAY_END:
            offset, earliest = 1, DAY_START
    start = float(rng.uniform(earliest, max(earliest, min(LAST_START, DAY_END - duration))))
    start = min(np.ceil(start * 2) / 2, DAY_END - duration)
    end = min(start + duration + slack, DAY_END)
    base = 24.0 * (day + offset)
    return base + start, base + end


def required_skill(category: str, rng: np.random.Generator) -> set[str]:
    wanted = {"CYF": ("smartfon", 0.6), "NAP": ("narzędzia", 0.7), "KOR": ("matematyka", 0.6)}.get(category)
    return {wanted[0]} if wanted and rng.random() < wanted[1] else set()


def arrival_times(rng: np.random.Generator, count: int) -> np.ndarray:
    """Needs are reported in office hours, 8:00–18:00, on any day of the week."""
    days = rng.integers(0, 7, count)
    return np.sort(days * 24 + rng.uniform(8, 18, count))


def _at(point: Point | None) -> Point:
    assert point is not None, "every generated need and provider has a point"
    return point


def km_matrix(needs: list[Need], providers: list[Provider]) -> np.ndarray:
    a = np.radians([[_at(n.point).lat, _at(n.point).lon] for n in needs]).reshape(-1, 2)
    b = np.radians([[_at(p.point).lat, _at(p.point).lon] for p in providers]).reshape(-1, 2)
    dlat = b[None, :, 0] - a[:, None, 0]
    dlon = b[None, :, 1] - a[:, None, 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(a[:, None, 0]) * np.cos(b[None, :, 0]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(h))


def acceptance_probability(km: np.ndarray, willingness: np.ndarray) -> np.ndarray:
    """People say yes less often the further they must travel."""
    return willingness[None, :] * np.exp(-km / 10.0)


def static_feasibility(arrivals: list[Arrival], providers: list[Provider], km: np.ndarray):
    feasible = []
    for i, arrival in enumerate(arrivals):
        feasible.append([
            (p.id, float(km[i, j])) for j, p in enumerate(providers)
            if first_rejection(Candidate(arrival.need, p, float(km[i, j])), STATIC_RULES) is None
        ])
    return feasible


def make_world(scenario: Scenario, seed: int) -> World:
    rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario.name)])
    villages = make_villages(np.random.default_rng(seed))  # same map for every scenario of a seed
    providers = [make_provider(i, rng, villages) for i in range(round(RESIDENTS * scenario.volunteer_share))]
    times = arrival_times(rng, rng.poisson(RESIDENTS / 1000 * scenario.needs_per_thousand))
    arrivals = [make_need(i, t, rng, villages) for i, t in enumerate(times)]
    km = km_matrix([a.need for a in arrivals], providers)
    willingness = rng.uniform(0.6, 0.95, len(providers))
    shape = km.shape
    accepts = rng.random(shape) < acceptance_probability(km, willingness)
    return World(
        scenario=scenario,
        seed=seed,
        villages=villages,
        providers=providers,
        arrivals=arrivals,
        km=km,
        accepts=accepts,
        answers_in_time=rng.random(shape) < 0.85,
        answer_delay=rng.exponential(1.0, shape),
        feasible=static_feasibility(arrivals, providers, km),
    )


def history_week(world: World, week: int = 1) -> list[tuple[float, int, Need, list[tuple[str, float]]]]:
    """A forecast for policies that look ahead: the needs of another week drawn by the same generator
    (as the service would replay its history), aligned to this week's clock, with the providers of
    this world that pass the static rules for them. Ids start with "F-"."""
    scenario = world.scenario
    rng = np.random.default_rng([world.seed, list(SCENARIOS).index(scenario.name), week])  # not this week's draws
    times = arrival_times(rng, rng.poisson(RESIDENTS / 1000 * scenario.needs_per_thousand))
    arrivals = [make_need(i, t, rng, world.villages) for i, t in enumerate(times)]
    needs = [replace(a.need, id=f"F{week}" + a.need.id[1:]) for a in arrivals]
    if not needs:
        return []
    km = km_matrix(needs, world.providers)
    result = []
    for i, (arrival, need) in enumerate(zip(arrivals, needs, strict=True)):
        feasible = [(p.id, float(km[i, j])) for j, p in enumerate(world.providers)
                    if first_rejection(Candidate(need, p, float(km[i, j])), STATIC_RULES) is None]
        result.append((arrival.time, arrival.week, need, feasible))
    return result
