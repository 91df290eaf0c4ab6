"""Well-being call series: set up as a TEL weekly series inside a package; outcomes recorded once per call; a need
created once for `needs_something`; a worry becomes an urgent concern whose text stays here; two unanswered calls in
a row escalate once (an answered call in between resets the run; a redelivered or late outcome never escalates twice),
checked by a Hypothesis state machine; bad input gets Polish field errors and writes nothing."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.needs import calls, clock, handlers, schemas
from services.needs.calls import NEEDS_SOMETHING, NO_ANSWER, WORRYING, Call, Run, plan_escalations
from services.needs.db import call_escalations, call_outcomes, need_matches
from services.needs.db import needs as needs_table
from tests.unit.needs.conftest import VOLUNTEER, NeedsHarness, resident_body
from wspolnota.errors import Invalid, Refused

TOKEN = {"Authorization": "Bearer dev-only-internal-token", "X-Service-Name": "volunteers"}
MONDAY = date(2027, 3, 1)  # the series' first day (a Monday)
SET_UP_AT = datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
AFTER_ALL_CALLS = datetime(2027, 4, 30, 12, 0, tzinfo=UTC)


# --- the pure rule ---------------------------------------------------------------------------------------------
def test_two_unanswered_calls_in_a_row_are_one_run_and_an_answered_call_breaks_it() -> None:
    assert plan_escalations([Call("a", NO_ANSWER), Call("b", NO_ANSWER)]) == [Run(("a", "b"), None)]
    assert plan_escalations([Call("a", NO_ANSWER), Call("b", "all_well"), Call("c", NO_ANSWER)]) == []
    assert plan_escalations([Call("a", NO_ANSWER), Call("b", NO_ANSWER), Call("c", NO_ANSWER)]) == [
        Run(("a", "b", "c"), None)]
    assert plan_escalations([Call("a", NO_ANSWER)]) == []


def test_a_run_already_escalated_takes_a_late_call_in_without_a_new_escalation() -> None:
    assert plan_escalations([Call("a", NO_ANSWER, "e1"), Call("b", NO_ANSWER, "e1")]) == []
    assert plan_escalations([Call("x", NO_ANSWER), Call("a", NO_ANSWER, "e1"), Call("b", NO_ANSWER, "e1")]) == [
        Run(("x",), "e1")]


def test_outcome_rules_name_the_field_in_polish() -> None:
    with pytest.raises(Invalid) as err:
        calls.check_outcome("maybe", None, None, None)
    assert err.value.errors == {"outcome": "Wybierz, jak poszła rozmowa."}
    with pytest.raises(Invalid) as err:
        calls.check_outcome(NEEDS_SOMETHING, 10, "TEL", "")
    assert set(err.value.errors) == {"category", "text"}
    with pytest.raises(Invalid) as err:
        calls.check_outcome("all_well", None, None, None)
    assert err.value.errors == {"minutes": calls.MINUTES_BAD}
    assert calls.check_outcome(NO_ANSWER, None, None, "ignored") == (NO_ANSWER, calls.NO_ANSWER_MINUTES, None, "")
    assert calls.check_outcome(NEEDS_SOMETHING, "15", "ZAK", " chleb ") == (NEEDS_SOMETHING, 15, "ZAK", "chleb")
    with pytest.raises(Invalid):
        calls.check_outcome(WORRYING, 0, None, "coś")


# --- on the service ---------------------------------------------------------------------------------------------
@contextmanager
def at(needs: NeedsHarness, when: datetime) -> Iterator[Any]:
    with clock.using(lambda: when), needs.db.transaction() as session:
        yield session


def outbox(needs: NeedsHarness) -> Any:
    return needs.system["needs"].outbox


def a_series(needs: NeedsHarness, social_worker: str = "", volunteer: str = VOLUNTEER, **over: Any
             ) -> dict[str, Any]:
    """A resident, their package and a Tuesday/Friday call series of four weeks; every call accepted by VOLUNTEER."""
    with at(needs, SET_UP_AT) as session:
        resident = handlers.create_resident(session, schemas.ResidentCreate().load(resident_body()), actor="t")
        if social_worker:
            from services.needs import concerns
            concerns.set_social_worker(session, resident["id"], social_worker, "t")
        handlers.open_package(session, outbox(needs), schemas.PackageCreate().load({
            "plan_ref": "IPUS/1/2027", "resident_ref": resident["ref"], "village": "lekomin",
            "start_date": "2027-02-20", "end_date": "2027-12-31"}), actor="t")
        terms = {"resident_ref": resident["ref"], "plan_ref": "IPUS/1/2027", "weekdays": [1, 4],
                 "time_from": time(10), "time_to": time(12), "starts_on": MONDAY,
                 "until": MONDAY + timedelta(days=27), "review_on": MONDAY + timedelta(days=14),
                 "purpose": "Rozmowa o samopoczuciu po wyjściu ze szpitala.", "actor": "pracownik.socjalny", **over}
        series_id, rows = calls.set_up(session, outbox(needs), **terms)
        matches = {}
        for row in rows:
            match_id = str(uuid.uuid4())
            session.execute(sa.insert(need_matches).values(match_id=match_id, need_id=row["id"],
                                                           volunteer_id=volunteer, status="accepted",
                                                           was_accepted=True, updated_at=SET_UP_AT))
            matches[match_id] = row["window_start"]
    ordered = sorted(matches, key=lambda m: matches[m])
    return {"series_id": series_id, "resident": resident, "matches": ordered, "rows": rows}


def record(needs: NeedsHarness, match_id: str, outcome: str, **over: Any) -> calls.Recorded:
    body = {"minutes": 12, **over}
    with at(needs, AFTER_ALL_CALLS) as session:
        return calls.record_outcome(session, outbox(needs), match_id=match_id, volunteer_id=VOLUNTEER,
                                    outcome=outcome, **body)


def test_a_series_is_a_weekly_tel_series_in_the_package_and_its_purpose_stays_here(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    assert len(series["rows"]) == 8 and {r["category"] for r in series["rows"]} == {"TEL"}
    registered = needs.published("NeedRegistered")
    assert len(registered) == 8 and {e.data["series_id"] for e in registered} == {series["series_id"]}
    assert all(e.data["plan_ref"] == "IPUS/1/2027" and e.data["continuity"] for e in registered)
    assert "szpitala" not in str([e.data for e in needs.published()])
    [row] = needs.rows("call_series")
    assert row["owner"] == "pracownik.socjalny" and row["status"] == "active"


@pytest.mark.parametrize(("over", "field"), [
    ({"until": MONDAY + timedelta(days=200)}, "until"),
    ({"review_on": MONDAY - timedelta(days=1)}, "review_on"),
    ({"review_on": None}, "review_on"),
    ({"purpose": "  "}, "purpose"),
    ({"plan_ref": "IPUS/9/2027"}, "plan_ref"),
    ({"weekdays": []}, "weekdays"),
    ({"time_to": time(9)}, "time_to"),
])
def test_a_series_with_bad_terms_gets_a_polish_field_error_and_nothing_is_written(needs, over, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as err:
        a_series(needs, **over)
    assert field in err.value.errors, err.value.errors
    assert needs.count("call_series") == 0 and needs.count("needs") == 0


def test_an_outcome_is_recorded_once_and_published_with_codes_only(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    first = series["matches"][0]
    assert record(needs, first, "all_well").created
    again = record(needs, first, "all_well")
    assert not again.created
    with pytest.raises(Refused):
        record(needs, first, NO_ANSWER)
    [event] = needs.published("CallOutcomeRecorded")
    assert event.data == {"match_id": first, "series_id": series["series_id"], "need_id": series["rows"][0]["id"],
                          "volunteer_id": VOLUNTEER, "outcome": "all_well", "minutes": 12, "category": None}


def test_only_the_volunteers_own_call_after_its_time(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    with at(needs, AFTER_ALL_CALLS) as session, pytest.raises(Refused):
        calls.record_outcome(session, outbox(needs), match_id=series["matches"][0],
                             volunteer_id=str(uuid.uuid4()), outcome="all_well", minutes=10)
    with at(needs, SET_UP_AT) as session, pytest.raises(Refused) as err:
        calls.record_outcome(session, outbox(needs), match_id=series["matches"][0], volunteer_id=VOLUNTEER,
                             outcome="all_well", minutes=10)
    assert err.value.message == calls.NOT_YET
    assert needs.count("call_outcomes") == 0


def test_needs_something_creates_one_need_for_the_resident_on_behalf_of_the_series_owner(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    first = series["matches"][0]
    done = record(needs, first, NEEDS_SOMETHING, category="ZAK", text="Trzeba kupić leki w aptece.")
    record(needs, first, NEEDS_SOMETHING, category="ZAK", text="Trzeba kupić leki w aptece.")
    with needs.db.engine.connect() as conn:
        created = conn.execute(sa.select(needs_table).where(needs_table.c.category == "ZAK")).mappings().all()
    assert len(created) == 1 and created[0]["id"] == done.outcome["created_need_id"]
    assert created[0]["resident_ref"] == series["resident"]["ref"]
    assert created[0]["description"] == "Trzeba kupić leki w aptece."
    actors = [r["actor"] for r in needs.rows("need_timeline") if r["need_id"] == created[0]["id"]]
    assert actors and set(actors) == {"pracownik.socjalny"}
    assert "apteki" not in str([e.data for e in needs.published()]) and "leki" not in str(
        [e.data for e in needs.published()])


def test_a_worrying_call_is_an_urgent_concern_whose_text_stays_here(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    done = record(needs, series["matches"][0], WORRYING, text="Mówiła, że od dwóch dni nic nie jadła.")
    [concern] = needs.published("ConcernReported")
    assert concern.data["concern_id"] == done.outcome["concern_id"] and concern.data["urgent"] is True
    [row] = needs.rows("concerns")
    assert row["text"] == "Mówiła, że od dwóch dni nic nie jadła."
    assert "jadła" not in str([e.data for e in needs.published()])


def test_two_no_answers_in_a_row_escalate_once_and_an_answered_call_resets(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs, social_worker="ola.socjalna@cus.example.pl")
    m = series["matches"]
    record(needs, m[0], NO_ANSWER, minutes=None)
    record(needs, m[1], "all_well")
    record(needs, m[2], NO_ANSWER, minutes=None)
    assert needs.published("CallSeriesEscalated") == []
    record(needs, m[3], NO_ANSWER, minutes=None)
    record(needs, m[3], NO_ANSWER, minutes=None)  # redelivered
    record(needs, m[4], NO_ANSWER, minutes=None)  # a third in the same run
    [event] = needs.published("CallSeriesEscalated")
    assert event.data["series_id"] == series["series_id"]
    with needs.db.engine.connect() as conn:
        tagged = conn.execute(sa.select(call_outcomes.c.match_id).where(
            call_outcomes.c.escalation_id == event.data["escalation_id"])).scalars().all()
    assert set(tagged) == {m[2], m[3], m[4]}
    with at(needs, AFTER_ALL_CALLS) as session:
        assert calls.recipient(session, series["series_id"]) == "ola.socjalna@cus.example.pl"
        [item] = [a for a in calls.attention(session) if a["kind"] == "escalation"]
        assert calls.resolve(session, item["escalation_id"], "pracownik") is True
        assert calls.resolve(session, item["escalation_id"], "pracownik") is False
    # a late no_answer before the run joins it: no second escalation
    record(needs, m[1], "all_well")
    assert len(needs.published("CallSeriesEscalated")) == 1


def test_the_internal_api_answers_field_errors_and_the_same_outcome_again(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    body = {"match_id": series["matches"][0], "volunteer_id": VOLUNTEER, "outcome": "all_well", "minutes": 15}
    from services.needs.app import create_app
    from services.needs.bootstrap import bootstrap
    parts = bootstrap(needs.db.url, clock=lambda: AFTER_ALL_CALLS)
    try:
        client = create_app({"TESTING": True, "AUTH_DISABLED": True}, parts=parts).test_client()
        assert client.post("/internal/call-outcomes", json=body).status_code == 401
        bad = client.post("/internal/call-outcomes", json={**body, "outcome": "needs_something"}, headers=TOKEN)
        assert bad.status_code == 422 and set(bad.json["errors"]["json"]) == {"category", "text"}
        assert client.post("/internal/call-outcomes", json={**body, "match_id": "x"}, headers=TOKEN
                           ).status_code == 422
        first = client.post("/internal/call-outcomes", json=body, headers=TOKEN)
        assert first.status_code == 201 and first.json["created"] is True
        again = client.post("/internal/call-outcomes", json=body, headers=TOKEN)
        assert again.status_code == 200 and again.json["created"] is False
        other = client.post("/internal/call-outcomes", json={**body, "outcome": "no_answer"}, headers=TOKEN)
        assert other.status_code == 409
        assert client.get(f"/internal/call-series/{series['series_id']}/recipient", headers=TOKEN).json == {
            "series_id": series["series_id"], "email": ""}
        page = client.get(f"/rozmowy/{series['series_id']}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "wszystko dobrze" in html and "<svg" in html
        assert client.get("/rozmowy").status_code == 200 and client.get("/rozmowy/nowy").status_code == 200
        assert client.get("/api/call-series/attention").json == []  # past its review, but also past its last day
    finally:
        parts.dispose()


def test_review_extend_and_end(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    sid = series["series_id"]
    with at(needs, SET_UP_AT) as session:
        with pytest.raises(Invalid):
            calls.extend(session, outbox(needs), sid, MONDAY, MONDAY + timedelta(days=3), "t")
        added = calls.extend(session, outbox(needs), sid, MONDAY + timedelta(days=41), MONDAY + timedelta(days=30),
                             "t")
    assert len(added) == 4 and {r["series_id"] for r in added} == {sid}
    past_review = datetime(2027, 4, 5, 9, tzinfo=UTC)
    with at(needs, past_review) as session:
        assert [a["kind"] for a in calls.attention(session)] == ["review"]
        calls.review(session, sid, date(2027, 4, 10), "t")
        assert calls.attention(session) == []
    with at(needs, datetime(2027, 3, 20, 9, tzinfo=UTC)) as session:
        cancelled = calls.end(session, outbox(needs), sid, "t")
        with pytest.raises(Refused):
            calls.end(session, outbox(needs), sid, "t")
    assert cancelled == 6 and len(needs.published("NeedCancelled")) == 6


# --- the escalation rule as a state machine ---------------------------------------------------------------------
class EscalationMachine(RuleBasedStateMachine):
    """Outcomes of one series' calls arrive in any order, some twice. Whatever the order: each run of two or more
    unanswered calls (in the order of the calls) is covered by an escalation, an escalation is never published twice
    for calls already escalated, and delivered in call order, escalations == runs."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile
        from pathlib import Path
        self.tmp = tempfile.TemporaryDirectory()
        self.needs = NeedsHarness(Path(self.tmp.name))
        self.series = a_series(self.needs)
        self.given: dict[str, str] = {}
        self.in_order = True
        self.last_index = -1

    def teardown(self) -> None:
        self.needs.system.close()
        self.tmp.cleanup()

    @rule(index=st.integers(0, 7), answered=st.booleans())
    def deliver(self, index: int, answered: bool) -> None:
        match_id = self.series["matches"][index]
        outcome = self.given.get(match_id, "all_well" if answered else NO_ANSWER)
        if index < self.last_index:
            self.in_order = False
        self.last_index = max(self.last_index, index)
        record(self.needs, match_id, outcome, minutes=None if outcome == NO_ANSWER else 10)
        self.given[match_id] = outcome

    @rule(index=st.integers(0, 7))
    def redeliver(self, index: int) -> None:
        match_id = self.series["matches"][index]
        if match_id in self.given:
            before = self.needs.count("call_escalations")
            record(self.needs, match_id, self.given[match_id],
                   minutes=None if self.given[match_id] == NO_ANSWER else 10)
            assert self.needs.count("call_escalations") == before

    def runs(self) -> list[list[str]]:
        found, run = [], []
        for match_id in self.series["matches"]:
            if match_id not in self.given:
                continue
            if self.given[match_id] == NO_ANSWER:
                run.append(match_id)
            else:
                if len(run) >= 2:
                    found.append(run)
                run = []
        if len(run) >= 2:
            found.append(run)
        return found

    @invariant()
    def every_run_is_escalated_and_nothing_twice(self) -> None:
        with self.needs.db.engine.connect() as conn:
            tags = dict(conn.execute(sa.select(call_outcomes.c.match_id, call_outcomes.c.escalation_id)).all())
            escalations = conn.execute(sa.select(sa.func.count()).select_from(call_escalations)).scalar_one()
        runs = self.runs()
        for run in runs:
            assert all(tags[m] for m in run)
        published = self.needs.published("CallSeriesEscalated")
        assert len(published) == escalations == len({e.data["escalation_id"] for e in published})
        if self.in_order:
            assert escalations == len(runs)


EscalationMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=12, deadline=None,
                                               suppress_health_check=[HealthCheck.too_slow])
test_escalation_state_machine = EscalationMachine.TestCase


def test_the_staff_form_sets_a_series_up_and_answers_bad_input_in_polish(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    start = date.today() + timedelta(days=3)
    assert needs.client.post("/api/packages", json={
        "plan_ref": "IPUS/5/2026", "resident_ref": resident["ref"], "village": "lekomin",
        "start_date": date.today().isoformat(), "end_date": (date.today() + timedelta(days=300)).isoformat()}
    ).status_code == 201
    fields = {"resident_ref": resident["ref"], "plan_ref": "IPUS/5/2026", "weekdays": ["1", "4"],
              "time_from": "10:00", "time_to": "12:00", "duration_minutes": "20", "starts_on": start.isoformat(),
              "until": (start + timedelta(days=60)).isoformat(), "review_on": (start + timedelta(days=30)).isoformat(),
              "purpose": "Rozmowa o samopoczuciu."}
    url = "/rozmowy/nowy"
    too_long = needs.submit(url, {**fields, "until": (start + timedelta(days=250)).isoformat()})
    assert too_long.status_code == 422 and "najwyżej pół roku" in too_long.get_data(as_text=True)
    no_days = needs.submit(url, {k: v for k, v in fields.items() if k != "weekdays"})
    assert no_days.status_code == 422 and "Wybierz co najmniej jeden dzień tygodnia." in no_days.get_data(as_text=True)
    assert needs.count("call_series") == 0 and needs.count("needs") == 0
    done = needs.submit(url, fields)
    assert done.status_code == 302 and "/rozmowy/" in done.location
    [series] = needs.rows("call_series")
    page = needs.page(f"/rozmowy/{series['id']}")
    assert "Rozmowa o samopoczuciu." in page and "Nie zapisano jeszcze wyniku żadnej rozmowy." in page
    review = needs.submit(f"/rozmowy/{series['id']}/przeglad", {"review_on": "2001-01-01"},
                          form_url=f"/rozmowy/{series['id']}")
    assert review.status_code == 422 and "Następny przegląd musi wypaść" in review.get_data(as_text=True)
    assert ("read", "call_series") in [(a["action"], a["subject"]) for a in needs.rows("audit_log")]


def test_erasing_the_resident_empties_the_series_purpose_and_ends_it(needs) -> None:  # type: ignore[no-untyped-def]
    series = a_series(needs)
    record(needs, series["matches"][0], WORRYING, text="Mówiła, że jest jej smutno.")
    with at(needs, SET_UP_AT + timedelta(days=1)) as session:
        handlers.close_package(session, outbox(needs), "IPUS/1/2027", "koniec", actor="t")
        handlers.erase_resident(session, outbox(needs), series["resident"]["id"], "wniosek 1/2027", actor="t")
    [row] = needs.rows("call_series")
    assert (row["purpose"], row["status"]) == ("", "ended")
    [outcome] = needs.rows("call_outcomes")
    assert outcome["outcome"] == WORRYING  # the code stays for statistics
    assert "smutno" not in str(needs.rows("concerns"))
