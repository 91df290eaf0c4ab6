"""Channels behind one interface: `send(Outgoing)` returns on success, raises on failure.

- PermanentFailure: retrying cannot help (address refused, 4xx from a gateway): the ledger row fails now.
- TemporaryFailure (or any other exception): the sender retries with backoff.

Every message carries an identity derived from its ledger id (e-mail Message-ID, SMS `reference`,
webhook `Idempotency-Key`), so a resend after a crash is recognisably the same message.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Protocol

import requests

from services.notify.settings import Settings

MESSAGE_ID_DOMAIN = "wspolnota.cus-zagnansk"
TIMESTAMP_HEADER = "X-Wspolnota-Timestamp"
SIGNATURE_HEADER = "X-Wspolnota-Signature"
EVENT_HEADER = "X-Wspolnota-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class PermanentFailure(Exception):
    pass


class TemporaryFailure(Exception):
    pass


class QuietHours(Exception):
    """The recipient's own quiet hours (a volunteer's, from their page): try again at `until` (aware UTC)."""

    def __init__(self, until: Any):
        super().__init__(f"godziny ciszy wolontariusza do {until:%H:%M} UTC")
        self.until = until


class NotOnThisChannel(Exception):
    """The recipient is not to be reached on this channel (no address, or prefers another one)."""


@dataclass(frozen=True)
class Outgoing:
    notification_id: str
    kind: str
    address: str
    subject: str
    text: str
    html: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> None: ...


def message_id(notification_id: str) -> str:
    return f"<{notification_id}@{MESSAGE_ID_DOMAIN}>"


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings):
        self.s = settings

    def build(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.s.mail_from
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.notification_id)
        mail["X-Wspolnota-Notification"] = message.notification_id
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.s.smtp_ca_file or None)

    def send(self, message: Outgoing) -> None:
        mail = self.build(message)
        try:
            if self.s.smtp_security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.s.smtp_host, self.s.smtp_port,
                                                      timeout=self.s.smtp_timeout_s, context=self.tls())
            else:
                smtp = smtplib.SMTP(self.s.smtp_host, self.s.smtp_port, timeout=self.s.smtp_timeout_s)
            with smtp:
                if self.s.smtp_security == "starttls":
                    smtp.starttls(context=self.tls())
                if self.s.smtp_user:
                    smtp.login(self.s.smtp_user, self.s.smtp_password)
                smtp.send_message(mail, from_addr=parseaddr(self.s.mail_from)[1], to_addrs=[message.address])
        except smtplib.SMTPRecipientsRefused as err:
            raise PermanentFailure("serwer poczty odrzucił adres odbiorcy") from err
        except smtplib.SMTPAuthenticationError as err:
            raise TemporaryFailure("serwer poczty odrzucił logowanie (NOTIFY_SMTP_USER/PASSWORD)") from err
        except (OSError, smtplib.SMTPException) as err:
            raise TemporaryFailure(f"SMTP: {type(err).__name__}: {err}"[:300]) from err


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float, what: str) -> requests.Response:
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout_s)
    except requests.RequestException as err:
        raise TemporaryFailure(f"{what} nie odpowiada ({type(err).__name__})") from err
    if 200 <= response.status_code < 300:
        return response
    detail = response.text[:200].replace("\n", " ")
    if 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429):
        raise PermanentFailure(f"{what} odrzucił wiadomość: {response.status_code} {detail}")
    raise TemporaryFailure(f"{what} odpowiedział {response.status_code} {detail}")


class SmsChannel:
    """HTTP SMS gateway adapter; request format in docs/notify.md ("SMS gateway")."""

    name = "sms"

    def __init__(self, settings: Settings):
        self.s = settings

    def request(self, message: Outgoing) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"to": message.address, "text": message.text, "sender": self.s.sms_sender,
                           "reference": message.notification_id}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", IDEMPOTENCY_HEADER: message.notification_id}
        if self.s.sms_gateway_token:
            headers["Authorization"] = f"Bearer {self.s.sms_gateway_token}"
        return body, headers

    def send(self, message: Outgoing) -> None:
        body, headers = self.request(message)
        _post(self.s.sms_gateway_url, body, headers, self.s.http_timeout_s, "bramka SMS")


# -- case-system webhooks ---------------------------------------------------------------------------
def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<raw body>", hex, prefixed "sha256="."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, idempotency_key: str, event: str, now: float | None = None
                   ) -> dict[str, str]:
    ts = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: signature(secret, ts, body), IDEMPOTENCY_HEADER: idempotency_key, EVENT_HEADER: event}


class WebhookRejected(ValueError):
    """Why a receiver refuses a webhook: `code` for machines, the message for people."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def verify(secret: str, headers: dict[str, str], body: bytes, window_s: int, now: float | None = None
           ) -> dict[str, Any]:
    """What a receiver checks, in order; returns the parsed body or raises WebhookRejected.

    A request replayed later than the window is refused by its timestamp; within the window the
    receiver must act once per Idempotency-Key (a sender's resend after a crash has a new timestamp
    and signature but the same key) — see docs/notify.md.
    """
    h = {k.lower(): v for k, v in headers.items()}
    ts, sig, key = h.get(TIMESTAMP_HEADER.lower()), h.get(SIGNATURE_HEADER.lower()), h.get(IDEMPOTENCY_HEADER.lower())
    if not ts or not sig or not key:
        missing = [n for n, v in ((TIMESTAMP_HEADER, ts), (SIGNATURE_HEADER, sig), (IDEMPOTENCY_HEADER, key)) if not v]
        raise WebhookRejected("missing_header", f"missing header(s): {', '.join(missing)}")
    if not ts.isdigit():
        raise WebhookRejected("bad_timestamp", f"{TIMESTAMP_HEADER} must be Unix seconds, got {ts[:40]!r}")
    if not hmac.compare_digest(sig, signature(secret, ts, body)):
        raise WebhookRejected("bad_signature", "signature does not match the body and timestamp", 401)
    age = (time.time() if now is None else now) - int(ts)
    if abs(age) > window_s:
        raise WebhookRejected("stale_timestamp", f"timestamp is {int(age)} s away from now; the replay window is "
                                                 f"±{window_s} s", 401)
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WebhookRejected("malformed_body", f"body is not UTF-8 JSON: {err}") from err
    if not isinstance(parsed, dict) or not isinstance(parsed.get("event"), str):
        raise WebhookRejected("malformed_body", "body must be a JSON object with an \"event\" string")
    return parsed


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings: Settings):
        self.s = settings

    def send(self, message: Outgoing) -> None:
        body = json.dumps(message.payload, ensure_ascii=False, sort_keys=True).encode()
        headers = signed_headers(self.s.case_webhook_secret, body, message.notification_id,
                                 str(message.payload.get("event", message.kind)))
        _post(message.address, body, headers, self.s.http_timeout_s, "system CUS")


def default_channels(settings: Settings) -> dict[str, Channel]:
    return {c.name: c for c in (EmailChannel(settings), SmsChannel(settings), WebhookChannel(settings))}
