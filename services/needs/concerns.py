"""Concerns about a resident's well-being or safety: reported by a volunteer from their space (about a visit they
were accepted for, or in general) or by staff (phone intake), read and acknowledged by staff.

- The typed text stays here, in `concerns`, next to the resident it is about. The bus carries only
  `ConcernReported {concern_id, need_id?, resident_ref?, urgent}`; notify sends the resident's social worker (or,
  without one, the organiser) a link to the concern page at once.
- The id is the reporter's (the volunteer's form generates it): the same report sent again stores and publishes
  nothing new and gets the first answer; another report under a used id is refused.
- A volunteer reports only about their own visit: the match must be theirs and accepted (`need_matches`, from
  matching's events). A general concern names no resident and goes to the organiser.
- Every read of a concern's text is audited (`audit_log`, subject "concern"); reporting and acknowledging too.
- A concern has a kind (`concern`, `incident`, `safeguarding`) and a severity (urgent or not), which sets its
  deadline to act (`due_at`: NEEDS_CONCERN_DUE_HOURS_URGENT / _OTHER after the report). The needs job
  `escalate-concerns` publishes `ConcernEscalated {concern_id}` once per concern still unacknowledged past it
  (notify e-mails the director). Staff close an acknowledged concern with an outcome (the action taken): a text
  kept here, audited like the report's.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import needs as need_contract
from services.needs import audit, clock
from services.needs.db import concerns, need_matches, needs, residents
from services.needs.handlers import Invalid, NotFound, Refused
from wspolnota import config
from wspolnota.transport.outbox import Outbox

SUBJECT = "concern"
MAX_TEXT = 4000
CHANNELS = ("volunteer_space", "phone", "staff")
CHANNEL_PL = {"volunteer_space": "strona wolontariusza", "phone": "telefon (przyjął pracownik)",
              "staff": "pracownik CUS"}
KINDS = ("concern", "incident", "safeguarding")
KIND_PL = {"concern": "niepokój", "incident": "zdarzenie (incydent)", "safeguarding": "ochrona (krzywdzenie)"}
VOLUNTEER_ACTOR = "wolontariusz:"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

TEXT_EMPTY = "Opisz, co Cię niepokoi."
TEXT_LONG = f"Opis może mieć najwyżej {MAX_TEXT} znaków."
BAD_ID = "Niepoprawny identyfikator zgłoszenia."
NOT_YOUR_VISIT = "To nie jest Twoja wizyta albo nie została przyjęta — zgłoś niepokój ogólnie."
ID_USED = "To zgłoszenie zostało już zapisane z inną treścią. Odśwież formularz i wyślij je jeszcze raz."
BAD_KIND = "Wybierz rodzaj zgłoszenia: niepokój, zdarzenie albo ochrona."
OUTCOME_EMPTY = "Opisz, co zostało zrobione."
OUTCOME_LONG = f"Opis może mieć najwyżej {MAX_TEXT} znaków."
NOT_ACKNOWLEDGED = "Najpierw przyjmij zgłoszenie, potem je zamknij."
BAD_EMAIL = "Podaj adres e-mail pracownika, np. jan.kowalski@cus.example.pl, albo zostaw puste."


@dataclass(frozen=True)
class Reported:
    concern: dict[str, Any]
    created: bool  # False: the same report again (a retry); nothing new was stored or published


def check_id(concern_id: str) -> str:
    try:
        return str(uuid.UUID(str(concern_id)))
    except ValueError as err:
        raise Invalid({"id": BAD_ID}) from err


def check_text(text: Any) -> str:
    given = str(text or "").strip()
    if not given:
        raise Invalid({"text": TEXT_EMPTY})
    if len(given) > MAX_TEXT:
        raise Invalid({"text": TEXT_LONG})
    return given


def check_kind(kind: Any) -> str:
    given = str(kind or "concern")
    if given not in KINDS:
        raise Invalid({"kind": BAD_KIND})
    return given


def due_hours(urgent: bool) -> int:
    """Hours to acknowledge a report: NEEDS_CONCERN_DUE_HOURS_URGENT for an urgent one, else _OTHER."""
    return config.get_int("NEEDS_CONCERN_DUE_HOURS_URGENT" if urgent else "NEEDS_CONCERN_DUE_HOURS_OTHER")


def due_at(created_at: datetime, urgent: bool) -> datetime:
    return created_at + timedelta(hours=due_hours(urgent))


def overdue(row: Any, now: datetime) -> bool:
    """Past its deadline and nobody has acknowledged it."""
    return bool(row["due_at"] is not None and row["acknowledged_at"] is None and row["due_at"] <= now)


def visit_of(session: Session, match_id: str, volunteer_id: str) -> dict[str, Any]:
    """The need and resident of a visit the volunteer was accepted for, or Refused."""
    row = session.execute(sa.select(need_matches.c.need_id, need_matches.c.volunteer_id, need_matches.c.was_accepted,
                                    needs.c.resident_ref)
                          .join(needs, needs.c.id == need_matches.c.need_id)
                          .where(need_matches.c.match_id == match_id)).mappings().first()
    if row is None or row["volunteer_id"] != volunteer_id or not row["was_accepted"]:
        raise Refused(NOT_YOUR_VISIT)
    return dict(row)


def report(session: Session, outbox: Outbox, *, concern_id: str, text: Any, reported_by: str, channel: str,
           urgent: bool = True, match_id: str | None = None, volunteer_id: str | None = None,
           resident_ref: str | None = None, need_id: str | None = None, kind: Any = "concern") -> Reported:
    """Store a concern and publish ConcernReported in one transaction; the same report again is a no-op."""
    concern_id = check_id(concern_id)
    body = check_text(text)
    kind = check_kind(kind)
    if channel not in CHANNELS:
        raise Invalid({"channel": "Nieznany kanał zgłoszenia."})
    if match_id:
        if not volunteer_id:
            raise Refused(NOT_YOUR_VISIT)
        visit = visit_of(session, match_id, volunteer_id)
        need_id, resident_ref = visit["need_id"], visit["resident_ref"]
    elif need_id:
        found = session.execute(sa.select(needs.c.resident_ref).where(needs.c.id == need_id)).scalar()
        if found is None:
            raise NotFound(need_id)
        resident_ref = found
    elif resident_ref:
        if session.execute(sa.select(residents.c.id).where(residents.c.ref == resident_ref)).first() is None:
            raise NotFound(resident_ref)
    wanted = {"need_id": need_id, "match_id": match_id or None, "resident_ref": resident_ref or None,
              "reported_by": reported_by[:200], "text": body, "kind": kind}
    before = session.execute(sa.select(concerns).where(concerns.c.id == concern_id)).mappings().first()
    if before is not None:
        if all(before[k] == v for k, v in wanted.items()):
            return Reported(dict(before), False)
        raise Refused(ID_USED)
    created = clock.now()
    row = {"id": concern_id, **wanted, "channel": channel, "urgent": bool(urgent), "created_at": created,
           "acknowledged_by": None, "acknowledged_at": None, "due_at": due_at(created, bool(urgent)),
           "escalated_at": None, "outcome": None, "closed_by": None, "closed_at": None}
    try:
        with session.begin_nested():
            session.execute(sa.insert(concerns).values(**row))
    except IntegrityError:  # the same id committed by a concurrent retry in between
        return report(session, outbox, concern_id=concern_id, text=text, reported_by=reported_by, channel=channel,
                      urgent=urgent, match_id=match_id, volunteer_id=volunteer_id, resident_ref=resident_ref,
                      need_id=need_id, kind=kind)
    audit.record(session, "create", SUBJECT, concern_id, ["text"], reported_by[:200])
    outbox.add(session, need_contract.TOPIC, "ConcernReported", resident_ref or concern_id, {
        "concern_id": concern_id, "need_id": need_id, "resident_ref": resident_ref, "urgent": bool(urgent),
        "kind": kind})
    return Reported(row, True)


def read(session: Session, concern_id: str, actor: str | None = None, purpose: str | None = None
         ) -> dict[str, Any]:
    """The concern with its text and the resident's pseudonym and id; audited as a read of personal data."""
    row = session.execute(sa.select(concerns).where(concerns.c.id == concern_id)).mappings().first()
    if row is None:
        raise NotFound(concern_id)
    resident = None
    if row["resident_ref"]:
        resident = session.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village,
                                             residents.c.social_worker_email, residents.c.erased_at)
                                   .where(residents.c.ref == row["resident_ref"])).mappings().first()
    audit.record(session, "read", SUBJECT, concern_id, ["text", "outcome"] if row["outcome"] else ["text"], actor,
                 purpose)
    return {**dict(row), "resident": dict(resident) if resident else None}


