"""Staff actions besides the review: record that an accepted visit took place, set a category's moderation."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from services.matching import model
from services.matching.db import moderation
from services.matching.model import COMPLETED, NotAllowed
from services.matching.store import SYSTEM_ACTOR, audit, get_match, match_ids, update_match
from wspolnota import reference
from wspolnota.transport.outbox import Outbox


def complete_match(session: Session, outbox: Outbox, match_id: str, hours: float, now: datetime) -> None:
    """Staff confirm an accepted visit took place, with the hours spent."""
    row = get_match(session, match_id)
    model.check_completable(row["status"])
    update_match(session, row, now, status=COMPLETED, hours=hours, completed_at=now)
    outbox.add(session, match_contract.TOPIC, "MatchCompleted", row["need_id"],
               {**match_ids(row), "hours": hours, "category": row["category"]})


def set_moderation(session: Session, category: str, mode: str, actor: str = SYSTEM_ACTOR,
                   now: datetime | None = None) -> None:
    if category not in reference.categories() or mode not in ("review", "auto"):
        raise NotAllowed("Nieznana kategoria lub tryb moderacji.")
    before = session.execute(sa.select(moderation.c.mode).where(moderation.c.category == category)).scalar()
    session.execute(sa.delete(moderation).where(moderation.c.category == category))
    session.execute(sa.insert(moderation).values(category=category, mode=mode))
    audit(session, actor, "moderation", category, f"{before or 'review'} -> {mode}", now or datetime.now(UTC))
