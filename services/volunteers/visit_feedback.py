"""The volunteer's short feedback on a visit, from their space: after confirming that a visit happened (or once it
is completed) they may say how it went — "dobrze", "były trudności" or "potrzebna interwencja" — with an optional
note. One answer per visit. The note stays in this service (`visit_feedback`); the bus carries
`FeedbackGiven {feedback_id, match_id, need_id, source: "volunteer", score}` with the score 1, 2 or 3.
"potrzebna interwencja" leads to the concern form about that visit (kind "incident" preselected): feedback is not a
report, and the volunteer is told so.

The page route is in visit_feedback_pages.py.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import volunteers as volunteer_contract
from services.volunteers import visits
from services.volunteers.db import visit_feedback
from wspolnota import errors
from wspolnota.transport.outbox import Outbox

CODES = {"good": 1, "difficulties": 2, "intervention": 3}
CODE_PL = {"good": "dobrze", "difficulties": "były trudności", "intervention": "potrzebna interwencja"}
MAX_NOTE = 1000
BAD_CODE = "Wybierz, jak poszła wizyta."
NOTE_LONG = f"Notatka może mieć najwyżej {MAX_NOTE} znaków."
NOT_YET = "Ocenić można wizytę, która się odbyła."
GIVEN = "Ta wizyta jest już oceniona — dziękujemy."


def give(session: Session, outbox: Outbox, volunteer_id: str, match_id: str, code: Any, note: Any,
         at: datetime) -> None:
    """Store the volunteer's feedback and publish FeedbackGiven in one transaction, once per visit."""
    if code not in CODES:
        raise errors.Invalid(BAD_CODE)
    text = str(note or "").strip()
    if len(text) > MAX_NOTE:
        raise errors.Invalid(NOTE_LONG)
    row = visits.mine(session, volunteer_id, match_id)
    if not (row["status"] == visits.COMPLETED or row["confirmed"] == "happened"):
        raise errors.Refused(NOT_YET)
    if session.execute(sa.select(visit_feedback.c.match_id).where(visit_feedback.c.match_id == match_id)).first():
        raise errors.Refused(GIVEN)
    feedback_id = str(uuid.uuid4())
    session.execute(sa.insert(visit_feedback).values(match_id=match_id, feedback_id=feedback_id,
                                                     volunteer_id=volunteer_id, need_id=row["need_id"], code=code,
                                                     note=text, created_at=at))
    outbox.add(session, volunteer_contract.TOPIC, "FeedbackGiven", match_id, {
        "feedback_id": feedback_id, "match_id": match_id, "need_id": row["need_id"], "source": "volunteer",
        "score": CODES[code]})


def given(session: Session, volunteer_id: str) -> dict[str, str]:
    """The volunteer's answers by match id (codes only: the visits page shows which visits are rated)."""
    return {r[0]: r[1] for r in session.execute(sa.select(visit_feedback.c.match_id, visit_feedback.c.code).where(
        visit_feedback.c.volunteer_id == volunteer_id))}
