"""`python -m services.needs.seed --demo`: a fictional municipality, announced on the bus, seeded once."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from services.needs import seed
from services.needs.db import make_db, needs, residents
from wspolnota.transport import decode
from wspolnota.transport.memory import MemoryBroker
from wspolnota.transport.outbox import Relay


def test_the_demo_fills_villages_and_categories_with_invented_people_and_announces_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'needs.db'}"
    assert seed.main(["--demo", "--database-url", url, "--residents", "12", "--needs", "28"]) == 0
    db = make_db(url)
    with db.engine.connect() as conn:
        people = conn.execute(sa.select(residents)).mappings().all()
        villages, categories = conn.execute(sa.select(sa.func.count(sa.distinct(needs.c.village)),
                                                      sa.func.count(sa.distinct(needs.c.category)))).one()
    assert len(people) == 12 and all("FIKCYJNE" in p["notes"] and p["phone"].startswith("+48 500 000")
                                     for p in people)
    assert villages >= 5 and categories == 14
    broker = MemoryBroker()
    Relay(db, broker.producer()).run_once()
    events = [decode(m.value) for m in broker.messages("needs")]
    assert {e.type for e in events} >= {"NeedRegistered", "SupportPackageOpened", "NeedCancelled"}
    wire = b"".join(m.value or b"" for m in broker.messages("needs")).decode()
    assert all(p["name"] not in wire and p["address"] not in wire for p in people)
    db.dispose()


def test_seeding_twice_adds_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'needs.db'}"
    seed.main(["--demo", "--database-url", url, "--residents", "3", "--needs", "2"])
    seed.main(["--demo", "--database-url", url, "--residents", "3", "--needs", "2"])
    assert "nothing added" in capsys.readouterr().out


def test_without_demo_it_refuses(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        seed.main(["--database-url", f"sqlite:///{tmp_path / 'x.db'}"])
