"""Over any sequence of clean checks, adverse checks, renewals, revocations, expiry runs on later Warsaw days,
profile edits and resumptions, driven through the service's handlers on a real database and its outbox:

- a person whose latest Kamilka check is adverse, revoked or expired is never eligible for KOR or OPI+minor,
  and a person whose latest check is clean, in date and not revoked (and who is not paused) is;
- the events in the outbox, folded in order as the contract tells consumers to fold them, never leave such a
  person with a counting Kamilka credential, and do leave the person with exactly the deciding one otherwise.
"""
from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.volunteers import handlers, model
from services.volunteers.db import make_db
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox

MINORS = {"KOR", "OPI+minor"}
VALIDITY_DAYS = 365
START = date(2026, 12, 7)
_DB: list[Database] = []


def database() -> Database:
    """One migrated SQLite database for all examples (each example registers its own people)."""
    if not _DB:
        path = Path(tempfile.mkdtemp(prefix="volunteers-state-")) / "volunteers.db"
        db = make_db(f"sqlite:///{path}")
        db.migrate()
        _DB.append(db)
    return _DB[0]


@dataclass
class Check:
    """What the test itself knows about a check it recorded (its own oracle, independent of the service)."""

    credential_id: str
    checked_on: date
    adverse: bool
    revoked: bool = False

    @property
    def valid_until(self) -> date:
        return self.checked_on + timedelta(days=VALIDITY_DAYS)


