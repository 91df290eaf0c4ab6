from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import Stack
from wspolnota.testing import WRITTEN_AGREEMENT

pytestmark = pytest.mark.e2e
START = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def need_body(village: str = "zagnansk", **over: Any) -> dict[str, Any]:
    return {"resident_ref": f"R-{uuid.uuid4().hex[:6]}", "category": "ZAK", "village": village,
            "window_start": START.isoformat(), "window_end": (START + timedelta(hours=4)).isoformat(),
            "duration_minutes": 60, **over}


def add_volunteer_with_offer(stack: Stack, village: str = "zagnansk") -> str:
    volunteer = stack.post("/volunteers/api/volunteers", {"name": "Jan Nowak", "email": "jan@example.pl",
                                                           "phone": "+48 600 000 001", "villages": [village]})
    assert volunteer.status_code == 201, volunteer.text
    agreement = stack.post(f"/volunteers/api/volunteers/{volunteer.json()['id']}/credentials", WRITTEN_AGREEMENT)
    assert agreement.status_code == 201, agreement.text
    offer = stack.post(f"/volunteers/api/volunteers/{volunteer.json()['id']}/offers", {
        "categories": ["ZAK"], "available_from": START.isoformat(),
        "available_to": (START + timedelta(hours=8)).isoformat()})
    assert offer.status_code == 201, offer.text
    return str(volunteer.json()["id"])


def notifications_for(stack: Stack, need_id: str) -> list[dict[str, Any]]:
    return [n for n in stack.get("/notify/api/notifications") if n["need_id"] == need_id]


@pytest.fixture
def new_stack(tmp_path: Path) -> Iterator[Any]:
    stacks: list[Stack] = []

    def make(bootstrap: str) -> Stack:
        stack = Stack(tmp_path, bootstrap, f"e{uuid.uuid4().hex[:8]}.")
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop_all()
