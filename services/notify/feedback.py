"""Escalated concerns and residents' feedback by SMS.

- `ConcernEscalated` (needs: a concern nobody acknowledged by its deadline) → one urgent e-mail to the director
  (NOTIFY_DIRECTOR_EMAIL) with a link to the concern page; the ledger's cause is derived from the concern id, so a
  redelivered or republished event never sends twice.
- `MatchCompleted` → a feedback request SMS ("Jak oceniasz wizytę? Odpisz 1 – dobrze, 2 – średnio, 3 – źle") to
  the resident, once per match. Notify keeps no phone: the sender asks the needs service at send time
  (`GET /internal/matches/<id>/feedback-contact`, audited there; nothing is sent without the resident's SMS
  consent) and keeps only a keyed hash of the phone (`feedback_requests.phone_hash`), set before the SMS goes.
- `POST /api/sms/inbound` (the SMS gateway; bearer NOTIFY_SMS_INBOUND_TOKEN; JSON {from, text, received_at}): a
  reply code is matched by the phone's hash to that phone's latest open request (sent within
  NOTIFY_FEEDBACK_REPLY_DAYS) and published as `FeedbackGiven {feedback_id, match_id, need_id, source:
  "resident_sms", score}`, once per request. The text is never stored or published; anything that is not a code
  (e.g. "7", "tak", empty) and a phone with no open request are recorded as such and answered 200 with nothing
  else done — no reply SMS, so a gateway's retries or an auto-reply cannot start a loop.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.orm import Session

from contracts import notify as notify_contract
from services.notify.channels import NotOnThisChannel
from services.notify.db import feedback_requests, inbound_rate_windows, matches_seen, sms_replies
from services.notify.internal_api import InternalApi
from services.notify.ledger import derived_id, record, record_rendered
from services.notify.messages import quiet_until, render
from services.notify.settings import Settings
from wspolnota import config, ratelimit
from wspolnota.service import Clock
from wspolnota.transport import Event
from wspolnota.transport.outbox import Outbox
from wspolnota.web import current_parts

log = logging.getLogger("services.notify")

DIRECTOR = "dyrektor"  # ledger recipient: the centre's director (NOTIFY_DIRECTOR_EMAIL)
RESIDENT_OF_MATCH = "mieszkaniec_wizyty:"  # the resident of a completed match (match id); phone asked of needs
FEEDBACK_KIND = "feedback_request"
KIND_PL = {"concern": "niepokój", "incident": "zdarzenie", "safeguarding": "ochrona przed krzywdzeniem"}
REPLY = re.compile(r"^\s*([1-3])\s*[.)!]?\s*$")


# -- reply codes and phones ------------------------------------------------------------------------------------
def reply_code(text: Any) -> int | None:
    """1, 2 or 3 from a reply such as "1", " 1 ", "1." or "2)"; None for anything else ("7", "tak", "", "12")."""
    if not isinstance(text, str):
        return None
    found = REPLY.match(text)
    return int(found.group(1)) if found else None


def normalise_phone(phone: str) -> str:
    """Digits only, a Polish number without its country code: "+48 600 100 200" and "600100200" are one phone."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0048"):
        digits = digits[4:]
    elif digits.startswith("48") and len(digits) == 11:
        digits = digits[2:]
    return digits


def phone_hash(phone: str, key: str) -> str:
    """A keyed hash of the normalised phone (HMAC-SHA256 under a key derived from SECRET_KEY): what notify keeps."""
    derived = hmac.new(key.encode(), b"notify-phone-hash", hashlib.sha256).digest()
    return hmac.new(derived, normalise_phone(phone).encode(), hashlib.sha256).hexdigest()


# -- the resident's SMS contact, from the needs service ---------------------------------------------------------
@dataclass(frozen=True)
class FeedbackContact:
    sms: bool
    phone: str


class FeedbackContacts(InternalApi):
    """GET {needs}/internal/matches/<match_id>/feedback-contact: whether the match's resident consented to SMS, and
    the phone only then. Audited in the needs service."""

    PATH = "/internal/matches/{id}/feedback-contact"
    SERVICE = "usługa potrzeb"
    MISSING = "brak wizyty w usłudze potrzeb (404)"

    def fetch(self, match_id: str) -> FeedbackContact:
        body = self.get_json(match_id)
        return FeedbackContact(sms=body.get("sms") is True, phone=str(body.get("phone") or ""))


