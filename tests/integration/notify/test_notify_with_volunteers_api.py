"""Contract with the volunteers service: the sender reads a provider's address from the real internal
contact API (served over HTTP) at the moment it sends, and the mail reaches the SMTP sink."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from services.notify.db import make_db, notifications, sink_messages
from services.notify.handlers import CONSUMES, PUBLISHES, handlers
from services.notify.sender import Sender
from services.notify.settings import Settings
from services.notify.sink import Inbox, smtp_controller
from services.volunteers.app import create_app as volunteers_app
from services.volunteers.db import make_db as volunteers_db
from wspolnota.broker import free_port
from wspolnota.testing import wait_until
from wspolnota.transport import new_event
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

# The sender's clock: tomorrow at 11:00 Warsaw time, so a non-urgent SMS is never held back by the
# quiet hours (20:00–08:00) whatever time of day the suite runs.
DAYTIME = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
PERSON = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303", "villages": ["belno"]}


@pytest.fixture
def volunteers(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'volunteers.db'}"
    db = volunteers_db(url)
    db.migrate()
    app = volunteers_app({"DATABASE_URL": url, "TESTING": True, "AUTH_DISABLED": True, "INTERNAL_SERVICE_TOKEN": "shared-token"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app.test_client(), f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    db.dispose()


def test_an_offer_reaches_the_address_the_volunteers_service_holds(tmp_path: Path, volunteers) -> None:  # type: ignore[no-untyped-def]
    client, base = volunteers
    volunteer = client.post("/api/volunteers", json=PERSON)
    assert volunteer.status_code == 201, volunteer.json
    volunteer_id = volunteer.json["id"]

    db = make_db(f"sqlite:///{tmp_path / 'notify.db'}")
    db.migrate()
    port = free_port()
    sink = smtp_controller(Inbox(db), port)
    sink.start()
    settings = Settings.from_env({}, volunteers_internal_url=base, internal_service_token="shared-token",
                                 smtp_port=port, sms_gateway_url=f"http://127.0.0.1:{free_port()}/sms")
    offer = new_event(CONSUMES, "matching", "MatchOffered", "n", {
        "match_id": "22222222-2222-4222-8222-222222222222", "need_id": "11111111-1111-4111-8111-111111111111",
        "volunteer_id": volunteer_id, "deadline": (DAYTIME + timedelta(days=1)).isoformat(),
        "urgent": False, "category": "ZAK", "village": "belno",
        "window_start": (DAYTIME + timedelta(days=2)).isoformat()})
    with db.transaction() as session:
        handlers(Outbox(db, PUBLISHES), settings)["MatchOffered"](session, offer)
    try:
        Sender(db, settings, clock=lambda: DAYTIME).run_once()
        [mail] = wait_until(lambda: _inbox(db), 10, message="the offer mail in the sink")
    finally:
        sink.stop()
    assert mail["recipient"] == "zofia@example.pl" and mail["subject"].startswith("Prośba o pomoc")
    with db.engine.connect() as conn:
        rows = {r.channel: r for r in conn.execute(sa.select(notifications))}
    assert rows["email"].status == "sent"
    # The volunteers service records e-mail as the preferred channel by default: no SMS for a non-urgent offer.
    assert (rows["sms"].status, rows["sms"].last_error) == ("skipped", "wolontariusz woli kanał e-mail")
    assert "Wiśniewska" not in mail["body"]  # the text itself carries no personal data
    db.dispose()


def _inbox(db) -> list[dict]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(sink_messages)).mappings()]
