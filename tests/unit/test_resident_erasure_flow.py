"""A resident's erasure flows to every service (DESIGN §6): on the in-memory bus, matching drops the pseudonym
from its projection and its kept events, notify redacts what it wrote about the resident's needs and keeps
its ledger rows, and both services' catalogs accept ResidentErased."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.matching import handlers as matching
from services.matching.db import applied_events, open_needs, proposals
from services.notify import handlers as notify
from services.notify.db import needs_watched, notifications
from wspolnota import config
from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem
from wspolnota.transport import Event, decode, encode

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def system(tmp_path: Path) -> Any:
    s = InMemorySystem(tmp_path)
    yield s
    s.close()


@pytest.fixture
def clients(system: Any) -> dict[str, Any]:
    from services.needs.app import create_app as needs_app
    from services.volunteers.app import create_app as volunteers_app

    return {name: f({"DATABASE_URL": system[name].db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client()
            for name, f in {"needs": needs_app, "volunteers": volunteers_app}.items()}


def rows(system: Any, service: str, table: sa.Table) -> list[dict[str, Any]]:
    with system[service].db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def a_proposed_need_of_a_resident(system: Any, clients: dict[str, Any]) -> dict[str, Any]:
    resident = clients["needs"].post("/api/residents", json={
        "name": "Genowefa Przykładowa", "address": "ul. Wymyślona 1", "village": "belno",
        "phone": "+48 600 000 001", "preferred_channel": "phone", "legal_basis": "art6_1_e"}).json
    volunteer = clients["volunteers"].post("/api/volunteers", json={
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
        "villages": ["belno"]}).json
    clients["volunteers"].post(f"/api/volunteers/{volunteer['id']}/credentials", json=WRITTEN_AGREEMENT)
    clients["volunteers"].post(f"/api/volunteers/{volunteer['id']}/offers", json={
        "categories": ["ZAK"], "available_from": TOMORROW.isoformat(),
        "available_to": (TOMORROW + timedelta(hours=8)).isoformat()})
    need = clients["needs"].post("/api/needs", json={
        "resident_ref": resident["ref"], "category": "ZAK", "village": "belno", "description": "Zakupy dla pani G.",
        "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
        "duration_minutes": 60}).json
    system.pump()
    return {"resident": resident, "need": need}


def test_matching_and_notify_fold_the_erasure_of_a_resident(system: Any, clients: dict[str, Any]) -> None:
    world = a_proposed_need_of_a_resident(system, clients)
    ref, need_id = world["resident"]["ref"], world["need"]["id"]
    dropped = clients["needs"].post("/api/needs", json={**{k: world["need"][k] for k in (
        "resident_ref", "category", "village", "window_start", "window_end", "duration_minutes")}}).json
    clients["needs"].post(f"/api/needs/{dropped['id']}/cancel", json={"reason": "córka pani G. pomogła"})
    system.pump()
    # the reason staff typed never leaves needs: matching keeps only the code
    assert "córka pani G." not in json.dumps([e["data"] for e in rows(system, "matching", applied_events)],
                                             ensure_ascii=False)
    projected = {r["need_id"]: r for r in rows(system, "matching", open_needs)}[need_id]
    assert projected["resident_ref"] == ref  # the link exists before
    assert [p["status"] for p in rows(system, "matching", proposals) if p["need_id"] == need_id] == ["proposed"]
    ledger_before = rows(system, "notify", notifications)
    assert any(n["need_id"] == need_id and n["subject"] for n in ledger_before)

    erased = clients["needs"].post(f"/api/residents/{world['resident']['id']}/erase", json={"reason": "wniosek 7"})
    assert erased.status_code == 200, erased.json
    system.pump()

    # matching: the pseudonym is gone from the projection and from the events it keeps for a rebuild
    projected = {r["need_id"]: r for r in rows(system, "matching", open_needs)}[need_id]
    assert projected["resident_ref"] is None and projected["status"] == "cancelled"
    assert projected["category"] == "ZAK" and projected["village"] == "belno"
    assert all(r["resident_ref"] is None for r in rows(system, "matching", open_needs))
    kept = rows(system, "matching", applied_events)
    assert all(ref not in json.dumps(e["data"]) for e in kept if e["type"] != "ResidentErased")
    assert "córka pani G." not in json.dumps([e["data"] for e in kept], ensure_ascii=False)
    assert [p["status"] for p in rows(system, "matching", proposals) if p["need_id"] == need_id] == ["cancelled"]
    from services.matching import projection

    with system["matching"].db.transaction() as session:
        projection.rebuild(session)
    assert all(r["resident_ref"] is None for r in rows(system, "matching", open_needs))

    # notify: the ledger keeps every row it had (no duplicate sends), their texts about the need are redacted
    ledger = {n["id"]: n for n in rows(system, "notify", notifications)}
    assert set(n["id"] for n in ledger_before) <= set(ledger)
    about_need = [n for n in ledger_before if n["need_id"] == need_id]
    for before in about_need:
        after = ledger[before["id"]]
        assert (after["cause_event_id"], after["recipient"], after["channel"]) == (
            before["cause_event_id"], before["recipient"], before["channel"])
        if after["status"] not in ("pending", "sending"):
            assert after["subject"] == notify.ERASED_TEXT and after["body"] == "" and after["payload"] is None
    assert any(ledger[n["id"]]["subject"] == notify.ERASED_TEXT for n in about_need)
    watched = {r["need_id"]: r for r in rows(system, "notify", needs_watched)}[need_id]
    assert watched["plan_ref"] is None and watched["status"] == "closed"


def test_a_need_event_that_arrives_after_the_erasure_is_folded_without_the_pseudonym(system: Any) -> None:
    ref, need_id = "M-LATE01", "0b6f2c1e-9f3a-4d6b-8a2e-1c3d5e7f9a0b"
    erased = Event(type="ResidentErased", key=ref, source="needs",
                   data={"resident_ref": ref, "erased_at": datetime.now(UTC).isoformat(), "need_ids": [need_id]})
    late = Event(type="NeedRegistered", key=need_id, source="needs", data={
        "need_id": need_id, "resident_ref": ref, "category": "ZAK", "village": "belno",
        "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
        "duration_minutes": 60, "urgent": False, "slots": 1})
    for event in (erased, late):  # different keys, so different partitions: any order can happen
        system.broker.append(config.topic("needs"), event.key.encode(), encode(event), [])
    system.pump()
    [projected] = rows(system, "matching", open_needs)
    assert projected["need_id"] == need_id and projected["resident_ref"] is None


def test_matchings_and_notifys_catalogs_accept_resident_erased_and_handle_it() -> None:
    event = Event(type="ResidentErased", key="M-ABC234", source="needs", data={
        "resident_ref": "M-ABC234", "erased_at": datetime.now(UTC).isoformat()})
    for catalog in (matching.CONSUMES, notify.CONSUMES):
        decoded = decode(encode(event), catalog)
        assert decoded.data["resident_ref"] == "M-ABC234" and decoded.data["need_ids"] == []
    assert "ResidentErased" in matching.REACTIONS
    assert "ResidentErased" in notify.handlers(outbox=None)  # type: ignore[arg-type]
