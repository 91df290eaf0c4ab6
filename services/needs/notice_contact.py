"""The internal API giving notify a resident's notice contact (service token): `GET
/internal/residents/<ref>/notice-contact?purpose=&for=` → the channel the resident consented to and, with it, the
phone on their record. Every answer is an audited read naming the calling service (and the staff member in `for`)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from services.needs import audit
from services.needs.api import db
from services.needs.concern_pages import check_service_token
from services.needs.db import residents
from services.needs.resident_notices import effective
from wspolnota import errors

internal = Blueprint("needs_notices_internal", __name__, url_prefix="/internal/residents")


@internal.get("/<ref>/notice-contact")
def notice_contact(ref: str):  # type: ignore[no-untyped-def]
    """{resident_ref, channel, consent, consent_date, phone}: the phone only while the resident consented to a
    channel that needs it. `?for=` names who asked (a staff account opening a call task), `?purpose=` why; both are
    written to the audit log with the calling service. 404 for an unknown or erased resident."""
    service = check_service_token()
    who = request.args.get("for", "")[:100]
    purpose = request.args.get("purpose", "")[:150] or "powiadomienie mieszkańca"
    with db().transaction() as session:
        row = session.execute(sa.select(residents).where(residents.c.ref == ref)).mappings().first()
        if row is None or row["erased_at"] is not None:
            errors.api_error(404, "Nie ma takiego mieszkańca.")
        assert row is not None
        channel = effective(row["notice_channel"], row["notice_consent_date"])
        phone = row["phone"] if channel != "none" else ""
        audit.record(session, "read", "resident", row["id"], ("phone", "notice_channel", "notice_consent_date"),
                     actor=f"{service}: {who}" if who else service, purpose=purpose)
    return jsonify({"resident_ref": ref, "channel": channel, "consent": row["notice_consent_date"] is not None,
                    "consent_date": row["notice_consent_date"].isoformat() if row["notice_consent_date"] else None,
                    "phone": phone})


def install(app: Any, csrf: Any) -> None:
    """Called by app.create_app: the internal API takes the service token (no CSRF)."""
    csrf.exempt(internal)
    app.register_blueprint(internal)
