"""Requests for help from residents and their families: the public form (no account) and staff's phone intake,
the triage queue, and the two ways out — turned into a need (with a resident record) or closed with a reason.

- The personal data (who asks, for whom, phone, e-mail, what they wrote) stays here, in `resident_requests`; the bus
  carries `RequestReceived {request_id, village, channel}`, `RequestConverted {request_id, need_id}` and
  `RequestClosed {request_id, reason}` (a code). Notify reads the requester's address at send time from the internal
  API (`contact`, every read audited).
- Lifecycle: new → triage (a staff member opened it) → converted | closed; converted and closed are final.
- A form's token (`submission_key`) makes a double submit one request.
- Closed and converted requests lose their personal data after NEEDS_REQUEST_RETENTION_DAYS (`erase_expired`,
  run by `wspolnota jobs needs`).
"""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import needs as need_contract
from services.needs import audit, clock, handlers
from services.needs.db import request_rate_windows, resident_requests
from services.needs.handlers import Invalid, NotFound, Refused
from wspolnota import config, ratelimit, reference
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox

SUBJECT = "request"
NEW, TRIAGE, CONVERTED, CLOSED = "new", "triage", "converted", "closed"
STATUSES = (NEW, TRIAGE, CONVERTED, CLOSED)
OPEN = (NEW, TRIAGE)
STATUS_PL = {NEW: "nowa", TRIAGE: "w rozpatrywaniu", CONVERTED: "zamieniona w potrzebę", CLOSED: "zamknięta"}
ONLINE, PHONE = need_contract.REQUEST_CHANNELS
CHANNEL_PL = {ONLINE: "formularz w internecie", PHONE: "telefon (przyjął pracownik)"}
CLOSE_REASONS = need_contract.REQUEST_CLOSE_REASONS
CLOSE_REASON_PL = need_contract.REQUEST_CLOSE_REASON_PL

FOR_WHOM_PL = {"self": "dla mnie", "family": "dla kogoś z mojej rodziny", "neighbour": "dla sąsiada lub sąsiadki"}
# What help, in plain words, and the need category staff start from when they turn the request into a need.
HELP_KINDS_PL = {
    "shopping": "zakupy, apteka, drobne sprawunki",
    "transport": "dowóz lub towarzyszenie (lekarz, urząd)",
    "company": "towarzystwo, rozmowa, odwiedziny",
    "home": "pomoc w domu (sprzątanie, posiłek)",
    "repairs": "drobne naprawy, prace w obejściu",
    "paperwork": "sprawy urzędowe, pisma",
    "digital": "telefon, komputer, internet",
    "other": "coś innego (opisz poniżej)",
}
HELP_CATEGORY = {"shopping": "ZAK", "transport": "TRN", "company": "TOW", "home": "DOM", "repairs": "NAP",
                 "paperwork": "URZ", "digital": "CYF"}
URGENCY_PL = {"today": "pilnie — dziś lub jutro", "week": "w tym tygodniu", "later": "bez pośpiechu"}
NEED_URGENCY = {"today": "high", "week": "normal", "later": "normal"}
REPLY_PL = {"sms": "SMS", "email": "e-mail"}

MAX_NAME, MAX_ADDRESS, MAX_DETAILS, MAX_NOTE = 200, 300, 2000, 2000
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{7,18}[0-9]$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
ERASED = "(usunięto — RODO)"

# Polish errors, one per bad field (the public form, the staff intake and the tests use the same words).
E_FOR_WHOM = "Wybierz, kogo dotyczy prośba."
E_NAME = "Podaj swoje imię i nazwisko."
E_NAME_LONG = f"Imię i nazwisko może mieć najwyżej {MAX_NAME} znaków."
E_PERSON = "Podaj imię i nazwisko osoby, która potrzebuje pomocy."
E_VILLAGE = "Wybierz miejscowość z listy."
E_ADDRESS_LONG = f"Adres może mieć najwyżej {MAX_ADDRESS} znaków."
E_HELP = "Zaznacz, w czym potrzebna jest pomoc."
E_DETAILS = "Napisz krótko, w czym pomóc."
E_DETAILS_LONG = f"Opis może mieć najwyżej {MAX_DETAILS} znaków."
E_URGENCY = "Wybierz, na kiedy potrzebna jest pomoc."
E_PHONE = "Podaj numer telefonu, np. 601 202 303."
E_EMAIL = "Podaj adres e-mail, np. jan.kowalski@example.pl."
E_CONTACT = "Podaj telefon lub e-mail — choć jedno, żebyśmy mogli odpowiedzieć."
E_REPLY_SMS = "Odpowiedź SMS-em wymaga numeru telefonu."
E_REPLY_EMAIL = "Odpowiedź e-mailem wymaga adresu e-mail."
E_REPLY = "Wybierz, jak mamy odpowiedzieć."
E_CONSENT = "Zaznacz zgodę — bez niej nie możemy przyjąć prośby."
E_REASON = "Wybierz powód zamknięcia."
E_NOTE_LONG = f"Notatka może mieć najwyżej {MAX_NOTE} znaków."
DECIDED = "Ta prośba została już rozpatrzona."