def acknowledge(session: Session, concern_id: str, actor: str) -> bool:
    """Staff have read and taken over the concern; False when someone already had (nothing changes)."""
    done = session.execute(sa.update(concerns).where(concerns.c.id == concern_id,  # type: ignore[attr-defined]
                                                     concerns.c.acknowledged_at.is_(None))
                           .values(acknowledged_by=actor[:200], acknowledged_at=clock.now())).rowcount
    if not done:
        if session.execute(sa.select(concerns.c.id).where(concerns.c.id == concern_id)).first() is None:
            raise NotFound(concern_id)
        return False
    audit.record(session, "update", SUBJECT, concern_id, ["acknowledged"], actor)
    return True


def close(session: Session, concern_id: str, outcome: Any, actor: str) -> bool:
    """Staff record the action taken and close an acknowledged concern; False when it was closed already."""
    given = str(outcome or "").strip()
    if not given:
        raise Invalid({"outcome": OUTCOME_EMPTY})
    if len(given) > MAX_TEXT:
        raise Invalid({"outcome": OUTCOME_LONG})
    row = session.execute(sa.select(concerns.c.acknowledged_at, concerns.c.closed_at)
                          .where(concerns.c.id == concern_id)).first()
    if row is None:
        raise NotFound(concern_id)
    if row[1] is not None:
        return False
    if row[0] is None:
        raise Refused(NOT_ACKNOWLEDGED)
    done = session.execute(sa.update(concerns).where(concerns.c.id == concern_id,  # type: ignore[attr-defined]
                                                     concerns.c.closed_at.is_(None))
                           .values(outcome=given, closed_by=actor[:200], closed_at=clock.now())).rowcount
    if done:
        audit.record(session, "update", SUBJECT, concern_id, ["outcome", "closed"], actor)
    return bool(done)


