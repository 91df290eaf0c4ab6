"""All services on the in-memory bus: a call series for a resident in a village the volunteer does not serve (calls
are remote: no distance), matched and accepted for the whole series in the volunteer's space; each outcome counts as a
visit with its minutes; `needs_something` creates one need; the second unanswered call in a row puts one e-mail to the
social worker in notify's ledger, not two when the outcome comes again."""
from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import sqlalchemy as sa

from tests.unit.flows.test_volunteer_visits_flow import ledger, my_visits, say, visit
from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem, ManualClock, utc_now

START = (utc_now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
WEEKS = 3




def outcome(system: InMemorySystem, clock: ManualClock, match_id: str, volunteer_id: str, code: str,
            minutes: int | None, **extra: Any) -> None:
    """What the volunteer's outcome page does: needs records it, then the call counts as a visit that happened."""
    from services.needs import calls
    from services.needs import clock as needs_clock
    from services.volunteers import visits

    with needs_clock.using(clock), system["needs"].db.transaction() as session:
        calls.record_outcome(session, system["needs"].outbox, match_id=match_id, volunteer_id=volunteer_id,
                             outcome=code, minutes=minutes, **extra)
    if visit(system, match_id)["confirmed"] is None:
        say(system, clock, visits.confirm, volunteer_id, match_id, True, minutes or 5)
    system.pump()


def test_a_call_series_is_matched_remotely_and_its_outcomes_count_and_escalate_once(system, clients, clock) -> None:  # type: ignore[no-untyped-def]
    from services.needs import calls
    from services.needs import clock as needs_clock
    from services.needs.db import needs as needs_table
    from services.volunteers import visits

    volunteer = clients["volunteers"].post("/api/volunteers", json={
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303", "villages": ["belno"]})
    volunteer_id = volunteer.json["id"]
    clients["volunteers"].post(f"/api/volunteers/{volunteer_id}/credentials", json=WRITTEN_AGREEMENT)
    assert clients["volunteers"].post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["TEL"], "available_from": START.isoformat(),
        "available_to": (START + timedelta(days=7 * WEEKS)).isoformat()}).status_code == 201
    resident = clients["needs"].post("/api/residents", json={
        "name": "Genowefa Przykładowa", "address": "ul. Wymyślona 1", "village": "samsonow",
        "phone": "+48 600 000 001", "preferred_channel": "phone", "legal_basis": "art6_1_e"}).json
    assert clients["needs"].post("/api/packages", json={
        "plan_ref": "IPUS/7/2026", "resident_ref": resident["ref"], "village": "samsonow",
        "start_date": START.date().isoformat(),
        "end_date": (START + timedelta(days=60)).date().isoformat()}).status_code == 201
    with needs_clock.using(clock), system["needs"].db.transaction() as session:
        series_id, rows = calls.set_up(
            session, system["needs"].outbox, resident_ref=resident["ref"], plan_ref="IPUS/7/2026",
            weekdays=[START.weekday()], time_from=time(10), time_to=time(14), starts_on=START.date(),
            until=(START + timedelta(days=7 * (WEEKS - 1))).date(), review_on=START.date() + timedelta(days=7),
            purpose="Rozmowa o samopoczuciu.", actor="ola.socjalna")
    need_ids = [r["id"] for r in rows]
    system.pump()
    proposals = clients["matching"].get("/api/proposals").json
    first = min((p for p in proposals if p["need_id"] in need_ids), key=lambda p: need_ids.index(p["need_id"]))
    need_ids = need_ids[need_ids.index(first["need_id"]):]
    assert len(need_ids) >= 2
    assert clients["matching"].post(f"/api/matches/{first['id']}/approve", json={}).status_code == 200
    system.pump()
    say(system, clock, visits.answer, volunteer_id, first["id"], "accept", series=True)
    mine = my_visits(system, volunteer_id)
    assert {n: mine[n]["status"] for n in need_ids} == {n: "accepted" for n in need_ids}

    # the first call: the resident needs shopping — one need, once
    clock.advance(mine[need_ids[0]]["starts_at"] - clock() + timedelta(hours=1))
    m0 = mine[need_ids[0]]["match_id"]
    outcome(system, clock, m0, volunteer_id, "needs_something", 15, category="ZAK", text="Zakupy: chleb i mleko.")
    outcome(system, clock, m0, volunteer_id, "needs_something", 15, category="ZAK", text="Zakupy: chleb i mleko.")
    with system["needs"].db.engine.connect() as conn:
        created = conn.execute(sa.select(needs_table.c.id).where(needs_table.c.category == "ZAK")).all()
    assert len(created) == 1
    assert visit(system, m0)["status"] == "completed"
    assert clients["needs"].get(f"/api/needs/{need_ids[0]}").json["status"] == "completed"
    hours = clients["volunteers"].get(f"/api/volunteers/{volunteer_id}/hours").json
    assert [e["hours"] for e in hours["entries"] if e["source_id"] == m0] == [0.25]

    # then two calls nobody answers: one escalation, one e-mail (to the organiser: no social worker assigned)
    for need_id in need_ids[1:3]:
        clock.advance(mine[need_id]["starts_at"] - clock() + timedelta(hours=1))
        outcome(system, clock, mine[need_id]["match_id"], volunteer_id, "no_answer", None)
    if len(need_ids) >= 3:
        outcome(system, clock, mine[need_ids[2]]["match_id"], volunteer_id, "no_answer", None)  # again
        [mail] = ledger(system, "call_series_escalated")
        assert mail["recipient"] == f"pracownik_socjalny_rozmowy:{series_id}" and mail["channel"] == "email"
        assert "Genowefa" not in (mail["subject"] + mail["body"])
        hours = clients["volunteers"].get(f"/api/volunteers/{volunteer_id}/hours").json
        called = [mine[n]["match_id"] for n in need_ids[:3]]
        counted = [e["source_id"] for e in hours["entries"] if e["source_id"] in called]
        assert sorted(counted) == sorted(called)  # each call once, with its minutes
    assert all(system[name].loop.stats["dead_lettered"] == 0
               for name in ("matching", "needs", "notify", "volunteers"))
