""""Did it happen?" in matching: the job asks once about each accepted visit that ended the set time ago — not a
visit still to come or just ended, not one confirmed or cancelled, each week of a series on its own — and the
answer (notify's VisitOutcomeGiven) completes the match with its hours once, however often it is delivered. An
unanswered question becomes the organiser's follow-up until someone decides; staff may mark a visit not done."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.matching import confirmations, visit_checks
from services.matching.db import make_db, open_needs, proposals
from services.matching.handlers import CONSUMES, PUBLISHES, handlers
from services.matching.model import NotAllowed
from services.matching.visit_checks import Check, Visit, select
from wspolnota.db import Database
from wspolnota.transport import new_event
from wspolnota.transport.outbox import Outbox

NOW = datetime(2031, 3, 10, 15, 0, tzinfo=UTC)
AFTER = timedelta(hours=2)
A, B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
M1, M2, M3 = (f"{i}{i}{i}{i}{i}{i}{i}{i}-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))


def visit(match_id: str, status: str = "accepted", ended: timedelta = timedelta(hours=3)) -> Visit:
    return Visit(match_id, "n-" + match_id, A, status, NOW - ended)


def test_an_accepted_visit_ended_long_enough_ago_is_asked_about() -> None:
    assert select([visit(M1)], set(), NOW, AFTER) == [Check(M1, "n-" + M1, A)]
    assert select([visit(M1, ended=AFTER)], set(), NOW, AFTER) == [Check(M1, "n-" + M1, A)]  # exactly 2 h


def test_not_a_visit_to_come_just_ended_confirmed_cancelled_or_already_asked() -> None:
    assert select([visit(M1, ended=-timedelta(hours=1))], set(), NOW, AFTER) == []  # not yet ended
    assert select([visit(M1, ended=timedelta(hours=1, minutes=59))], set(), NOW, AFTER) == []
    assert select([visit(M1, "completed")], set(), NOW, AFTER) == []
    assert select([visit(M1, "cancelled")], set(), NOW, AFTER) == []
    assert select([visit(M1)], {M1}, NOW, AFTER) == []


def test_each_week_of_a_series_is_asked_about_on_its_own_once_it_ended() -> None:
    weeks = [visit(M1, ended=timedelta(days=7, hours=3)), visit(M2), visit(M3, ended=-timedelta(days=7))]
    assert [c.match_id for c in select(weeks, {M1}, NOW, AFTER)] == [M2]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = make_db(f"sqlite:///{tmp_path / 'matching.db'}")
    database.migrate()
    yield database
    database.dispose()


def add_visit(db: Database, match_id: str, start: datetime, status: str = "accepted",
              agreed: bool = True, series: str | None = None) -> str:
    need_id = str(uuid.uuid4())
    with db.engine.begin() as conn:
        conn.execute(sa.insert(open_needs).values(
            need_id=need_id, category="ZAK", village="belno", window_start=start - timedelta(hours=1),
            window_end=start + timedelta(hours=3), duration_minutes=90, urgent=False, slots=1, status="open",
            resident_ref="M-SECRET", series_id=series))
        conn.execute(sa.insert(proposals).values(
            id=match_id, need_id=need_id, volunteer_id=A, offer_id=str(uuid.uuid4()), category="ZAK",
            village="belno", window_start=start - timedelta(hours=1), status=status, reason="",
            created_at=start - timedelta(days=3),
            agreed_start=start if agreed else None, agreed_end=start + timedelta(hours=1) if agreed else None))
    return need_id


def published(db: Database, kind: str) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [json.loads(r.body)["data"] for r in conn.execute(sa.select(db.outbox.c.type, db.outbox.c.body)
                                                                  .order_by(db.outbox.c.id)) if r.type == kind]


def test_the_job_asks_once_per_match_with_ids_only(db: Database) -> None:
    need = add_visit(db, M1, NOW - timedelta(hours=4))  # ended 3 h ago
    add_visit(db, M2, NOW - timedelta(hours=2))  # ended 1 h ago
    add_visit(db, M3, NOW - timedelta(hours=5), agreed=False)  # an older row: window start + the need's 90 min
    assert [c.match_id for c in visit_checks.ask_visit_checks(db, NOW, AFTER)] == [M1, M3]
    assert visit_checks.ask_visit_checks(db, NOW, AFTER) == []  # remembered
    assert [c.match_id for c in visit_checks.ask_visit_checks(db, NOW + timedelta(hours=1), AFTER)] == [M2]
    events = published(db, "VisitCheckDue")
    assert events[0] == {"match_id": M1, "provider_id": A, "need_id": need}
    assert len(events) == 3 and "M-SECRET" not in json.dumps(events)


def answer(db: Database, data: dict[str, Any], event_id: str | None = None) -> None:
    """Deliver notify's VisitOutcomeGiven to matching's handler as the consumer loop would."""
    event = new_event(CONSUMES, "notify", "VisitOutcomeGiven", data["match_id"], data)
    table = handlers(Outbox(db, PUBLISHES), lambda: NOW)
    with db.transaction() as session:
        table["VisitOutcomeGiven"](session, event)


def match(db: Database, match_id: str) -> dict[str, Any]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.select(proposals).where(proposals.c.id == match_id)).mappings().one())


def test_the_answer_completes_the_match_with_its_hours_once(db: Database) -> None:
    add_visit(db, M1, NOW - timedelta(hours=4))
    given = {"match_id": M1, "volunteer_id": A, "happened": True, "minutes": 90}
    answer(db, given)
    answer(db, given)  # redelivered, or published again
    assert (match(db, M1)["status"], match(db, M1)["hours"]) == ("completed", 1.5)
    assert [e["hours"] for e in published(db, "MatchCompleted")] == [1.5]


def test_did_not_happen_cancels_and_someone_elses_answer_changes_nothing(db: Database) -> None:
    add_visit(db, M1, NOW - timedelta(hours=4))
    answer(db, {"match_id": M1, "volunteer_id": B, "happened": True, "minutes": 60})
    assert match(db, M1)["status"] == "accepted"
    answer(db, {"match_id": M1, "volunteer_id": A, "happened": False, "minutes": None})
    assert match(db, M1)["status"] == "cancelled"
    assert [e["reason"] for e in published(db, "MatchCancelled")] == ["did_not_happen"]


def test_an_unanswered_question_is_the_organisers_follow_up_until_decided(db: Database) -> None:
    add_visit(db, M1, NOW - timedelta(hours=4))
    add_visit(db, M2, NOW - timedelta(hours=4))
    visit_checks.ask_visit_checks(db, NOW, AFTER)
    with db.transaction() as session:
        assert visit_checks.overdue(session, NOW + timedelta(hours=47), timedelta(hours=48)) == []
        later = visit_checks.overdue(session, NOW + timedelta(hours=48), timedelta(hours=48))
    assert [r["match_id"] for r in later] == [M1, M2]
    assert set(later[0]) == {"match_id", "need_id", "volunteer_id", "category", "village", "visit_start", "asked_at"}
    with db.transaction() as session:
        confirmations.not_happened_by_staff(session, Outbox(db, PUBLISHES), M1, "osl.kowalska", NOW)
        with pytest.raises(NotAllowed):
            confirmations.not_happened_by_staff(session, Outbox(db, PUBLISHES), M1, "osl.kowalska", NOW)
    answer(db, {"match_id": M2, "volunteer_id": A, "happened": True, "minutes": 45})
    with db.transaction() as session:
        assert visit_checks.overdue(session, NOW + timedelta(days=5), timedelta(hours=48)) == []
    assert [e["reason"] for e in published(db, "MatchCancelled")] == ["did_not_happen_staff"]
