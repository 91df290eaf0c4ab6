"""The community demo seed: a diagnosis with assets, surveys and answers, once, with nothing personal on the bus."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from services.community import seed
from services.community.db import assets, diagnoses, make_db, survey_responses, surveys
from wspolnota.transport import decode


def test_the_demo_seed_fills_the_diagnosis_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'community.db'}"
    assert seed.main(["--demo", "--database-url", url]) == 0
    assert seed.main(["--demo", "--database-url", url]) == 0
    assert "nothing added" in capsys.readouterr().out
    db = make_db(url)
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar() == len(seed.ASSETS)
        assert conn.execute(sa.select(surveys.c.status).order_by(surveys.c.created_at)).scalars().all() == [
            "closed", "published"]
        assert conn.execute(sa.select(sa.func.count()).select_from(survey_responses)).scalar() == 68
        assert conn.execute(sa.select(sa.func.count()).select_from(diagnoses)).scalar() == 1
        bodies = conn.execute(sa.select(db.outbox.c.body)).scalars().all()
    events = [decode(b) for b in bodies]
    [event] = [e for e in events if e.type == "SurveyClosed"]
    assert event.data["responses"] == 60
    assert [e.data["version"] for e in events if e.type == "PlanApproved"] == [1]  # the organising plan's seeder
    db.dispose()


def test_without_demo_the_seed_refuses(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        seed.main(["--database-url", f"sqlite:///{tmp_path / 'c.db'}"])
