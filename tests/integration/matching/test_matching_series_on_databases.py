"""A weekly series accepted once, on SQLite and on PostgreSQL: the later occurrences are accepted without offers, a
week failing a gate goes to the cascade, and a step-back over the HTTP API re-offers the visit and reaches the
organiser exactly once (notify's handlers, on a database of the same engine, fed what matching published)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.matching.service_harness import NOW, TOMORROW_9, MatchingService, new_id
from services.matching.app import create_app
from services.notify import handlers as notify_handlers
from services.notify.db import make_db as make_notify_db
from services.notify.db import notifications
from services.notify.settings import Settings as NotifySettings
from wspolnota.transport import new_event
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration
WEEKS = 4


@pytest.fixture
def matching(tmp_path: Path, new_database: Callable[[], str]) -> Iterator[MatchingService]:
    service = MatchingService(tmp_path, database_url=new_database())
    yield service
    service.close()


def provider(matching: MatchingService, village: str, checked_until: str, **over) -> str:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer(village=village, offer=False, credentials=[
        {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": checked_until,
         "credential_id": new_id()}], **over)
    matching.offer(volunteer_id, village=village, categories=("KOR",),
                   available_to=(NOW + timedelta(days=40)).isoformat())
    return volunteer_id


def test_one_yes_for_the_series_a_gate_failing_one_week_and_a_step_back_on_this_database(
        matching: MatchingService, new_database: Callable[[], str]) -> None:
    third_week = (TOMORROW_9 + timedelta(days=13)).date().isoformat()  # the check ends before week 3
    volunteer = provider(matching, "zagnansk", third_week)
    backup = provider(matching, "kajetanow", "2027-12-31", radius_km=15)
    series_id = new_id()
    needs = [matching.need(start=TOMORROW_9 + timedelta(days=7 * k), category="KOR", involves_minor=True,
                           series_id=series_id, plan_ref="IPUS/3/2026", continuity=True) for k in range(WEEKS)]
    first = matching.match_of(needs[0])
    assert first["volunteer_id"] == volunteer
    matching.approve(first["id"])
    matching.respond(first["id"], volunteer, "accept", scope="series")

    for need_id in needs[:2]:
        assert matching.match_of(need_id, "accepted")["volunteer_id"] == volunteer
    assert [e["match_id"] for e in matching.events("MatchOffered") if e["volunteer_id"] == volunteer] == [first["id"]]
    skipped = matching.events("SeriesVisitSkipped")
    assert {(e["need_id"], e["reason"]) for e in skipped} == {(needs[2], "kamilka_gate"), (needs[3], "kamilka_gate")}
    for need_id in needs[2:]:
        assert [m["volunteer_id"] for m in matching.matches(need_id=need_id)
                if m["status"] in ("proposed", "offered")] == [backup]

    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "MATCHING_CLOCK": lambda: matching.now, "MATCHING_SETTINGS": matching.settings})
    client = app.test_client()
    visit = matching.match_of(needs[1], "accepted")
    bad = client.post(f"/api/matches/{visit['id']}/step-back", json={"volunteer_id": volunteer, "scope": "visit",
                                                                     "reason": "zmęczenie"})
    assert bad.status_code == 422
    body = {"volunteer_id": volunteer, "scope": "visit", "reason": "illness"}
    answer = client.post(f"/api/matches/{visit['id']}/step-back", json=body)
    assert answer.status_code == 200 and answer.json["cancelled"] == 1 and not answer.json["repeated"]
    again = client.post(f"/api/matches/{visit['id']}/step-back", json=body)
    assert again.status_code == 200 and again.json["repeated"] and again.json["id"] == answer.json["id"]
    matching.system.pump()
    matching.tick()
    assert matching.match_of(needs[1], "offered")["volunteer_id"] == backup  # re-offered by the cascade
    assert matching.match_of(needs[0], "accepted")["volunteer_id"] == volunteer  # the other weeks stay
    assert [s["match_id"] for s in client.get("/api/step-backs").json] == [visit["id"]]
    assert "Rezygnacje wykonawców" in client.get("/").get_data(as_text=True)

    notify_db = make_notify_db(new_database())
    notify_db.migrate()
    try:
        table = notify_handlers.handlers(Outbox(notify_db, notify_handlers.PUBLISHES), NotifySettings.from_env(
            {}, link_secret="s", case_webhook_secret="w", public_url="http://test/notify"))
        for e in matching.events():
            data = {k: v for k, v in e.items() if k != "type"}
            if e["type"] in table:
                event = new_event(notify_handlers.CONSUMES, "matching", e["type"], data.get("need_id") or "k", data)
                with notify_db.transaction() as session:
                    table[e["type"]](session, event)
        with notify_db.engine.connect() as conn:
            told = conn.execute(sa.select(notifications.c.subject, notifications.c.urgent).where(
                notifications.c.kind == "match_stepped_back")).all()
            cancelled_to_organiser = conn.execute(sa.select(notifications.c.id).where(
                notifications.c.kind == "match_cancelled", notifications.c.recipient == "organizator",
                notifications.c.match_id == visit["id"])).all()
        assert len(told) == 1 and told[0].subject.startswith("Rezygnacja z wizyty") and not told[0].urgent
        assert cancelled_to_organiser == []
    finally:
        notify_db.dispose()
