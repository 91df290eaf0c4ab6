"""Through the whole service — helpers wanted, offers, answers, timeouts, credential changes in any order — no
place at an activity with children is offered to or held by a provider without a Kamilka check in date on its day."""
from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_matching_service_kamilka_property import CHECKS, credential, in_date

from bench.matching.service_harness import TOMORROW_9, MatchingService, new_id
from services.matching.db import helper_offers

steps = st.lists(st.one_of(
    st.tuples(st.just("volunteer"), st.sampled_from(sorted(CHECKS))),
    st.tuples(st.just("wanted"), st.booleans(), st.integers(1, 3)),
    st.tuples(st.just("respond"), st.integers(0, 5), st.sampled_from(["accept", "decline"])),
    st.tuples(st.just("check"), st.integers(0, 7), st.sampled_from(sorted(CHECKS))),
    st.tuples(st.just("later"), st.integers(10, 180)),
), min_size=3, max_size=14)


class World:
    def __init__(self, service: MatchingService):
        self.s = service
        self.checks: dict[str, object] = {}
        self.check_ids: dict[str, str] = {}
        self.children: dict[str, bool] = {}

    def offers(self) -> list[sa.RowMapping]:
        with self.s.service.db.engine.connect() as conn:
            return list(conn.execute(sa.select(helper_offers).order_by(helper_offers.c.created_at,
                                                                       helper_offers.c.id)).mappings())

    def step(self, step: tuple) -> None:  # type: ignore[type-arg]
        kind, *args = step
        s = self.s
        if kind == "volunteer":
            check, check_id = CHECKS[args[0]], new_id()
            vid = s.volunteer(credentials=[credential(check, check_id)] if check else [])
            self.checks[vid], self.check_ids[vid] = check, check_id
        elif kind == "wanted":
            activity_id = str(uuid.uuid4())
            self.children[activity_id] = args[0]
            s.publish("community", "HelpersWanted", activity_id, {
                "activity_id": activity_id, "count": args[1], "involves_children": args[0], "category": None,
                "village": "zagnansk", "starts_at": TOMORROW_9.isoformat(),
                "ends_at": (TOMORROW_9 + timedelta(hours=2)).isoformat()})
        elif kind == "respond" and (rows := [r for r in self.offers() if r["status"] == "offered"]):
            row = rows[args[0] % len(rows)]
            s.publish("notifications", "ProviderResponded", row["id"], {
                "match_id": row["id"], "volunteer_id": row["volunteer_id"], "response": args[1], "reason": "",
                "activity_id": row["activity_id"]})
        elif kind == "check" and self.checks:
            vid = sorted(self.checks)[args[0] % len(self.checks)]
            check = CHECKS[args[1]]
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
        for row in self.offers():
            if row["status"] in ("offered", "accepted") and self.children[row["activity_id"]]:
                assert in_date(self.checks[row["volunteer_id"]]), dict(row)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
@example([("volunteer", "valid"), ("volunteer", "none"), ("volunteer", "future"), ("wanted", True, 3),
          ("respond", 0, "accept"), ("check", 0, "expired"), ("later", 30)])
@example([("volunteer", "valid"), ("volunteer", "valid"), ("wanted", True, 1), ("respond", 0, "decline"),
          ("check", 1, "none"), ("later", 130)])
def test_no_place_at_an_activity_with_children_goes_to_a_provider_without_an_in_date_check(plan) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as workdir:
        service = MatchingService(Path(workdir))
        try:
            world = World(service)
            for step in plan:
                world.step(step)
                world.assert_gate_held()
        finally:
            service.close()
