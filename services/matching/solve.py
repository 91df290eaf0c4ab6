"""Solver command: ``python -m services.matching.solve < instance.json > assignment.json``.

Reads one matching instance (needs, providers, time, coordinates or distances, weights) as JSON on stdin
and writes the assignment with score terms, runner-ups and explained unmet needs as JSON on stdout.
The formats are documented in docs/solver-format.md.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, post_load, validate, validates_schema
from marshmallow import fields as f

from services.matching.rules import (
    CATEGORIES,
    CREDENTIAL_NAMES_PL,
    PROVIDER_TYPES,
    URGENCIES,
    VOLUNTEER,
    Credential,
    Need,
    Point,
    Provider,
    TimeWindow,
    distance_km,
)
from services.matching.solver import MatchResult, Weights, match

WINDOW_PASSED = "window_passed"
INVALID_INPUT = 2  # exit status when the instance is refused (its field errors go to stderr)


@dataclass(frozen=True)
class Instance:
    now: datetime | None
    needs: list[Need]
    providers: list[Provider]
    distances: dict[tuple[str, str], float]
    weights: Weights
    expected: list[Need] = field(default_factory=list)  # look-ahead: planned for, never assigned


# --- the instance format (docs/solver-format.md), validated field by field ---------------------------
# Unknown keys are refused, not ignored: a misspelt flag such as "involves_minors" must not switch a
# rule (here the Kamilka gate) off without a word.

def _strings() -> f.List:
    return f.List(f.String(), load_default=list)


def _at_least(minimum: float, inclusive: bool = True) -> validate.Range:
    return validate.Range(min=minimum, min_inclusive=inclusive)


class PointSchema(Schema):
    lat = f.Float(required=True, validate=validate.Range(-90, 90))
    lon = f.Float(required=True, validate=validate.Range(-180, 180))

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Point:
        return Point(**data)


class WindowSchema(Schema):
    start = f.DateTime(required=True)
    end = f.DateTime(required=True)

    @validates_schema
    def ends_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if (data["start"].tzinfo is None) != (data["end"].tzinfo is None):
            raise ValidationError("start and end must both carry a time zone, or neither", "end")
        if data["end"] <= data["start"]:
            raise ValidationError("must be after start", "end")

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> TimeWindow:
        return TimeWindow(data["start"], data["end"])


class NeedSchema(Schema):
    id = f.String(required=True, validate=validate.Length(min=1))
    category = f.String(required=True, validate=validate.OneOf(CATEGORIES))
    village = f.String(required=True, validate=validate.Length(min=1))
    point = f.Nested(PointSchema, load_default=None, allow_none=True)
    windows = f.List(f.Nested(WindowSchema), required=True, validate=validate.Length(min=1))
    duration_hours = f.Float(required=True, validate=_at_least(0, inclusive=False))
    urgency = f.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    slots = f.Integer(load_default=1, validate=_at_least(1))
    involves_minor = f.Boolean(load_default=False)
    personal_care = f.Boolean(load_default=False)
    language = f.String(load_default="pl")
    skills = _strings()
    credentials = f.List(f.String(validate=validate.OneOf(CREDENTIAL_NAMES_PL)), load_default=list)
    beneficiary_ref = f.String(load_default=None, allow_none=True)
    relatives = _strings()
    declined_by = _strings()
    previous_providers = _strings()
    plan_ref = f.String(load_default=None, allow_none=True)

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Need:
        sets = ("skills", "credentials", "relatives", "declined_by", "previous_providers")
        return Need(**{**data, "windows": tuple(data["windows"]), **{k: frozenset(data[k]) for k in sets}})


class CredentialSchema(Schema):
    kind = f.String(required=True, validate=validate.OneOf(CREDENTIAL_NAMES_PL))
    valid_until = f.Date(load_default=None, allow_none=True)
    valid_from = f.Date(load_default=None, allow_none=True)
    written = f.Boolean(load_default=False)  # agreements: signed in writing

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Credential:
        return Credential(**data)


class ProviderSchema(Schema):
    id = f.String(required=True, validate=validate.Length(min=1))
    type = f.String(load_default=VOLUNTEER, validate=validate.OneOf(PROVIDER_TYPES))
    villages = _strings()
    radius_km = f.Float(load_default=0.0, validate=_at_least(0))
    availability = f.List(f.Nested(WindowSchema), load_default=list)
    hours_per_week = f.Float(required=True, validate=_at_least(0))
    max_open_tasks = f.Integer(required=True, validate=_at_least(0))
    point = f.Nested(PointSchema, load_default=None, allow_none=True)
    hours_booked = f.Float(load_default=0.0, validate=_at_least(0))
    open_tasks = f.Integer(load_default=0, validate=_at_least(0))
    paused = f.Boolean(load_default=False)
    adult = f.Boolean(load_default=True)
    languages = f.List(f.String(), load_default=lambda: ["pl"])
    skills = _strings()
    credentials = f.List(f.Nested(CredentialSchema), load_default=list)
    categories = f.List(f.String(validate=validate.OneOf(CATEGORIES)), load_default=None, allow_none=True)
    verified = f.Boolean(load_default=True)
    neighbour_conditions_met = f.Boolean(load_default=True)

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Provider:
        sets = ("villages", "languages", "skills")
        categories = None if data["categories"] is None else frozenset(data["categories"])
        return Provider(**{**data, "availability": tuple(data["availability"]), "credentials": tuple(data["credentials"]),
                           "categories": categories, **{k: frozenset(data[k]) for k in sets}})


class DistanceSchema(Schema):
    need = f.String(required=True)
    provider = f.String(required=True)
    km = f.Float(required=True, validate=_at_least(0))


class WeightsSchema(Schema):
    """Every field of `solver.Weights` (a unit test keeps the two the same); any subset may be given."""

    km_cost = f.Integer(validate=_at_least(0))
    unmet_penalty = f.Dict(keys=f.String(validate=validate.OneOf(URGENCIES)), values=f.Integer(validate=_at_least(0)))
    load_cost = f.Integer(validate=_at_least(0))
    load_unit_hours = f.Float(validate=_at_least(0, inclusive=False))
    continuity_bonus = f.Integer(validate=_at_least(0))
    deficit_boost = f.Integer(validate=_at_least(0))
    village_deficit = f.Dict(keys=f.String(), values=f.Float(validate=validate.Range(0, 1)))
    category_deficit = f.Dict(keys=f.String(validate=validate.OneOf(CATEGORIES)),
                              values=f.Float(validate=validate.Range(0, 1)))
    k_nearest = f.Integer(validate=_at_least(1))
    max_units_per_provider = f.Integer(validate=_at_least(1))
    expected_weight = f.Float(validate=_at_least(0))

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Weights:
        defaults = Weights()
        if "unmet_penalty" in data:  # a partial map overrides only the urgencies it names
            data = {**data, "unmet_penalty": {**defaults.unmet_penalty, **data["unmet_penalty"]}}
        return replace(defaults, **data)


class InstanceSchema(Schema):
    now = f.DateTime(load_default=None, allow_none=True)
    needs = f.List(f.Nested(NeedSchema), required=True)
    providers = f.List(f.Nested(ProviderSchema), required=True)
    distances = f.List(f.Nested(DistanceSchema), load_default=list)
    weights = f.Nested(WeightsSchema, load_default=Weights)
    expected = f.List(f.Nested(NeedSchema), load_default=list)

    @validates_schema(skip_on_field_errors=True)
    def consistent(self, data: dict[str, Any], **_: Any) -> None:
        for key in ("needs", "providers"):
            if len({x.id for x in data[key]}) < len(data[key]):
                raise ValidationError("ids must be unique", key)
        if {n.id for n in data["expected"]} & {n.id for n in data["needs"]}:
            raise ValidationError("ids must differ from those in needs", "expected")
        if len({t.tzinfo is None for t in _times(data)}) > 1:
            raise ValidationError("times (now, windows, availability) must all carry a time zone, or none of them")

    @post_load
    def build(self, data: dict[str, Any], **_: Any) -> Instance:
        distances = {(d["need"], d["provider"]): d["km"] for d in data["distances"]}
        return Instance(now=data["now"], needs=data["needs"], providers=data["providers"], distances=distances,
                        weights=data["weights"], expected=data["expected"])


def _times(data: dict[str, Any]) -> Iterator[datetime]:
    if data["now"] is not None:
        yield data["now"]
    for need in [*data["needs"], *data["expected"]]:
        for w in need.windows:
            yield from (w.start, w.end)
    for provider in data["providers"]:
        for w in provider.availability:
            yield from (w.start, w.end)


def parse_instance(raw: Any) -> Instance:
    """The instance, or `marshmallow.ValidationError` whose `messages` name every wrong field by its path."""
    instance: Instance = InstanceSchema().load(raw)
    return instance


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


def main() -> int:
    try:
        instance = parse_instance(json.load(sys.stdin))
    except json.JSONDecodeError as err:
        return refuse({"_json": [f"not valid JSON: {err}"]})
    except ValidationError as err:
        return refuse(err.messages)
    json.dump(solve_instance(instance), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def refuse(errors: Any) -> int:
    """Field errors as JSON on stderr (paths as in the instance, list positions as keys); nothing on stdout."""
    json.dump({"errors": errors}, sys.stderr, ensure_ascii=False, indent=2)
    sys.stderr.write("\n")
    return INVALID_INPUT


if __name__ == "__main__":
    sys.exit(main())
