"""Cheap, stable re-solves: new needs are placed without reshuffling the review queue, unchanged
proposals keep their stored explanation, and the worker solves once per poll batch."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bench.matching.service_harness import TOMORROW_9, MatchingService, new_id
from services.matching import cascade, explain, review, schedule
from services.matching.handlers import CONSUMES, handlers
from services.matching.loop import BatchTickLoop
from wspolnota import config
from wspolnota.transport import encode, new_event


@pytest.fixture
def explanations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every provider id an explanation (funnel and candidates over every provider) was computed for."""
    computed: list[str] = []
    real = explain.explain

    def counting(need: Any, provider_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        computed.append(provider_id)
        return real(need, provider_id, *args, **kwargs)

    for user in (schedule, review, cascade):  # every use case that explains a match
        monkeypatch.setattr(user, "explain", counting)
    return computed


def test_new_needs_are_placed_without_replacing_the_proposals_awaiting_review(matching: MatchingService) -> None:
    near = matching.volunteer()
    matching.volunteer(village="kajetanow", radius_km=15)
    first = matching.need()
    assert matching.match_of(first)["volunteer_id"] == near
    for hour in range(1, 4):
        matching.need(start=TOMORROW_9 + timedelta(hours=hour))
    assert matching.match_of(first)["volunteer_id"] == near
    assert matching.events("MatchCancelled") == []
    assert len(matching.matches(status="proposed")) == len(matching.events("MatchProposed")) == 4


def test_a_new_need_computes_one_explanation_and_leaves_the_others_untouched(
        matching: MatchingService, explanations: list[str]) -> None:
    matching.volunteer()
    matching.volunteer(village="belno")
    for hour in range(3):
        matching.need(start=TOMORROW_9 + timedelta(hours=hour))
    before = {m["id"]: (m["explanation"], m["updated_at"]) for m in matching.matches()}
    explanations.clear()
    need_id = matching.need(village="belno")
    assert len(explanations) == 1
    assert {m["id"]: (m["explanation"], m["updated_at"]) for m in matching.matches()
            if m["need_id"] != need_id} == before


def test_a_full_re_solve_that_changes_nothing_recomputes_no_explanation(
        matching: MatchingService, explanations: list[str]) -> None:
    matching.volunteer()
    matching.volunteer(village="belno")
    matching.need()
    matching.need(village="belno")
    before = {m["id"]: (m["explanation"], m["score"]) for m in matching.matches()}
    explanations.clear()
    matching.volunteer(village="umer", categories=("TOW",))  # a volunteer event: the full re-solve runs
    assert explanations == []
    assert {m["id"]: (m["explanation"], m["score"]) for m in matching.matches()} == before
    assert [e["type"] for e in matching.events()] == ["MatchProposed", "MatchProposed"]


def test_a_new_proposal_on_the_bus_carries_its_own_explanation(matching: MatchingService) -> None:
    matching.volunteer()
    matching.need()
    second = matching.need(start=TOMORROW_9 + timedelta(hours=2))
    [event] = [e for e in matching.events("MatchProposed") if e["need_id"] == second]
    row = matching.match_of(second)
    assert event["match_id"] == row["id"] and event["explanation"] == row["explanation"]
    assert event["explanation"]["funnel"]["examined"] == 1 and event["score"] == row["score"]


def test_the_worker_solves_once_for_a_whole_poll_batch(matching: MatchingService) -> None:
    matching.volunteer()
    matching.volunteer(village="belno")
    service = matching.service
    loop = BatchTickLoop("matching", service.loop.consumer, service.loop.dlq, service.db, CONSUMES,
                         handlers(service.outbox, clock=lambda: matching.now, settings=matching.settings, tick=False),
                         settings=matching.settings, clock=lambda: matching.now)
    service.loop = loop
    for hour in range(3):
        data = {"need_id": new_id(), "resident_ref": "R-1", "category": "ZAK", "village": "zagnansk",
                "window_start": (TOMORROW_9 + timedelta(hours=hour)).isoformat(),
                "window_end": (TOMORROW_9 + timedelta(hours=hour + 4)).isoformat(),
                "duration_minutes": 60, "urgent": False, "slots": 1}
        event = new_event(CONSUMES, "needs", "NeedRegistered", data["need_id"], data)
        matching.producer.send(config.topic("needs"), data["need_id"].encode(), encode(event), [])
    matching.producer.flush()
    matching.system.pump()
    assert (loop.stats["handled"], loop.stats["solves"], loop.stats["proposed"]) == (3, 1, 3)
    assert len(matching.matches(status="proposed")) == 3


def test_an_idle_worker_ticks_at_most_every_idle_interval(matching: MatchingService) -> None:
    service, clock = matching.service, [0.0]
    loop = BatchTickLoop("matching", service.loop.consumer, service.loop.dlq, service.db, CONSUMES,
                         handlers(service.outbox, clock=lambda: matching.now, settings=matching.settings, tick=False),
                         settings=matching.settings, clock=lambda: matching.now, idle_tick_s=1.0,
                         monotonic=lambda: clock[0])
    ticks: list[float] = []
    real = loop.tick

    def counting(quiet: bool = False) -> dict[str, int]:
        ticks.append(clock[0])
        return real(quiet)

    loop.tick = counting  # type: ignore[method-assign]
    for now in (0.0, 0.4, 0.9, 1.2, 1.5, 2.3):
        clock[0] = now
        loop.run_once(0)
    assert ticks == [0.0, 1.2, 2.3]


def test_a_kept_proposal_whose_load_moved_gets_its_score_patched_not_its_explanation_recomputed(
        matching: MatchingService, explanations: list[str]) -> None:
    matching.volunteer()
    first, second = matching.need(), matching.need(start=TOMORROW_9 + timedelta(hours=2))
    funnels = {m["need_id"]: m["explanation"]["funnel"] for m in matching.matches()}
    explanations.clear()
    matching.volunteer(village="umer", categories=("TOW",))  # the full re-solve prices both on one provider
    assert explanations == []
    loads = sorted(matching.match_of(n)["explanation"]["terms"]["load"] for n in (first, second))
    load_cost = matching.settings.weights.load_cost  # convex: the 1st unit costs 1×, the 2nd 3×
    assert loads == [load_cost, 3 * load_cost]
    for need_id in (first, second):
        row = matching.match_of(need_id)
        terms = row["explanation"]["terms"]
        assert row["score"] == terms["distance"] + terms["load"] - terms["continuity"]
        assert row["explanation"]["funnel"] == funnels[need_id]
    assert len(matching.events("MatchProposed")) == 2 and matching.events("MatchCancelled") == []
