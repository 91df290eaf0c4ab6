"""Stateful property: over any order of occurrences registered, Kamilka checks revoked, expired and renewed,
absences added, the series committed to and stepped back from, occurrences cancelled and time passing, matching
never accepts (nor keeps accepted, visit still ahead) an occurrence of a series involving a minor for a provider
who fails a gate at that occurrence's time: no check in date on its Warsaw day, or away that day."""
from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bench.matching.service_harness import NOW, TOMORROW_9, WRITTEN_AGREEMENT, MatchingService, new_id
from services.matching import model, series
from services.matching.model import NotAllowed
from wspolnota.localtime import local_day

WEEKS = 5
SERIES = "00000000-0000-4000-8000-0000000005e1"
ENDS = [local_day(TOMORROW_9 + timedelta(days=7 * k + 1)) for k in range(WEEKS)] + [date(2027, 6, 30)]


def visit_day(week: int) -> date:
    return local_day(TOMORROW_9 + timedelta(days=7 * week))


class SeriesCommitments(RuleBasedStateMachine):
    @initialize(until=st.sampled_from(ENDS), weeks=st.sets(st.integers(0, WEEKS - 1), max_size=3))
    def start(self, until: date, weeks: set[int]) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.s = MatchingService(Path(self.dir.name))
        self.checks: dict[str, date] = {new_id(): until}  # the committed-to-be provider's Kamilka checks
        self.away: set[date] = set()
        self.occurrences: dict[str, date] = {}  # need id → the visit's Warsaw day
        self.weeks: dict[int, str] = {}
        self.seen = 0
        self.volunteer = self.provider("zagnansk", self.checks)
        self.backup = self.provider("kajetanow", {new_id(): date(2027, 6, 30)}, radius_km=15)
        for week in sorted(weeks):  # some occurrences registered up front, the others by the rule below
            self.register_occurrence(week)

    def teardown(self) -> None:
        self.s.close()
        self.dir.cleanup()

    @staticmethod
    def kamilka(checks: dict[str, date]) -> list[dict[str, str]]:
        return [{"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": until.isoformat(),
                 "credential_id": cid} for cid, until in checks.items()]

    def provider(self, village: str, checks: dict[str, date], **over: object) -> str:
        volunteer_id = self.s.volunteer(village=village, categories=("KOR",), offer=False,
                                        credentials=self.kamilka(checks), **over)
        self.s.offer(volunteer_id, village=village, categories=("KOR",),
                     available_to=(NOW + timedelta(days=45)).isoformat())
        return volunteer_id

    def publish(self, event_type: str, data: dict) -> None:  # type: ignore[type-arg]
        self.s.publish("volunteers", event_type, self.volunteer, {"volunteer_id": self.volunteer, **data})
        self.check()

    # -- the needs service ------------------------------------------------------------------------------
    @rule(week=st.integers(0, WEEKS - 1))
    def register_occurrence(self, week: int) -> None:
        if week in self.weeks:
            return
        start = TOMORROW_9 + timedelta(days=7 * week)
        need_id = self.s.need(start=start, category="KOR", involves_minor=True, series_id=SERIES,
                              plan_ref="IPUS/7/2026", continuity=True)
        self.weeks[week], self.occurrences[need_id] = need_id, local_day(start)
        self.check()

    @precondition(lambda self: self.weeks)
    @rule(week=st.integers(0, WEEKS - 1))
    def cancel_occurrence(self, week: int) -> None:
        need_id = self.weeks.get(week)
        if need_id is not None:
            self.s.publish("needs", "NeedCancelled", need_id, {"need_id": need_id, "reason": "cancelled",
                                                               "series_id": SERIES})
            self.check()

    # -- the volunteers service ------------------------------------------------------------------------
    @rule(until=st.sampled_from(ENDS))
    def renew(self, until: date) -> None:
        cid = new_id()
        self.checks[cid] = until
        self.publish("CredentialRecorded", {"credential_id": cid, "kind": "kamilka_check",
                                            "valid_from": "2026-01-01", "valid_until": until.isoformat()})

    @precondition(lambda self: self.checks)
    @rule(which=st.integers(0, 5), adverse=st.booleans())
    def revoke(self, which: int, adverse: bool) -> None:
        cid = sorted(self.checks)[which % len(self.checks)]
        del self.checks[cid]
        self.publish("CredentialRevoked", {"credential_id": cid, "kind": "kamilka_check",
                                           "reason": "adverse_result" if adverse else "revoked_by_staff"})

    @precondition(lambda self: self.checks)
    @rule(which=st.integers(0, 5))
    def expire(self, which: int) -> None:
        cid = sorted(self.checks)[which % len(self.checks)]
        until = self.checks.pop(cid)
        self.publish("CredentialExpired", {"credential_id": cid, "kind": "kamilka_check",
                                           "valid_until": until.isoformat()})

    @rule(week=st.integers(0, WEEKS - 1))
    def absence(self, week: int) -> None:
        self.away.add(visit_day(week))
        self.publish("VolunteerUpdated", {
            "provider_type": "volunteer", "villages": ["zagnansk"], "verified": True,
            "credentials": [*self.kamilka(self.checks), WRITTEN_AGREEMENT],
            "unavailable": [{"starts_on": d.isoformat(), "ends_on": d.isoformat()} for d in sorted(self.away)]})

    # -- the provider --------------------------------------------------------------------------------
    def mine(self, status: str) -> list[dict]:  # type: ignore[type-arg]
        return [m for m in self.s.matches(volunteer_id=self.volunteer, status=status)
                if m["need_id"] in self.occurrences]

    @precondition(lambda self: self.weeks)
    @rule(index=st.integers(0, 4))
    def commit(self, index: int) -> None:
        """Accept a proposal or an offer to them "for the whole series"."""
        for row in self.mine("proposed"):
            self.s.approve(row["id"])
            break
        offered = self.mine("offered")
        if offered:
            row = offered[index % len(offered)]
            self.s.respond(row["id"], self.volunteer, "accept", scope="series")
        self.check()

    @precondition(lambda self: self.weeks)
    @rule(index=st.integers(0, 4), whole=st.booleans())
    def step_back(self, index: int, whole: bool) -> None:
        accepted = self.mine("accepted")
        if accepted:
            row = accepted[index % len(accepted)]
            try:
                self.s.act(series.step_back, row["id"], self.volunteer, "series" if whole else "visit", "other",
                           "wykonawca", self.s.now, self.s.settings)
            except NotAllowed:
                pass
        self.check()

    @rule(hours=st.integers(1, 80))
    def time_passes(self, hours: int) -> None:
        self.s.now += timedelta(hours=hours)
        self.s.tick()
        self.check()

    # -- the property ---------------------------------------------------------------------------------
    def passes(self, need_id: str) -> bool:
        day = self.occurrences[need_id]
        return day not in self.away and any(day <= until for until in self.checks.values())

    def check(self) -> None:
        events = self.s.events()
        for event in events[self.seen:]:
            if event["type"] == "MatchAccepted" and event["volunteer_id"] == self.volunteer:
                assert self.passes(event["need_id"]), event
        self.seen = len(events)

    @invariant()
    def no_occurrence_is_kept_for_a_provider_failing_a_gate(self) -> None:
        if not hasattr(self, "s"):
            return
        for row in self.mine(model.ACCEPTED):
            if row["agreed_start"] > self.s.now:
                assert self.passes(row["need_id"]), dict(row)


