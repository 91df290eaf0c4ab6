"""The idle-volunteer nudge: a verified, unpaused volunteer with no visit for the set time and open needs in their
villages is nudged once, then at most once per period; nobody just seen, busy, paused or with nothing near them.
The rule is a pure function, checked with Hypothesis; the job publishes counts and codes only."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.db import make_db, open_needs, proposals, providers
from services.matching.nudges import Nudge, Provider, nudge_idle_volunteers, select

NOW = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
IDLE = timedelta(days=30)
A, B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"


def test_an_idle_volunteer_with_needs_near_them_is_nudged_with_the_count() -> None:
    people = [Provider(A, ("belno", "jasiow"), True)]
    chosen = select(people, {A: NOW - timedelta(days=40)}, {}, {}, {"belno": 2, "zagnansk": 5}, NOW, IDLE)
    assert chosen == [Nudge(A, 2, ("belno",))]


def test_nobody_busy_paused_just_seen_without_needs_or_nudged_this_period_is_nudged() -> None:
    needs = {"belno": 1}
    assert select([Provider(A, ("belno",), True)], {A: NOW - timedelta(days=29)}, {}, {}, needs, NOW, IDLE) == []
    assert select([Provider(A, ("belno",), False)], {A: NOW - timedelta(days=90)}, {}, {}, needs, NOW, IDLE) == []
    assert select([Provider(A, ("belno",), True)], {}, {A: NOW - timedelta(days=3)}, {}, needs, NOW, IDLE) == []
    assert select([Provider(A, ("jasiow",), True)], {}, {A: NOW - timedelta(days=90)}, {}, needs, NOW, IDLE) == []
    assert select([Provider(A, ("belno",), True)], {}, {A: NOW - timedelta(days=90)},
                  {A: NOW - timedelta(days=10)}, needs, NOW, IDLE) == []
    assert select([Provider(A, ("belno",), True)], {}, {A: NOW - timedelta(days=90)}, {}, needs, NOW,
                  timedelta(0)) == []


days = st.integers(min_value=0, max_value=120).map(lambda d: NOW - timedelta(days=d))


@settings(max_examples=200, deadline=None)
@given(eligible=st.booleans(), villages=st.lists(st.sampled_from(["belno", "jasiow", "kajetanow"]), max_size=3),
       active=st.none() | days, seen=st.none() | days, nudged=st.none() | days,
       needs=st.dictionaries(st.sampled_from(["belno", "jasiow", "kajetanow"]), st.integers(0, 4)),
       idle_days=st.integers(min_value=1, max_value=60))
def test_a_nudge_goes_only_to_an_eligible_volunteer_idle_and_not_nudged_for_the_period_with_needs_near(
        eligible, villages, active, seen, nudged, needs, idle_days) -> None:  # type: ignore[no-untyped-def]
    idle = timedelta(days=idle_days)
    chosen = select([Provider(A, tuple(villages), eligible)], {A: active} if active else {},
                    {A: seen} if seen else {}, {A: nudged} if nudged else {}, needs, NOW, idle)
    since = active or seen or NOW
    near = sum(needs.get(v, 0) for v in set(villages))
    expected = eligible and NOW - since >= idle and (nudged is None or NOW - nudged >= idle) and near > 0
    assert bool(chosen) == expected
    if chosen:
        assert chosen[0].open_needs == near and all(needs.get(v, 0) > 0 for v in chosen[0].villages)


def test_the_job_nudges_once_per_period_and_publishes_counts_only(tmp_path: Path) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'matching.db'}")
    db.migrate()
    with db.engine.begin() as conn:
        for vid, villages in ((A, ["belno"]), (B, ["jasiow"])):
            conn.execute(sa.insert(providers).values(volunteer_id=vid, provider_type="volunteer", villages=villages,
                                                     verified=True, paused=False, erased=False, credentials=[]))
        conn.execute(sa.insert(open_needs).values(
            need_id=str(uuid.uuid4()), category="ZAK", village="belno", window_start=NOW + timedelta(days=2),
            window_end=NOW + timedelta(days=2, hours=2), duration_minutes=60, urgent=False, slots=1, status="open",
            resident_ref="M-SECRET"))
        conn.execute(sa.insert(proposals).values(
            id=str(uuid.uuid4()), need_id=str(uuid.uuid4()), volunteer_id=A, offer_id=str(uuid.uuid4()),
            category="ZAK", village="belno", window_start=NOW - timedelta(days=50), status="completed",
            reason="", created_at=NOW - timedelta(days=52), completed_at=NOW - timedelta(days=50)))
    assert nudge_idle_volunteers(db, NOW, IDLE) == [Nudge(A, 1, ("belno",))]  # B has nothing near; A's visit is old
    assert nudge_idle_volunteers(db, NOW + timedelta(days=1), IDLE) == []  # once per period
    assert [n.volunteer_id for n in nudge_idle_volunteers(db, NOW + timedelta(days=31), IDLE)] == [A]
    with db.engine.connect() as conn:
        bodies = [json.loads(r.body) for r in conn.execute(sa.text("SELECT type, body FROM outbox"))
                  if r.type == "IdleVolunteerNudged"]
    assert [b["data"] for b in bodies][0] == {"volunteer_id": A, "open_needs": 1, "villages": ["belno"],
                                              "period": "2031-03-10"}
    assert "M-SECRET" not in json.dumps(bodies)
    db.dispose()