def escalate_overdue(session: Session, outbox: Outbox, now: datetime) -> list[str]:
    """Concerns past their deadline that nobody acknowledged: each is marked escalated and ConcernEscalated is
    published, in one transaction and once per concern (a second run, or a concurrent one, finds none)."""
    ids = [r[0] for r in session.execute(
        sa.select(concerns.c.id).where(concerns.c.acknowledged_at.is_(None), concerns.c.escalated_at.is_(None),
                                       concerns.c.due_at.is_not(None), concerns.c.due_at <= now)
        .order_by(concerns.c.due_at))]
    escalated = []
    for concern_id in ids:
        done = session.execute(sa.update(concerns).where(  # type: ignore[attr-defined]
            concerns.c.id == concern_id, concerns.c.escalated_at.is_(None), concerns.c.acknowledged_at.is_(None))
            .values(escalated_at=now)).rowcount
        if not done:
            continue
        row = session.execute(sa.select(concerns.c.resident_ref, concerns.c.kind, concerns.c.urgent)
                              .where(concerns.c.id == concern_id)).first()
        assert row is not None
        audit.record(session, "update", SUBJECT, concern_id, ["escalated"], audit.SYSTEM,
                     "termin przyjęcia minął: eskalacja do dyrektora")
        outbox.add(session, need_contract.TOPIC, "ConcernEscalated", row[0] or concern_id, {
            "concern_id": concern_id, "kind": row[1], "urgent": bool(row[2])})
        escalated.append(concern_id)
    return escalated


def listed(session: Session, only_open: bool = True, limit: int = 200) -> list[dict[str, Any]]:
    """Concerns without their text (the list and the dashboard): id, need, resident's pseudonym, when, urgent,
    kind, deadline and escalation."""
    query = sa.select(concerns.c.id, concerns.c.need_id, concerns.c.resident_ref, concerns.c.channel,
                      concerns.c.urgent, concerns.c.created_at, concerns.c.acknowledged_at,
                      concerns.c.acknowledged_by, concerns.c.kind, concerns.c.due_at, concerns.c.escalated_at,
                      concerns.c.closed_at)
    if only_open:
        query = query.where(concerns.c.acknowledged_at.is_(None))
    query = query.order_by(concerns.c.urgent.desc(), concerns.c.created_at).limit(limit)
    return [dict(r) for r in session.execute(query).mappings()]


def recipient(session: Session, concern_id: str) -> str:
    """The e-mail address of the concerned resident's social worker, or "" (notify then tells the organiser)."""
    row = session.execute(sa.select(concerns.c.resident_ref).where(concerns.c.id == concern_id)).first()
    if row is None:
        raise NotFound(concern_id)
    if not row[0]:
        return ""
    email = session.execute(sa.select(residents.c.social_worker_email).where(
        residents.c.ref == row[0], residents.c.erased_at.is_(None))).scalar()
    return str(email or "")


def check_email(value: Any) -> str:
    given = str(value or "").strip()
    if given and (len(given) > 200 or not EMAIL.match(given)):
        raise Invalid({"social_worker_email": BAD_EMAIL})
    return given.lower()


def set_social_worker(session: Session, resident_id: str, email: Any, actor: str) -> str:
    """Assign (or with "" remove) the resident's social worker by their staff e-mail address; audited."""
    given = check_email(email)
    row = session.execute(sa.select(residents.c.erased_at).where(residents.c.id == resident_id)).first()
    if row is None:
        raise NotFound(resident_id)
    if row[0] is not None:
        raise Refused("Dane mieszkańca zostały usunięte.")
    session.execute(sa.update(residents).where(residents.c.id == resident_id).values(
        social_worker_email=given, updated_at=clock.now()))
    audit.record(session, "update", "resident", resident_id, ["social_worker_email"], actor)
    return given

