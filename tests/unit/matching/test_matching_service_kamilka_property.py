"""Through the whole service — events in, re-solves, reviews, cascade, picks, credential changes — no
minor-related need is ever proposed or offered to a provider without an in-date Kamilka check, and none
stays matched to one after the check lapses."""
from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.matching.service_harness import TOMORROW_9, MatchingService, new_id
from services.matching import model, review

DAY = TOMORROW_9.date()
CHECKS = {  # (valid_from, valid_until) of a Kamilka check, or none
    "none": None,
    "valid": (date(2026, 1, 1), date(2027, 6, 30)),
    "expired": (date(2025, 1, 1), date(2026, 11, 26)),
    "future": (date(2026, 12, 1), None),
}
VILLAGES = ("zagnansk", "belno", "kajetanow")

steps = st.lists(st.one_of(
    st.tuples(st.just("volunteer"), st.sampled_from(sorted(CHECKS)), st.sampled_from(VILLAGES),
              st.sampled_from([("KOR",), ("OPI", "ZAK"), ("KOR", "OPI", "ZAK")])),
    st.tuples(st.just("need"), st.sampled_from(["KOR", "OPI", "ZAK"]), st.booleans(), st.booleans(),
              st.integers(1, 2)),
    st.tuples(st.just("approve"), st.integers(0, 5)),
    st.tuples(st.just("respond"), st.integers(0, 5), st.sampled_from(["accept", "decline"])),
    st.tuples(st.just("pick"), st.integers(0, 5), st.integers(0, 7)),
    st.tuples(st.just("check"), st.integers(0, 7), st.sampled_from(sorted(CHECKS))),
    st.tuples(st.just("later"), st.integers(10, 180)),
), min_size=3, max_size=14)


def in_date(check: tuple[date, date | None] | None) -> bool:
    return check is not None and check[0] <= DAY and (check[1] is None or DAY <= check[1])


def credential(check: tuple[date, date | None], credential_id: str) -> dict[str, str | None]:
    return {"kind": "kamilka_check", "valid_from": check[0].isoformat(),
            "valid_until": check[1].isoformat() if check[1] else None, "credential_id": credential_id}


class World:
    def __init__(self, service: MatchingService):
        self.s = service
        self.checks: dict[str, tuple[date, date | None] | None] = {}
        self.check_ids: dict[str, str] = {}  # the volunteer's current check, by credential id
        self.minors: dict[str, bool] = {}
        self.seen = 0

    def step(self, step: tuple) -> None:  # type: ignore[type-arg]
        kind, *args = step
        s = self.s
        if kind == "volunteer":
            check, village, categories = CHECKS[args[0]], args[1], args[2]
            check_id = new_id()
            vid = s.volunteer(village=village, categories=categories, radius_km=12,
                              credentials=[credential(check, check_id)] if check else [])
            self.checks[vid], self.check_ids[vid] = check, check_id
        elif kind == "need":
            category, minor, urgent, slots = args
            nid = s.need(category=category, involves_minor=minor, urgent=urgent, slots=slots)
            self.minors[nid] = category == "KOR" or minor
        elif kind == "approve" and (rows := s.matches(status="proposed")):
            s.approve(rows[args[0] % len(rows)]["id"])
        elif kind == "respond" and (rows := s.matches(status="offered")):
            row = rows[args[0] % len(rows)]
            s.respond(row["id"], row["volunteer_id"], args[1])
        elif kind == "pick" and (rows := s.matches(status="proposed")) and self.checks:
            people = sorted(self.checks)
            try:
                s.act(review.pick, rows[args[0] % len(rows)]["id"], people[args[1] % len(people)], "Anna", s.now,
                      s.settings)
            except model.NotAllowed:
                pass
        elif kind == "check" and self.checks:
            vid = sorted(self.checks)[args[0] % len(self.checks)]
            check = CHECKS[args[1]]
            # the latest check decides: the one before it is superseded (or simply expires)
            if check is None:
                s.publish("volunteers", "CredentialExpired", vid, {"volunteer_id": vid, "kind": "kamilka_check",
                                                                   "credential_id": self.check_ids[vid]})
            else:
                check_id = new_id()
                s.publish("volunteers", "CredentialRecorded", vid, {"volunteer_id": vid,
                                                                    **credential(check, check_id)})
                s.publish("volunteers", "CredentialRevoked", vid, {
                    "volunteer_id": vid, "kind": "kamilka_check", "credential_id": self.check_ids[vid],
                    "reason": "superseded"})
                self.check_ids[vid] = check_id
            self.checks[vid] = check
        elif kind == "later":
            s.now += timedelta(minutes=args[0])
            s.tick()

    def assert_gate_held(self) -> None:
        events = self.s.events()
        for event in events[self.seen:]:
            if event["type"] in ("MatchProposed", "MatchApproved", "MatchOffered", "MatchAccepted"):
                if self.minors[event["need_id"]]:
                    assert in_date(self.checks[event["volunteer_id"]]), event
        self.seen = len(events)
        for row in self.s.matches():
            if row["status"] in model.ACTIVE and self.minors[row["need_id"]]:
                assert in_date(self.checks[row["volunteer_id"]]), dict(row)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
@example([("volunteer", "valid", "zagnansk", ("KOR",)), ("volunteer", "none", "zagnansk", ("KOR",)),
          ("volunteer", "expired", "belno", ("KOR",)), ("need", "KOR", False, False, 1),
          ("pick", 0, 1), ("pick", 0, 2), ("approve", 0), ("check", 0, "expired"), ("later", 30)])
# A lapsed check while proposals are pending, then more needs: the events land in several partitions
# (once made the harness re-check an old proposal against the new state; see docs/benchmarks.md).
@example([("need", "KOR", True, False, 2), ("volunteer", "valid", "zagnansk", ("KOR",)),
          ("need", "KOR", True, True, 2), ("need", "KOR", True, True, 2), ("check", 2, "none"),
          ("need", "KOR", True, True, 2)])
@example([("volunteer", "valid", "zagnansk", ("OPI", "ZAK")), ("volunteer", "future", "zagnansk", ("OPI", "ZAK")),
          ("need", "OPI", True, True, 2), ("approve", 0), ("respond", 0, "decline"), ("later", 40),
          ("check", 0, "none"), ("later", 40)])
def test_no_service_path_matches_a_minor_related_need_without_an_in_date_kamilka_check(plan) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as workdir:
        service = MatchingService(Path(workdir))
        try:
            world = World(service)
            for step in plan:
                world.step(step)
                world.assert_gate_held()
        finally:
            service.close()
