"""Solver command: ``python -m services.matching.solve < instance.json > assignment.json``.

Reads one matching instance (needs, providers, time, coordinates or distances, weights) as JSON on stdin
and writes the assignment with score terms, runner-ups and explained unmet needs as JSON on stdout.
The formats are documented in docs/solver-format.md.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any

from services.matching.rules import Credential, Need, Point, Provider, TimeWindow, distance_km
from services.matching.solver import MatchResult, Weights, match

WINDOW_PASSED = "window_passed"


@dataclass(frozen=True)
class Instance:
    now: datetime | None
    needs: list[Need]
    providers: list[Provider]
    distances: dict[tuple[str, str], float]
    weights: Weights
    expected: list[Need] = field(default_factory=list)  # look-ahead needs: planned for, never assigned


def parse_point(raw: Mapping[str, float] | None) -> Point | None:
    return None if raw is None else Point(float(raw["lat"]), float(raw["lon"]))


def parse_windows(raw: list[Mapping[str, str]]) -> tuple[TimeWindow, ...]:
    return tuple(TimeWindow(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])) for w in raw)


def parse_day(raw: str | None) -> date | None:
    return None if raw is None else date.fromisoformat(raw)


def parse_need(raw: Mapping[str, Any]) -> Need:
    return Need(
        id=str(raw["id"]),
        category=raw["category"],
        village=raw["village"],
        windows=parse_windows(raw["windows"]),
        duration_hours=float(raw["duration_hours"]),
        point=parse_point(raw.get("point")),
        urgency=raw.get("urgency", "normal"),
        slots=int(raw.get("slots", 1)),
        involves_minor=bool(raw.get("involves_minor", False)),
        personal_care=bool(raw.get("personal_care", False)),
        installation_work=bool(raw.get("installation_work", False)),
        language=raw.get("language", "pl"),
        skills=frozenset(raw.get("skills", ())),
        credentials=frozenset(raw.get("credentials", ())),
        beneficiary_ref=raw.get("beneficiary_ref"),
        declined_by=frozenset(raw.get("declined_by", ())),
        previous_providers=frozenset(raw.get("previous_providers", ())),
        plan_ref=raw.get("plan_ref"),
    )


def parse_provider(raw: Mapping[str, Any]) -> Provider:
    credentials = tuple(
        Credential(c["kind"], parse_day(c.get("valid_until")), parse_day(c.get("valid_from")))
        for c in raw.get("credentials", ())
    )
    return Provider(
        id=str(raw["id"]),
        type=raw.get("type", "volunteer"),
        villages=frozenset(raw.get("villages", ())),
        radius_km=float(raw.get("radius_km", 0)),
        availability=parse_windows(raw.get("availability", ())),
        hours_per_week=float(raw["hours_per_week"]),
        max_open_tasks=int(raw["max_open_tasks"]),
        point=parse_point(raw.get("point")),
        hours_booked=float(raw.get("hours_booked", 0)),
        open_tasks=int(raw.get("open_tasks", 0)),
        paused=bool(raw.get("paused", False)),
        adult=bool(raw.get("adult", True)),
        languages=frozenset(raw.get("languages", ("pl",))),
        skills=frozenset(raw.get("skills", ())),
        credentials=credentials,
        family_of=frozenset(raw.get("family_of", ())),
        categories=frozenset(raw["categories"]) if raw.get("categories") is not None else None,
        verified=bool(raw.get("verified", True)),
        neighbour_conditions_met=bool(raw.get("neighbour_conditions_met", True)),
    )


def parse_weights(raw: Mapping[str, Any]) -> Weights:
    known = {f.name for f in fields(Weights)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown weights: {sorted(unknown)}")
    defaults = Weights()
    if "unmet_penalty" in raw:  # a partial map overrides only the urgencies it names
        raw = {**raw, "unmet_penalty": {**defaults.unmet_penalty, **raw["unmet_penalty"]}}
    return replace(defaults, **raw)


def parse_instance(raw: Mapping[str, Any]) -> Instance:
    distances = {(str(d["need"]), str(d["provider"])): float(d["km"]) for d in raw.get("distances", ())}
    return Instance(
        now=datetime.fromisoformat(raw["now"]) if raw.get("now") else None,
        needs=[parse_need(n) for n in raw["needs"]],
        providers=[parse_provider(p) for p in raw["providers"]],
        distances=distances,
        weights=parse_weights(raw.get("weights", {})),
        expected=[parse_need(n) for n in raw.get("expected", ())],
    )


def still_open(need: Need, now: datetime | None) -> Need | None:
    """Keep only the time windows that have not ended; None when all of them have."""
    if now is None:
        return need
    windows = tuple(w for w in need.windows if w.end > now)
    return replace(need, windows=windows) if windows else None


def solve_instance(instance: Instance) -> dict[str, Any]:
    def km(need: Need, provider: Provider) -> float:
        known = instance.distances.get((need.id, provider.id))
        return known if known is not None else distance_km(need, provider)

    open_needs = [n for n in (still_open(n, instance.now) for n in instance.needs) if n is not None]
    passed = [n.id for n in instance.needs if still_open(n, instance.now) is None]
    expected = [n for n in (still_open(n, instance.now) for n in instance.expected) if n is not None]
    result = match(open_needs, instance.providers, instance.weights, km, expected=expected)
    return to_json(result, instance.needs, passed)


def to_json(result: MatchResult, needs: list[Need], passed: list[str]) -> dict[str, Any]:
    slots = {n.id: n.slots for n in needs}
    unmet = [asdict(u) for u in result.unmet]
    unmet += [
        {"need_id": nid, "missing_slots": slots[nid], "code": WINDOW_PASSED,
         "reason": "Termin potrzeby już minął", "funnel": {}}
        for nid in passed
    ]
    assignments = [{**asdict(a), "cost": a.terms["distance"] + a.terms["load"] - a.terms["continuity"]}
                   for a in result.assignments]
    return {
        "assignments": assignments,
        "runner_up": [{"need_id": nid, **asdict(r)} for nid, r in result.runner_up.items()],
        "unmet": unmet,
        "funnel": {"examined": result.funnel.examined, "passed": result.funnel.passed,
                   "removed": dict(result.funnel.as_rows())},
        "summary": {
            "needs": len(needs),
            "slots": sum(slots.values()),
            "assigned_slots": len(result.assignments),
            "unmet_slots": sum(u["missing_slots"] for u in unmet),
        },
    }


def main() -> None:
    instance = parse_instance(json.load(sys.stdin))
    json.dump(solve_instance(instance), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