@dataclass(frozen=True)
class Submitted:
    request: dict[str, Any]
    created: bool  # False: the same form again (a double submit); nothing new was stored or published


def _text(value: Any) -> str:
    return str(value or "").strip()


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """The request's fields, cleaned; Invalid with a Polish message for every bad field (all at once)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for_whom = _text(data.get("for_whom"))
    if for_whom not in FOR_WHOM_PL:
        errors["for_whom"] = E_FOR_WHOM
    name = _text(data.get("requester_name"))
    if not name:
        errors["requester_name"] = E_NAME
    elif len(name) > MAX_NAME:
        errors["requester_name"] = E_NAME_LONG
    person = _text(data.get("person_name"))
    if for_whom in ("family", "neighbour") and not person:
        errors["person_name"] = E_PERSON
    elif len(person) > MAX_NAME:
        errors["person_name"] = E_NAME_LONG
    village = _text(data.get("village"))
    if village not in reference.villages():
        errors["village"] = E_VILLAGE
    address = _text(data.get("address"))
    if len(address) > MAX_ADDRESS:
        errors["address"] = E_ADDRESS_LONG
    kinds = data.get("help_kinds") or []
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if not kinds or any(k not in HELP_KINDS_PL for k in kinds):
        errors["help_kinds"] = E_HELP
    details = _text(data.get("details"))
    if len(details) > MAX_DETAILS:
        errors["details"] = E_DETAILS_LONG
    elif "other" in kinds and not details:
        errors["details"] = E_DETAILS
    urgency = _text(data.get("urgency"))
    if urgency not in URGENCY_PL:
        errors["urgency"] = E_URGENCY
    phone, email = _text(data.get("phone")), _text(data.get("email"))
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = E_PHONE
    if email and (len(email) > 200 or not EMAIL_RE.match(email)):
        errors["email"] = E_EMAIL
    if not phone and not email:
        errors["phone"] = E_CONTACT
    reply = _text(data.get("reply_channel"))
    if reply and reply not in REPLY_PL:
        errors["reply_channel"] = E_REPLY
    elif reply == "sms" and not phone and email:
        errors["reply_channel"] = E_REPLY_SMS
    elif reply == "email" and not email and phone:
        errors["reply_channel"] = E_REPLY_EMAIL
    if data.get("consent") is not True:
        errors["consent"] = E_CONSENT
    if errors:
        raise Invalid(errors)
    clean.update(for_whom=for_whom, requester_name=name, person_name=person if for_whom != "self" else "",
                 village=village, address=address, help_kinds=",".join(dict.fromkeys(kinds)), details=details,
                 urgency=urgency, phone=phone, email=email.lower(),
                 reply_channel=reply or ("sms" if phone else "email"))
    return clean


def submit(session: Session, outbox: Outbox, data: dict[str, Any], *, submission_key: str, channel: str,
           taken_by: str = "") -> Submitted:
    """Store a request and publish RequestReceived in one transaction; the same form token again is a no-op."""
    key = _text(submission_key)[:64]
    if not key:
        raise Invalid({"submission": "Formularz wygasł — odśwież stronę i wyślij go jeszcze raz."})
    if channel not in need_contract.REQUEST_CHANNELS:
        raise Invalid({"channel": "Nieznany kanał prośby."})
    before = session.execute(sa.select(resident_requests).where(resident_requests.c.submission_key == key)
                             ).mappings().first()
    if before is not None:
        return Submitted(dict(before), False)
    clean = validate(data)
    now = clock.now()
    row = {"id": str(uuid.uuid4()), "submission_key": key, "channel": channel, "taken_by": taken_by[:200],
           **clean, "consent_at": now, "status": NEW, "created_at": now, "close_note": ""}
    try:
        with session.begin_nested():
            session.execute(sa.insert(resident_requests).values(**row))
    except IntegrityError:  # the same form committed by a concurrent submit in between
        again = session.execute(sa.select(resident_requests).where(resident_requests.c.submission_key == key)
                                ).mappings().one()
        return Submitted(dict(again), False)
    audit.record(session, "create", SUBJECT, row["id"], ["requester", "contact", "details"],
                 taken_by or "wnioskodawca (formularz publiczny)")
    outbox.add(session, need_contract.TOPIC, "RequestReceived", row["id"], {
        "request_id": row["id"], "village": row["village"], "channel": channel})
    return Submitted(row, True)


def _get(session: Session, request_id: str, for_update: bool = False) -> dict[str, Any]:
    query = sa.select(resident_requests).where(resident_requests.c.id == str(request_id)[:36])
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).mappings().first()
    if row is None:
        raise NotFound(request_id, "Nie ma takiej prośby.")
    return dict(row)


def read(session: Session, request_id: str, actor: str | None = None, purpose: str | None = None
         ) -> dict[str, Any]:
    """The whole request (personal data: an audited read); a new one goes into triage by the one who opened it."""
    actor = actor or audit.current_actor()
    row = _get(session, request_id, for_update=True)
    audit.record(session, "read", SUBJECT, row["id"], ["requester", "contact", "details"], actor, purpose)
    if row["status"] == NEW:
        now = clock.now()
        session.execute(sa.update(resident_requests).where(resident_requests.c.id == row["id"],
                                                           resident_requests.c.status == NEW)
                        .values(status=TRIAGE, triage_by=actor[:200], triage_at=now))
        row.update(status=TRIAGE, triage_by=actor[:200], triage_at=now)
    return row


def _decide(session: Session, request_id: str) -> dict[str, Any]:
    row = _get(session, request_id, for_update=True)
    if row["status"] not in OPEN:
        raise Refused(DECIDED)
    return row


def mark_converted(session: Session, outbox: Outbox, request_id: str, need_id: str, resident_ref: str,
                   actor: str | None = None) -> None:
    """Link the request to the need made from it (same transaction as the need) and publish RequestConverted."""
    actor = actor or audit.current_actor()
    row = _decide(session, request_id)
    session.execute(sa.update(resident_requests).where(resident_requests.c.id == row["id"]).values(
        status=CONVERTED, need_id=need_id, resident_ref=resident_ref, decided_by=actor[:200],
        decided_at=clock.now()))
    handlers.note(session, need_id, "RequestConverted", "open", "z prośby mieszkańca", actor)
    audit.record(session, "update", SUBJECT, row["id"], ["status", "need_id"], actor)
    outbox.add(session, need_contract.TOPIC, "RequestConverted", row["id"],
               {"request_id": row["id"], "need_id": need_id})


def close(session: Session, outbox: Outbox, request_id: str, reason: Any, note: Any = "",
          actor: str | None = None) -> dict[str, Any]:
    """Close without a need, with a reason code (the requester is told) and an optional note (kept here)."""
    actor = actor or audit.current_actor()
    errors = {}
    code, text = _text(reason), _text(note)
    if code not in CLOSE_REASONS:
        errors["reason"] = E_REASON
    if len(text) > MAX_NOTE:
        errors["note"] = E_NOTE_LONG
    if errors:
        raise Invalid(errors)
    row = _decide(session, request_id)
    values = {"status": CLOSED, "close_reason": code, "close_note": text, "decided_by": actor[:200],
              "decided_at": clock.now()}
    session.execute(sa.update(resident_requests).where(resident_requests.c.id == row["id"]).values(**values))
    audit.record(session, "update", SUBJECT, row["id"], ["status", "close_reason"], actor)
    outbox.add(session, need_contract.TOPIC, "RequestClosed", row["id"], {"request_id": row["id"], "reason": code})
    return {**row, **values}


def listed(session: Session, statuses: tuple[str, ...] = OPEN, limit: int = 200) -> list[dict[str, Any]]:
    """Requests without personal data (the queue and the dashboard), oldest first."""
    t = resident_requests
    query = (sa.select(t.c.id, t.c.status, t.c.channel, t.c.village, t.c.help_kinds, t.c.urgency, t.c.created_at,
                       t.c.triage_by, t.c.need_id, t.c.close_reason, t.c.decided_at)
             .where(t.c.status.in_(statuses)).order_by(t.c.created_at).limit(limit))
    return [dict(r) for r in session.execute(query).mappings()]


def contact(session: Session, request_id: str, caller: str) -> dict[str, Any]:
    """Where the requester hears back (notify, at send time); an audited read. NotFound once erased."""
    row = _get(session, request_id)
    if row["erased_at"] is not None:
        raise NotFound(request_id, "Dane tej prośby zostały usunięte.")
    audit.record(session, "read", SUBJECT, row["id"], ["phone", "email"], f"usługa:{caller}"[:200],
                 "powiadomienie wnioskodawcy")
    return {"request_id": row["id"], "phone": row["phone"], "email": row["email"],
            "reply_channel": row["reply_channel"], "status": row["status"]}


def erase_expired(session: Session, now: datetime, days: int | None = None) -> int:
    """Blank the personal data of requests closed or converted more than `days` ago (RODO: retention)."""
    keep = config.get_int("NEEDS_REQUEST_RETENTION_DAYS") if days is None else days
    t = resident_requests
    ids = session.execute(sa.select(t.c.id).where(t.c.status.in_((CONVERTED, CLOSED)), t.c.erased_at.is_(None),
                                                  t.c.decided_at < now - timedelta(days=keep))).scalars().all()
    for request_id in ids:
        session.execute(sa.update(t).where(t.c.id == request_id).values(
            requester_name=ERASED, person_name="", address="", details="", phone="", email="", close_note="",
            erased_at=now))
        audit.record(session, "erase", SUBJECT, request_id, ["requester", "contact", "details", "close_note"],
                     audit.SYSTEM, f"retencja {keep} dni po rozpatrzeniu")
    return len(ids)


def allow_public(db: Database, client: str, now: datetime, limit: int | None = None, window_s: int = 3600) -> bool:
    """False once the client (hashed) has posted `limit` times in the current hour (a refused post counts)."""
    wanted = config.get_int("NEEDS_PUBLIC_REQUESTS_PER_HOUR") if limit is None else limit
    key = hashlib.sha256(f"prosba|{client}".encode()).hexdigest()
    count = ratelimit.count_request(db, request_rate_windows, key, window_s, now.timestamp())
    return count is not None and count <= wanted


def need_prefill(row: dict[str, Any]) -> dict[str, Any]:
    """What the conversion form starts from: the first plain-word help kind's category, village, urgency, text."""
    kinds = [k for k in (row.get("help_kinds") or "").split(",") if k]
    category = next((HELP_CATEGORY[k] for k in kinds if k in HELP_CATEGORY), "")
    said = ", ".join(HELP_KINDS_PL.get(k, k) for k in kinds)
    description = f"Z prośby mieszkańca: {said}." + (f"\n{row['details']}" if row.get("details") else "")
    return {"category": category, "village": row.get("village", ""), "urgency": NEED_URGENCY.get(
        row.get("urgency", ""), "normal"), "description": description}


