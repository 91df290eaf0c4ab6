"""Requirements from category rules, urgency, recurrence and plan periods."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.needs import model
from wspolnota import reference


def test_every_category_of_the_taxonomy_is_in_the_reference_data() -> None:
    assert set(reference.categories()) == {"ZAK", "TRN", "TOW", "OPI", "KOR", "NAP", "OGR", "CYF", "URZ", "POS",
                                          "ZWI", "DOM", "WSP", "SAS", "TEL"}


def test_every_requirement_in_the_reference_data_is_a_known_code() -> None:
    for category in reference.categories().values():
        for item in category["rules"].get("requirements", []):
            assert item["code"] in model.REQUIREMENT_CODES, category["code"]


def test_villages_have_polish_names_and_coordinates_inside_the_gmina() -> None:
    villages = reference.villages()
    assert len(villages) == 23 and villages["zagnansk"]["name"] == "Zagnańsk"
    for v in villages.values():
        assert 50.9 < v["lat"] < 51.1 and 20.5 < v["lon"] < 20.8, v["code"]


@pytest.mark.parametrize("category, minor, expected", [
    ("ZAK", False, []),
    ("TRN", False, ["driving_licence", "own_car"]),
    ("KOR", False, ["kamilka_check"]),
    ("OPI", False, []),
    ("OPI", True, ["kamilka_check"]),
    ("URZ", False, ["confidentiality_authorisation"]),
    ("SAS", False, ["first_aid"]),
    ("NAP", False, ["nnw_insurance"]),
    ("ZWI", True, ["kamilka_check"]),
])
def test_requirements_follow_from_the_category_rules(category: str, minor: bool, expected: list[str]) -> None:
    assert model.resolve_requirements(category, model.involves_minor(category, minor)) == expected


def test_tutoring_always_involves_minors() -> None:
    assert model.involves_minor("KOR", False) is True


def test_explicit_requirements_are_added_to_the_category_ones() -> None:
    assert model.resolve_requirements("TRN", False, explicit=["first_aid"]) == [
        "driving_licence", "own_car", "first_aid"]


def test_a_practical_requirement_may_be_waived() -> None:
    assert model.resolve_requirements("TRN", False, waived=["own_car"]) == ["driving_licence"]


@pytest.mark.parametrize("category, minor, code", [
    ("KOR", False, "kamilka_check"), ("OPI", True, "kamilka_check"), ("TRN", False, "driving_licence"),
    ("SAS", False, "first_aid"), ("URZ", False, "confidentiality_authorisation"),
])
def test_a_legal_requirement_can_never_be_waived(category: str, minor: bool, code: str) -> None:
    with pytest.raises(model.RequirementError) as err:
        model.resolve_requirements(category, minor, waived=[code])
    assert "przepisów" in err.value.message and err.value.codes == [code]


def test_an_urgent_need_must_start_within_24_hours() -> None:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    model.check_window(now + timedelta(hours=5), now + timedelta(hours=7), 60, "urgent", now)
    with pytest.raises(model.WindowError) as err:
        model.check_window(now + timedelta(hours=30), now + timedelta(hours=32), 60, "urgent", now)
    assert err.value.field == "urgency"


@pytest.mark.parametrize("start_h, end_h, minutes, field", [
    (5, 4, 60, "window_end"), (-30, -20, 60, "window_end"), (-5, 3, 60, "window_start"), (1, 2, 90, "duration_minutes"),
])
def test_a_bad_window_names_the_field_at_fault(start_h: int, end_h: int, minutes: int, field: str) -> None:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(model.WindowError) as err:
        model.check_window(now + timedelta(hours=start_h), now + timedelta(hours=end_h), minutes, "normal", now)
    assert err.value.field == field


def pattern(**over):  # type: ignore[no-untyped-def]
    base = {"weekdays": (0, 3), "time_from": time(10, 0), "time_to": time(12, 0),
            "starts_on": date(2026, 12, 7), "until": date(2026, 12, 31)}
    return model.WeeklyPattern(**{**base, **over})


def test_a_weekly_pattern_expands_to_one_window_per_chosen_weekday_in_polish_local_time() -> None:
    windows = model.expand(pattern(), 60, plan_end=date(2027, 3, 31), today=date(2026, 12, 1))
    assert len(windows) == 8  # Mondays 7,14,21,28 and Thursdays 10,17,24,31
    first_start, first_end = windows[0]
    assert first_start == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Warsaw (CET)
    assert first_end - first_start == timedelta(hours=2)


def test_a_summer_occurrence_keeps_the_local_hour_across_the_time_change() -> None:
    windows = model.expand(pattern(weekdays=(0,), starts_on=date(2027, 3, 22), until=date(2027, 4, 5)), 60,
                           plan_end=None, today=date(2027, 3, 1))
    assert [w[0].hour for w in windows] == [9, 8, 8]  # CET, then CEST (28 March 2027)


@pytest.mark.parametrize("over, field", [
    ({"until": date(2027, 5, 1)}, "until"),
    ({"until": date(2026, 12, 1)}, "until"),
    ({"starts_on": date(2026, 11, 20)}, "starts_on"),
    ({"weekdays": ()}, "weekdays"),
    ({"time_to": time(9, 0)}, "time_to"),
    ({"weekdays": (6,), "starts_on": date(2026, 12, 7), "until": date(2026, 12, 12)}, "weekdays"),
])
def test_a_recurrence_that_breaks_a_rule_names_the_field(over, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(model.WindowError) as err:
        model.expand(pattern(**over), 60, plan_end=date(2027, 3, 31), today=date(2026, 12, 1))
    assert err.value.field == field


def test_a_recurrence_may_not_pass_the_plans_end() -> None:
    with pytest.raises(model.WindowError) as err:
        model.expand(pattern(until=date(2027, 1, 15)), 60, plan_end=date(2027, 1, 10), today=date(2026, 12, 1))
    assert "10.01.2027" in err.value.message


def test_an_ipus_lasts_at_most_a_year() -> None:
    model.check_plan_period(date(2026, 12, 1), date(2027, 11, 30))
    with pytest.raises(model.WindowError):
        model.check_plan_period(date(2026, 12, 1), date(2027, 12, 31))


def test_every_rule_of_the_reference_data_has_polish_words_for_staff() -> None:
    known = set(model.RULE_PL) | {"requirements", "requires", "requires_for_short_term"}
    for category in reference.categories().values():
        assert set(category["rules"]) <= known, category["code"]
    assert "hase" in " ".join(model.category_rules_pl("CYF"))
