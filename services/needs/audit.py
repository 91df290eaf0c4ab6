"""Who looked at whose personal data, when, and where.

`current_actor()` is the one place that names the person at the keyboard: the signed-in staff member
(wspolnota.auth's session). A client-sent header is never trusted; without a session (a test app with
sign-in switched off) the placeholder is written.
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.needs import clock
from services.needs.db import audit_log

ANONYMOUS_STAFF = "pracownik CUS (bez logowania)"
SYSTEM = "system"


def current_actor() -> str:
    from flask import has_request_context

    from wspolnota.auth import actor_name

    if not has_request_context():
        return SYSTEM
    return actor_name(ANONYMOUS_STAFF)


def current_purpose() -> str:
    from flask import has_request_context, request

    if not has_request_context():
        return "proces w tle"
    return f"{request.method} {request.path}"[:200]


def record(session: Session, action: str, subject: str, subject_id: str, fields: Iterable[str],
           actor: str | None = None, purpose: str | None = None) -> None:
    session.execute(sa.insert(audit_log).values(
        at=clock.now(), actor=actor or current_actor(), action=action, subject=subject,
        subject_id=subject_id, fields=",".join(fields)[:500], purpose=purpose or current_purpose()))
