from datetime import UTC, datetime
from pathlib import Path

from services.needs.db import make_db
from wspolnota.jobs import periodic_jobs, run_due


def test_the_needs_and_volunteers_services_register_their_periodic_jobs() -> None:
    assert set(periodic_jobs("needs")) == {"expire-overdue"}
    assert set(periodic_jobs("volunteers")) == {"expire-credentials"}
    assert periodic_jobs("matching") == {}


def test_a_failing_job_does_not_stop_the_others(tmp_path: Path) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'n.db'}")
    db.migrate()
    ran: list[str] = []

    def broken(_db, _now):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    results = run_due(db, {"broken": broken, "fine": lambda _db, now: ran.append(now.isoformat()) or 1,
                           **periodic_jobs("needs")}, datetime.now(UTC))
    assert "broken" not in results and results["fine"] == 1 and results["expire-overdue"] == 0 and ran
    db.dispose()
