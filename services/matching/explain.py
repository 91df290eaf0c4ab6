"""What staff see of a proposal: funnel, score terms, runner-up and the cheapest other candidates, priced the
way the solver prices them (travel less continuity, plus the provider's next unit of load)."""
from __future__ import annotations

from typing import Any

from services.matching.rules import Funnel, Need, Provider, distance_km, funnel
from services.matching.settings import Settings
from services.matching.solver import Option, feasible_options, marginal_load_cost
from services.matching.world import World


def explain(need: Need, provider_id: str, people: list[Provider], settings: Settings, *,
            terms: dict[str, int], km: float, runner_up: dict[str, Any] | None,
            source: str = "solver", planned: dict[str, int] | None = None) -> dict[str, Any]:
    """Funnel, score terms, runner-up and the cheapest other candidates (whom staff may pick instead).

    A candidate's cost is its travel plus its next unit of load: after the tasks `planned` for it in this
    solve, like the runner-up's, so that one provider has one price on the page (none planned: its load now,
    as the cascade and a staff pick price it)."""
    own = funnel([need], people)
    options = feasible_options(need, people, distance_km, settings.weights, Funnel())
    planned = planned or {}
    priced = sorted(((price_of(o, settings, planned.get(o.provider.id, 0)), o) for o in options),
                    key=lambda pair: (pair[0], pair[1].km))
    candidates = [{"volunteer_id": o.provider.id, "km": round(o.km, 2), "travel": o.cost, "cost": cost}
                  for cost, o in priced][: settings.candidates_shown]
    return {
        "source": source,
        "km": km,
        "terms": terms,
        "funnel": {"examined": own.examined, "passed": own.passed,
                   "removed": {rule: n for rule, n in own.as_rows() if n}},
        "runner_up": runner_up,
        "candidates": [c for c in candidates if c["volunteer_id"] != provider_id],
    }


def price_of(o: Option, settings: Settings, unit: int = 0) -> int:
    """Travel (less continuity) plus the load cost of the provider's `unit`-th further task."""
    return o.cost + marginal_load_cost(o.provider, unit, settings.weights)


def repriced(candidates: list[dict[str, Any]] | None, world: World, planned: dict[str, int],
             settings: Settings) -> list[dict[str, Any]] | None:
    """The stored candidates priced at this plan's load, cheapest first; None when they cannot be (written
    before their travel cost was kept, or a provider is gone): then the explanation is made anew."""
    if candidates is None or any("travel" not in c or c["volunteer_id"] not in world.providers for c in candidates):
        return None
    priced = [{**c, "cost": c["travel"] + marginal_load_cost(world.providers[c["volunteer_id"]],
                                                                 planned.get(c["volunteer_id"], 0), settings.weights)}
                for c in candidates]
    return sorted(priced, key=lambda c: (c["cost"], c["km"]))


def terms_of(o: Option, need: Need, settings: Settings) -> dict[str, int]:
    return {"distance": o.distance, "load": marginal_load_cost(o.provider, 0, settings.weights),
            "continuity": o.continuity, "urgency": settings.weights.unmet_penalty.get(need.urgency, 0), "deficit": 0}
