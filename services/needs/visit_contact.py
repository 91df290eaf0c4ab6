"""The internal visit-contact API (service token): the volunteers service reads, for the volunteer's own page, the
resident's first name, address and phone of a visit that volunteer accepted, only around the visit's time.

GET /internal/matches/<match_id>/visit-contact?volunteer_id=… with `Authorization: Bearer <INTERNAL_SERVICE_TOKEN>`.
Needs checks what it knows itself: the match (need_matches, from the `matches` topic) is accepted or completed for
that volunteer, and now is within VOLUNTEER_RESIDENT_DETAILS_BEFORE_H hours before the agreed visit starts and
VOLUNTEER_RESIDENT_DETAILS_AFTER_H hours after it ends (the agreed time comes with matching's events; for an older
match without one, the need's window). Every answer with data is
audited with the volunteer as the actor; refusals say nothing about the resident (403, 404).
"""
from __future__ import annotations

import hmac
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from services.needs import audit, clock
from services.needs.db import need_matches, needs, residents
from wspolnota import config
from wspolnota.web import current_parts

log = logging.getLogger("needs.web")
internal = Blueprint("needs_internal_api", __name__, url_prefix="/internal/matches",
                     description="Dla usług wewnętrznych (token usługi). Każdy odczyt jest rejestrowany.")
VISIBLE = ("accepted", "completed")


class VisitContactQuery(Schema):
    volunteer_id = fields.String(required=True, metadata={"description": "the volunteer the page is for"})


class VisitContactOut(Schema):
    match_id = fields.String()
    first_name = fields.String(metadata={"description": "the resident's first name only"})
    address = fields.String()
    village = fields.String(metadata={"description": "village code"})
    phone = fields.String()
    visible_from = fields.AwareDateTime()
    visible_until = fields.AwareDateTime()


def hours_setting(name: str) -> int:
    return int(current_app.config.get(name) or config.get(name))


@internal.route("/<match_id>/visit-contact")
@internal.arguments(VisitContactQuery, location="query")
@internal.response(200, VisitContactOut)
@internal.alt_response(401, description="missing or wrong service token")
@internal.alt_response(403, description="outside the visit's time window")
@internal.alt_response(404, description="no accepted visit of this volunteer")
@internal.doc(security=[{"serviceToken": []}])
def visit_contact(args, match_id: str):  # type: ignore[no-untyped-def]
    """The resident's first name, address and phone for the volunteer's accepted visit, near its time. Audited."""
    expected = str(current_app.config.get("INTERNAL_SERVICE_TOKEN") or "")
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        log.warning("internal visit-contact API: refused a request without a valid service token")
        abort(401, message="Wymagany token usługi.")
    volunteer_id = args["volunteer_id"]
    with current_parts().db.transaction() as session:
        row = session.execute(
            sa.select(need_matches.c.status, need_matches.c.agreed_start, need_matches.c.agreed_end,
                      needs.c.window_start, needs.c.window_end, needs.c.resident_ref)
            .join(needs, needs.c.id == need_matches.c.need_id)
            .where(need_matches.c.match_id == match_id, need_matches.c.volunteer_id == volunteer_id)).first()
        if row is None or row.status not in VISIBLE:
            abort(404, message="Nie ma przyjętej wizyty tego wolontariusza.")
        assert row is not None
        now = clock.now()
        start, end = (row.agreed_start, row.agreed_end) if row.agreed_start and row.agreed_end else (
            row.window_start, row.window_end)  # the agreed visit; an older match without one: the need's window
        since = start - timedelta(hours=hours_setting("VOLUNTEER_RESIDENT_DETAILS_BEFORE_H"))
        until = end + timedelta(hours=hours_setting("VOLUNTEER_RESIDENT_DETAILS_AFTER_H"))
        if not since <= now <= until:
            abort(403, message="Dane mieszkańca są dostępne tylko w pobliżu terminu wizyty.")
        resident = session.execute(sa.select(residents).where(residents.c.ref == row.resident_ref)).mappings().first()
        if resident is None or resident["erased_at"] is not None:
            abort(404, message="Brak danych mieszkańca.")
        assert resident is not None
        audit.record(session, "read", "resident", resident["ref"], ("first_name", "address", "phone"),
                     actor=f"wolontariusz:{volunteer_id}", purpose=f"wizyta {match_id} (strona wolontariusza)")
        return {"match_id": match_id, "first_name": (resident["name"] or "").split(" ")[0],
                "address": resident["address"], "village": resident["village"], "phone": resident["phone"],
                "visible_from": since, "visible_until": until}
