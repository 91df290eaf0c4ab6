"""E-mail confirmation of a self-registration: a signed, expiring link sent over SMTP.

Sending happens after the registration has committed. If the SMTP server cannot be reached, the
link is kept in `confirmation_mails` (with the error) so staff can see it and resend; the
registration itself stands either way.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.volunteers.db import confirmation_mails
from wspolnota.db import Database

log = logging.getLogger("volunteers.mail")
SALT = "volunteers.confirm-email"


def serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_token(secret_key: str, volunteer_id: str) -> str:
    return serializer(secret_key).dumps({"v": volunteer_id})


def read_token(secret_key: str, token: str, max_age_s: int) -> str | None:
    """The volunteer id inside a valid, unexpired token; None otherwise."""
    try:
        data = serializer(secret_key).loads(token, max_age=max_age_s)
    except (SignatureExpired, BadSignature):
        return None
    return data.get("v") if isinstance(data, dict) else None


def confirmation_message(sender: str, to: str, link: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "Potwierdź adres e-mail — wolontariat CUS Zagnańsk"
    msg["From"], msg["To"] = sender, to
    msg.set_content(
        "Dzień dobry,\n\n"
        "dziękujemy za zgłoszenie do wolontariatu Centrum Usług Społecznych w Zagnańsku.\n"
        f"Prosimy potwierdzić adres e-mail, otwierając link:\n\n{link}\n\n"
        "Link jest ważny 72 godziny. Po potwierdzeniu pracownik CUS skontaktuje się, aby zweryfikować "
        "zgłoszenie. Jeśli to nie Ty się zgłaszałeś(-aś), zignoruj tę wiadomość.\n")
    return msg


def send_confirmation(db: Database, volunteer_id: str, to: str, link: str, host: str, port: int,
                      sender: str) -> bool:
    """Send the link; record the attempt. True if the SMTP server accepted the message."""
    error = None
    try:
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.send_message(confirmation_message(sender, to, link))
    except (OSError, smtplib.SMTPException) as err:
        error = f"{type(err).__name__}: {err}"[:300]
        log.warning("confirmation mail for volunteer %s not sent: %s", volunteer_id, error)
    at = datetime.now(UTC)
    with db.transaction() as session:
        session.execute(sa.insert(confirmation_mails).values(
            volunteer_id=volunteer_id, created_at=at, sent_at=None if error else at,
            link=link if error else None, error=error))
    return error is None
