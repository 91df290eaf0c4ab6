"""Holding back easy needs: a normal need far ahead that many providers could serve is proposed only
`hold_hours` before its visit, so their time stays free meanwhile for needs only they can serve."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bench.matching.service_harness import NOW, MatchingService
from services.matching import model, review, store
from services.matching.db import unmet_needs
from services.matching.settings import Settings
from services.matching.solver import HELD, UNMET_REASONS_PL

IN_FIVE_DAYS_9 = (NOW + timedelta(days=5)).replace(hour=9)
SETTINGS = Settings(resolve_interval=timedelta(0), hold_hours=48, hold_min_providers=4)


@pytest.fixture
def matching(tmp_path):  # type: ignore[no-untyped-def]
    service = MatchingService(tmp_path, SETTINGS)
    yield service
    service.close()


def verdict(matching: MatchingService, need_id: str) -> sa.RowMapping | None:
    with matching.service.db.engine.connect() as conn:
        return conn.execute(sa.select(unmet_needs).where(unmet_needs.c.need_id == need_id)).mappings().first()


def volunteers(matching: MatchingService, count: int) -> list[str]:
    return [matching.volunteer() for _ in range(count)]


def test_an_easy_need_far_ahead_is_held_then_proposed_two_days_before_the_visit(matching) -> None:  # type: ignore[no-untyped-def]
    volunteers(matching, 4)
    need = matching.need(start=IN_FIVE_DAYS_9)
    matching.tick()
    assert matching.matches(need_id=need) == []
    assert not matching.events("MatchProposed")
    held = verdict(matching, need)
    assert held is not None and held["code"] == HELD and held["reason"] == UNMET_REASONS_PL[HELD]
    assert "Odłożona" in held["reason"]

    matching.now = IN_FIVE_DAYS_9 - timedelta(hours=48, minutes=1)
    matching.tick()
    assert matching.matches(need_id=need) == []  # not yet

    matching.now = IN_FIVE_DAYS_9 - timedelta(hours=48)
    matching.tick()
    assert matching.match_of(need)["status"] == model.PROPOSED
    assert [e["need_id"] for e in matching.events("MatchProposed")] == [need]
    assert verdict(matching, need) is None


def test_a_full_re_solve_keeps_a_held_need_held(matching) -> None:  # type: ignore[no-untyped-def]
    volunteers(matching, 4)
    need = matching.need(start=IN_FIVE_DAYS_9)
    matching.tick()
    with matching.service.db.transaction() as session:
        store.mark_dirty(session)
    assert matching.tick()["solves"] == 1
    assert matching.matches(need_id=need) == []
    held = verdict(matching, need)
    assert held is not None and held["code"] == HELD


@pytest.mark.parametrize("case", ["too few able providers", "urgent", "visit within the hold", "hold off"])
def test_other_needs_are_proposed_at_once(tmp_path, case: str) -> None:  # type: ignore[no-untyped-def]
    settings = replace(SETTINGS, hold_hours=0) if case == "hold off" else SETTINGS
    matching = MatchingService(tmp_path, settings)
    try:
        volunteers(matching, 3 if case == "too few able providers" else 4)
        start = NOW + timedelta(hours=47) if case == "visit within the hold" else IN_FIVE_DAYS_9
        need = matching.need(start=start, urgent=case == "urgent")
        matching.tick()
        assert matching.match_of(need)["status"] == model.PROPOSED
        assert verdict(matching, need) is None
    finally:
        matching.close()


def test_only_providers_who_could_serve_it_count_as_able(matching) -> None:  # type: ignore[no-untyped-def]
    volunteers(matching, 3)
    matching.volunteer(categories=("TRN",))  # offers transport only: cannot do the shopping
    need = matching.need(start=IN_FIVE_DAYS_9)
    matching.tick()
    assert matching.match_of(need)["status"] == model.PROPOSED


def test_a_need_staff_have_seen_is_not_held_later(matching) -> None:  # type: ignore[no-untyped-def]
    volunteers(matching, 3)
    need = matching.need(start=IN_FIVE_DAYS_9)  # too few able providers: proposed at once
    matching.tick()
    first = matching.match_of(need)
    matching.volunteer()  # now there would be enough to hold it
    matching.act(review.reject, first["id"], "Ta osoba nie zna okolicy", "Anna (OSL)", matching.now)
    matching.tick()
    again = matching.match_of(need)  # the rejection re-solves it and it gets another proposal at once
    assert again["volunteer_id"] != first["volunteer_id"]
    assert verdict(matching, need) is None


def test_turning_the_hold_off_proposes_the_needs_still_held(matching) -> None:  # type: ignore[no-untyped-def]
    volunteers(matching, 4)
    need = matching.need(start=IN_FIVE_DAYS_9)
    matching.tick()
    assert matching.matches(need_id=need) == []
    matching.settings = replace(SETTINGS, hold_hours=0)  # e.g. MATCHING_HOLD_HOURS=0 after a restart
    matching.tick()
    assert matching.match_of(need)["status"] == model.PROPOSED
