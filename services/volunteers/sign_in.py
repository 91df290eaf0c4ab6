"""A volunteer signs in without a password: a short-lived, single-use link sent through notify.

- `request_links`: the typed e-mail address or phone number is looked up among the people who may sign in
  (volunteers and paid neighbours, not erased, verified or with a confirmed e-mail address). For each match a
  `sign_in_tokens` row is written and `SignInLinkRequested` (volunteer id, token id, channel, expiry) goes to the
  outbox in the same transaction. The answer to the person is the same whether anything matched (no account
  enumeration).
- The link itself is built by notify: the token id and its HMAC under a key derived from SECRET_KEY for this
  purpose (contracts/volunteers.py `sign_in_token`). Nothing on the bus opens anything without that key.
- `redeem`: one UPDATE marks the row used only if it is unused and in date, so a link works once even when two
  requests race (PostgreSQL and SQLite alike).
- The session is its own signed cookie (`COOKIE`, path `/wolontariusz` under the service's prefix), never the
  staff session: volunteer id, the volunteer's `session_version` and the sign-in time on the service's clock. It
  lasts VOLUNTEER_SESSION_DAYS; "sign out everywhere" raises the version, which ends every copy.
- `allow`: a fixed-window counter per hashed key in the service's database, shared by every worker.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from contracts import volunteers as volunteer_contract
from services.volunteers import handlers, model, schemas
from services.volunteers.db import sign_in_rate_windows, sign_in_tokens, volunteers
from wspolnota import ratelimit
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox

COOKIE = "wspolnota_wolontariusz"
SESSION_SALT = "wspolnota.volunteers.volunteer-session"
MAY_SIGN_IN = (model.VOLUNTEER, model.PAID_NEIGHBOUR)  # people; an organisation's contact and staff do not
MAX_IDENTIFIER = 200


class BadIdentifier(ValueError):
    """Neither an e-mail address nor a phone number (a form error; says nothing about who is known)."""


@dataclass(frozen=True)
class Identifier:
    channel: str  # email | sms
    value: str  # the address in lower case, or the phone number as stored (+48…)


def actor(volunteer_id: str) -> str:
    """Who acted, in the audit log, when the volunteer did it themselves."""
    return f"wolontariusz:{volunteer_id}"


def parse_identifier(raw: str | None) -> Identifier:
    text = (raw or "").strip()
    if not text or len(text) > MAX_IDENTIFIER:
        raise BadIdentifier("Podaj adres e-mail albo numer telefonu.")
    if "@" in text:
        from marshmallow import ValidationError

        try:
            schemas.Email().deserialize(text)
        except ValidationError as err:
            raise BadIdentifier("Niepoprawny adres e-mail.") from err
        return Identifier("email", text.lower())
    try:
        schemas._phone(text)
    except Exception as err:  # noqa: BLE001 - marshmallow's ValidationError: a form error
        raise BadIdentifier("Podaj adres e-mail albo numer telefonu (9 cyfr, opcjonalnie z +48).") from err
    return Identifier("sms", schemas.normalise_phone(text))


def may_sign_in(v: sa.RowMapping | dict[str, Any]) -> bool:
    return (v["erased_at"] is None and v["provider_type"] in MAY_SIGN_IN
            and (v["verified_at"] is not None or v["email_confirmed_at"] is not None))


def matching_volunteers(session: Session, who: Identifier) -> list[str]:
    column = sa.func.lower(volunteers.c.email) if who.channel == "email" else volunteers.c.phone
    rows = session.execute(sa.select(volunteers).where(column == who.value, volunteers.c.erased_at.is_(None))
                           .order_by(volunteers.c.created_at).limit(5)).mappings().all()
    return [r["id"] for r in rows if may_sign_in(r)]


def request_links(session: Session, outbox: Outbox, who: Identifier, now: datetime, minutes: int) -> int:
    """A link for every person who may sign in with this address; returns how many (never shown to anyone)."""
    found = matching_volunteers(session, who)
    for volunteer_id in found:
        token_id = str(uuid.uuid4())
        expires = now + timedelta(minutes=minutes)
        session.execute(sa.insert(sign_in_tokens).values(id=token_id, volunteer_id=volunteer_id, channel=who.channel,
                                                         created_at=now, expires_at=expires))
        outbox.add(session, volunteer_contract.TOPIC, "SignInLinkRequested", volunteer_id, {
            "volunteer_id": volunteer_id, "token_id": token_id, "channel": who.channel,
            "expires_at": expires.isoformat()})
        handlers.audit(session, actor(volunteer_id), "sign_in_link", volunteer_id,
                       f"link do logowania ({'e-mail' if who.channel == 'email' else 'SMS'})")
    return len(found)


class LinkUnusable(Exception):
    """The link cannot sign anyone in: `reason` is unknown, used or expired."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def token_row(session: Session, secret: str, token: str) -> sa.RowMapping:
    token_id = volunteer_contract.read_sign_in_token(secret, token)
    if token_id is None:
        raise LinkUnusable("unknown")
    row = session.execute(sa.select(sign_in_tokens).where(sign_in_tokens.c.id == token_id)).mappings().first()
    if row is None:
        raise LinkUnusable("unknown")
    return row


