"""Survey rules: questions, answers, contact details, the status machine and the tally (pure, no database)."""
from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.community import model

SINGLE = {"id": "q1", "kind": "single", "text": "Czy korzysta Pan/Pani ze świetlicy?", "required": True,
          "options": ["tak", "nie"], "min_value": None, "max_value": None}
MULTI = {"id": "q2", "kind": "multiple", "text": "Czego brakuje?", "required": False,
         "options": ["transport", "zajęcia dla seniorów", "opieka nad dziećmi"], "min_value": None, "max_value": None}
SCALE = {"id": "q3", "kind": "scale", "text": "Jak ocenia Pan/Pani życie w sołectwie?", "required": True,
         "options": [], "min_value": 1, "max_value": 5}
NUMBER = {"id": "q4", "kind": "number", "text": "Ile osób liczy gospodarstwo?", "required": False,
          "options": [], "min_value": 1, "max_value": 20}
TEXT = {"id": "q5", "kind": "text", "text": "Co warto zmienić?", "required": False, "options": [],
        "min_value": None, "max_value": None}
QUESTIONS = [SINGLE, MULTI, SCALE, NUMBER, TEXT]


def test_question_rules_in_polish() -> None:
    assert model.question_errors({"kind": "single", "text": "Pytanie", "options": ["a", "b"]}) == {}
    assert model.question_errors({"kind": "single", "text": "Pytanie", "options": ["a", " "]}) == {
        "options": "Podaj co najmniej dwie odpowiedzi do wyboru (każdą w osobnym wierszu)."}
    assert model.question_errors({"kind": "multiple", "text": "P", "options": ["Tak", "tak"]}) == {
        "options": "Odpowiedzi do wyboru powtarzają się."}
    assert model.question_errors({"kind": "scale", "text": "P", "min_value": 1, "max_value": 11}) == {
        "max_value": "Skala zaczyna się od 0 lub 1 i kończy najwyżej na 10."}
    assert model.question_errors({"kind": "number", "text": "P", "min_value": 5, "max_value": 1}) == {
        "max_value": "Największa wartość nie może być mniejsza od najmniejszej."}
    assert set(model.question_errors({"kind": "essay", "text": ""})) == {"kind", "text"}
    stored = model.normalise_question({"kind": "text", "text": " Uwagi ", "options": ["x"], "min_value": 1})
    assert stored == {"kind": "text", "text": "Uwagi", "required": False, "options": [], "min_value": None,
                      "max_value": None}


def test_answers_are_checked_against_their_question() -> None:
    assert model.answer_errors(SINGLE, "1") == (None, {"choices": [1]})
    assert model.answer_errors(SINGLE, "7") == ("Wybierz odpowiedź z listy.", {})
    assert model.answer_errors(SINGLE, ["0", "1"]) == ("Wybierz jedną odpowiedź.", {})
    assert model.answer_errors(SINGLE, "") == ("Odpowiedz na to pytanie.", {})
    assert model.answer_errors(MULTI, ["2", "0", "2"]) == (None, {"choices": [0, 2]})
    assert model.answer_errors(MULTI, []) == (None, {})
    assert model.answer_errors(SCALE, "6") == ("Podaj liczbę od 1 do 5.", {})
    assert model.answer_errors(SCALE, "2,5") == ("Wybierz wartość na skali.", {})
    assert model.answer_errors(NUMBER, "3,0") == (None, {"number": 3.0})
    assert model.answer_errors(NUMBER, "trzy") == ("Podaj liczbę.", {})
    assert model.answer_errors(NUMBER, "nan") == ("Podaj liczbę.", {})
    assert model.answer_errors(TEXT, "  więcej autobusów ") == (None, {"text": "więcej autobusów"})
    assert model.answer_errors(TEXT, "x" * 2001) == ("Najwyżej 2000 znaków.", {})


