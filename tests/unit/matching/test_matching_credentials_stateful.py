"""Stateful property: over any sequence of Kamilka checks recorded, renewed, revoked (an adverse result with
the safety pause, or by staff), expired and profiles edited, with needs involving minors and time passing,
matching — through its event path — never proposes, offers or keeps (accepted, visit still ahead) a person
whose checks do not cover the visit's day."""
from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bench.matching.service_harness import TOMORROW_9, WRITTEN_AGREEMENT, MatchingService, new_id
from services.matching import model
from wspolnota.localtime import local_day

ENDS = [date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 29), date(2027, 6, 30)]  # around the visits


class KamilkaChecks(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.s = MatchingService(Path(self.dir.name))
        self.held: dict[str, dict[str, date]] = {}  # volunteer → credential id → valid_until (counting now)
        self.paused: set[str] = set()
        self.visit_day: dict[str, date] = {}  # minor-related needs → the visit's Warsaw day
        self.seen = 0

    def teardown(self) -> None:
        self.s.close()
        self.dir.cleanup()

    # -- the volunteers service, as the contract says it publishes ----------------------------------
    def publish(self, event_type: str, volunteer_id: str, data: dict) -> None:  # type: ignore[type-arg]
        self.s.publish("volunteers", event_type, volunteer_id, {"volunteer_id": volunteer_id, **data})
        self.check()

    @staticmethod
    def payload(credential_id: str, until: date) -> dict[str, str]:
        return {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": until.isoformat(),
                "credential_id": credential_id}

    @rule(until=st.sampled_from(ENDS), checked=st.booleans())
    def register(self, until: date, checked: bool) -> None:
        volunteer_id, credential_id = new_id(), new_id()
        self.held[volunteer_id] = {credential_id: until} if checked else {}
        self.s.volunteer(categories=("KOR", "OPI", "ZAK"), radius_km=12, volunteer_id=volunteer_id,
                         credentials=[self.payload(credential_id, until)] if checked else [])
        self.check()

    def volunteer(self, index: int) -> str:
        return sorted(self.held)[index % len(self.held)]

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 9), until=st.sampled_from(ENDS))
    def record_latest_check(self, index: int, until: date) -> None:
        """A new clean check decides: recorded, then the earlier ones superseded."""
        vid, new = self.volunteer(index), new_id()
        self.held[vid][new] = until
        self.publish("CredentialRecorded", vid, self.payload(new, until))
        for old in [c for c in self.held[vid] if c != new]:
            del self.held[vid][old]
            self.publish("CredentialRevoked", vid, {"credential_id": old, "kind": "kamilka_check",
                                                    "reason": "superseded"})

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 9), until=st.sampled_from(ENDS))
    def renew(self, index: int, until: date) -> None:
        """A renewal recorded before the old one ends; the old one stays until its own expiry."""
        vid, new = self.volunteer(index), new_id()
        self.held[vid][new] = until
        self.publish("CredentialRecorded", vid, self.payload(new, until))

    @precondition(lambda self: any(self.held.values()))
    @rule(index=st.integers(0, 9))
    def adverse_result(self, index: int) -> None:
        vid = self.volunteer(index)
        for old in list(self.held[vid]):
            del self.held[vid][old]
            self.publish("CredentialRevoked", vid, {"credential_id": old, "kind": "kamilka_check",
                                                    "reason": "adverse_result"})
        self.paused.add(vid)
        self.publish("VolunteerPaused", vid, {"reason": "safety_review"})

    @precondition(lambda self: any(self.held.values()))
    @rule(index=st.integers(0, 9), which=st.integers(0, 3))
    def revoke(self, index: int, which: int) -> None:
        vid = self.volunteer(index)
        if self.held[vid]:
            old = sorted(self.held[vid])[which % len(self.held[vid])]
            del self.held[vid][old]
            self.publish("CredentialRevoked", vid, {"credential_id": old, "kind": "kamilka_check",
                                                    "reason": "revoked_by_staff"})

    @precondition(lambda self: any(self.held.values()))
    @rule(index=st.integers(0, 9), which=st.integers(0, 3))
    def expire(self, index: int, which: int) -> None:
        vid = self.volunteer(index)
        if self.held[vid]:
            old = sorted(self.held[vid])[which % len(self.held[vid])]
            until = self.held[vid].pop(old)
            self.publish("CredentialExpired", vid, {"credential_id": old, "kind": "kamilka_check",
                                                    "valid_until": until.isoformat()})

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 9))
    def edit(self, index: int) -> None:
        """The profile edited: the snapshot lists the credentials that count."""
        vid = self.volunteer(index)
        self.publish("VolunteerUpdated", vid, {
            "provider_type": "volunteer", "villages": ["zagnansk"], "verified": True, "radius_km": 12,
            "paused": vid in self.paused,
            "credentials": [self.payload(c, u) for c, u in self.held[vid].items()] + [WRITTEN_AGREEMENT]})

    @rule(category=st.sampled_from(["KOR", "OPI", "ZAK"]), minor=st.booleans(), days=st.integers(0, 3))
    def need(self, category: str, minor: bool, days: int) -> None:
        start = TOMORROW_9 + timedelta(days=days)
        need_id = self.s.need(category=category, involves_minor=minor, start=start)
        if category == "KOR" or minor:
            self.visit_day[need_id] = local_day(start)
        self.check()

    @precondition(lambda self: self.s.matches(status="proposed"))
    @rule(index=st.integers(0, 9))
    def approve(self, index: int) -> None:
        rows = self.s.matches(status="proposed")
        self.s.approve(rows[index % len(rows)]["id"])
        self.check()

    @precondition(lambda self: self.s.matches(status="offered"))
    @rule(index=st.integers(0, 9))
    def accept(self, index: int) -> None:
        rows = self.s.matches(status="offered")
        row = rows[index % len(rows)]
        self.s.respond(row["id"], row["volunteer_id"], "accept")
        self.check()

    @rule(hours=st.integers(1, 30))
    def time_passes(self, hours: int) -> None:
        self.s.now += timedelta(hours=hours)
        self.s.tick()
        self.check()

    # -- the property ---------------------------------------------------------------------------
    def covered(self, volunteer_id: str, need_id: str) -> bool:
        day = self.visit_day[need_id]
        return volunteer_id not in self.paused and any(
            day <= until for until in self.held.get(volunteer_id, {}).values())

    def check(self) -> None:
        events = self.s.events()
        for event in events[self.seen:]:
            if event["type"] in ("MatchProposed", "MatchApproved", "MatchOffered", "MatchAccepted") \
                    and event["need_id"] in self.visit_day:
                assert self.covered(event["volunteer_id"], event["need_id"]), event
        self.seen = len(events)

    @invariant()
    def nobody_uncovered_is_kept_on_a_visit_with_a_minor(self) -> None:
        if not hasattr(self, "s"):
            return
        for row in self.s.matches():
            if row["status"] in model.ACTIVE and row["need_id"] in self.visit_day \
                    and row["window_start"].replace(tzinfo=None) >= self.s.now.replace(tzinfo=None):
                assert self.covered(row["volunteer_id"], row["need_id"]), dict(row)


KamilkaChecks.TestCase.settings = settings(max_examples=25, stateful_step_count=14, deadline=None, database=None,
                                           suppress_health_check=[HealthCheck.too_slow])
test_kamilka_checks_through_matchings_event_path = KamilkaChecks.TestCase
