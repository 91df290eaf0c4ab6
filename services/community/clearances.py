"""Who may help at an activity with children: providers with a Kamilka check in date (ustawa Kamilka).

Followed from the volunteers topic as the matching service follows it (docs/events.md, "Credential events"): one
entry per `credential_id`; `CredentialRecorded` adds one, `CredentialExpired` and `CredentialRevoked` remove that
one (an expiry without an id removes those of its kind ending on or before its `valid_until`; a revocation also
removes the entries kept without an id); the snapshot in `VolunteerRegistered`/`Updated` replaces the list, and
`VolunteerErased` forgets them. A partner organisation's check cannot speak for the person who comes.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import volunteers as volunteer_contract
from services.community.db import known_providers
from services.community.db_plan import helper_clearances as t
from wspolnota.transport import Event

KAMILKA = volunteer_contract.KAMILKA_CHECK
NO_ID = "no-id:"


def _key(credential: dict[str, Any]) -> str:
    if credential.get("credential_id"):
        return str(credential["credential_id"])
    return f"{NO_ID}{credential['valid_from']}:{credential.get('valid_until')}"


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _add(session: Session, volunteer_id: str, credential: dict[str, Any]) -> None:
    key = _key(credential)
    session.execute(sa.delete(t).where(t.c.volunteer_id == volunteer_id, t.c.credential_key == key))
    session.execute(sa.insert(t).values(volunteer_id=volunteer_id, credential_key=key,
                                        valid_from=_date(credential["valid_from"]),
                                        valid_until=_date(credential.get("valid_until"))))


def on_volunteer_event(session: Session, event: Event) -> None:
    d = event.data
    volunteer_id = d["volunteer_id"]
    if event.type in ("VolunteerRegistered", "VolunteerUpdated"):
        session.execute(sa.delete(t).where(t.c.volunteer_id == volunteer_id))
        for credential in d.get("credentials") or []:
            if credential.get("kind") == KAMILKA:
                _add(session, volunteer_id, credential)
    elif event.type == "VolunteerErased":
        session.execute(sa.delete(t).where(t.c.volunteer_id == volunteer_id))
    elif d.get("kind") != KAMILKA:
        return
    elif event.type == "CredentialRecorded":
        _add(session, volunteer_id, d)
    elif event.type == "CredentialExpired":
        if d.get("credential_id"):
            session.execute(sa.delete(t).where(t.c.volunteer_id == volunteer_id,
                                               t.c.credential_key == d["credential_id"]))
        elif d.get("valid_until") is not None:
            session.execute(sa.delete(t).where(t.c.volunteer_id == volunteer_id,
                                               t.c.valid_until <= _date(d["valid_until"])))
    elif event.type == "CredentialRevoked":
        session.execute(sa.delete(t).where(t.c.volunteer_id == volunteer_id, sa.or_(
            t.c.credential_key == d["credential_id"], t.c.credential_key.startswith(NO_ID))))


def cleared_for_children(session: Session, provider_id: str, on: date) -> bool:
    provider = session.execute(sa.select(known_providers.c.provider_type).where(
        known_providers.c.volunteer_id == provider_id)).first()
    if provider is None or provider[0] == volunteer_contract.PARTNER_ORGANISATION:
        return False
    return session.execute(sa.select(t.c.credential_key).where(
        t.c.volunteer_id == provider_id, t.c.valid_from <= on,
        sa.or_(t.c.valid_until.is_(None), t.c.valid_until >= on)).limit(1)).first() is not None


EVENTS = ("VolunteerRegistered", "VolunteerUpdated", "VolunteerErased", "CredentialRecorded", "CredentialExpired",
          "CredentialRevoked")