def address(settings: Settings, contacts: FeedbackContacts | None, recipient: str, channel: str) -> str | None:
    """The AddressBook's answer for the two recipients of this module (None: not one of them)."""
    if recipient == DIRECTOR:
        return settings.director_email if channel == "email" else None
    if recipient.startswith(RESIDENT_OF_MATCH):
        if channel != "sms":
            raise NotOnThisChannel("mieszkaniec dostaje tylko SMS")
        found = (contacts or FeedbackContacts(settings.needs_internal_url, settings.internal_service_token,
                                              settings.http_timeout_s)).fetch(recipient.removeprefix(RESIDENT_OF_MATCH))
        if not found.sms or not found.phone:
            raise NotOnThisChannel("mieszkaniec nie zgodził się na SMS")
        return found.phone
    return None


def remember_phone(db: Any, settings: Settings, row: Any, phone: str, now: datetime) -> None:
    """Called by the sender just before a feedback request SMS goes: keep the phone's hash, not the phone."""
    with db.transaction() as session:
        session.execute(sa.update(feedback_requests).where(feedback_requests.c.match_id == row["match_id"])
                        .values(phone_hash=phone_hash(phone, settings.secret_key), sent_at=now,
                                notification_id=row["id"]))


# -- consumed events --------------------------------------------------------------------------------------------
def handlers(outbox: Outbox, cfg: Settings, clock: Clock) -> dict[str, Callable[[Session, Event], None]]:
    front_door = cfg.public_url.rstrip("/").removesuffix("/notify")

    def on_concern_escalated(session: Session, event: Event) -> None:
        d = event.data
        text = render("concern_escalated", link=f"{front_door}/needs/zgloszenia/{d['concern_id']}",
                      kind_pl=KIND_PL.get(d.get("kind") or "concern", ""))
        record(session, outbox, derived_id(d["concern_id"], "escalated"), "concern_escalated", DIRECTOR, "email",
               text.subject, text.email, urgent=True)

    def on_match_completed(session: Session, event: Event) -> None:
        d = event.data
        if session.execute(sa.select(feedback_requests.c.match_id).where(
                feedback_requests.c.match_id == d["match_id"])).first() is not None:
            return  # asked once per match, whatever corrections follow
        if session.execute(sa.select(matches_seen.c.activity_id).where(
                matches_seen.c.match_id == d["match_id"])).scalar():
            return  # a helper place at a community activity: no single resident to ask
        session.execute(sa.insert(feedback_requests).values(match_id=d["match_id"], need_id=d.get("need_id"),
                                                            requested_at=clock()))
        text = render(FEEDBACK_KIND)
        due = quiet_until(clock(), *cfg.quiet_window())
        record_rendered(session, outbox, derived_id(d["match_id"], "feedback"), FEEDBACK_KIND,
                        RESIDENT_OF_MATCH + d["match_id"], ("sms",), text, need_id=d.get("need_id"),
                        match_id=d["match_id"], due=due)

    def on_resident_erased(session: Session, event: Event) -> None:
        """The resident's phone hash goes with them: their later replies match nothing."""
        need_ids = list(event.data.get("need_ids") or [])
        if need_ids:
            session.execute(sa.update(feedback_requests).where(feedback_requests.c.need_id.in_(need_ids))
                            .values(phone_hash=None))

    return {"ConcernEscalated": on_concern_escalated, "MatchCompleted": on_match_completed,
            "ResidentErased": on_resident_erased}


def chained(first: Callable[[Session, Event], None] | None,
            second: Callable[[Session, Event], None]) -> Callable[[Session, Event], None]:
    """One handler running both (in one transaction): for an event notify already handled elsewhere."""
    if first is None:
        return second

    def both(session: Session, event: Event) -> None:
        first(session, event)
        second(session, event)

    return both


