"""Fixtures of the all-services flows on the in-memory bus whose services run on one manual clock: `clock`,
`system` (every service on it) and `clients` (needs, volunteers and matching apps on that clock)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wspolnota.testing import InMemorySystem, ManualClock, utc_now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(utc_now())


@pytest.fixture
def system(tmp_path: Path, clock: ManualClock) -> Iterator[InMemorySystem]:
    s = InMemorySystem(tmp_path, clock=clock)
    yield s
    s.close()


@pytest.fixture
def clients(system: InMemorySystem, clock: ManualClock) -> dict[str, Any]:
    from services.matching.app import create_app as matching_app
    from services.needs.app import create_app as needs_app
    from services.needs.bootstrap import bootstrap as needs_bootstrap
    from services.volunteers.app import create_app as volunteers_app
    from services.volunteers.bootstrap import bootstrap as volunteers_bootstrap

    def config(name: str) -> dict[str, Any]:
        return {"DATABASE_URL": system[name].db.url, "TESTING": True, "AUTH_DISABLED": True}
    return {"needs": needs_app(config("needs"), parts=needs_bootstrap(system["needs"].db.url, clock=clock)).test_client(),
            "volunteers": volunteers_app(config("volunteers"), parts=volunteers_bootstrap(
                system["volunteers"].db.url, clock=clock)).test_client(),
            "matching": matching_app({**config("matching"), "MATCHING_CLOCK": clock}).test_client()}
