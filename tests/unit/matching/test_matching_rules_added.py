"""One test per rule added for the service: verified providers, offered categories, art. 50 conditions,
and a radius of 0 meaning only the listed villages."""
from matching_builders import SAMSONOW, ZAGNANSK, a_need, a_provider, credential

from services.matching import rules
from services.matching.rules import FIRST_AID, PAID_NEIGHBOUR, Candidate


def pair(need, provider, km=0.0):  # type: ignore[no-untyped-def]
    return Candidate(need, provider, km)


def test_a_provider_not_yet_verified_by_cus_is_never_matched():
    verdict = rules.provider_verified(pair(a_need(), a_provider(verified=False)))
    assert not verdict.passed and "zweryfikowany" in verdict.reason
    assert rules.provider_verified(pair(a_need(), a_provider())).passed


def test_a_provider_is_matched_only_in_the_categories_they_offer():
    offers_shopping = a_provider(categories=frozenset({"ZAK"}))
    verdict = rules.category_offered(pair(a_need(category="TOW"), offers_shopping))
    assert not verdict.passed and "kategorii" in verdict.reason
    assert rules.category_offered(pair(a_need(category="ZAK"), offers_shopping)).passed
    assert rules.category_offered(pair(a_need(category="TOW"), a_provider(categories=None))).passed


def test_a_paid_neighbour_without_confirmed_art_50_conditions_cannot_take_neighbour_services():
    provider = a_provider(type=PAID_NEIGHBOUR, credentials=(credential(FIRST_AID),), neighbour_conditions_met=False)
    verdict = rules.neighbour_services_only_by_paid_neighbours(pair(a_need(category="SAS"), provider))
    assert not verdict.passed and "art. 50" in verdict.reason


def test_a_radius_of_zero_means_only_the_listed_villages_even_next_door():
    provider = a_provider(villages=frozenset({"Samsonów"}), point=SAMSONOW, radius_km=0)
    verdict = rules.within_area(pair(a_need(village="Zagnańsk", point=ZAGNANSK), provider, km=0.0))
    assert not verdict.passed
    assert rules.within_area(pair(a_need(village="Samsonów"), provider, km=0.0)).passed
