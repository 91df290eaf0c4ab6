"""All services on the in-memory bus: a volunteer accepts a weekly series from their own space, sees the visits,
a link answer for the same offer afterwards is no second answer, stepping back from one week tells the organiser,
and "it happened" completes a visit in matching and needs (its hours in the ledger at once), "it did not" cancels
one with the code did_not_happen."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem, ManualClock, utc_now

START = (utc_now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
WEEKS = 4




def ledger(system: InMemorySystem, kind: str) -> list[sa.RowMapping]:
    from services.notify.db import notifications

    with system["notify"].db.engine.connect() as conn:
        return list(conn.execute(sa.select(notifications).where(notifications.c.kind == kind)).mappings())


def my_visits(system: InMemorySystem, volunteer_id: str) -> dict[str, dict[str, Any]]:
    """The volunteer's visits by need, the first match of each need (a cancelled week may be proposed again)."""
    from services.volunteers.db import visits

    with system["volunteers"].db.engine.connect() as conn:
        rows = conn.execute(sa.select(visits).where(visits.c.volunteer_id == volunteer_id)
                            .order_by(visits.c.status_time.desc())).mappings()
        return {r["need_id"]: dict(r) for r in rows}


def visit(system: InMemorySystem, match_id: str) -> dict[str, Any]:
    from services.volunteers.db import visits

    with system["volunteers"].db.engine.connect() as conn:
        return dict(conn.execute(sa.select(visits).where(visits.c.match_id == match_id)).mappings().one())


def say(system: InMemorySystem, clock: ManualClock, use_case: Any, *args: Any, **kw: Any) -> None:
    parts = system["volunteers"]
    with parts.db.transaction() as session:
        use_case(session, parts.outbox, *args, clock(), **kw)
    system.pump()


def matching_events(system: InMemorySystem, kind: str) -> list[str]:
    db = system["matching"].db
    with db.engine.connect() as conn:
        return [r.key for r in conn.execute(sa.select(db.outbox.c.key).where(db.outbox.c.type == kind))]


def test_a_series_accepted_in_the_space_stepped_back_once_and_confirmed(system, clients, clock) -> None:  # type: ignore[no-untyped-def]
    from services.notify import responses
    from services.volunteers import visits

    volunteer = clients["volunteers"].post("/api/volunteers", json={
        "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303", "villages": ["belno"]})
    volunteer_id = volunteer.json["id"]
    clients["volunteers"].post(f"/api/volunteers/{volunteer_id}/credentials", json=WRITTEN_AGREEMENT)
    assert clients["volunteers"].post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["ZAK"], "available_from": START.isoformat(),
        "available_to": (START + timedelta(days=7 * WEEKS)).isoformat()}).status_code == 201
    assert clients["needs"].post("/api/packages", json={
        "plan_ref": "IPUS/12/2026", "resident_ref": "R-017", "village": "belno",
        "start_date": START.date().isoformat(),
        "end_date": (START + timedelta(days=60)).date().isoformat()}).status_code == 201
    series = clients["needs"].post("/api/needs/recurring", json={
        "resident_ref": "R-017", "category": "ZAK", "village": "belno", "description": "Zakupy co tydzień",
        "duration_minutes": 60, "plan_ref": "IPUS/12/2026", "recurrence": {
            "weekdays": [START.weekday()], "time_from": "10:00", "time_to": "14:00",
            "starts_on": START.date().isoformat(),
            "until": (START + timedelta(days=7 * (WEEKS - 1))).date().isoformat()}})
    assert series.status_code == 201, series.json
    need_ids = [n["id"] for n in series.json["needs"]]
    system.pump()
    proposals = clients["matching"].get("/api/proposals").json
    # the earliest week proposed (the solver may leave a week for its next run): that week and the later ones
    first = min((p for p in proposals if p["need_id"] in need_ids), key=lambda p: need_ids.index(p["need_id"]))
    need_ids = need_ids[need_ids.index(first["need_id"]):]
    assert len(need_ids) >= 3
    assert clients["matching"].post(f"/api/matches/{first['id']}/approve", json={}).status_code == 200
    system.pump()

    offer_row = my_visits(system, volunteer_id)[need_ids[0]]
    assert offer_row["status"] == "offered" and offer_row["series_id"] and offer_row["deadline"]
    say(system, clock, visits.answer, volunteer_id, first["id"], "accept", series=True)
    mine = my_visits(system, volunteer_id)
    assert {n: mine[n]["status"] for n in need_ids} == {n: "accepted" for n in need_ids}
    assert all(mine[n]["starts_at"] > clock() for n in need_ids)
    for need_id in need_ids:
        assert clients["needs"].get(f"/api/needs/{need_id}").json["status"] == "accepted"

    # the same offer answered through notify's link as well: one answer
    [offered] = ledger(system, "match_offered")[:1]
    link_offer = responses.find_offer(system["notify"].db, offered["cause_event_id"])
    assert link_offer is not None
    responses.respond(system["notify"].db, system["notify"].outbox, link_offer, "accept", scope="series")
    system.pump()
    assert sorted(matching_events(system, "MatchAccepted")) == sorted(need_ids)
    assert matching_events(system, "MatchAnswerTooLate") == []

    # stepping back from the last week, in the space: matching cancels it and the organiser is told once
    last = mine[need_ids[-1]]["match_id"]
    say(system, clock, visits.step_back, volunteer_id, last, "visit", "illness")
    assert clients["needs"].get(f"/api/needs/{need_ids[-1]}").json["status"] != "accepted"
    [told] = ledger(system, "match_stepped_back")
    assert told["recipient"] == "organizator"
    assert visit(system, last)["status"] == "cancelled"

    # after the first visit's time: it happened, 90 minutes
    clock.advance(mine[need_ids[0]]["starts_at"] - clock() + timedelta(hours=2))
    say(system, clock, visits.confirm, volunteer_id, mine[need_ids[0]]["match_id"], True, 90)
    assert visit(system, mine[need_ids[0]]["match_id"])["status"] == "completed"
    assert clients["needs"].get(f"/api/needs/{need_ids[0]}").json["status"] == "completed"
    hours = clients["volunteers"].get(f"/api/volunteers/{volunteer_id}/hours").json
    assert hours["visits"]["total"] == 1.5 and hours["visits"]["count"] == 1

    # a week later: the second did not happen
    clock.advance(timedelta(days=7))
    say(system, clock, visits.confirm, volunteer_id, mine[need_ids[1]]["match_id"], False, None)
    second = visit(system, mine[need_ids[1]]["match_id"])
    assert (second["status"], second["reason"]) == ("cancelled", "did_not_happen")
    assert all(system[name].loop.stats["dead_lettered"] == 0
               for name in ("matching", "needs", "notify", "volunteers"))
    # the week that did not happen is not given to them again by their series commitment while its window lasts
    # (accepted for them at once, a second "it happened" would count its hours twice)
    clock.advance(timedelta(minutes=30))
    system.pump()
    again = [p for p in clients["matching"].get("/api/proposals").json
             if p["need_id"] == need_ids[1] and p["volunteer_id"] == volunteer_id and p["status"] == "accepted"]
    assert again == [], [(p["status"], (p.get("explanation") or {}).get("source"), p["reason"]) for p in again]
