"""The volunteer's visits and offers: a projection of the `matches` topic, and what the volunteer says about them in
their own space (accept, decline, step back, "it happened").

Projection: one `visits` row per match of a volunteer, ids and codes only (the events carry no names). The status
kept is the one of the latest event by event time (as hours.py keeps the latest correction); at the same time the
later stage of the lifecycle wins, so the same event handled again, or an older one arriving late, changes nothing.
Facts (category, village, planned time, series, deadline) are filled from whichever event carries them.

Answers travel as notify's link answers do, on the volunteers topic (contracts/volunteers.py VisitAnswered,
VisitSteppedBack, VisitConfirmed), and matching runs the same code paths for them (services/matching/handlers.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from contracts import notify as notify_contract
from contracts import volunteers as volunteer_contract
from services.volunteers import hours
from services.volunteers.db import visits
from wspolnota import errors, localtime
from wspolnota.transport import Event
from wspolnota.transport.outbox import Outbox

OFFERED, ACCEPTED, DECLINED, EXPIRED, CANCELLED, COMPLETED = (
    "offered", "accepted", "declined", "expired", "cancelled", "completed")
PROPOSED = "proposed"  # known to matching's staff only: not shown to the volunteer
STATUS_OF = {"MatchProposed": PROPOSED, "MatchOffered": OFFERED, "MatchAccepted": ACCEPTED,
             "MatchDeclined": DECLINED, "MatchExpired": EXPIRED, "MatchCancelled": CANCELLED,
             "MatchCompleted": COMPLETED}
STAGE = {PROPOSED: 0, OFFERED: 1, ACCEPTED: 2, DECLINED: 3, EXPIRED: 3, CANCELLED: 4, COMPLETED: 4}
FOLLOWED = (*STATUS_OF, "SeriesCommitted", "MatchSteppedBack")

DECLINE_REASONS = notify_contract.DECLINE_REASONS  # the same Polish answers as notify's link page
STEP_BACK_REASONS = {code: label[:1].upper() + label[1:] for code, label in match_contract.STEP_BACK_REASONS.items()}
MINUTES_MIN, MINUTES_MAX = volunteer_contract.VISIT_MINUTES_MIN, volunteer_contract.VISIT_MINUTES_MAX

NOT_YOURS = "Nie ma takiej wizyty na Twojej liście."
NOT_OPEN = "Ta propozycja nie czeka już na odpowiedź."
ALREADY_ANSWERED = "Na tę propozycję już odpowiedziałeś(-aś)."
NO_SERIES = "Ta wizyta nie należy do cyklu."
NOT_ACCEPTED = "Zrezygnować można tylko z przyjętej wizyty, która jeszcze się nie zaczęła."
ALREADY_STEPPED_BACK = "Już zrezygnowałeś(-aś) z tej wizyty."
NOT_YET = "Potwierdzić wizytę można dopiero po jej rozpoczęciu."
ALREADY_CONFIRMED = "Ta wizyta jest już potwierdzona."
MINUTES_RANGE = f"Podaj czas wizyty w minutach: od {MINUTES_MIN} do {MINUTES_MAX}."


def _t(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# --- the projection ------------------------------------------------------------------------------------------
def on_match_event(session: Session, event: Event, now: datetime | None = None) -> bool:
    """Fold one `matches` event into the volunteer's visits; True when a row changed."""
    if event.type not in FOLLOWED:
        return False
    d = event.data
    at = now or localtime.now()
    row = session.execute(sa.select(visits).where(visits.c.match_id == d["match_id"])).mappings().first()
    facts = {k: v for k, v in {
        "category": d.get("category"), "village": d.get("village"),
        "starts_at": _t(d.get("agreed_start")) or _t(d.get("window_start")), "ends_at": _t(d.get("agreed_end")),
        "series_id": d.get("series_id"), "deadline": _t(d.get("deadline")) if event.type == "MatchOffered" else None,
    }.items() if v is not None}
    if event.type == "SeriesCommitted":
        facts = {"series_commitment_id": d["commitment_id"], "series_id": d["series_id"]}
    elif event.type == "MatchAccepted" and d.get("series_commitment"):
        facts["series_commitment_id"] = d["series_commitment"]
    status = STATUS_OF.get(event.type)
    if row is None:
        if status is None:
            return False  # a commitment or step-back before its match: the match's own events bring the row
        session.execute(sa.insert(visits).values(
            match_id=d["match_id"], volunteer_id=d["volunteer_id"], need_id=d["need_id"], status=status,
            status_time=event.time, reason=d.get("reason") if status == CANCELLED else None, updated_at=at, **facts))
        return True
    changes: dict[str, Any] = {k: v for k, v in facts.items() if row[k] is None or
                               (status is not None and _newer(event.time, status, row))}
    if event.type == "MatchSteppedBack" and row["stepped_back"] is None:
        changes["stepped_back"] = d["scope"]
    if status is not None and _newer(event.time, status, row):
        changes.update(status=status, status_time=event.time,
                       reason=d.get("reason") if status == CANCELLED else None)
    changes = {k: v for k, v in changes.items() if row[k] != v}
    if not changes:
        return False
    session.execute(sa.update(visits).where(visits.c.match_id == d["match_id"]).values(updated_at=at, **changes))
    return True


