"""A provider's answer to an offer, given through a signed link: single use, before the deadline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from contracts import matching as match_contract
from contracts import notify as notify_contract
from services.notify.contacts import VOLUNTEER
from services.notify.db import matches_seen, notifications, provider_responses, provider_step_backs
from services.notify.ledger import cancel_pending
from wspolnota.db import Database
from wspolnota.transport.outbox import Outbox

DECLINE_REASONS = notify_contract.DECLINE_REASONS
CLOSED = {"cancelled": "odwołana", "expired": "wygasła", "declined": "odrzucona", "completed": "zakończona"}
# What the provider's link page says when the offer is no longer open: the truth of what happened to it.
PASSED_ON = ("Czas na odpowiedź minął, więc zadanie zostało lub zostanie przekazane innej osobie. "
             "Nie przychodź na tę wizytę. Dziękujemy za gotowość!")
NOT_NEEDED = ("To zadanie jest już nieaktualne: objęła je inna osoba albo zostało odwołane. "
              "Nie przychodź na tę wizytę. Dziękujemy za gotowość!")
DONE = "To zadanie zostało już wykonane. Dziękujemy za gotowość!"
CLOSED_MESSAGES = {"expired": PASSED_ON, "cancelled": NOT_NEEDED, "declined": NOT_NEEDED, "completed": DONE}


# Why a provider steps back from an accepted visit: matching's codes, with the labels the page shows
STEP_BACK_REASONS = {code: label[:1].upper() + label[1:] for code, label in match_contract.STEP_BACK_REASONS.items()}


@dataclass(frozen=True)
class Offer:
    offer_id: str
    match_id: str
    volunteer_id: str
    details: dict[str, Any]
    answer: dict[str, Any] | None
    step_backs: tuple[str, ...] = ()  # scopes the provider already stepped back from through this link

    @property
    def series_id(self) -> str | None:
        """Set when the offer is one occurrence of a weekly series: the whole series may be accepted."""
        return self.details.get("series_id")

    @property
    def accepted_series(self) -> bool:
        return bool(self.answer and self.answer.get("response") == "accept" and self.answer.get("scope") == "series")

    def may_leave_visit(self, now: datetime) -> bool:
        """An accepted visit still ahead (matching has it accepted) that the provider has not left yet."""
        start = self.details.get("window_start")
        return (self.answer is not None and self.answer.get("response") == "accept" and not self.activity_id
                and self.details.get("status") == "accepted" and (start is None or start > now)
                and not self.step_backs)

    def may_leave_series(self) -> bool:
        """The whole series was accepted through this link and not left yet (even once this visit is over)."""
        return self.accepted_series and "series" not in self.step_backs

    @property
    def activity_id(self) -> str | None:
        """Set when the offer is a helper place at a community activity."""
        return self.details.get("activity_id")

    @property
    def closed_as(self) -> str | None:
        return CLOSED.get(self.details.get("status", ""))

    def closed_message(self, now: datetime) -> str | None:
        """Why this offer can no longer be answered, for the provider; None while it is open."""
        message = CLOSED_MESSAGES.get(self.details.get("status", ""))
        return message or (PASSED_ON if self.past_deadline(now) else None)

    def past_deadline(self, now: datetime) -> bool:
        deadline = self.details.get("deadline")
        return deadline is not None and now > deadline


OFFER_KINDS = ("match_offered", "helper_offered")  # notifications whose links answer an offer


class AlreadyAnswered(Exception):
    pass


def find_offer(db: Database, offer_id: str) -> Offer | None:
    t = notifications
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(t.c.match_id, t.c.recipient).where(
            t.c.cause_event_id == offer_id, t.c.kind.in_(OFFER_KINDS)).limit(1)).first()
        if row is None or row.match_id is None:
            return None
        details = conn.execute(sa.select(matches_seen).where(matches_seen.c.match_id == row.match_id)
                               ).mappings().first()
        answer = conn.execute(sa.select(provider_responses).where(provider_responses.c.link_id == offer_id)
                              ).mappings().first()
        left = conn.execute(sa.select(provider_step_backs.c.scope).where(provider_step_backs.c.link_id == offer_id)
                            .order_by(provider_step_backs.c.scope)).scalars().all()
    return Offer(offer_id, row.match_id, row.recipient.removeprefix(VOLUNTEER), dict(details or {}),
                 dict(answer) if answer else None, tuple(left))


def respond(db: Database, outbox: Outbox, offer: Offer, response: str, reason_code: str = "",
            now: datetime | None = None, scope: str = "visit") -> None:
    """Record the one answer to this offer and publish ProviderResponded in the same transaction.
    `scope="series"`: an acceptance of the whole weekly series (only for an offer that is part of one)."""
    reason = DECLINE_REASONS.get(reason_code, "") if response == "decline" else ""
    series = response == "accept" and scope == "series" and offer.series_id is not None
    try:
        with db.transaction() as session:
            session.execute(sa.insert(provider_responses).values(
                link_id=offer.offer_id, match_id=offer.match_id, volunteer_id=offer.volunteer_id,
                response=response, reason=reason, responded_at=now or datetime.now(UTC),
                scope="series" if series else None))
            helper = {"activity_id": offer.activity_id} if offer.activity_id else {}
            outbox.add(session, notify_contract.TOPIC, "ProviderResponded", offer.match_id, {
                "match_id": offer.match_id, "volunteer_id": offer.volunteer_id, "response": response,
                "reason": reason, **helper, **({"scope": "series"} if series else {})})
            # Answered through one channel: the other channel's copy (an SMS held back by quiet hours) is moot.
            cancel_pending(session, notifications.c.cause_event_id == offer.offer_id,
                           notifications.c.kind.in_(OFFER_KINDS), reason="wolontariusz już odpowiedział")
    except IntegrityError as err:
        raise AlreadyAnswered(offer.offer_id) from err


class AlreadySteppedBack(Exception):
    pass


def step_back(db: Database, outbox: Outbox, offer: Offer, scope: str, reason_code: str,
              now: datetime | None = None) -> None:
    """The provider steps back from the visit they accepted through this link, or from its whole series:
    recorded once per link and scope, and published as ProviderSteppedBack in the same transaction (matching
    cancels, re-offers and tells the organiser)."""
    try:
        with db.transaction() as session:
            session.execute(sa.insert(provider_step_backs).values(
                link_id=offer.offer_id, scope=scope, match_id=offer.match_id, volunteer_id=offer.volunteer_id,
                reason=reason_code, stepped_back_at=now or datetime.now(UTC)))
            outbox.add(session, notify_contract.TOPIC, "ProviderSteppedBack", offer.match_id, {
                "match_id": offer.match_id, "volunteer_id": offer.volunteer_id, "scope": scope,
                "reason": reason_code})
            cancel_pending(session, notifications.c.match_id == offer.match_id,
                           notifications.c.kind == "visit_reminder", reason="wolontariusz zrezygnował")
    except IntegrityError as err:
        raise AlreadySteppedBack(offer.offer_id) from err