def test_a_response_needs_a_village_of_the_survey_and_at_least_one_answer() -> None:
    errors, stored = model.response_errors(QUESTIONS, {"q1": "0", "q3": "4"}, "zagnansk", [])
    assert errors == {} and stored == {"q1": {"choices": [0]}, "q3": {"number": 4.0}}
    errors, _ = model.response_errors(QUESTIONS, {"q1": "0", "q3": "4"}, "zagnansk", ["kajetanow"])
    assert errors == {"village": "Wybierz swoją miejscowość z listy."}
    optional = [MULTI, TEXT]
    assert model.response_errors(optional, {}, "zagnansk", [])[0] == {
        "answers": "Odpowiedz na co najmniej jedno pytanie."}


def test_contact_details_are_optional_but_need_a_channel_and_consent() -> None:
    assert model.contact_errors({}) == {}
    assert model.contact_errors({"name": "Jan", "phone": "600 100 200", "consent": True}) == {}
    assert model.contact_errors({"name": "Jan", "phone": "600 100 200"}) == {
        "contact_consent": "Zaznacz zgodę na kontakt — bez niej nie zapiszemy danych kontaktowych."}
    assert set(model.contact_errors({"name": "Jan", "consent": True})) == {"contact_phone"}
    assert set(model.contact_errors({"email": "nie-mail", "consent": True})) == {"contact_email"}


@given(st.lists(st.sampled_from(["publish", "close"]), max_size=6))
def test_a_survey_only_moves_forward_draft_published_closed(steps: list[str]) -> None:
    status = model.DRAFT
    order = [model.DRAFT, model.PUBLISHED, model.CLOSED]
    for step in steps:
        target = model.PUBLISHED if step == "publish" else model.CLOSED
        before = status
        try:
            status = model.survey_transition(status, target)
        except model.InvalidTransition as err:
            assert err.message and status == before
        else:
            assert order.index(status) == order.index(before) + 1
    assert status in order


answer_values = st.one_of(st.none(), st.text(max_size=5), st.integers(-3, 30).map(str),
                          st.lists(st.integers(-1, 4).map(str), max_size=4), st.floats(allow_nan=True))


@given(st.sampled_from(QUESTIONS), answer_values)
@example(QUESTIONS[0], float("inf")).via("int(inf) raised OverflowError")
@example(QUESTIONS[0], [float("-inf")]).via("int(-inf) raised OverflowError")
def test_an_answer_is_either_refused_with_a_message_or_stored_within_the_rules(question: dict, value: object) -> None:
    error, stored = model.answer_errors(question, value)
    if error:
        assert stored == {}
        return
    if question["kind"] in ("single", "multiple") and stored:
        assert all(0 <= i < len(question["options"]) for i in stored["choices"])
        assert question["kind"] == "multiple" or len(stored["choices"]) == 1
    if question["kind"] in ("scale", "number") and stored:
        assert question["min_value"] <= stored["number"] <= question["max_value"]
    if not stored:
        assert not question["required"]


def test_the_tally_counts_per_question_and_per_village() -> None:
    responses = [
        {"village": "zagnansk", "answers": {"q1": {"choices": [0]}, "q2": {"choices": [0, 1]},
                                            "q3": {"number": 4.0}, "q5": {"text": "więcej autobusów"}}},
        {"village": "zagnansk", "answers": {"q1": {"choices": [1]}, "q3": {"number": 2.0}}},
        {"village": "kajetanow", "answers": {"q1": {"choices": [0]}, "q2": {"choices": [1]}, "q3": {"number": 5.0}}},
    ]
    result = model.tally(QUESTIONS, responses)
    assert result["responses"] == 3 and result["by_village"] == {"kajetanow": 1, "zagnansk": 2}
    single, multi, scale, number, text = result["questions"]
    assert single["counts"] == [2, 1] and single["by_village"] == {"kajetanow": [1, 0], "zagnansk": [1, 1]}
    assert multi["counts"] == [1, 2, 0] and multi["answered"] == 2
    assert scale["counts"] == [0, 1, 0, 1, 1] and scale["mean"] == pytest.approx(11 / 3)
    assert scale["by_village"]["kajetanow"]["mean"] == 5.0
    assert number["count"] == 0 and number["mean"] is None
    assert text["texts"] == [("zagnansk", "więcej autobusów")]
