"""The small SVG chart helper of the reports: well-formed, accessible, numbers in Polish, a faithful projection."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.matching import svg

NS = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


@pytest.mark.parametrize(("value", "text"), [(3, "3"), (2.0, "2"), (1.25, "1,2"), (15.5, "15,5"), (None, "—")])
def test_numbers_use_the_polish_decimal_comma(value, text) -> None:  # type: ignore[no-untyped-def]
    assert svg.number(value) == text


@pytest.mark.parametrize(("top", "axis"), [(0, 1), (0.4, 1), (3, 5), (7, 10), (10, 10), (11, 20), (240, 500)])
def test_the_axis_top_is_a_round_number_at_or_above_the_largest_value(top, axis) -> None:  # type: ignore[no-untyped-def]
    assert svg.nice_max(top) == axis


def test_a_bar_chart_has_one_titled_bar_per_known_value_and_escapes_text() -> None:
    chart = parse(svg.bar_chart("c1", ["a<b", "b", "c"], [4, None, 2.5], title="Godziny & wizyty", desc="Opis",
                                unit=" h"))
    assert chart.get("role") == "img" and chart.get("aria-labelledby") == "c1-title c1-desc"
    assert chart.find(f"{NS}title").text == "Godziny & wizyty"
    bars = chart.findall(f".//{NS}rect[@class='bar']")
    assert [b.find(f"{NS}title").text for b in bars] == ["a<b: 4 h", "c: 2,5 h"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == pytest.approx(heights[1] * 4 / 2.5)  # bars proportional to the values


def test_a_line_chart_breaks_where_a_value_is_missing() -> None:
    chart = parse(svg.line_chart("c2", ["1", "2", "3", "4", "5"], [10, 20, None, 40, 50], title="t", desc="d",
                                 top_value=100))
    assert len(chart.findall(f".//{NS}circle[@class='point']")) == 4
    assert len(chart.findall(f".//{NS}polyline[@class='line']")) == 2


def test_an_empty_chart_is_still_well_formed() -> None:
    chart = parse(svg.bar_chart("c3", [], [], title="t", desc="d"))
    assert chart.findall(f".//{NS}rect[@class='bar']") == []


def test_the_projection_puts_north_up_east_right_and_keeps_distances_in_proportion() -> None:
    places = [svg.Place("w", "W", 51.0, 20.0, 0, 0), svg.Place("e", "E", 51.0, 20.1, 0, 0),
              svg.Place("n", "N", 51.1, 20.0, 0, 0)]
    pos = svg.project(places, 600, 600, 20)
    assert pos["e"][0] > pos["w"][0] and pos["n"][1] < pos["w"][1]
    east_west = pos["e"][0] - pos["w"][0]
    north_south = pos["w"][1] - pos["n"][1]
    # 0.1° of longitude at 51° is cos(51°) ≈ 0.63 of 0.1° of latitude
    assert east_west / north_south == pytest.approx(0.63, abs=0.01)


def test_the_village_map_draws_circles_only_for_counts_above_zero_but_always_writes_the_number() -> None:
    places = [svg.Place("a", "Aaa", 51.0, 20.0, 4, 0), svg.Place("b", "Bbb", 51.05, 20.1, 1, 2)]
    drawing = parse(svg.village_map("m", places, title="Mapa", desc="d", needs_label="potrzeby",
                                    providers_label="wykonawcy", needs_legend="Potrzeby", providers_legend="Wykonawcy",
                                    scale_note="Pole koła ∝ liczba"))
    assert len(drawing.findall(f".//{NS}circle[@class='marker needs']")) == 2
    assert len(drawing.findall(f".//{NS}circle[@class='marker providers']")) == 1
    assert [t.text for t in drawing.findall(f".//{NS}text[@class='count providers']")] == ["0", "2"]
    big, small = (float(c.get("r")) for c in drawing.findall(f".//{NS}circle[@class='marker needs']"))
    assert big == pytest.approx(2 * small)  # area ∝ count: 4 needs against 1
