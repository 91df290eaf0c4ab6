"""The pure domain: who may do what on which day, availability slots, agreements."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching import rules
from services.volunteers import model
from services.volunteers.model import Credential, NeighbourConditions, Provider, eligible_categories

DAY = date(2026, 12, 3)
YEAR = timedelta(days=365)
KAMILKA_DETAILS = {"register_checked_on": "2026-11-01", "checked_by": "Anna Nowak", "register_result": "not_listed",
                   "krk_seen_on": "2026-11-01", "countries_last_20_years": ["PL"]}


def held(kind: str, details: dict | None = None, start: date = DAY - YEAR, end: date | None = DAY + YEAR) -> Credential:
    return Credential(kind, start, end, details or {})


AGREEMENT = held(model.AGREEMENT, {"written": True})


def a_volunteer(*credentials: Credential, **over) -> Provider:  # type: ignore[no-untyped-def]
    return Provider(**{"type": model.VOLUNTEER, "verified": True, "credentials": (AGREEMENT, *credentials), **over})


def test_a_verified_volunteer_with_an_agreement_may_do_the_everyday_categories() -> None:
    assert eligible_categories(a_volunteer(), DAY) == {"ZAK", "TOW", "OPI", "NAP", "OGR", "CYF", "POS", "ZWI",
                                                       "DOM", "WSP", "TEL"}


def test_nobody_unverified_paused_or_erased_is_eligible_for_anything() -> None:
    for provider in (a_volunteer(verified=False), a_volunteer(paused=True), a_volunteer(erased=True)):
        assert eligible_categories(provider, DAY) == set()


def test_a_volunteer_without_an_in_date_agreement_is_eligible_for_nothing() -> None:
    lapsed = Provider(model.VOLUNTEER, verified=True, credentials=(held(model.AGREEMENT, {"written": True},
                                                                        end=DAY - timedelta(days=1)),))
    assert eligible_categories(lapsed, DAY) == set()


def test_a_short_agreement_needs_accident_insurance_for_the_same_days() -> None:
    short = held(model.AGREEMENT, {"written": False}, start=DAY - timedelta(days=5), end=DAY + timedelta(days=10))
    uninsured = Provider(model.VOLUNTEER, verified=True, credentials=(short,))
    insured = Provider(model.VOLUNTEER, verified=True,
                       credentials=(short, held(model.NNW_INSURANCE, end=DAY + timedelta(days=10))))
    assert eligible_categories(uninsured, DAY) == set()
    assert "ZAK" in eligible_categories(insured, DAY)


def test_an_agreement_beyond_thirty_days_must_be_written() -> None:
    assert model.agreement_problem(DAY, DAY + timedelta(days=30), written=False) is not None
    assert model.agreement_problem(DAY, None, written=False) is not None
    assert model.agreement_problem(DAY, DAY + timedelta(days=29), written=False) is None
    assert model.agreement_problem(DAY, DAY + timedelta(days=365), written=True) is None


def test_transport_needs_both_a_driving_licence_and_an_insured_car() -> None:
    assert "TRN" not in eligible_categories(a_volunteer(held(model.DRIVING_LICENCE, end=None)), DAY)
    assert "TRN" in eligible_categories(a_volunteer(held(model.DRIVING_LICENCE, end=None), held(model.OWN_CAR)), DAY)


def test_paperwork_needs_a_confidentiality_authorisation() -> None:
    assert "URZ" not in eligible_categories(a_volunteer(), DAY)
    assert "URZ" in eligible_categories(a_volunteer(held(model.CONFIDENTIALITY_AUTHORISATION)), DAY)


def test_neighbour_services_only_for_a_paid_neighbour_meeting_every_art_50_condition() -> None:
    all_met = NeighbourConditions(True, True, True, True, True)
    first_aid = held(model.FIRST_AID)
    assert "SAS" in eligible_categories(Provider(model.PAID_NEIGHBOUR, verified=True, credentials=(first_aid,),
                                                 neighbour=all_met), DAY)
    assert "SAS" not in eligible_categories(Provider(model.PAID_NEIGHBOUR, verified=True, neighbour=all_met), DAY)
    family = NeighbourConditions(adult=True, not_family=False, lives_nearby=True, fitness_declared=True,
                                 accepted_by_cus=True)
    assert "SAS" not in eligible_categories(Provider(model.PAID_NEIGHBOUR, verified=True, credentials=(first_aid,),
                                                     neighbour=family), DAY)
    assert "SAS" not in eligible_categories(a_volunteer(first_aid, neighbour=all_met), DAY)


def test_a_clean_in_date_kamilka_check_opens_tutoring_and_respite_with_a_minor() -> None:
    assert model.CATEGORIES_INVOLVING_MINORS <= eligible_categories(
        a_volunteer(held(model.KAMILKA_CHECK, KAMILKA_DETAILS)), DAY)


def test_a_kamilka_check_that_found_the_person_listed_opens_nothing_for_minors() -> None:
    listed = held(model.KAMILKA_CHECK, {**KAMILKA_DETAILS, "register_result": "listed"})
    assert not eligible_categories(a_volunteer(listed), DAY) & model.CATEGORIES_INVOLVING_MINORS


def test_a_kamilka_check_of_someone_who_lived_abroad_needs_the_foreign_records() -> None:
    abroad = {**KAMILKA_DETAILS, "countries_last_20_years": ["PL", "DE"]}
    assert not eligible_categories(a_volunteer(held(model.KAMILKA_CHECK, abroad)), DAY) & {"KOR"}
    covered = {**abroad, "foreign_record_seen_on": "2026-11-02"}
    assert "KOR" in eligible_categories(a_volunteer(held(model.KAMILKA_CHECK, covered)), DAY)


def test_a_kamilka_check_is_valid_for_the_configured_days_from_its_older_half() -> None:
    assert model.kamilka_valid_until(date(2026, 3, 1), date(2026, 2, 1), 365) == date(2027, 2, 1)


def test_slots_that_end_before_they_start_or_overlap_on_one_day_are_reported() -> None:
    slots = [{"weekday": 0, "start": "16:00", "end": "19:00"}, {"weekday": 0, "start": "18:00", "end": "20:00"},
             {"weekday": 1, "start": "12:00", "end": "10:00"}, {"weekday": 2, "start": "10:00", "end": "12:00"}]
    assert set(model.slot_problems(slots)) == {1, 2}
    assert model.slot_problems([{"weekday": 0, "start": "10:00", "end": "12:00"},
                                {"weekday": 0, "start": "12:00", "end": "14:00"}]) == {}


def test_credentials_ending_within_thirty_days_are_expiring() -> None:
    soon, later, gone = held("first_aid", end=DAY + timedelta(days=30)), held("first_aid", end=DAY + timedelta(days=31)), \
        held("first_aid", end=DAY - timedelta(days=1))
    assert model.expiring([soon, later, gone], DAY) == [soon]


def test_codes_agree_with_the_matchers_rules() -> None:
    assert set(model.PROVIDER_TYPES) == set(rules.PROVIDER_TYPES)
    assert set(model.CATEGORIES) == set(rules.CATEGORIES)
    for code in (rules.DRIVING_LICENCE, rules.KAMILKA_CHECK, rules.FIRST_AID, rules.CONFIDENTIALITY_AUTHORISATION):
        assert code in model.CREDENTIAL_KINDS



def _slot(day: int, start: int, length: int) -> dict:  # type: ignore[type-arg]
    end = start + length
    return {"weekday": day, "start": f"{start // 60:02d}:{start % 60:02d}", "end": f"{end // 60:02d}:{end % 60:02d}"}


weeks = st.lists(st.builds(_slot, st.integers(0, 1), st.integers(0, 20).map(lambda h: h * 60),
                           st.integers(-2, 4).map(lambda h: h * 60)), max_size=5)


@settings(max_examples=300, deadline=None, database=None)
@given(weeks)
def test_slot_problems_agree_with_a_pairwise_check_on_any_week(week: list[dict]) -> None:  # type: ignore[type-arg]
    span = [(s["weekday"], model.minutes(s["start"]), model.minutes(s["end"])) for s in week]
    backwards = any(end <= start for _, start, end in span)
    forwards = [s for s in span if s[2] > s[1]]
    overlapping = any(a[0] == b[0] and a[1] < b[2] and b[1] < a[2]
                      for i, a in enumerate(forwards) for b in forwards[i + 1:])
    assert bool(model.slot_problems(week)) == (backwards or overlapping)
