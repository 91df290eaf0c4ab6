"""How a resident hears about their visits: with their consent, by SMS or by a call from staff (no mobile phone),
or not at all.

The resident's record keeps the channel (`sms` | `call` | `none`), the date of the consent and the staff account
that recorded it; the phone is the record's own. Staff set them on the resident's form (or `POST/PATCH
/api/residents`); a change of the channel the resident can actually be reached on (no consent: `none`) publishes
`ResidentNoticesChanged {resident_ref, channel}` in the same transaction — a code, never the phone.

Notify asks for the contact at send time (and when staff open a call task) through the internal API
`GET /internal/residents/<ref>/notice-contact` (service token; `notice_contact.py`); every answer is an audited read.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import needs as need_contract
from services.needs import audit, clock
from services.needs.db import residents
from services.needs.handlers import Invalid
from wspolnota.transport.outbox import Outbox

FIELDS = ("notice_channel", "notice_consent_date")
CHANNELS = need_contract.NOTICE_CHANNELS
CHANNEL_PL = {"sms": "SMS", "call": "telefon od pracownika CUS (bez telefonu komórkowego)",
              "none": "bez powiadomień"}
# Polish mobile numbers begin with these (landlines with an area code, e.g. 41 for Kielce): an SMS reaches only these
MOBILE_PREFIXES = ("45", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88")

NO_CONSENT = ("Bez zgody mieszkańca nie wysyłamy powiadomień: wpisz datę zgody albo wybierz „bez powiadomień”.")
FUTURE_CONSENT = "Data zgody nie może być w przyszłości."
SMS_NO_PHONE = "Do SMS potrzebny jest numer telefonu komórkowego — wpisz go w polu „Telefon”."
SMS_NOT_MOBILE = ("To nie jest numer komórkowy, a SMS nie dojdzie na telefon stacjonarny — wybierz „telefon od "
                  "pracownika CUS”.")
CALL_NO_PHONE = "Do telefonu od pracownika potrzebny jest numer telefonu — wpisz go w polu „Telefon”."
UNKNOWN_CHANNEL = "Wybierz jedną z możliwości."


def is_mobile(phone: str) -> bool:
    """A Polish mobile number (+48 optional): nine digits beginning with a mobile prefix."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("48"):
        digits = digits[2:]
    elif len(digits) == 13 and digits.startswith("0048"):
        digits = digits[4:]
    return len(digits) == 9 and digits[:2] in MOBILE_PREFIXES


def effective(channel: str | None, consent_date: date | None) -> str:
    """The channel the resident is reached on: theirs with a consent, else none."""
    return channel if channel in (need_contract.NOTICE_SMS, need_contract.NOTICE_CALL) and consent_date else "none"


def check(channel: str, consent_date: date | None, phone: str, today: date) -> dict[str, str]:
    """Field → Polish message for a combination that cannot stand (empty: it can)."""
    problems: dict[str, str] = {}
    if channel not in CHANNELS:
        return {"notice_channel": UNKNOWN_CHANNEL}
    if consent_date is not None and consent_date > today:
        problems["notice_consent_date"] = FUTURE_CONSENT
    if channel == "none":
        return problems
    if consent_date is None:
        problems["notice_consent_date"] = NO_CONSENT
    if channel == need_contract.NOTICE_SMS:
        if not phone:
            problems["notice_channel"] = SMS_NO_PHONE
        elif not is_mobile(phone):
            problems["notice_channel"] = SMS_NOT_MOBILE
    elif not phone:
        problems["notice_channel"] = CALL_NO_PHONE
    return problems


def take(data: dict[str, Any]) -> dict[str, Any]:
    """The notice fields out of a resident's body (the rest goes to the resident's own use cases)."""
    notices = {k: data.pop(k) for k in FIELDS if k in data}
    if notices.get("notice_channel", "") is None:
        notices.pop("notice_channel")
    return notices


def apply(session: Session, outbox: Outbox, resident_id: str, notices: dict[str, Any],
          actor: str | None = None) -> dict[str, Any]:
    """Store the resident's notice settings as a whole (checked against the phone now on the record); publish
    ResidentNoticesChanged when the channel they are reached on changes. Invalid → nothing of the request stays
    (the caller's transaction is rolled back)."""
    row = session.execute(sa.select(residents).where(residents.c.id == resident_id)).mappings().one()
    channel = notices.get("notice_channel", row["notice_channel"]) or "none"
    consent = notices.get("notice_consent_date", row["notice_consent_date"])
    problems = check(channel, consent, row["phone"] or "", clock.today())
    if problems:
        raise Invalid(problems)
    values: dict[str, Any] = {"notice_channel": channel, "notice_consent_date": consent}
    if consent is None:
        values["notice_consent_by"] = ""
    elif consent != row["notice_consent_date"]:
        values["notice_consent_by"] = (actor or audit.current_actor())[:200]
    changed = sorted(k for k, v in values.items() if v != row[k])
    if changed:
        session.execute(sa.update(residents).where(residents.c.id == resident_id).values(**values))
        audit.record(session, "update", "resident", resident_id, changed, actor)
    before = effective(row["notice_channel"], row["notice_consent_date"])
    after = effective(channel, consent)
    if before != after:
        outbox.add(session, need_contract.TOPIC, "ResidentNoticesChanged", row["ref"],
                   {"resident_ref": row["ref"], "channel": after})
    return {**dict(row), **values}