def _newer(time: datetime, status: str, row: Any) -> bool:
    return (time, STAGE[status]) > (row["status_time"], STAGE[row["status"]])


def with_visits(handlers: dict[str, Any]) -> dict[str, Any]:
    """The service's handlers with the projection added: an event already handled (MatchCompleted's hours)
    runs both, in the same transaction."""
    combined = dict(handlers)
    for event_type in FOLLOWED:
        first = handlers.get(event_type)

        def handle(session: Session, event: Event, first: Any = first) -> None:
            if first is not None:
                first(session, event)
            on_match_event(session, event)
        combined[event_type] = handle
    return combined


# --- reading ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lists:
    offers: list[dict[str, Any]]
    upcoming: list[dict[str, Any]]
    past: list[dict[str, Any]]


def lists(session: Session, volunteer_id: str, now: datetime) -> Lists:
    """Open offers (deadline not passed), accepted visits not yet over, and past visits (accepted and begun,
    completed, or cancelled as not having happened), each as a dict of the row."""
    rows = [dict(r) for r in session.execute(sa.select(visits).where(visits.c.volunteer_id == volunteer_id)
                                             .order_by(visits.c.starts_at, visits.c.match_id)).mappings()]
    open_offers = [r for r in rows if r["status"] == OFFERED and (r["deadline"] is None or r["deadline"] > now)]
    upcoming = [r for r in rows if r["status"] == ACCEPTED and (r["starts_at"] is None or r["starts_at"] > now)]
    past = [r for r in rows if (r["status"] == ACCEPTED and r["starts_at"] is not None and r["starts_at"] <= now)
            or r["status"] == COMPLETED
            or (r["status"] == CANCELLED and r["reason"] == "did_not_happen")]
    past.sort(key=lambda r: r["starts_at"] or now, reverse=True)
    return Lists(open_offers, upcoming, past)


def mine(session: Session, volunteer_id: str, match_id: str) -> sa.RowMapping:
    row = session.execute(sa.select(visits).where(visits.c.match_id == match_id)).mappings().first()
    if row is None or row["volunteer_id"] != volunteer_id:
        raise errors.NotFound(NOT_YOURS)
    return row


def end_of(row: Any) -> datetime | None:
    start = row["starts_at"]
    return row["ends_at"] or (start + timedelta(hours=1) if start is not None else None)


def details_window(row: Any, before_h: int, after_h: int) -> tuple[datetime, datetime] | None:
    """From when until when the resident's details may be shown for an accepted (or completed) visit."""
    end = end_of(row)
    if row["starts_at"] is None or end is None:
        return None
    return row["starts_at"] - timedelta(hours=before_h), end + timedelta(hours=after_h)


def details_open(row: Any, now: datetime, before_h: int, after_h: int) -> bool:
    window = details_window(row, before_h, after_h)
    return (row["status"] in (ACCEPTED, COMPLETED) and row["stepped_back"] is None and window is not None
            and window[0] <= now <= window[1])


# --- what the volunteer says -----------------------------------------------------------------------------------
def answer(session: Session, outbox: Outbox, volunteer_id: str, match_id: str, response: str, now: datetime, *,
           series: bool = False, reason_code: str = "") -> None:
    """Accept (this visit, or with `series` the whole weekly series) or decline an open offer: VisitAnswered."""
    row = mine(session, volunteer_id, match_id)
    if row["answered"] is not None:
        raise errors.Refused(ALREADY_ANSWERED)
    if row["status"] != OFFERED or (row["deadline"] is not None and row["deadline"] <= now):
        raise errors.Refused(NOT_OPEN)
    if response not in volunteer_contract.VISIT_RESPONSES:
        raise errors.Invalid("Nieznana odpowiedź.")
    if series and row["series_id"] is None:
        raise errors.Refused(NO_SERIES)
    if response == "decline" and reason_code not in DECLINE_REASONS:
        raise errors.Invalid("Wybierz powód z listy.")
    reason = DECLINE_REASONS[reason_code] if response == "decline" else ""
    scope = "series" if series and response == "accept" else "visit"
    session.execute(sa.update(visits).where(visits.c.match_id == match_id).values(
        answered="accept_series" if scope == "series" else response, updated_at=now))
    outbox.add(session, volunteer_contract.TOPIC, "VisitAnswered", match_id, {
        "match_id": match_id, "volunteer_id": volunteer_id, "response": response, "reason": reason, "scope": scope})


