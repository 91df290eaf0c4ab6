"""kill -9 of the sender in the middle of a send: after a restart nothing is lost and no message is sent
twice as a different message — the resend carries the same Message-ID (the ledger id), which the
receiving sink recognises as a second delivery of one message, not as a new one.

A real aiosmtpd sink, a real `python -m services.notify.sender` subprocess killed by SIGKILL at a
failpoint (WSPOLNOTA_FAILPOINT), and a second subprocess that finishes the job.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.notify.db import make_db, notifications, sink_messages
from services.notify.handlers import PUBLISHES
from services.notify.ledger import record
from services.notify.sink import Inbox, smtp_controller
from wspolnota.broker import free_port
from wspolnota.config import ROOT
from wspolnota.testing import wait_until
from wspolnota.transport.outbox import Outbox

pytestmark = pytest.mark.integration

CAUSES = [f"a0000000-0000-4000-8000-00000000000{i}" for i in range(1, 4)]


def sender(env: dict[str, str], failpoint: str = "") -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "services.notify.sender"], cwd=ROOT,
                            env={**env, "WSPOLNOTA_FAILPOINT": failpoint}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def ledger(db) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(sa.select(notifications)).mappings()}


def sink(db) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return {r["message_id"]: dict(r) for r in conn.execute(sa.select(sink_messages)).mappings()}


@pytest.mark.parametrize("failpoint, resent", [("sender.after_send", 1), ("sender.before_send", 0)])
def test_a_sender_killed_during_a_send_loses_nothing_and_sends_nothing_twice(tmp_path: Path, failpoint: str,
                                                                             resent: int) -> None:
    db = make_db(f"sqlite:///{tmp_path / 'notify.db'}")
    db.migrate()
    outbox = Outbox(db, PUBLISHES)
    with db.transaction() as session:
        for cause in CAUSES:
            record(session, outbox, cause, "need_unmatched", "organizator", "email", "Brak wykonawcy od 48 h",
                   "Dzień dobry,\n\npotrzeba czeka na wykonawcę.")
    port = free_port()
    controller = smtp_controller(Inbox(db), port)
    controller.start()
    env = {**os.environ, "DATABASE_URL": db.url, "NOTIFY_SMTP_PORT": str(port), "NOTIFY_SENDING_LEASE_S": "1",
           "NOTIFY_SENDER_POLL_S": "0.1", "NOTIFY_ORGANISER_EMAIL": "osl@cus.example", "LOG_LEVEL": "WARNING"}
    try:
        first = sender(env, failpoint)
        assert first.wait(60) == -signal.SIGKILL, first.stderr.read().decode() if first.stderr else ""
        [interrupted] = [r for r in ledger(db).values() if r["status"] == "sending"]
        assert len(sink(db)) == resent
        assert {r["status"] for r in ledger(db).values() if r["id"] != interrupted["id"]} == {"pending"}

        second = sender(env)
        try:
            wait_until(lambda: {r["status"] for r in ledger(db).values()} == {"sent"}, 60,
                       message="the restarted sender to send everything")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0
    finally:
        controller.stop()

    rows, received = ledger(db), sink(db)
    assert {f"<{i}@wspolnota.cus-zagnansk>" for i in rows} == set(received)  # nothing lost, nothing extra
    deliveries = {mid: m["deliveries"] for mid, m in received.items()}
    interrupted_mid = f"<{interrupted['id']}@wspolnota.cus-zagnansk>"
    assert deliveries.pop(interrupted_mid) == 1 + resent  # a resend is the same message, recognisably
    assert set(deliveries.values()) == {1}  # every other message went exactly once
    assert rows[interrupted["id"]]["attempts"] == 2
    db.dispose()
