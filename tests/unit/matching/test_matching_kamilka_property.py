"""Whatever else is true, nobody without an in-date Kamilka check is matched to a need involving minors."""
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from matching_builders import THURSDAY, ZAGNANSK, a_need, a_provider, credential, window

from services.matching.rules import (
    CAR,
    CATEGORIES,
    CONFIDENTIALITY_AUTHORISATION,
    DRIVING_LICENCE,
    FIRST_AID,
    KAMILKA_CHECK,
    PROVIDER_TYPES,
    Credential,
    Point,
)
from services.matching.solver import Weights, match

OTHER_CREDENTIALS = (DRIVING_LICENCE, CAR, FIRST_AID, CONFIDENTIALITY_AUTHORISATION)


@st.composite
def kamilka_credentials(draw):
    """No check, an expired one, a future one, or one valid on the day — sometimes several."""
    offsets = draw(st.lists(st.integers(-400, 400), max_size=2))
    starts = draw(st.lists(st.integers(-30, 30), min_size=len(offsets), max_size=len(offsets)))
    return tuple(
        Credential(KAMILKA_CHECK, THURSDAY + timedelta(days=o), THURSDAY + timedelta(days=s))
        for o, s in zip(offsets, starts, strict=True)
    )


@st.composite
def providers(draw, index):
    others = draw(st.sets(st.sampled_from(OTHER_CREDENTIALS)))
    return a_provider(
        id=f"W-{index}",
        type=draw(st.sampled_from(PROVIDER_TYPES)),
        point=Point(ZAGNANSK.lat + draw(st.floats(-0.05, 0.05)), ZAGNANSK.lon + draw(st.floats(-0.05, 0.05))),
        radius_km=draw(st.floats(0, 20)),
        hours_per_week=draw(st.floats(1, 20)),
        max_open_tasks=draw(st.integers(1, 5)),
        skills=frozenset(draw(st.sets(st.sampled_from(["matematyka", "smartfon"])))),
        credentials=tuple(credential(k) for k in others) + draw(kamilka_credentials()),
    )


@st.composite
def needs(draw, index, provider_ids):
    category = draw(st.sampled_from(CATEGORIES))
    return a_need(
        id=f"N-{index}",
        category=category,
        involves_minor=draw(st.booleans()),
        urgency=draw(st.sampled_from(["normal", "high", "urgent"])),
        slots=draw(st.integers(1, 3)),
        duration_hours=draw(st.sampled_from([0.5, 1, 2])),
        windows=(window(draw(st.integers(8, 12)), 17, day=THURSDAY + timedelta(days=draw(st.integers(0, 3)))),),
        previous_providers=frozenset(draw(st.sets(st.sampled_from(provider_ids)))) if provider_ids else frozenset(),
    )


@st.composite
def instances(draw):
    people = [draw(providers(i)) for i in range(draw(st.integers(1, 8)))]
    ids = [p.id for p in people]
    wanted = [draw(needs(i, ids)) for i in range(draw(st.integers(1, 6)))]
    weights = Weights(
        continuity_bonus=draw(st.integers(0, 100_000)),
        km_cost=draw(st.integers(0, 50)),
        load_cost=draw(st.integers(0, 200)),
        deficit_boost=draw(st.integers(0, 10_000)),
        village_deficit={"Zagnańsk": draw(st.floats(0, 1))},
        k_nearest=draw(st.integers(1, 8)),
    )
    use_adversarial_cache = draw(st.booleans())
    cache = {n.id: [(p.id, 0.0) for p in people] for n in wanted} if use_adversarial_cache else None
    return wanted, people, weights, cache


def holds_kamilka(provider, day: date) -> bool:
    return any(c.kind == KAMILKA_CHECK and c.valid_on(day) for c in provider.credentials)


@settings(deadline=None, max_examples=150, database=None)
@given(instances())
def test_no_one_without_in_date_kamilka_check_is_assigned_or_proposed_a_minor_related_need(instance):
    wanted, people, weights, cache = instance
    result = match(wanted, people, weights, cached=cache)
    need_by_id = {n.id: n for n in wanted}
    provider_by_id = {p.id: p for p in people}
    proposed = [(a.need_id, a.provider_id) for a in result.assignments]
    proposed += [(need_id, r.provider_id) for need_id, r in result.runner_up.items()]
    for need_id, provider_id in proposed:
        need = need_by_id[need_id]
        if need.category == "KOR" or need.involves_minor:
            assert holds_kamilka(provider_by_id[provider_id], need.day)
