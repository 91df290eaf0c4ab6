"""A provider says, in their own space (the volunteers service's VisitConfirmed) or through notify's "did it
happen?" link (VisitOutcomeGiven, services/matching/visit_checks.py), whether an accepted visit happened: it did,
with its minutes — the match is completed as staff complete it (actions.complete_match, hours = minutes / 60,
MatchCompleted); it did not — the match is cancelled with the reason code `did_not_happen` (MatchCancelled; needs
follows it as any cancellation, the organiser sees it). Staff mark the same on the match page
(`not_happened`, reason `did_not_happen_staff`).

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
from services.matching.model import ACCEPTED, CANCELLED, MatchNotFound, NotAllowed
from services.matching.store import audit, close_match, get_match
from services.matching.world import visit_begun
from wspolnota.transport.outbox import Outbox

log = logging.getLogger(__name__)
DID_NOT_HAPPEN = "did_not_happen"
DID_NOT_HAPPEN_BY_STAFF = "did_not_happen_staff"
ONLY_ACCEPTED = "Jako nieodbytą można oznaczyć tylko wizytę przyjętą przez wykonawcę."
BY_VOLUNTEER = "wykonawca (strona wolontariusza)"
BY_LINK = "wykonawca (link „Czy wizyta się odbyła?”)"  # notify's VisitOutcomeGiven


def confirm(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, happened: bool,
            minutes: int | None, now: datetime, actor: str = BY_VOLUNTEER) -> bool:
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
        audit(session, actor, "visit_confirmed", match_id, f"happened, {minutes} min", now)
    else:
        close_match(session, outbox, row, CANCELLED, DID_NOT_HAPPEN, now)
        audit(session, actor, "visit_not_happened", match_id, DID_NOT_HAPPEN, now)
    return True


def not_happened_by_staff(session: Session, outbox: Outbox, match_id: str, actor: str, now: datetime) -> None:
    """Staff mark an accepted visit as not done (the match page; the organiser's follow-up of an unanswered
    "did it happen?"): cancelled with `did_not_happen_staff`, in the audit log under the signed-in account."""
    row = get_match(session, match_id)
    if row["status"] != ACCEPTED:
        raise NotAllowed(ONLY_ACCEPTED)
    close_match(session, outbox, row, CANCELLED, DID_NOT_HAPPEN_BY_STAFF, now)
    audit(session, actor, "visit_not_happened", match_id, DID_NOT_HAPPEN_BY_STAFF, now)