def test_stepping_back_from_a_week_the_commitment_already_let_go_is_no_crash() -> None:
    """Found by the machine: a week stepped back from twice (after a renewal, a cancellation and a second commit)
    once inserted its skip twice and failed on the primary key."""
    state = SeriesCommitments()
    state.start(weeks={1, 2, 3}, until=date(2026, 12, 12))
    for step in (lambda: state.commit(index=0), lambda: state.renew(until=date(2026, 12, 5)),
                 lambda: state.register_occurrence(week=1), lambda: state.expire(which=0),
                 lambda: state.cancel_occurrence(week=0), lambda: state.renew(until=date(2026, 12, 5)),
                 lambda: state.step_back(index=1, whole=False), lambda: state.renew(until=date(2026, 12, 26)),
                 lambda: state.commit(index=3), lambda: state.cancel_occurrence(week=2),
                 lambda: state.renew(until=date(2026, 12, 5)), lambda: state.step_back(index=0, whole=False)):
        step()
        state.no_occurrence_is_kept_for_a_provider_failing_a_gate()
    state.teardown()


SeriesCommitments.TestCase.settings = settings(max_examples=30, stateful_step_count=15, deadline=None, database=None,
                                               suppress_health_check=[HealthCheck.too_slow])
test_series_commitments_never_keep_a_visit_for_someone_failing_a_gate = SeriesCommitments.TestCase