def fold(events: list[tuple[str, str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """A consumer's view of each person's credentials, folded by the contract (docs/events.md)."""
    held: dict[str, dict[str, dict[str, Any]]] = {}
    for event_type, key, data in events:
        creds = held.setdefault(key, {})
        if event_type in ("VolunteerRegistered", "VolunteerUpdated"):
            held[key] = {c["credential_id"]: c for c in data["credentials"]}
        elif event_type == "CredentialRecorded":
            creds[data["credential_id"]] = data
        elif event_type == "CredentialRevoked":
            creds.pop(data["credential_id"], None)
        elif event_type == "CredentialExpired":
            creds.pop(data["credential_id"], None)
    return held


def counting_kamilka(creds: dict[str, dict[str, Any]], today: date) -> set[str]:
    return {i for i, c in creds.items() if c["kind"] == model.KAMILKA_CHECK
            and date.fromisoformat(c["valid_from"]) <= today <= date.fromisoformat(c["valid_until"])}


class KamilkaLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.db = database()
        self.outbox = Outbox(self.db, handlers.PUBLISHES)
        self.today = START
        self.people: list[str] = []
        self.checks: dict[str, list[Check]] = {}
        with self.db.engine.connect() as conn:
            self.first_event = conn.execute(sa.select(sa.func.max(self.db.outbox.c.id))).scalar() or 0

    @initialize()
    def register_two_people(self) -> None:
        for _ in range(2):
            with self.db.transaction() as session:
                created = handlers.register_volunteer(session, self.outbox, {
                    "name": "Osoba Testowa", "email": f"{uuid.uuid4().hex}@example.pl", "phone": "+48601202303",
                    "villages": ["belno"], "provider_type": model.STAFF, "verified": True}, today=self.today)
            self.people.append(created["id"])
            self.checks[created["id"]] = []

    # --- what staff and the daily job do -------------------------------------------------------------

    def _record(self, person: int, days_ago: int, result: str, krk_entry: bool) -> None:
        volunteer_id = self.people[person]
        checked_on = self.today - timedelta(days=days_ago)
        data = {"kind": model.KAMILKA_CHECK, "register_checked_on": checked_on, "krk_seen_on": checked_on,
                "checked_by": "Anna Nowak", "register_result": result, "krk_entry": krk_entry,
                "countries_last_20_years": ["PL"]}
        with self.db.transaction() as session:
            row = handlers.record_credential(session, self.outbox, volunteer_id, data, VALIDITY_DAYS,
                                             actor="Anna Nowak (anowak)", today=self.today)
        adverse = result == model.KAMILKA_LISTED or krk_entry
        if adverse:  # the contract: every earlier check of the person is revoked
            for check in self.checks[volunteer_id]:
                check.revoked = True
        self.checks[volunteer_id].append(Check(row["id"], checked_on, adverse))

    @rule(person=st.integers(0, 1), days_ago=st.integers(0, 400))
    def record_a_clean_check(self, person: int, days_ago: int) -> None:
        self._record(person, days_ago, model.KAMILKA_NOT_LISTED, False)

    @rule(person=st.integers(0, 1), days_ago=st.integers(0, 400), listed=st.booleans())
    def record_an_adverse_check(self, person: int, days_ago: int, listed: bool) -> None:
        """Listed in the register, or a KRK entry."""
        self._record(person, days_ago, model.KAMILKA_LISTED if listed else model.KAMILKA_NOT_LISTED, not listed)

    @rule(person=st.integers(0, 1))
    def renew_the_check_today(self, person: int) -> None:
        self._record(person, 0, model.KAMILKA_NOT_LISTED, False)

    @rule(person=st.integers(0, 1), pick=st.integers(0, 50))
    def staff_revoke_a_check(self, person: int, pick: int) -> None:
        live = [c for c in self.checks[self.people[person]] if not c.revoked]
        if not live:
            return
        check = live[pick % len(live)]
        with self.db.transaction() as session:
            handlers.revoke_credential(session, self.outbox, check.credential_id, "przegląd", "Anna Nowak",
                                       today=self.today)
        check.revoked = True

    @rule(days=st.integers(1, 400))
    def days_pass_and_the_expiry_job_runs(self, days: int) -> None:
        self.today += timedelta(days=days)
        with self.db.transaction() as session:
            handlers.expire_credentials(session, self.outbox, self.today)

    @rule(person=st.integers(0, 1), radius=st.integers(0, 50))
    def staff_edit_the_profile(self, person: int, radius: int) -> None:
        with self.db.transaction() as session:
            handlers.update_volunteer(session, self.outbox, self.people[person], {"radius_km": radius},
                                     today=self.today)

    @precondition(lambda self: bool(self.people))
    @rule(person=st.integers(0, 1))
    def staff_end_the_pause_after_review(self, person: int) -> None:
        with self.db.transaction() as session:
            if handlers.get_volunteer(session, self.people[person])["paused"]:
                handlers.resume(session, self.outbox, self.people[person])

    # --- what must always hold ----------------------------------------------------------------------

    def latest(self, volunteer_id: str) -> Check | None:
        checks = self.checks[volunteer_id]
        return max(reversed(checks), key=lambda c: c.checked_on) if checks else None  # ties: later recorded

    def latest_counts(self, volunteer_id: str) -> bool:
        check = self.latest(volunteer_id)
        return check is not None and not check.adverse and not check.revoked \
            and check.checked_on <= self.today <= check.valid_until

    def events(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(sa.select(self.db.outbox.c.type, self.db.outbox.c.key, self.db.outbox.c.body)
                                .where(self.db.outbox.c.id > self.first_event, self.db.outbox.c.key.in_(self.people))
                                .order_by(self.db.outbox.c.id)).all()
        return [(r.type, r.key, json.loads(r.body)["data"]) for r in rows]

    @invariant()
    def only_the_latest_clean_in_date_unrevoked_check_opens_minors_in_the_service(self) -> None:
        for volunteer_id in self.people:
            with self.db.transaction() as session:
                paused = bool(handlers.get_volunteer(session, volunteer_id)["paused"])
                allowed = model.eligible_categories(handlers.provider(session, volunteer_id), self.today)
            if not self.latest_counts(volunteer_id):
                assert not allowed & MINORS, (volunteer_id, self.latest(volunteer_id), self.today)
            elif not paused:
                assert MINORS <= allowed

    @invariant()
    def the_events_folded_in_order_agree(self) -> None:
        held = fold(self.events())
        for volunteer_id in self.people:
            counting = counting_kamilka(held.get(volunteer_id, {}), self.today)
            latest = self.latest(volunteer_id)
            if self.latest_counts(volunteer_id):
                assert latest is not None and counting == {latest.credential_id}
            else:
                assert counting == set(), (volunteer_id, latest, self.today, counting)


KamilkaLifecycle.TestCase.settings = settings(max_examples=40, stateful_step_count=20, deadline=None,
                                              database=None)
test_the_kamilka_lifecycle = KamilkaLifecycle.TestCase
