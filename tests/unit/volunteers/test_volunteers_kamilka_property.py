"""Whatever else is true, a provider whose latest Kamilka check is not in date, clean and unrevoked is never
eligible for any category involving minors (tutoring, respite care of a minor)."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.volunteers import model
from services.volunteers.model import Credential, NeighbourConditions, Provider, eligible_categories

DAY = date(2026, 12, 3)
OTHER_KINDS = tuple(k for k in model.CREDENTIAL_KINDS if k != model.KAMILKA_CHECK)

dates = st.dates(min_value=DAY - timedelta(days=800), max_value=DAY + timedelta(days=800))
iso = dates.map(date.isoformat)
clean = {"register_checked_on": "2026-11-01", "checked_by": "Anna Nowak", "register_result": "not_listed",
         "krk_seen_on": "2026-11-01", "countries_last_20_years": ["PL"]}
any_details = st.fixed_dictionaries({}, optional={
    "register_checked_on": iso, "checked_by": st.text(max_size=20),
    "register_result": st.sampled_from(model.KAMILKA_RESULTS + ("", "unknown")), "krk_seen_on": iso,
    "countries_last_20_years": st.lists(st.sampled_from(["PL", "DE", "UA", "GB"]), max_size=3),
    "foreign_record_seen_on": iso, "written": st.booleans()})


@st.composite
def other_credentials(draw):  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(OTHER_KINDS))
    start = draw(dates)
    end = draw(st.one_of(st.none(), dates))
    return Credential(kind, start, end, draw(any_details))


@st.composite
def kamilka_checks_not_counting_on_the_day(draw):  # type: ignore[no-untyped-def]
    """Expired, not yet valid, or in date but incomplete / not clean."""
    how = draw(st.sampled_from(["expired", "future", "incomplete"]))
    if how == "expired":
        end = draw(st.dates(max_value=DAY - timedelta(days=1), min_value=DAY - timedelta(days=800)))
        start = end - timedelta(days=draw(st.integers(0, 400)))
        return Credential(model.KAMILKA_CHECK, start, end, draw(st.sampled_from([clean, {}])))
    if how == "future":
        start = draw(st.dates(min_value=DAY + timedelta(days=1), max_value=DAY + timedelta(days=800)))
        return Credential(model.KAMILKA_CHECK, start, draw(st.one_of(st.none(), st.just(start + timedelta(days=365)))),
                          clean)
    details = draw(any_details)
    broken = draw(st.sampled_from(["listed", "no_result", "no_krk", "no_checker", "abroad"]))
    details = {**clean, **details}
    if broken == "listed":
        details["register_result"] = "listed"
    elif broken == "no_result":
        details.pop("register_result")
    elif broken == "no_krk":
        details.pop("krk_seen_on")
    elif broken == "no_checker":
        details["checked_by"] = ""
    else:
        details["countries_last_20_years"] = ["PL", "UA"]
        details.pop("foreign_record_seen_on", None)
    return Credential(model.KAMILKA_CHECK, DAY - timedelta(days=10), DAY + timedelta(days=300), details)


providers_without_a_valid_check = st.builds(
    Provider,
    type=st.sampled_from(model.PROVIDER_TYPES),
    verified=st.booleans(),
    paused=st.booleans(),
    erased=st.booleans(),
    credentials=st.tuples(st.lists(other_credentials(), max_size=6),
                          st.lists(kamilka_checks_not_counting_on_the_day(), max_size=3))
    .flatmap(lambda parts: st.permutations(parts[0] + parts[1])).map(tuple),
    neighbour=st.builds(NeighbourConditions, st.booleans(), st.booleans(), st.booleans(), st.booleans(),
                        st.booleans()),
)


@settings(max_examples=400, deadline=None, database=None)
@given(providers_without_a_valid_check)
def test_without_an_in_date_kamilka_check_no_category_involving_minors_is_ever_eligible(provider: Provider) -> None:
    assert not eligible_categories(provider, DAY) & model.CATEGORIES_INVOLVING_MINORS


@settings(max_examples=100, deadline=None, database=None)
@given(providers_without_a_valid_check)
def test_the_same_providers_with_a_clean_check_added_do_reach_minors_when_they_may_act(provider: Provider) -> None:
    """The property above is not vacuous: the generator's providers are otherwise able to qualify once a clean
    check is the latest one (its register date after every other)."""
    latest = {**clean, "register_checked_on": (DAY + timedelta(days=801)).isoformat()}
    checked = Provider(model.STAFF, verified=True,
                       credentials=provider.credentials + (Credential(model.KAMILKA_CHECK, DAY, DAY, latest),))
    assert model.CATEGORIES_INVOLVING_MINORS <= eligible_categories(checked, DAY)


@settings(max_examples=200, deadline=None, database=None)
@given(providers_without_a_valid_check, st.integers(0, 400), st.sampled_from(["listed", "krk_entry", "revoked"]))
def test_a_latest_check_that_is_adverse_or_revoked_closes_minors_whatever_older_clean_checks_say(
        provider: Provider, clean_days_before: int, how: str) -> None:
    older_clean = Credential(model.KAMILKA_CHECK, DAY - timedelta(days=clean_days_before), DAY + timedelta(days=300),
                             {**clean, "register_checked_on": (DAY - timedelta(days=clean_days_before)).isoformat()})
    details = {**clean, "register_checked_on": (DAY + timedelta(days=801)).isoformat()}
    if how == "listed":
        details["register_result"] = "listed"
    elif how == "krk_entry":
        details["krk_entry"] = True
    latest = Credential(model.KAMILKA_CHECK, DAY, DAY + timedelta(days=300), details, revoked=how == "revoked")
    checked = Provider(model.STAFF, verified=True, credentials=provider.credentials + (older_clean, latest))
    assert not eligible_categories(checked, DAY) & model.CATEGORIES_INVOLVING_MINORS
