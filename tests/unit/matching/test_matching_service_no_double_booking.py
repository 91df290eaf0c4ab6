"""No double booking: a visit has an agreed time inside the need's window and the provider's free time, and
that time is reserved for the provider — the solver, the cascade and staff picks never give one provider two
visits that overlap."""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.matching.service_harness import TOMORROW_9, MatchingService
from services.matching import model, review

HOLDING = (*model.COMMITTED, model.COMPLETED)  # a visit the provider has been told of, or may still accept


def visit(matching: MatchingService, row) -> tuple[datetime, datetime]:  # type: ignore[no-untyped-def]
    """The visit's time as the provider knows it: the agreed time, else (older rows) the window's start."""
    if row["agreed_start"] is not None:
        return row["agreed_start"], row["agreed_end"]
    duration = timedelta(minutes=matching.durations[row["need_id"]])
    return row["window_start"], row["window_start"] + duration


def assert_no_provider_holds_two_overlapping_visits(matching: MatchingService,
                                                    statuses: tuple[str, ...] = HOLDING) -> None:
    held: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for row in matching.matches():
        if row["status"] in statuses:
            start, end = visit(matching, row)
            held.setdefault(row["volunteer_id"], []).append((start, end, row["id"]))
    for volunteer_id, visits in held.items():
        visits.sort()
        for (_, end, first), (start, _, second) in zip(visits, visits[1:], strict=False):
            assert end <= start, f"{volunteer_id} holds {first} and {second} at the same time"


def need(matching: MatchingService, start: datetime = TOMORROW_9, window_hours: float = 4,
         minutes: int = 60, **over) -> str:  # type: ignore[no-untyped-def]
    need_id = matching.need(start=start, window_end=(start + timedelta(hours=window_hours)).isoformat(),
                            duration_minutes=minutes, **over)
    matching.durations[need_id] = minutes
    return need_id


def service(workdir: Path) -> MatchingService:
    matching = MatchingService(workdir)
    matching.durations = {}  # type: ignore[attr-defined]
    return matching


def test_two_needs_given_to_one_provider_in_one_solve_get_times_that_do_not_overlap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    matching = service(tmp_path)
    volunteer = matching.volunteer()
    first, second = need(matching), need(matching)
    rows = [matching.match_of(first), matching.match_of(second)]
    assert {r["volunteer_id"] for r in rows} == {volunteer}
    assert sorted(visit(matching, r) for r in rows) == [
        (TOMORROW_9, TOMORROW_9 + timedelta(hours=1)), (TOMORROW_9 + timedelta(hours=1), TOMORROW_9 + timedelta(hours=2))]
    for row in rows:
        matching.approve(row["id"])
    from services.matching.app import create_app

    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "SECRET_KEY": "test", "MATCHING_CLOCK": lambda: matching.now,
                      "MATCHING_SETTINGS": matching.settings})
    [later] = [r for r in matching.matches() if r["agreed_start"] == TOMORROW_9 + timedelta(hours=1)]
    page = app.test_client().get(f"/matches/{later['id']}").get_data(as_text=True)
    assert "Termin wizyty" in page and "11:00 – " in page  # 10:00 UTC is 11:00 in Warsaw
    offered = {e["match_id"]: e for e in matching.events("MatchOffered")}
    for row in rows:
        start, end = visit(matching, matching.matches(id=row["id"])[0])
        assert offered[row["id"]]["agreed_start"] == start.isoformat()
        assert offered[row["id"]]["agreed_end"] == end.isoformat()
    matching.close()


def test_a_provider_is_not_given_a_second_need_whose_window_leaves_no_time_beside_the_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    matching = service(tmp_path)
    matching.volunteer()
    need(matching, window_hours=1.5), need(matching, window_hours=1.5)
    assert len(matching.matches(status="proposed")) == 1
    assert_no_provider_holds_two_overlapping_visits(matching, HOLDING + (model.PROPOSED,))
    matching.close()


def test_an_accepted_visit_reserves_its_time_against_later_solves_and_the_cascade(tmp_path) -> None:  # type: ignore[no-untyped-def]
    matching = service(tmp_path)
    busy = matching.volunteer()
    first = need(matching, window_hours=1)
    matching.approve(matching.match_of(first)["id"])
    matching.respond(matching.match_of(first, "offered")["id"], busy, "accept")
    assert visit(matching, matching.match_of(first, "accepted")) == (TOMORROW_9, TOMORROW_9 + timedelta(hours=1))
    second = need(matching, window_hours=1)  # the same hour: only someone else could take it
    assert matching.matches(need_id=second) == []
    other = matching.volunteer(village="kajetanow", radius_km=15)
    matching.tick()
    assert matching.match_of(second)["volunteer_id"] == other
    matching.close()


