"""The embedded sink (`python -m services.notify.sink`): a local SMTP server (aiosmtpd), an SMS
gateway and a case-system webhook receiver, all writing what they receive into the notify
database (`sink_messages`), which the staff page "Skrzynka testowa" shows.

It behaves like a careful receiver: a message whose identity (Message-ID, SMS reference, webhook
Idempotency-Key) it has already stored is counted as another delivery, not stored twice; webhooks
are checked exactly as docs/notify.md asks a case system to (signature, timestamp window).
"""
from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.exc import IntegrityError

from services.notify.channels import IDEMPOTENCY_HEADER, WebhookRejected, verify
from services.notify.db import sink_messages
from services.notify.settings import Settings
from wspolnota.db import Database

log = logging.getLogger("wspolnota.notify.sink")


class Inbox:
    def __init__(self, db: Database):
        self.db = db

    def store(self, channel: str, message_id: str, recipient: str, subject: str, body: str) -> int:
        """Store a message once per (channel, identity); return how many times it has arrived."""
        t = sink_messages
        now = datetime.now(UTC)
        try:
            with self.db.engine.begin() as conn:
                conn.execute(sa.insert(t).values(channel=channel, message_id=message_id[:200],
                                                 recipient=recipient[:200], subject=subject[:300], body=body,
                                                 deliveries=1, received_at=now))
            return 1
        except IntegrityError:
            with self.db.engine.begin() as conn:
                conn.execute(sa.update(t).where(t.c.channel == channel, t.c.message_id == message_id[:200])
                             .values(deliveries=t.c.deliveries + 1))
                return int(conn.execute(sa.select(t.c.deliveries).where(
                    t.c.channel == channel, t.c.message_id == message_id[:200])).scalar_one())


class SmtpHandler:
    """aiosmtpd handler: every accepted DATA becomes one inbox entry per recipient."""

    def __init__(self, inbox: Inbox):
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        mail = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        part = mail.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        mid = str(mail.get("Message-ID", "")) or f"<no-id-{datetime.now(UTC).timestamp()}>"
        for rcpt in envelope.rcpt_tos:
            count = self.inbox.store("email", mid, rcpt, str(mail.get("Subject", "")), text)
            log.info("mail %s to %s received (delivery %d)", mid, rcpt, count)
        return "250 Message accepted for delivery"


def smtp_controller(inbox: Inbox, port: int, host: str = "127.0.0.1") -> Controller:
    return Controller(SmtpHandler(inbox), hostname=host, port=port)


def http_server(inbox: Inbox, settings: Settings, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug(fmt, *args)

        def reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/sms":
                self.sms(raw)
            elif self.path == "/webhook":
                self.webhook(raw)
            else:
                self.reply(404, {"error": "not_found"})

        def sms(self, raw: bytes) -> None:
            try:
                body = json.loads(raw.decode("utf-8"))
                to, text, reference = str(body["to"]), str(body["text"]), str(body["reference"])
            except (UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
                self.reply(400, {"error": "malformed", "message": f"need JSON with to, text, reference: {err}"})
                return
            count = inbox.store("sms", reference, to, "", text)
            self.reply(200, {"id": reference, "status": "accepted" if count == 1 else "duplicate"})

        def webhook(self, raw: bytes) -> None:
            try:
                body = verify(settings.case_webhook_secret, dict(self.headers.items()), raw,
                              settings.webhook_replay_window_s)
            except WebhookRejected as err:
                self.reply(err.status, {"error": err.code, "message": str(err)})
                return
            key = self.headers[IDEMPOTENCY_HEADER]
            count = inbox.store("webhook", key, "system CUS", str(body["event"]),
                                json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True))
            self.reply(200, {"status": "accepted" if count == 1 else "duplicate"})

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    from services.notify.bootstrap import bootstrap
    from wspolnota.logs import setup_logging
    from wspolnota.worker import stop_on_signals

    setup_logging("notify", "sink")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd narrates every SMTP command
    parts = bootstrap()
    settings, db = parts.settings, parts.db
    inbox = Inbox(db)
    stop = stop_on_signals()
    smtp = smtp_controller(inbox, settings.sink_smtp_port)
    smtp.start()
    http = http_server(inbox, settings, settings.sink_http_port)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    log.info("sink: SMTP on 127.0.0.1:%d, SMS and webhooks on http://127.0.0.1:%d/{sms,webhook}",
             settings.sink_smtp_port, settings.sink_http_port)
    try:
        stop.wait()
    finally:
        http.shutdown()
        smtp.stop()
        db.dispose()


if __name__ == "__main__":
    main()
