"""Everything the needs service publishes is accepted by the services that consume `needs`."""
from __future__ import annotations

import uuid
from datetime import timedelta

from services.matching import handlers as matching
from services.notify import handlers as notify
from tests.unit.needs.conftest import need_body
from wspolnota import config, localtime
from wspolnota.transport import decode


def test_every_needs_event_passes_the_consumers_schemas(needs) -> None:  # type: ignore[no-untyped-def]
    start = localtime.today() + timedelta(days=1)
    needs.client.post("/api/packages", json={"plan_ref": "IPUS/K/1", "resident_ref": "M-K", "village": "umer",
                                             "start_date": start.isoformat(),
                                             "end_date": (start + timedelta(days=30)).isoformat()})
    series = needs.client.post("/api/needs/recurring", json={
        **{k: v for k, v in need_body(category="OPI", involves_minor=True).items() if not k.startswith("window")},
        "plan_ref": "IPUS/K/1", "recurrence": {"weekdays": [1], "time_from": "09:00", "time_to": "11:00",
                                               "starts_on": start.isoformat(),
                                               "until": (start + timedelta(days=20)).isoformat()}}).json
    first = series["needs"][0]["id"]
    needs.client.patch(f"/api/needs/{first}", json={"slots": 2})
    match_id = str(uuid.uuid4())
    needs.match_event("MatchAccepted", first, match_id)
    needs.match_event("MatchCompleted", first, match_id, hours=2.0)
    needs.match_event("MatchCompleted", first, str(uuid.uuid4()), hours=2.0)
    needs.client.post("/api/packages/IPUS/K/1/close", json={"reason": "koniec"})
    needs.system.pump()
    messages = needs.system.broker.messages(config.topic("needs"))
    types = {decode(m.value).type for m in messages}
    assert types == {"SupportPackageOpened", "NeedRegistered", "NeedUpdated", "NeedCompleted", "NeedCancelled",
                     "SupportPackageClosed"}
    for m in messages:
        for catalog in (matching.CONSUMES, notify.CONSUMES):
            decode(m.value, catalog)  # raises InvalidEvent if a consumer would dead-letter it
