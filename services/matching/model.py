"""Pure domain of the matching service: the match lifecycle (states, transitions, guards).

Nothing here imports Flask, Kafka or SQLAlchemy. The use cases (review.py, cascade.py, schedule.py) ask these
functions whether a change is allowed and raise `NotAllowed` with the Polish reason staff read; the web layer
answers it as 409 (a form shows it beside the buttons).

A match is made `proposed` by the solver, the cascade or a staff pick, and then:

    proposed ──approve──▶ approved ──offer──▶ offered ──accept──▶ accepted ──complete──▶ completed
       │                     │                   ├──decline──▶ declined
       ├──reject──▶ rejected │                   └──deadline──▶ expired
       └──re-solve, pick──▶ replaced
    any active state ──(covered, need cancelled or completed, a re-check fails)──▶ cancelled
"""
from __future__ import annotations

from datetime import datetime

from contracts import matching as match_contract

PROPOSED, APPROVED, OFFERED, ACCEPTED, COMPLETED = "proposed", "approved", "offered", "accepted", "completed"
REJECTED, REPLACED, DECLINED, EXPIRED, CANCELLED = "rejected", "replaced", "declined", "expired", "cancelled"
STATUSES = (PROPOSED, APPROVED, OFFERED, ACCEPTED, COMPLETED, REJECTED, REPLACED, DECLINED, EXPIRED, CANCELLED)
INITIAL = PROPOSED  # every match starts as a proposal

ACTIVE = (PROPOSED, APPROVED, OFFERED, ACCEPTED)
COMMITTED = (APPROVED, OFFERED, ACCEPTED)  # count towards the provider's load and reserve the visit's time
EXCLUDING = (REJECTED, DECLINED, EXPIRED)  # the provider is not asked again for this need
SERVED = (ACCEPTED, COMPLETED)  # the provider took the visit: continuity, the need counts as served
TERMINAL = frozenset({COMPLETED, REJECTED, REPLACED, DECLINED, EXPIRED, CANCELLED})

STATUS_PL = {
    PROPOSED: "do przeglądu", APPROVED: "zatwierdzona", OFFERED: "zaproponowana wykonawcy",
    ACCEPTED: "przyjęta", COMPLETED: "wykonana", REJECTED: "odrzucona", REPLACED: "zastąpiona",
    DECLINED: "odmowa wykonawcy", EXPIRED: "brak odpowiedzi w terminie", CANCELLED: "anulowana",
}

TRANSITIONS: dict[str, frozenset[str]] = {
    # replaced: a re-solve found a cheaper provider, or staff picked another candidate
    PROPOSED: frozenset({APPROVED, REJECTED, REPLACED, CANCELLED}),
    APPROVED: frozenset({OFFERED, CANCELLED}),
    OFFERED: frozenset({ACCEPTED, DECLINED, EXPIRED, CANCELLED}),
    # an accepted visit falls through (the need is cancelled, a credential expires) before its time
    ACCEPTED: frozenset({COMPLETED, CANCELLED}),
    **{status: frozenset() for status in TERMINAL},
}

# An acceptance of an offer in one of these states comes too late: what the provider is told (contracts/matching.py).
TOO_LATE = {EXPIRED: match_contract.TOO_LATE_PASSED_ON, CANCELLED: match_contract.TOO_LATE_NOT_NEEDED,
            REPLACED: match_contract.TOO_LATE_NOT_NEEDED, DECLINED: match_contract.TOO_LATE_ALREADY_DECLINED}

ALREADY_REVIEWED = "Tę propozycję już rozpatrzono."
ONLY_ACCEPTED_COMPLETE = "Tylko przyjęte dopasowanie można oznaczyć jako wykonane."
BUSY = "Wykonawca nie ma wolnego terminu w oknie tej potrzeby (zajęty innymi wizytami)."
ALREADY_ON_NEED = "Ten wykonawca ma już inne dopasowanie do tej potrzeby (jedna osoba zajmuje jedno miejsce)."
NO_OFFER = "Wykonawca nie ma opublikowanej oferty."
UNKNOWN_PROVIDER = "Nieznany wykonawca."


class MatchNotFound(LookupError):
    pass


class NotAllowed(ValueError):
    """The action does not fit the match's state or the rules; the message is Polish, for staff."""


def status_pl(status: str) -> str:
    return STATUS_PL.get(status, status)


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """NotAllowed unless the lifecycle lets a match in `current` move to `target`."""
    if target not in STATUSES:
        raise NotAllowed(f"Nieznany status dopasowania: {target}.")
    if not can_transition(current, target):
        raise NotAllowed(f"Nie można zmienić statusu dopasowania z „{status_pl(current)}” na „{status_pl(target)}”.")


def check_reviewable(status: str) -> None:
    """Staff approve, reject or replace only a proposal nobody has decided on yet."""
    if status != PROPOSED:
        raise NotAllowed(ALREADY_REVIEWED)


def check_completable(status: str) -> None:
    """Only a visit the provider accepted can be recorded as done."""
    if status != ACCEPTED:
        raise NotAllowed(ONLY_ACCEPTED_COMPLETE)


def awaits_answer(status: str) -> bool:
    """The provider's answer changes the match only while the offer is out."""
    return status == OFFERED


def too_late(status: str) -> str | None:
    """What a provider who accepts an offer no longer open is told (a TOO_LATE_* code), or None when an
    acceptance in this state is no news to anyone (still a proposal, already accepted, done)."""
    return TOO_LATE.get(status)


def visit_begun(status: str, visit_start: datetime, now: datetime) -> bool:
    """An accepted visit whose agreed time has come: a later change in the world cannot undo it."""
    return status == ACCEPTED and visit_start <= now
