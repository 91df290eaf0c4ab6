"""The use cases as the signed-in staff member runs them, shared by the API (api.py) and the pages (pages.py).

Who acted is always the session's account (`wspolnota.auth.actor_name`), never a typed name; safety decisions
leave an audit entry. "Today" is the centre's calendar day on the service's clock (`current_parts().clock`).
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from services.volunteers import handlers, model
from services.volunteers.settings import Settings
from wspolnota import access, localtime
from wspolnota.auth import actor_name, auth_disabled, current_user
from wspolnota.transport.outbox import Outbox
from wspolnota.web import current_parts

STAFF_ACTOR = "personel CUS"  # written only when no one is signed in (a test app with sign-in switched off)


def today() -> date:
    """The centre's calendar day on the service's clock."""
    return localtime.local_day(current_parts().clock())


def settings() -> Settings:
    given: Settings = current_parts().settings
    return given


def staff_actor() -> str:
    """The signed-in staff member, for the audit log and "verified by"."""
    return actor_name(STAFF_ACTOR)


def may_read_criminal_record() -> bool:
    """May the signed-in person read Kamilka / criminal-record details (organiser, director, admin)?"""
    user = current_user()
    if user is None:
        return auth_disabled(current_app)  # only a test app with sign-in switched off has nobody signed in
    return user["role"] in access.CRIMINAL_RECORD_READ


def volunteer_view(session: Session, volunteer: sa.RowMapping, on_date: date | None = None) -> dict[str, Any]:
    """The profile as the API returns it, with the yes/no answer on work with minors every staff role may see."""
    day = on_date or today()
    out = handlers.profile_out(session, volunteer, day)
    provider = handlers.as_provider(volunteer, handlers.credential_rows(session, volunteer["id"]))
    cleared, until = handlers.minors_clearance(provider, day)
    return {**out, "may_work_with_minors": cleared, "may_work_with_minors_until": until}


def shown_credentials(session: Session, volunteer_id: str, rows: list[sa.RowMapping], where: str
                      ) -> list[sa.RowMapping]:
    """The credentials this reader may see. Kamilka checks (criminal-record details) only for the roles allowed to
    read them, and each such read leaves an audit entry; other roles get the rest of the list."""
    if not may_read_criminal_record():
        return [r for r in rows if r["kind"] != model.KAMILKA_CHECK]
    if any(r["kind"] == model.KAMILKA_CHECK for r in rows):
        handlers.audit(session, staff_actor(), "kamilka_read", volunteer_id,
                       f"odczyt szczegółów weryfikacji Kamilka ({where})")
    return list(rows)


def record_credential(session: Session, outbox: Outbox, volunteer_id: str, data: dict[str, Any],
                      submission: str | None = None) -> dict[str, Any]:
    """Record a credential: the signed-in account is who recorded it (and who checked a Kamilka check); audited.
    A Kamilka check's validity comes from the service's settings (KAMILKA_CHECK_VALIDITY_DAYS)."""
    actor = staff_actor()
    row = handlers.record_credential(session, outbox, volunteer_id, data, settings().kamilka_check_validity_days,
                                     actor=actor, today=today(), submission=submission)
    handlers.audit(session, actor, "credential_recorded", volunteer_id, f"wpisanie uprawnienia {row['kind']} "
                   f"({row['id']})")
    if row["kind"] == model.KAMILKA_CHECK and not may_read_criminal_record():
        return {**row, "details": {}}
    return row


def verify(session: Session, outbox: Outbox, volunteer_id: str) -> None:
    actor = staff_actor()
    handlers.verify_volunteer(session, outbox, volunteer_id, actor, today=today())
    handlers.audit(session, actor, "verify", volunteer_id, "weryfikacja wykonawcy")


def register(session: Session, outbox: Outbox, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Register a provider; one entered as verified is verified by the signed-in account (audited)."""
    actor = staff_actor()
    created = handlers.register_volunteer(session, outbox, data, verified_by=actor, today=today(), **kw)
    if created["verified"]:
        handlers.audit(session, actor, "verify", created["id"], "weryfikacja przy wpisie wykonawcy")
    return volunteer_view(session, handlers.get_volunteer(session, created["id"]))


def revoke_credential(session: Session, outbox: Outbox, credential_id: str, reason: str, *,
                      volunteer_id: str) -> dict[str, Any]:
    return handlers.revoke_credential(session, outbox, credential_id, reason, staff_actor(), volunteer_id=volunteer_id,
                                      today=today())


def update(session: Session, outbox: Outbox, volunteer_id: str, changes: dict[str, Any],
           submission: str | None = None) -> dict[str, Any]:
    return handlers.update_volunteer(session, outbox, volunteer_id, changes, submission, today=today())


def add_exception(session: Session, outbox: Outbox, volunteer_id: str, data: dict[str, Any],
                  submission: str | None = None) -> dict[str, Any]:
    return handlers.add_exception(session, outbox, volunteer_id, data, submission, today=today())


def erase(session: Session, outbox: Outbox, volunteer_id: str) -> None:
    handlers.erase(session, outbox, volunteer_id, staff_actor())
