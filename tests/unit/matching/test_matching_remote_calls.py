"""A remote category (the well-being call, TEL: `rules.remote` in the reference data) ignores distance: the provider's
villages and radius do not limit it and its travel cost is nil; every other gate still applies (Kamilka included)."""
from matching_builders import SAMSONOW, a_need, a_provider

from services.matching import rules
from services.matching.rules import Candidate, Point, distance_km, first_rejection, is_feasible

FAR = Point(50.70, 20.10)  # some 40 km away


def pair(need, provider):  # type: ignore[no-untyped-def]
    return Candidate(need, provider, distance_km(need, provider))


def test_a_call_is_matched_outside_the_providers_area_with_no_distance() -> None:
    need = a_need(category="TEL", village="Samsonów", point=SAMSONOW)
    provider = a_provider(villages=frozenset({"Zagnańsk"}), radius_km=0.0, point=FAR)
    assert need.remote and distance_km(need, provider) == 0.0
    assert rules.within_area(pair(need, provider)).passed
    assert is_feasible(pair(need, provider))


def test_a_visit_in_person_still_keeps_to_the_providers_area() -> None:
    need = a_need(category="ZAK", village="Samsonów", point=SAMSONOW)
    provider = a_provider(villages=frozenset({"Zagnańsk"}), radius_km=0.0, point=FAR)
    assert not need.remote and distance_km(need, provider) > 30
    assert first_rejection(pair(need, provider)).rule == "within_area"  # type: ignore[union-attr]


def test_a_call_involving_a_minor_still_needs_the_kamilka_check() -> None:
    need = a_need(category="TEL", involves_minor=True)
    verdict = rules.kamilka_gate(pair(need, a_provider()))
    assert not verdict.passed and "Kamilka" in verdict.reason
