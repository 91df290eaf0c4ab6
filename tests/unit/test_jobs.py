from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.needs.db import make_db
from wspolnota.db import Database
from wspolnota.jobs import run_due
from wspolnota.service import load


def periodic_jobs(service: str, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    parts = load(service, f"sqlite:///{tmp_path / (service + '-jobs.db')}")
    parts.dispose()
    return parts.periodic


def test_the_needs_volunteers_and_matching_services_register_their_periodic_jobs(tmp_path: Path) -> None:
    assert set(periodic_jobs("needs", tmp_path)) == {"expire-overdue", "forget-idempotency-keys", "erase-old-requests",
                                                     "ask-need-checks", "escalate-concerns"}
    assert set(periodic_jobs("volunteers", tmp_path)) == {"expire-credentials"}
    assert set(periodic_jobs("matching", tmp_path)) == {"nudge-idle-volunteers", "ask-visit-checks"}


def test_a_failing_job_does_not_stop_the_others(tmp_path: Path) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'n.db'}")
    db.migrate()
    ran: list[str] = []

    def broken(_db, _now):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    results = run_due(db, {"broken": broken, "fine": lambda _db, now: ran.append(now.isoformat()) or 1,
                           **periodic_jobs("needs", tmp_path)}, datetime.now(UTC))
    assert "broken" not in results and results["fine"] == 1 and results["expire-overdue"] == 0 and ran
    assert results["forget-idempotency-keys"] == 0
    db.dispose()


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def needs_db_with_answers(tmp_path: Path, ages: dict[str, int]) -> Database:
    """A migrated needs database holding one stored case-system answer per key, `ages` days old."""
    import sqlalchemy as sa

    from services.needs.db import idempotency_keys

    db = make_db(f"sqlite:///{tmp_path / 'n.db'}")
    db.migrate()
    with db.transaction() as session:
        for key, age in ages.items():
            session.execute(sa.insert(idempotency_keys).values(
                client_id="c1", key=key, request_hash="h", status_code=201, response_body="{}",
                content_type="application/json", created_at=NOW - timedelta(days=age)))
    return db


def test_case_system_answers_older_than_the_replay_window_are_forgotten(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from services.needs.db import idempotency_keys
    from services.needs.jobs import forget_idempotency_keys

    db = needs_db_with_answers(tmp_path, {"old": 31, "young": 29})
    assert forget_idempotency_keys(db, NOW) == 1
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(idempotency_keys.c.key)).scalars().all() == ["young"]
    db.dispose()


def test_the_replay_window_is_one_setting_for_the_api_and_the_job(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """CASE_SYSTEM_IDEMPOTENCY_DAYS=90: the job keeps a 60-day-old answer, which the API still replays."""
    from services.needs import caseapi
    from services.needs.app import create_app
    from services.needs.jobs import forget_idempotency_keys

    monkeypatch.setenv("CASE_SYSTEM_IDEMPOTENCY_DAYS", "90")
    db = needs_db_with_answers(tmp_path, {"old": 91, "kept": 60})
    assert forget_idempotency_keys(db, NOW) == 1
    db.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"})
    with app.app_context():
        oldest_replayed = caseapi.keys_kept_since()
    assert timedelta(days=89) < datetime.now(UTC) - oldest_replayed < timedelta(days=91)