def step_back(session: Session, outbox: Outbox, volunteer_id: str, match_id: str, scope: str, reason_code: str,
              now: datetime) -> None:
    """Step back from an accepted visit not yet begun, or from its whole series: VisitSteppedBack (matching
    cancels, re-offers and tells the organiser). Once per visit."""
    row = mine(session, volunteer_id, match_id)
    if reason_code not in STEP_BACK_REASONS:
        raise errors.Invalid("Wybierz powód z listy.")
    if scope not in volunteer_contract.VISIT_SCOPES:
        raise errors.Invalid("Nieznany zakres rezygnacji.")
    if row["stepped_back"] is not None:
        raise errors.Refused(ALREADY_STEPPED_BACK)
    if row["status"] != ACCEPTED or (row["starts_at"] is not None and row["starts_at"] <= now):
        raise errors.Refused(NOT_ACCEPTED)
    if scope == "series" and row["series_id"] is None:
        raise errors.Refused(NO_SERIES)
    session.execute(sa.update(visits).where(visits.c.match_id == match_id).values(stepped_back=scope,
                                                                                  updated_at=now))
    outbox.add(session, volunteer_contract.TOPIC, "VisitSteppedBack", match_id, {
        "match_id": match_id, "volunteer_id": volunteer_id, "scope": scope, "reason": reason_code})


def parse_minutes(text: str | None) -> int:
    """The visit's minutes from the form; ValueError with the Polish message."""
    value = (text or "").strip()
    if not value.isdigit():
        raise ValueError(MINUTES_RANGE)
    minutes = int(value)
    if not MINUTES_MIN <= minutes <= MINUTES_MAX:
        raise ValueError(MINUTES_RANGE)
    return minutes


def confirm(session: Session, outbox: Outbox, volunteer_id: str, match_id: str, happened: bool,
            minutes: int | None, now: datetime) -> None:
    """After the visit's start: it happened (its minutes count as hours at once, in the ledger under the match,
    which matching's MatchCompleted later corrects) or it did not. VisitConfirmed either way."""
    row = mine(session, volunteer_id, match_id)
    if row["confirmed"] is not None or row["status"] == COMPLETED:
        raise errors.Refused(ALREADY_CONFIRMED)
    if row["status"] != ACCEPTED or row["stepped_back"] is not None:
        raise errors.Refused("Potwierdzić można tylko przyjętą wizytę.")
    if row["starts_at"] is None or row["starts_at"] > now:
        raise errors.Refused(NOT_YET)
    if happened and (minutes is None or not MINUTES_MIN <= minutes <= MINUTES_MAX):
        raise errors.Invalid(MINUTES_RANGE)
    session.execute(sa.update(visits).where(visits.c.match_id == match_id).values(
        confirmed="happened" if happened else "not_happened", confirmed_minutes=minutes if happened else None,
        updated_at=now))
    event = outbox.add(session, volunteer_contract.TOPIC, "VisitConfirmed", match_id, {
        "match_id": match_id, "volunteer_id": volunteer_id, "happened": happened,
        "minutes": minutes if happened else None})
    if happened and minutes is not None:
        hours.record(session, event, provider_id=volunteer_id, source=hours.VISIT, source_id=match_id,
                     hours=minutes / 60, on_date=localtime.local_day(row["starts_at"]), now=now,
                     category=row["category"])


# --- the resident's details, from the needs service at read time ------------------------------------------------
class ContactUnavailable(Exception):
    pass


def visit_contact(base_url: str, token: str, match_id: str, volunteer_id: str,
                  timeout_s: float = 5.0) -> dict[str, Any] | None:
    """GET {needs}/internal/matches/<id>/visit-contact?volunteer_id=…: the resident's first name, address and
    phone for this volunteer's accepted visit inside its window (needs checks both and audits the read); None when
    needs says no (403/404), ContactUnavailable when it cannot be asked."""
    try:
        response = requests.get(f"{base_url.rstrip('/')}/internal/matches/{match_id}/visit-contact",
                                params={"volunteer_id": volunteer_id}, timeout=timeout_s,
                                headers={"Authorization": f"Bearer {token}", "X-Service-Name": "volunteers"})
    except requests.RequestException as err:
        raise ContactUnavailable(str(err)) from err
    if response.status_code in (403, 404, 409):
        return None
    if response.status_code != 200:
        raise ContactUnavailable(f"needs answered {response.status_code}")
    body = response.json()
    return {k: str(body.get(k) or "") for k in ("first_name", "address", "village", "phone")}