def check(session: Session, secret: str, token: str, now: datetime) -> str:
    """The volunteer the link would sign in, without using it up (the page before the button)."""
    row = token_row(session, secret, token)
    if row["used_at"] is not None:
        raise LinkUnusable("used")
    if row["expires_at"] <= now:
        raise LinkUnusable("expired")
    return str(row["volunteer_id"])


def redeem(session: Session, secret: str, token: str, now: datetime) -> sa.RowMapping:
    """Use the link up and return the volunteer it signs in; LinkUnusable if it is unknown, used or expired, or the
    person may no longer sign in. Single use holds under races: only one UPDATE finds the row unused."""
    row = token_row(session, secret, token)
    taken = session.execute(sa.update(sign_in_tokens).where(
        sign_in_tokens.c.id == row["id"], sign_in_tokens.c.used_at.is_(None), sign_in_tokens.c.expires_at > now)
        .values(used_at=now)).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        raise LinkUnusable("used" if row["used_at"] is not None or row["expires_at"] > now else "expired")
    v = handlers.get_volunteer(session, row["volunteer_id"])
    if not may_sign_in(v):
        raise LinkUnusable("unknown")
    handlers.audit(session, actor(v["id"]), "sign_in", v["id"], "logowanie linkiem")
    return v


# --- the volunteer's session cookie ----------------------------------------------------------------------------
def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SESSION_SALT)


def session_value(secret: str, v: sa.RowMapping | dict[str, Any], now: datetime) -> str:
    return _serializer(secret).dumps({"v": v["id"], "sv": int(v["session_version"] or 0),
                                      "at": int(now.timestamp())})


def session_volunteer(session: Session, secret: str, value: str | None, now: datetime,
                      days: int) -> sa.RowMapping | None:
    """The signed-in volunteer of a cookie, or None: bad signature, older than `days`, an older session version
    (signed out everywhere), or a person who may no longer sign in."""
    if not value:
        return None
    try:
        data = _serializer(secret).loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("at"), int) or not isinstance(data.get("v"), str):
        return None
    age = now.timestamp() - data["at"]
    if age > days * 86400 or age < -300:
        return None
    v = session.execute(sa.select(volunteers).where(volunteers.c.id == data["v"])).mappings().first()
    if v is None or not may_sign_in(v) or int(v["session_version"] or 0) != data.get("sv"):
        return None
    return v


def sign_out_everywhere(session: Session, volunteer_id: str) -> None:
    session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id)
                    .values(session_version=volunteers.c.session_version + 1))
    handlers.audit(session, actor(volunteer_id), "sign_out_everywhere", volunteer_id, "wylogowanie na wszystkich "
                   "urządzeniach")


# --- rate limits -----------------------------------------------------------------------------------------------
def allow(db: Database, key: str, limit: int, window_s: int, now: datetime) -> bool:
    """False once `limit` requests were made for the hashed key in the current window (wspolnota/ratelimit.py:
    shared by every worker; a refused request still counts)."""
    hashed = hashlib.sha256(key.encode("utf-8")).hexdigest()
    count = ratelimit.count_request(db, sign_in_rate_windows, hashed, window_s, now.timestamp())
    return count is not None and count <= limit