def test_a_staff_pick_cannot_give_a_provider_a_visit_over_an_offered_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    matching = service(tmp_path)
    busy = matching.volunteer()
    first = need(matching, window_hours=1)
    matching.approve(matching.match_of(first)["id"])
    other = matching.volunteer(village="kajetanow", radius_km=15)
    second = need(matching, window_hours=1)
    proposal = matching.match_of(second)
    assert proposal["volunteer_id"] == other
    try:
        matching.act(review.pick, proposal["id"], busy, "Anna", matching.now, matching.settings)
    except model.NotAllowed as refusal:
        assert "terminu" in str(refusal)
    else:
        raise AssertionError("the pick of a provider busy at that hour was accepted")
    assert_no_provider_holds_two_overlapping_visits(matching)
    matching.close()


def test_one_provider_never_fills_two_slots_of_one_need_by_a_pick_or_an_approval(tmp_path) -> None:  # type: ignore[no-untyped-def]
    matching = service(tmp_path)
    near, other = matching.volunteer(), matching.volunteer(village="kajetanow", radius_km=15)
    two_slots = need(matching, window_hours=2, slots=2)
    proposals = {r["volunteer_id"]: r for r in matching.matches(need_id=two_slots)}
    assert set(proposals) == {near, other}
    try:  # staff pick the provider who already holds the need's other slot
        matching.act(review.pick, proposals[other]["id"], near, "Anna", matching.now, matching.settings)
    except model.NotAllowed as refusal:
        assert "jedno miejsce" in str(refusal)
    else:
        raise AssertionError("one provider was given two slots of one need")
    assert_no_provider_holds_two_overlapping_visits(matching, HOLDING + (model.PROPOSED,))
    matching.close()


VILLAGES = ("zagnansk", "kajetanow")
worlds = st.fixed_dictionaries({
    "providers": st.lists(st.sampled_from(VILLAGES), min_size=1, max_size=3),
    "needs": st.lists(st.tuples(st.integers(0, 6), st.sampled_from([1, 1.5, 2, 3]), st.sampled_from([30, 60, 90]),
                                st.integers(1, 2), st.booleans()), min_size=2, max_size=6),
    "steps": st.lists(st.one_of(
        st.tuples(st.just("approve"), st.integers(0, 7)),
        st.tuples(st.just("respond"), st.integers(0, 7), st.sampled_from(["accept", "accept", "decline"])),
        st.tuples(st.just("pick"), st.integers(0, 7), st.integers(0, 2)),
        st.tuples(st.just("later"), st.integers(10, 150)),
        st.tuples(st.just("need"), st.integers(0, 6), st.sampled_from([1, 2]), st.sampled_from([60, 90])),
    ), min_size=2, max_size=12),
})


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds)
@example({"providers": ["zagnansk"], "needs": [(0, 2, 60, 1, False), (0, 2, 60, 1, False)],
          "steps": [("approve", 0), ("approve", 0), ("respond", 0, "accept"), ("respond", 0, "accept")]})
@example({"providers": ["kajetanow", "kajetanow"], "needs": [(4, 2, 60, 2, True)],
          "steps": [("pick", 0, 1), ("pick", 1, 0), ("approve", 0), ("approve", 0), ("approve", 1)]})
@example({"providers": ["zagnansk", "kajetanow"], "needs": [(0, 1, 60, 2, True), (0, 1, 60, 1, True)],
          "steps": [("approve", 0), ("respond", 0, "decline"), ("later", 40), ("respond", 0, "accept"),
                    ("respond", 1, "accept")]})
def test_no_provider_ever_holds_two_overlapping_visits(world) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as workdir:
        matching = service(Path(workdir))
        try:
            people = [matching.volunteer(village=v, radius_km=15) for v in world["providers"]]
            for start, hours, minutes, slots, urgent in world["needs"]:
                need(matching, TOMORROW_9 + timedelta(hours=start), hours, minutes, slots=slots, urgent=urgent)
                assert_no_provider_holds_two_overlapping_visits(matching)
            for kind, *args in world["steps"]:
                if kind == "approve" and (rows := matching.matches(status="proposed")):
                    try:
                        matching.approve(rows[args[0] % len(rows)]["id"])
                    except model.NotAllowed:
                        pass
                elif kind == "respond" and (rows := matching.matches(status="offered")):
                    row = rows[args[0] % len(rows)]
                    matching.respond(row["id"], row["volunteer_id"], args[1])
                elif kind == "pick" and (rows := matching.matches(status="proposed")):
                    try:
                        matching.act(review.pick, rows[args[0] % len(rows)]["id"], people[args[1] % len(people)],
                                     "Anna", matching.now, matching.settings)
                    except model.NotAllowed:
                        pass
                elif kind == "later":
                    matching.now += timedelta(minutes=args[0])
                    matching.tick()
                elif kind == "need":
                    need(matching, TOMORROW_9 + timedelta(hours=args[0]), args[1], args[2])
                assert_no_provider_holds_two_overlapping_visits(matching)
        finally:
            matching.close()
