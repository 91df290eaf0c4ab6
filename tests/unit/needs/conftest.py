"""The needs service on SQLite and the in-memory bus, with helpers that read like the staff's actions."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from wspolnota import config
from wspolnota.testing import InMemorySystem
from wspolnota.transport import Event, decode, encode

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
SOON = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)


def need_body(**over: Any) -> dict[str, Any]:
    body = {"resident_ref": "M-TEST01", "category": "ZAK", "village": "belno", "description": "Zakupy w Belnie",
            "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
            "duration_minutes": 60}
    return {**body, **over}


def resident_body(**over: Any) -> dict[str, Any]:
    body = {"name": "Genowefa Przykładowa", "address": "ul. Wymyślona 1", "village": "lekomin",
            "phone": "+48 600 000 001", "preferred_channel": "phone", "legal_basis": "art6_1_e"}
    return {**body, **over}


VOLUNTEER = "11111111-2222-4333-8444-555555555555"
# Fields matching's schemas require besides the ids (docs/events.md); the needs service reads only a few.
_WHERE = {"category": "ZAK", "village": "belno", "window_start": TOMORROW.isoformat(), "urgent": False}
MATCH_EXTRAS: dict[str, dict[str, Any]] = {
    "MatchProposed": {**_WHERE, "offer_id": "22222222-3333-4444-8555-666666666666", "reason": "pasuje"},
    "MatchRejected": {"reason": "nie pasuje"},
    "MatchOffered": {**_WHERE, "deadline": (TOMORROW - timedelta(hours=12)).isoformat()},
    "MatchCancelled": {"reason": "odwołane"},
    "MatchCompleted": {"hours": 1.0},
}


class NeedsHarness:
    """One needs service: its app, its database, and the bus it publishes to and listens on."""

    def __init__(self, workdir: Path):
        from services.needs.app import create_app

        self.system = InMemorySystem(workdir, services=("needs",))
        self.db = self.system["needs"].db
        self.app = create_app({"DATABASE_URL": self.db.url, "TESTING": True, "AUTH_DISABLED": True})
        self.client = self.app.test_client()

    # what left the service
    def published(self, event_type: str | None = None) -> list[Event]:
        self.system.pump()
        events = [decode(m.value) for m in self.system.broker.messages(config.topic("needs"))]
        return [e for e in events if event_type is None or e.type == event_type]

    def count(self, table: str) -> int:
        with self.db.engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()

    def rows(self, table: str) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}")).mappings()]

    # what the matching service says
    def match_event(self, event_type: str, need_id: str, match_id: str, **data: Any) -> None:
        payload = {"match_id": match_id, "need_id": need_id, "volunteer_id": VOLUNTEER,
                   **MATCH_EXTRAS.get(event_type, {}), **data}
        event = Event(type=event_type, key=need_id, data=payload, source="matching")
        self.system.broker.append(config.topic("matches"), need_id.encode(), encode(event), [])
        self.system.pump()

    # staff actions
    def register(self, **over: Any) -> dict[str, Any]:
        response = self.client.post("/api/needs", json=need_body(**over))
        assert response.status_code == 201, response.json
        return response.json

    def status(self, need_id: str) -> str:
        return self.client.get(f"/api/needs/{need_id}").json["status"]

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, url
        return response.get_data(as_text=True)

    def submit(self, url: str, fields: dict[str, Any], form_url: str | None = None):  # type: ignore[no-untyped-def]
        """Open the form page, take its CSRF token (and submission id), post the fields."""
        html = self.page(form_url or url)
        hidden = dict(re.findall(r'<input[^>]*name="(csrf_token|submission_id)"[^>]*value="([^"]*)"', html))
        hidden = {k: v for k, v in hidden.items()}
        return self.client.post(url, data={**hidden, **fields})


@pytest.fixture
def needs(tmp_path: Path) -> Iterator[NeedsHarness]:
    harness = NeedsHarness(tmp_path)
    yield harness
    harness.system.close()
