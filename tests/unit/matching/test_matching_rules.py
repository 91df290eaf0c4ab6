from datetime import date

from matching_builders import SAMSONOW, THURSDAY, a_need, a_provider, credential, window

from services.matching import rules
from services.matching.rules import (
    CAR,
    CONFIDENTIALITY_AUTHORISATION,
    DRIVING_LICENCE,
    FIRST_AID,
    KAMILKA_CHECK,
    PAID_NEIGHBOUR,
    Candidate,
    distance_km,
    first_rejection,
    funnel,
    is_feasible,
)

KAMILKA_OK = credential(KAMILKA_CHECK)


def pair(need, provider, km=None):
    return Candidate(need, provider, distance_km(need, provider) if km is None else km)


def test_plain_shopping_need_matches_nearby_available_volunteer():
    assert is_feasible(pair(a_need(), a_provider()))


def test_paused_volunteer_is_never_proposed():
    verdict = rules.provider_not_paused(pair(a_need(), a_provider(paused=True)))
    assert not verdict.passed and "przerwę" in verdict.reason


def test_volunteer_who_declined_a_need_is_not_offered_it_again():
    verdict = rules.not_declined_before(pair(a_need(declined_by=frozenset({"W-1"})), a_provider()))
    assert not verdict.passed and "odmówił" in verdict.reason


def test_tutoring_need_never_matches_volunteer_without_kamilka_check():
    verdict = rules.kamilka_gate(pair(a_need(category="KOR"), a_provider()))
    assert not verdict.passed and "Kamilka" in verdict.reason


def test_tutoring_need_matches_volunteer_with_in_date_kamilka_check():
    assert is_feasible(pair(a_need(category="KOR"), a_provider(credentials=(KAMILKA_OK,))))


def test_kamilka_check_that_expires_before_the_need_date_does_not_count():
    expired = credential(KAMILKA_CHECK, valid_until=date(2026, 11, 25))
    verdict = rules.kamilka_gate(pair(a_need(category="KOR"), a_provider(credentials=(expired,))))
    assert not verdict.passed


def test_caregiver_respite_with_a_minor_needs_kamilka_check_even_from_a_paid_neighbour():
    need = a_need(category="OPI", involves_minor=True)
    verdict = rules.kamilka_gate(pair(need, a_provider(type=PAID_NEIGHBOUR)))
    assert not verdict.passed


def test_neighbour_services_are_only_for_paid_neighbours():
    verdict = rules.neighbour_services_only_by_paid_neighbours(pair(a_need(category="SAS"), a_provider()))
    assert not verdict.passed and "opiekun sąsiedzki" in verdict.reason


def test_paid_neighbour_without_first_aid_training_cannot_take_neighbour_services():
    provider = a_provider(type=PAID_NEIGHBOUR)
    verdict = rules.neighbour_services_only_by_paid_neighbours(pair(a_need(category="SAS"), provider))
    assert not verdict.passed and "pierwszej pomocy" in verdict.reason


def test_paid_neighbour_who_is_family_cannot_take_neighbour_services():
    provider = a_provider(type=PAID_NEIGHBOUR, credentials=(credential(FIRST_AID),))
    need = a_need(category="SAS", beneficiary_ref="R-7", relatives=frozenset({provider.id}))
    rejection = first_rejection(pair(need, provider))
    assert rejection is not None and rejection.rule == "not_a_relative" and "rodziny" in rejection.reason


def test_a_relative_of_the_resident_is_not_matched_in_any_category():
    volunteer = a_provider()
    assert is_feasible(pair(a_need(), volunteer))
    verdict = rules.not_a_relative(pair(a_need(relatives=frozenset({volunteer.id})), volunteer))
    assert not verdict.passed and "rodziny" in verdict.reason


def test_adult_trained_paid_neighbour_from_outside_the_family_takes_neighbour_services():
    provider = a_provider(type=PAID_NEIGHBOUR, credentials=(credential(FIRST_AID),))
    assert is_feasible(pair(a_need(category="SAS", beneficiary_ref="R-7"), provider))


def test_personal_care_is_never_given_by_a_volunteer():
    verdict = rules.no_personal_care_by_volunteers(pair(a_need(category="OPI", personal_care=True), a_provider()))
    assert not verdict.passed and "opiekuńcze" in verdict.reason


def test_personal_care_is_given_by_a_paid_neighbour():
    need = a_need(category="OPI", personal_care=True)
    assert rules.no_personal_care_by_volunteers(pair(need, a_provider(type=PAID_NEIGHBOUR))).passed


def test_no_rule_is_left_for_installation_work_the_needs_service_refuses_at_intake():
    assert "no_installation_work" not in {rule.__name__ for rule in rules.RULES}
    assert not hasattr(a_need(), "installation_work")


