"""Debounced re-solve and the review queue, on the in-memory bus with a hand-moved clock."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bench.matching.service_harness import MatchingService
from services.matching import actions, model, review, store
from services.matching.settings import Settings


def test_a_proposal_stores_funnel_score_terms_and_runner_up_and_says_so_on_the_bus(matching) -> None:  # type: ignore[no-untyped-def]
    near = matching.volunteer()
    matching.volunteer(village="belno", offer=False)  # registered, no offer: filtered out
    far = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    assert proposal["volunteer_id"] == near
    explanation = proposal["explanation"]
    assert explanation["funnel"]["examined"] == 3 and explanation["funnel"]["passed"] == 2
    assert explanation["funnel"]["removed"] == {"category_offered": 1}
    assert set(explanation["terms"]) == {"distance", "load", "continuity", "urgency", "deficit"}
    assert explanation["runner_up"]["volunteer_id"] == far
    [event] = matching.events("MatchProposed")
    assert event["match_id"] == proposal["id"] and event["explanation"] == explanation
    assert event["score"] == proposal["score"]


def test_rejecting_with_a_reason_excludes_that_provider_and_proposes_the_next(matching) -> None:  # type: ignore[no-untyped-def]
    first = matching.volunteer()
    second = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    assert proposal["volunteer_id"] == first
    matching.act(review.reject, proposal["id"], "Zna osobę wspieraną osobiście", "Anna", matching.now)
    matching.tick()
    assert matching.match_of(need_id)["volunteer_id"] == second
    [rejected] = matching.events("MatchRejected")
    # The typed reason may name the resident: it stays in matching; the bus carries a code.
    assert rejected["reason"] == "rejected_by_staff" and rejected["volunteer_id"] == first
    [kept] = matching.matches(need_id=need_id, status="rejected")
    assert kept["decision_reason"] == "Zna osobę wspieraną osobiście"


def test_an_unapproved_proposal_is_replaced_when_a_clearly_better_provider_appears(tmp_path: Path) -> None:
    matching = MatchingService(tmp_path, Settings(resolve_interval=timedelta(0), replace_margin=20))
    try:
        far = matching.volunteer(village="kajetanow", radius_km=15)  # 3.0 km away: 30 more than the near one
        need_id = matching.need()
        assert matching.match_of(need_id)["volunteer_id"] == far
        near = matching.volunteer()
        assert matching.match_of(need_id)["volunteer_id"] == near
        [replaced] = matching.matches(need_id=need_id, status="replaced")
        assert replaced["volunteer_id"] == far
        [cancelled] = matching.events("MatchCancelled")
        assert (cancelled["match_id"], cancelled["reason"]) == (replaced["id"], "replaced")
    finally:
        matching.close()


def test_an_unapproved_proposal_is_kept_when_the_better_provider_is_within_the_margin(matching) -> None:  # type: ignore[no-untyped-def]
    assert matching.settings.replace_margin == Settings().replace_margin == 10 * matching.settings.weights.km_cost
    far = matching.volunteer(village="kajetanow", radius_km=15)  # 3.0 km away: 90 < 300 (10 km)
    need_id = matching.need()
    first = matching.match_of(need_id)
    matching.volunteer()
    assert matching.match_of(need_id)["id"] == first["id"] and first["volunteer_id"] == far
    assert matching.events("MatchCancelled") == []
    assert len(matching.events("MatchProposed")) == 1


def test_an_approved_match_is_not_replaced_by_a_better_provider(matching) -> None:  # type: ignore[no-untyped-def]
    far = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    matching.approve(matching.match_of(need_id)["id"])
    matching.volunteer()
    assert [m["volunteer_id"] for m in matching.matches(need_id=need_id)] == [far]


def test_staff_may_pick_another_candidate_who_is_then_offered_the_task(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    other = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    assert [c["volunteer_id"] for c in proposal["explanation"]["candidates"]] == [other]
    matching.act(review.pick, proposal["id"], other, "Anna", matching.now, matching.settings)
    offered = matching.match_of(need_id, "offered")
    assert offered["volunteer_id"] == other and offered["reviewer"] == "Anna"
    assert offered["explanation"]["source"] == "staff"
    assert [e["type"] for e in matching.events() if e["match_id"] == offered["id"]] == [
        "MatchProposed", "MatchApproved", "MatchOffered"]


def test_the_candidates_staff_may_pick_are_priced_like_the_runner_up_at_their_load_in_the_same_plan(matching) -> None:  # type: ignore[no-untyped-def]
    near = matching.volunteer()
    other = matching.volunteer(village="kajetanow", radius_km=15)
    for _ in range(2):
        matching.need(duration_minutes=120)  # 2 h: one unit of load each
    with matching.service.db.transaction() as session:
        store.mark_dirty(session)
    matching.tick()  # a full re-solve: the plan spreads the two needs over the two providers
    proposals = {m["volunteer_id"]: m for m in matching.matches(status="proposed")}
    assert set(proposals) == {near, other}
    for proposal in proposals.values():
        explanation = proposal["explanation"]
        [candidate] = explanation["candidates"]
        runner_up = explanation["runner_up"]
        # the page shows both: one provider, one price (each already has one task in this plan)
        assert candidate["volunteer_id"] == runner_up["volunteer_id"]
        assert candidate["cost"] == runner_up["cost"]
        weights = matching.settings.weights
        second_unit = weights.load_cost * (2 * 1 + 1)  # nothing approved yet (load 0): its next task is its 2nd
        assert abs(candidate["cost"] - (candidate["km"] * weights.km_cost + second_unit)) <= 1


def test_staff_cannot_pick_a_candidate_without_a_kamilka_check_for_tutoring(matching) -> None:  # type: ignore[no-untyped-def]
    checked = matching.volunteer(categories=("KOR",), credentials=[
        {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-06-30"}])
    unchecked = matching.volunteer(categories=("KOR",))
    need_id = matching.need(category="KOR")
    proposal = matching.match_of(need_id)
    assert proposal["volunteer_id"] == checked
    with pytest.raises(model.NotAllowed, match="Kamilka"):
        matching.act(review.pick, proposal["id"], unchecked, "Anna", matching.now, matching.settings)
    assert matching.match_of(need_id)["id"] == proposal["id"]


def test_automatic_moderation_of_a_category_offers_at_once(matching) -> None:  # type: ignore[no-untyped-def]
    with matching.service.db.transaction() as session:
        actions.set_moderation(session, "ZAK", "auto")
    volunteer = matching.volunteer()
    need_id = matching.need()
    offered = matching.match_of(need_id, "offered")
    assert offered["volunteer_id"] == volunteer and offered["reviewer"] == store.AUTO_REVIEWER
    review_need = matching.need(category="TOW")
    assert matching.matches(need_id=review_need) == []  # no TOW offer; and TOW stays under review


def test_a_need_asking_for_automatic_moderation_skips_the_queue(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = matching.need(moderation="auto")
    assert matching.match_of(need_id, "offered")["reviewer"] == store.AUTO_REVIEWER


@pytest.fixture
def debounced(tmp_path: Path):  # type: ignore[no-untyped-def]
    service = MatchingService(tmp_path, Settings(resolve_interval=timedelta(seconds=30)))
    yield service
    service.close()


def test_a_new_need_is_proposed_at_once_even_within_the_debounce_interval(debounced) -> None:  # type: ignore[no-untyped-def]
    debounced.volunteer()
    first = debounced.need()
    assert debounced.matches(need_id=first), "the first solve runs at once"
    debounced.now += timedelta(seconds=5)
    second = debounced.need()
    assert debounced.matches(need_id=second), "a new need does not wait for the debounce"
    assert debounced.match_of(first)["volunteer_id"] == debounced.match_of(second)["volunteer_id"]


def test_a_full_re_solve_waits_until_the_interval_passes(tmp_path: Path) -> None:
    debounced = MatchingService(tmp_path, Settings(resolve_interval=timedelta(seconds=30), replace_margin=0))
    try:
        far = debounced.volunteer(village="kajetanow", radius_km=15)
        need_id = debounced.need()
        assert debounced.match_of(need_id)["volunteer_id"] == far
        debounced.now += timedelta(seconds=5)
        near = debounced.volunteer()
        assert debounced.match_of(need_id)["volunteer_id"] == far, "the re-solve a new volunteer asks for waits"
        debounced.now += timedelta(seconds=10)
        assert debounced.tick()["solves"] == 0
        debounced.now += timedelta(seconds=20)
        assert debounced.tick() == {"expired": 0, "proposed": 1, "replaced": 1, "solves": 1}
        assert debounced.match_of(need_id)["volunteer_id"] == near
    finally:
        debounced.close()


def test_an_urgent_need_is_solved_at_once_despite_the_debounce(debounced) -> None:  # type: ignore[no-untyped-def]
    debounced.volunteer()
    debounced.volunteer(village="belno")
    debounced.need()
    debounced.now += timedelta(seconds=1)
    urgent = debounced.need(urgent=True)
    assert debounced.matches(need_id=urgent)