def notice(settings: dict[str, str] | None = None) -> list[str]:
    """The data-processing notice (RODO art. 13) shown above the consent, as paragraphs."""
    get = (settings or {}).get
    name = get("CENTRE_NAME") or config.get("CENTRE_NAME")
    address = get("CENTRE_ADDRESS") or config.get("CENTRE_ADDRESS")
    phone = get("CENTRE_PHONE") or config.get("CENTRE_PHONE")
    days = get("NEEDS_REQUEST_RETENTION_DAYS") or config.get("NEEDS_REQUEST_RETENTION_DAYS")
    return [
        f"Administratorem Twoich danych i danych osoby, której dotyczy prośba, jest {name}, {address}"
        + (f", tel. {phone}" if phone else "") + ". W sprawach danych osobowych możesz pisać do inspektora "
        "ochrony danych na adres siedziby administratora.",
        "Cel: przyjęcie i rozpatrzenie prośby o pomoc, kontakt z Tobą w tej sprawie i zorganizowanie pomocy "
        "(wolontariusza lub sąsiada). Podstawa: Twoja zgoda (art. 6 ust. 1 lit. a RODO; gdy piszesz o zdrowiu — "
        "art. 9 ust. 2 lit. a RODO). Gdy pomoc zostanie zorganizowana, dane osoby potrzebującej pomocy trafiają do "
        "jej karty w CUS (art. 6 ust. 1 lit. c i e RODO — zadania ośrodka).",
        f"Przechowywanie: do rozpatrzenia prośby, a potem przez {days} dni — wtedy usuwamy imiona, telefon, e-mail "
        "i opis. Dane widzą tylko pracownicy CUS; wolontariusz dostaje tylko to, co potrzebne do pomocy.",
        "Masz prawo dostępu do danych, ich sprostowania, usunięcia, ograniczenia przetwarzania i wycofania zgody "
        "w każdej chwili (nie wpływa to na to, co zrobiliśmy wcześniej), a także prawo skargi do Prezesa Urzędu "
        "Ochrony Danych Osobowych. Podanie danych jest dobrowolne, ale bez telefonu lub e-maila nie możemy "
        "odpowiedzieć.",
    ]
