"""A provider says, in their own space (the volunteers service's VisitConfirmed), whether an accepted visit
happened: it did, with its minutes — the match is completed as staff complete it (actions.complete_match, hours =
minutes / 60, MatchCompleted); it did not — staff have no "not done" state to mark, so the match is cancelled
with the reason code `did_not_happen` (MatchCancelled; needs follows it as any cancellation, the organiser sees it).

Only an accepted match of that provider whose visit's time has come is changed; anything else (already completed
or cancelled, someone else's, not begun) changes nothing, so the same confirmation handled twice is one.
"""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.matching import actions
from services.matching.db import open_needs
from services.matching.model import ACCEPTED, CANCELLED, MatchNotFound
from services.matching.store import audit, close_match, get_match
from services.matching.world import visit_begun
from wspolnota.transport.outbox import Outbox

log = logging.getLogger(__name__)
DID_NOT_HAPPEN = "did_not_happen"
BY_VOLUNTEER = "wykonawca (strona wolontariusza)"


def confirm(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, happened: bool,
            minutes: int | None, now: datetime) -> bool:
    """True when the match changed."""
    try:
        row = get_match(session, match_id)
    except MatchNotFound:
        log.info("visit confirmation for unknown match %s", match_id)
        return False
    if row["volunteer_id"] != volunteer_id or row["status"] != ACCEPTED:
        return False
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == row["need_id"])).mappings().first()
    if need is not None and not visit_begun(row, need, now):
        log.info("visit confirmation for match %s before its start: ignored", match_id)
        return False
    if happened:
        hours = round((minutes or 0) / 60, 2)
        actions.complete_match(session, outbox, match_id, hours, now)
        audit(session, BY_VOLUNTEER, "visit_confirmed", match_id, f"happened, {minutes} min", now)
    else:
        close_match(session, outbox, row, CANCELLED, DID_NOT_HAPPEN, now)
        audit(session, BY_VOLUNTEER, "visit_not_happened", match_id, DID_NOT_HAPPEN, now)
    return True