def test_transport_needs_a_driving_licence_and_a_car():
    need = a_need(category="TRN")
    assert not rules.driving_licence_and_car_for_transport(pair(need, a_provider())).passed
    licence_only = a_provider(credentials=(credential(DRIVING_LICENCE),))
    assert "samochodu" in rules.driving_licence_and_car_for_transport(pair(need, licence_only)).reason
    both = a_provider(credentials=(credential(DRIVING_LICENCE), credential(CAR)))
    assert rules.driving_licence_and_car_for_transport(pair(need, both)).passed


def test_paperwork_needs_the_confidentiality_authorisation():
    need = a_need(category="URZ")
    assert "upoważnienia" in rules.confidentiality_authorisation_for_paperwork(pair(need, a_provider())).reason
    authorised = a_provider(credentials=(credential(CONFIDENTIALITY_AUTHORISATION),))
    assert rules.confidentiality_authorisation_for_paperwork(pair(need, authorised)).passed


def test_explicit_credential_must_be_valid_on_the_day_of_the_need():
    need = a_need(category="OPI", credentials=frozenset({FIRST_AID}))
    lapsed = a_provider(credentials=(credential(FIRST_AID, valid_until=THURSDAY.replace(day=1)),))
    verdict = rules.required_credentials_in_date(pair(need, lapsed))
    assert not verdict.passed and "pierwszej pomocy" in verdict.reason


def test_need_asking_for_a_skill_skips_volunteers_without_it():
    verdict = rules.skills_present(pair(a_need(category="CYF", skills=frozenset({"smartfon"})), a_provider()))
    assert not verdict.passed and "smartfon" in verdict.reason


def test_a_skill_is_the_same_skill_whatever_its_case_or_spacing():
    need = a_need(category="CYF", skills=frozenset({"Obsługa  smartfona"}))
    assert rules.skills_present(pair(need, a_provider(skills=frozenset({"obsługa smartfona"})))).passed


def test_resident_speaking_ukrainian_gets_a_ukrainian_speaking_volunteer():
    need = a_need(language="uk")
    assert not rules.language_spoken(pair(need, a_provider())).passed
    assert rules.language_spoken(pair(need, a_provider(languages=frozenset({"pl", "uk"})))).passed


def test_volunteer_outside_radius_and_not_serving_the_village_is_out_of_area():
    far = a_provider(villages=frozenset({"Samsonów"}), point=SAMSONOW, radius_km=2)
    verdict = rules.within_area(pair(a_need(), far))
    assert not verdict.passed and "Poza obszarem" in verdict.reason


def test_volunteer_serving_the_village_is_in_area_whatever_the_distance():
    serving = a_provider(villages=frozenset({"Zagnańsk"}), point=SAMSONOW, radius_km=1)
    assert rules.within_area(pair(a_need(), serving)).passed


def test_volunteer_within_radius_is_in_area_without_serving_the_village():
    near = a_provider(villages=frozenset({"Samsonów"}), point=SAMSONOW, radius_km=6)
    assert rules.within_area(pair(a_need(), near)).passed


def test_overlap_shorter_than_the_visit_is_not_a_common_time():
    provider = a_provider(availability=(window(13, 15),))  # only 1 h overlaps the 10–14 window
    verdict = rules.time_windows_overlap(pair(a_need(duration_hours=2), provider))
    assert not verdict.passed and "terminu" in verdict.reason
    assert rules.time_windows_overlap(pair(a_need(duration_hours=1), provider)).passed


def test_volunteer_with_weekly_hours_used_up_is_not_proposed():
    verdict = rules.weekly_hours_left(pair(a_need(duration_hours=2), a_provider(hours_booked=5)))
    assert not verdict.passed and "limit godzin" in verdict.reason


def test_volunteer_with_all_task_slots_open_is_not_proposed():
    verdict = rules.open_tasks_left(pair(a_need(), a_provider(open_tasks=3)))
    assert not verdict.passed and "otwartych zadań" in verdict.reason


def test_first_rejection_names_the_rule_and_its_polish_reason():
    rejection = first_rejection(pair(a_need(category="KOR"), a_provider()))
    assert rejection is not None
    assert rejection.rule == "kamilka_gate"
    assert rejection.reason == "Brak aktualnej weryfikacji Kamilka (ochrona małoletnich)"


def test_funnel_counts_how_many_candidates_each_rule_removed():
    providers = [
        a_provider(id="W-1"),
        a_provider(id="W-2", credentials=(KAMILKA_OK,)),
        a_provider(id="W-3", credentials=(KAMILKA_OK,), paused=True),
        a_provider(id="W-4", credentials=(KAMILKA_OK,), point=SAMSONOW, villages=frozenset(), radius_km=1),
    ]
    report = funnel([a_need(category="KOR"), a_need(id="N-2")], providers)
    assert report.examined == 8
    assert report.removed["kamilka_gate"] == 1
    assert report.removed["provider_not_paused"] == 2
    assert report.removed["within_area"] == 2
    assert report.passed == 3
    assert dict(report.as_rows())["kamilka_gate"] == 1
