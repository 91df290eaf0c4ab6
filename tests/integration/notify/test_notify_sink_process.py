"""`python -m services.notify.sink` as its own process: mail, SMS and a signed webhook sent by the real
channels land in the notify database, which the "Skrzynka testowa" page shows; SIGTERM stops it cleanly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from services.notify.app import create_app
from services.notify.channels import EmailChannel, Outgoing, SmsChannel, WebhookChannel
from services.notify.db import make_db
from services.notify.settings import Settings
from wspolnota.broker import free_port, wait_for_port
from wspolnota.config import ROOT

pytestmark = pytest.mark.integration

ID = "7d3c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a"


def test_the_sink_process_receives_every_channel_and_staff_see_it(tmp_path: Path) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'notify.db'}")
    db.migrate()
    smtp_port, http_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": db.url, "NOTIFY_SINK_SMTP_PORT": str(smtp_port),
           "NOTIFY_SINK_HTTP_PORT": str(http_port), "NOTIFY_CASE_WEBHOOK_SECRET": "s3cret"}
    sink = subprocess.Popen([sys.executable, "-m", "services.notify.sink"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(smtp_port)
        wait_for_port(http_port)
        settings = Settings.from_env({}, smtp_port=smtp_port, sms_gateway_url=f"http://127.0.0.1:{http_port}/sms",
                                     case_webhook_secret="s3cret")
        base = {"notification_id": ID, "kind": "match_accepted", "subject": "Zadanie przyjęte: Transport, Belno",
                "text": "Dzień dobry, zadanie przyjęte."}
        EmailChannel(settings).send(Outgoing(**base, address="osl@cus.example"))
        SmsChannel(settings).send(Outgoing(**base, address="+48601202303"))
        WebhookChannel(settings).send(Outgoing(**base, address=f"http://127.0.0.1:{http_port}/webhook",
                                               payload={"event": "match.accepted", "notification_id": ID}))
    finally:
        sink.send_signal(signal.SIGTERM)
        assert sink.wait(30) == 0, sink.stderr.read().decode() if sink.stderr else ""
    page = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True}).test_client().get("/skrzynka")
    text = page.get_data(as_text=True)
    assert "osl@cus.example" in text and "+48601202303" in text and "match.accepted" in text
    assert text.count("Zadanie przyjęte") >= 1 and "Dzień dobry, zadanie przyjęte." in text
    db.dispose()