# -- the inbound SMS webhook ------------------------------------------------------------------------------------
def take_reply(session: Session, outbox: Outbox, *, phone: str, text: Any, received_at: datetime, key: str,
               now: datetime, reply_days: int) -> dict[str, Any]:
    """Match one inbound SMS to the phone's latest open request; publish FeedbackGiven once. Never keeps the text."""
    hashed = phone_hash(phone, key)
    code = reply_code(text)
    outcome, match_id = "no_code", None
    if code is not None:
        latest = session.execute(
            sa.select(feedback_requests).where(feedback_requests.c.phone_hash == hashed,
                                               feedback_requests.c.sent_at.is_not(None),
                                               feedback_requests.c.sent_at >= now - timedelta(days=reply_days))
            .order_by(feedback_requests.c.sent_at.desc()).limit(1)).mappings().first()
        if latest is None:
            outcome = "no_request"
        elif latest["answered_at"] is not None:
            outcome, match_id = "answered_before", latest["match_id"]
        else:
            done = session.execute(sa.update(feedback_requests).where(  # type: ignore[attr-defined]
                feedback_requests.c.match_id == latest["match_id"], feedback_requests.c.answered_at.is_(None))
                .values(answered_at=received_at, score=code)).rowcount
            outcome, match_id = ("matched" if done else "answered_before"), latest["match_id"]
            if done:
                outbox.add(session, notify_contract.TOPIC, "FeedbackGiven", latest["match_id"], {
                    "feedback_id": derived_id(latest["match_id"], "resident_sms"), "match_id": latest["match_id"],
                    "need_id": latest["need_id"], "source": "resident_sms", "score": code})
    session.execute(sa.insert(sms_replies).values(id=str(uuid.uuid4()), phone_hash=hashed, received_at=received_at,
                                                  code=code, outcome=outcome, match_id=match_id))
    return {"status": outcome, "match_id": match_id}


inbound = Blueprint("notify_sms_inbound", __name__, url_prefix="/api/sms")


def _problem(status: int, message: str, fields: dict[str, list[str]] | None = None) -> Any:
    body: dict[str, Any] = {"code": status, "message": message}
    if fields:
        body["errors"] = {"json": fields}
    return jsonify(body), status


@inbound.post("/inbound")
def sms_inbound():  # type: ignore[no-untyped-def]
    """A resident's SMS as the gateway posts it: {from, text, received_at (ISO-8601 with zone)}."""
    expected = str(current_app.config.get("NOTIFY_SMS_INBOUND_TOKEN") or config.get("NOTIFY_SMS_INBOUND_TOKEN"))
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        log.warning("inbound SMS: refused a call without a valid token")
        return _problem(401, "Wymagany token bramki SMS.")
    parts = current_parts()
    per_minute = int(current_app.config.get("NOTIFY_SMS_INBOUND_PER_MINUTE")
                     or config.get_int("NOTIFY_SMS_INBOUND_PER_MINUTE"))
    caller = hashlib.sha256(f"sms-inbound:{request.remote_addr}".encode()).hexdigest()
    count = ratelimit.count_request(parts.db, inbound_rate_windows, caller, 60, parts.clock().timestamp())
    if count is None or count > per_minute:
        return _problem(429, "Za dużo wiadomości — spróbuj za minutę.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _problem(422, "Oczekiwano obiektu JSON.", {"_schema": ["Oczekiwano obiektu JSON."]})
    problems: dict[str, list[str]] = {}
    phone = body.get("from")
    if not isinstance(phone, str) or not 6 <= len(normalise_phone(phone)) <= 15:
        problems["from"] = ["Podaj numer telefonu nadawcy."]
    if not isinstance(body.get("text", ""), str):
        problems["text"] = ["Treść musi być tekstem."]
    received_at = parts.clock()
    if body.get("received_at") is not None:
        try:
            received_at = datetime.fromisoformat(str(body["received_at"]).replace("Z", "+00:00"))
            if received_at.tzinfo is None:
                raise ValueError("no zone")
        except ValueError:
            problems["received_at"] = ["Podaj czas w formacie ISO-8601 ze strefą, np. 2026-12-07T10:00:00+01:00."]
    if problems:
        return _problem(422, "Niepoprawne dane wiadomości.", problems)
    cfg: Settings = parts.settings
    reply_days = int(current_app.config.get("NOTIFY_FEEDBACK_REPLY_DAYS")
                     or config.get_int("NOTIFY_FEEDBACK_REPLY_DAYS"))
    with parts.db.transaction() as session:
        assert parts.outbox is not None
        answer = take_reply(session, parts.outbox, phone=str(phone), text=body.get("text", ""),
                            received_at=received_at, key=cfg.secret_key, now=parts.clock(), reply_days=reply_days)
    log.info("inbound SMS: %s", answer["status"])
    return jsonify(answer), 200
