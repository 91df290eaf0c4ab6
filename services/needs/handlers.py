"""Needs service use cases (API, forms, seed) and the match events it follows.

Every use case runs inside the caller's unit of work (`db.transaction()`): the domain change, its
timeline entry, its audit entry and its outbox event commit together or not at all.
"""
from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from contracts import needs as need_contract
from contracts import notify as notify_contract
from services.needs import audit, clock, model, schemas
from services.needs.db import (
    call_series,
    concerns,
    idempotency_keys,
    need_matches,
    needs,
    outbox,
    resident_feedback,
    residents,
    series,
    submissions,
    support_packages,
    timeline,
)
from wspolnota import errors as shared_errors
from wspolnota import reference
from wspolnota.service import Clock, utc_now
from wspolnota.transport import Catalog, Event, decode, encode
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

log = logging.getLogger("services.needs")

MATCHING = "serwis dopasowań"
RESIDENT_PII = ("name", "address", "phone", "email", "notes", "preferred_channel")


# --- errors: wspolnota.errors' ones, answered by the app (404, 422 with field errors, 409) -----------------
NOT_FOUND = "Nie ma takiego obiektu."


class NotFound(shared_errors.NotFound):
    """Nothing with this id (`what`); the answer says `message`."""

    def __init__(self, what: str = "", message: str = NOT_FOUND):
        super().__init__(message)
        self.what = what


class Invalid(shared_errors.Invalid):
    """Business validation that needs the database: field → Polish message. A dotted field
    ("recurrence.until") is answered nested, as the API's schemas report their fields."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)

    def answer(self) -> dict[str, Any]:
        return {"errors": {"json": nest(self.errors)}}


class Refused(shared_errors.Refused):
    """A request the rules refuse as a whole (409 with a Polish message)."""


def nest(errors: Mapping[str, str | list[str]]) -> dict[str, Any]:
    """{"recurrence.until": "…"} → {"recurrence": {"until": ["…"]}} (the API's field-error shape)."""
    out: dict[str, Any] = {}
    for key, message in errors.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = message if isinstance(message, list) else [message]
    return out


class DuplicateSubmission(Exception):
    def __init__(self, need_id: str):
        super().__init__(need_id)
        self.need_id = need_id


# --- match events this service follows ------------------------------------------------------------------
# Payload schemas are matching's (its published contract, contracts/matching.py); the handler reads only the ids,
# `hours` and `reason`, so new optional fields there never break it.
MATCH_STATUS = {"MatchProposed": "proposed", "MatchApproved": "approved", "MatchRejected": "rejected",
                "MatchOffered": "offered", "MatchAccepted": "accepted", "MatchDeclined": "declined",
                "MatchExpired": "expired", "MatchCancelled": "cancelled", "MatchCompleted": "completed"}

PUBLISHES = Catalog(need_contract.EVENTS)
CONSUMES = Catalog(match_contract.EVENTS, notify_contract.EVENTS)
# notify: answers to "is it still needed?" (handled by need_checks.consumer_handlers, merged in the bootstrap)
SUBSCRIPTIONS = [match_contract.TOPIC, notify_contract.TOPIC]


# --- helpers ----------------------------------------------------------------------------------------------
def _now() -> datetime:
    return clock.now()


def _aware(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _codes(value: str | None) -> list[str]:
    return [c for c in (value or "").split(",") if c]


def need_payload(row: dict[str, Any]) -> dict[str, Any]:
    """The need as the bus sees it: no names, no description."""
    return {
        "need_id": row["id"], "resident_ref": row["resident_ref"], "category": row["category"],
        "village": row["village"], "window_start": row["window_start"].isoformat(),
        "window_end": row["window_end"].isoformat(), "duration_minutes": row["duration_minutes"],
        "urgent": row["urgency"] == "urgent", "urgency": row["urgency"], "slots": row["slots"],
        "requirements": _codes(row["requirements"]), "involves_minor": row["involves_minor"],
        "language": row["language"], "plan_ref": row["plan_ref"], "series_id": row["series_id"],
        "continuity": row["continuity"], "moderation": row["moderation"],
        "personal_care": bool(row.get("personal_care")), "skills": list(row.get("skills") or []),
        "relatives": list(row.get("relatives") or []),
    }


def note(session: Session, need_id: str, kind: str, status_after: str, detail: str = "",
         actor: str | None = None) -> None:
    session.execute(sa.insert(timeline).values(need_id=need_id, at=_now(), kind=kind,
                                               actor=actor or audit.current_actor(),
                                               status_after=status_after, detail=detail[:1000]))


def get_need(session: Session, need_id: str, for_update: bool = False) -> dict[str, Any]:
    query = sa.select(needs).where(needs.c.id == need_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).mappings().first()
    if row is None:
        raise NotFound(need_id)
    return dict(row)


def _check_submission(session: Session, key: str | None) -> None:
    """A form or API call seen before stores nothing (a race ends in the primary key's IntegrityError)."""
    if key:
        seen = session.execute(sa.select(submissions.c.need_id).where(submissions.c.key == key[:64])).scalar()
        if seen:
            raise DuplicateSubmission(seen)


def _remember_submission(session: Session, key: str | None, need_id: str) -> None:
    if key:
        session.execute(sa.insert(submissions).values(key=key[:64], need_id=need_id, created_at=_now()))


def _terms(data: dict[str, Any]) -> dict[str, Any]:
    """Columns that follow from a validated body: urgency, minors, requirements, continuity."""
    urgency = data.get("urgency") or ("urgent" if data.get("urgent") else "normal")
    minor = model.involves_minor(data["category"], data.get("involves_minor", False))
    explicit, waived = data.get("requirements", []), data.get("waived_requirements", [])
    resolved = model.resolve_requirements(data["category"], minor, explicit, waived)
    continuity = data.get("continuity")
    if continuity is None:
        continuity = bool(reference.categories()[data["category"]]["rules"].get("continuity"))
    return {"urgency": urgency, "urgent": urgency == "urgent", "involves_minor": minor,
            "requirements": ",".join(resolved), "explicit_requirements": ",".join(sorted(set(explicit))),
            "waived_requirements": ",".join(sorted(set(waived))), "continuity": continuity,
            "personal_care": bool(data.get("personal_care", False)),
            "skills": _distinct(data.get("skills") or [], key=str.casefold),
            "relatives": _distinct(data.get("relatives") or [])}


def _distinct(values: list[str], key: Any = None) -> list[str]:
    """The values in their order, each once (skills compared without case, as the matcher compares them)."""
    seen: set[str] = set()
    out = []
    for value in values:
        k = key(value) if key else value
        if k not in seen:
            seen.add(k)
            out.append(value)
    return out


# --- who may switch a need's staff review off ----------------------------------------------------------
MODERATION_REFUSED = ("Automatyczną akceptację propozycji (bez przeglądu przez pracownika) może ustawić tylko "
                      "organizator społeczności lokalnej, dyrektor CUS lub administrator.")


def caller_may_moderate() -> bool:
    """Whether the signed-in person may switch a need's staff review off: the roles that may change a
    category's moderation (wspolnota.access.MODERATE). Outside a request (seed data, jobs) there is no
    caller to ask and the value given stands; a test app with sign-in switched off counts as allowed."""
    from flask import current_app, has_request_context

    from wspolnota.access import MODERATE
    from wspolnota.auth import auth_disabled, current_user

    if not has_request_context():
        return True
    user = current_user()
    if user is None:
        return auth_disabled(current_app)
    return user["role"] in MODERATE


def _check_moderation(wanted: str, before: str | None, may_moderate: bool | None) -> None:
    """`moderation: auto` skips the category's staff review; only a moderator may ask for it (keeping a value
    a moderator set earlier is not asking)."""
    if wanted != "auto" or before == "auto":
        return
    if not (caller_may_moderate() if may_moderate is None else may_moderate):
        raise Invalid({"moderation": MODERATION_REFUSED})


def _package(session: Session, plan_ref: str) -> dict[str, Any] | None:
    row = session.execute(sa.select(support_packages).where(support_packages.c.plan_ref == plan_ref)).mappings().first()
    return dict(row) if row else None


ERASED_REF = "Dane tego mieszkańca usunięto (RODO); nie można zgłaszać dla niego potrzeb ani pakietów."


def _check_not_erased(session: Session, resident_ref: str | None) -> None:
    if resident_ref and session.execute(sa.select(residents.c.id).where(
            residents.c.ref == resident_ref, residents.c.erased_at.is_not(None))).first():
        raise Invalid({"resident_ref": ERASED_REF})


def _check_plan(session: Session, plan_ref: str | None, until: date | None = None) -> None:
    if not plan_ref:
        return
    package = _package(session, plan_ref)
    if package is None:
        if until is not None:
            raise Invalid({"plan_ref": "Nie ma pakietu wsparcia (IPUS) o tym numerze; najpierw go otwórz."})
        return  # a one-off need may cite a plan the case system has not opened here
    if package["status"] != "open":
        raise Invalid({"plan_ref": "Ten pakiet wsparcia jest już zamknięty."})
    if until is not None and until > package["end_date"]:
        raise Invalid({"recurrence.until": f"Powtarzanie nie może wykraczać poza koniec planu "
                                           f"({package['end_date'].strftime('%d.%m.%Y')})."})


# --- needs ------------------------------------------------------------------------------------------------
def _insert_need(session: Session, outbox: Outbox, data: dict[str, Any], start: datetime, end: datetime,
                 series_id: str | None, actor: str) -> dict[str, Any]:
    now = _now()
    row = {
        "id": str(uuid.uuid4()), "resident_ref": data["resident_ref"], "category": data["category"],
        "village": data["village"], "description": data.get("description", ""), "window_start": start,
        "window_end": end, "duration_minutes": data["duration_minutes"], "slots": data.get("slots", 1),
        "status": model.OPEN, "created_at": now, "updated_at": now, "language": data.get("language", "pl"),
        "moderation": data.get("moderation", "review"), "source": data.get("source", "case_system"),
        "plan_ref": data.get("plan_ref"), "series_id": series_id, "cancel_reason": "",
        "hours_delivered": 0.0, "visits_delivered": 0, **_terms(data),
    }
    session.execute(sa.insert(needs).values(**row))
    note(session, row["id"], "NeedRegistered", model.OPEN, f"źródło: {schemas.SOURCE_PL[row['source']]}", actor)
    outbox.add(session, need_contract.TOPIC, "NeedRegistered", row["id"], need_payload(row))
    return row


def register_need(session: Session, outbox: Outbox, data: dict[str, Any], submission_key: str | None = None,
                  actor: str | None = None, may_moderate: bool | None = None) -> dict[str, Any]:
    """A one-off need (body already validated by schemas.NeedCreate). `may_moderate`: whether the caller may
    ask for automatic moderation; None asks the signed-in person's role (caller_may_moderate)."""
    _check_moderation(data.get("moderation", "review"), None, may_moderate)
    _check_submission(session, submission_key)
    _check_not_erased(session, data.get("resident_ref"))
    _check_plan(session, data.get("plan_ref"))
    row = _insert_need(session, outbox, data, data["window_start"], data["window_end"], None,
                       actor or audit.current_actor())
    _remember_submission(session, submission_key, row["id"])
    return row


def register_series(session: Session, outbox: Outbox, data: dict[str, Any], submission_key: str | None = None,
                    actor: str | None = None, may_moderate: bool | None = None) -> tuple[str, list[dict[str, Any]]]:
    """A weekly pattern inside a support package, expanded into one need per occurrence."""
    _check_moderation(data.get("moderation", "review"), None, may_moderate)
    rec = data["recurrence"]
    _check_submission(session, submission_key)
    _check_not_erased(session, data.get("resident_ref"))
    _check_plan(session, data["plan_ref"], rec["until"])
    package = _package(session, data["plan_ref"])
    pattern = model.WeeklyPattern(tuple(sorted(set(rec["weekdays"]))), rec["time_from"], rec["time_to"],
                                  rec["starts_on"], rec["until"])
    try:
        windows = model.expand(pattern, data["duration_minutes"], package["end_date"] if package else None,
                               clock.today())
    except model.WindowError as err:
        field = err.field if err.field == "duration_minutes" else f"recurrence.{err.field}"
        raise Invalid({field: err.message}) from err
    if (data.get("urgency") or ("urgent" if data.get("urgent") else "normal")) == "urgent":
        raise Invalid({"urgency": "Potrzeba cykliczna nie może być pilna; zgłoś pilną wizytę osobno."})
    series_id = str(uuid.uuid4())
    session.execute(sa.insert(series).values(
        id=series_id, plan_ref=data["plan_ref"], weekdays=",".join(map(str, pattern.weekdays)),
        time_from=pattern.time_from.strftime("%H:%M"), time_to=pattern.time_to.strftime("%H:%M"),
        starts_on=pattern.starts_on, until=pattern.until, created_at=_now()))
    actor = actor or audit.current_actor()
    rows = [_insert_need(session, outbox, data, start, end, series_id, actor) for start, end in windows]
    _remember_submission(session, submission_key, rows[0]["id"])
    return series_id, rows


def update_need(session: Session, outbox: Outbox, need_id: str, changes: dict[str, Any],
                actor: str | None = None, may_moderate: bool | None = None) -> dict[str, Any]:
    """Edit a need that is still open; the whole result is validated as a new need would be."""
    row = get_need(session, need_id, for_update=True)
    model.check_editable(row["status"])
    _check_moderation(changes.get("moderation", row["moderation"]), row["moderation"], may_moderate)
    merged = {
        "resident_ref": row["resident_ref"], "category": row["category"], "village": row["village"],
        "description": row["description"], "duration_minutes": row["duration_minutes"],
        "urgency": row["urgency"], "slots": row["slots"], "involves_minor": row["involves_minor"],
        "requirements": _codes(row["explicit_requirements"]), "waived_requirements": _codes(row["waived_requirements"]),
        "continuity": row["continuity"], "moderation": row["moderation"], "source": row["source"],
        "plan_ref": row["plan_ref"], "language": row["language"],
        "window_start": row["window_start"].isoformat(), "window_end": row["window_end"].isoformat(),
        "personal_care": row["personal_care"], "skills": list(row["skills"] or []),
        "relatives": list(row["relatives"] or []),
    }
    for key, value in changes.items():
        merged[key] = value.isoformat() if isinstance(value, datetime) else value
    if "involves_minor" not in changes and "category" in changes:
        merged["involves_minor"] = False  # re-derived from the new category (KOR always involves minors)
    errors = schemas.NeedCreate().validate(merged)
    if errors:
        raise Invalid({k: " ".join(v) if isinstance(v, list) else str(v) for k, v in errors.items()})
    data = schemas.NeedCreate().load(merged)
    values = {
        "category": data["category"], "village": data["village"], "description": data["description"],
        "window_start": data["window_start"], "window_end": data["window_end"],
        "duration_minutes": data["duration_minutes"], "slots": data["slots"], "moderation": data["moderation"],
        "updated_at": _now(), **_terms(data),
    }
    values.pop("urgent")
    values["urgent"] = values["urgency"] == "urgent"
    changed = sorted(k for k, v in values.items() if k != "updated_at" and row.get(k) != v)
    session.execute(sa.update(needs).where(needs.c.id == need_id).values(**values))
    row.update(values)
    note(session, need_id, "NeedUpdated", row["status"], "zmieniono: " + ", ".join(changed) if changed else "", actor)
    outbox.add(session, need_contract.TOPIC, "NeedUpdated", need_id, need_payload(row))
    return row


def change_status(session: Session, outbox: Outbox, need_id: str, target: str, reason: str = "",
                  actor: str | None = None, code: str = need_contract.CANCEL_BY_STAFF) -> dict[str, Any]:
    """A status change made by staff; the lifecycle decides (InvalidTransition → 409). `code`: the reason code a
    cancellation publishes (the typed `reason` stays here)."""
    row = get_need(session, need_id, for_update=True)
    if row["status"] == target:
        raise model.InvalidTransition(row["status"], target,
                                      f"Potrzeba ma już status „{model.STATUS_PL[target]}”.")
    model.check_transition(row["status"], target, by_staff=True)
    values: dict[str, Any] = {"status": target, "updated_at": _now()}
    if target == model.CANCELLED:
        values["cancel_reason"] = reason[:500]
    session.execute(sa.update(needs).where(needs.c.id == need_id).values(**values))
    row.update(values)
    note(session, need_id, f"status:{target}", target, reason, actor)
    if target == model.CANCELLED:
        outbox.add(session, need_contract.TOPIC, "NeedCancelled", need_id, {  # the typed reason stays here
            "need_id": need_id, "reason": code, "plan_ref": row["plan_ref"],
            "series_id": row["series_id"]})
    elif target == model.EXPIRED:  # for matching an expired need is as gone as a cancelled one
        outbox.add(session, need_contract.TOPIC, "NeedCancelled", need_id, {
            "need_id": need_id, "reason": "expired", "plan_ref": row["plan_ref"], "series_id": row["series_id"]})
    elif target == model.COMPLETED:
        _completed(session, outbox, row)
    return row


def cancel_need(session: Session, outbox: Outbox, need_id: str, reason: str = "",
                actor: str | None = None) -> dict[str, Any]:
    return change_status(session, outbox, need_id, model.CANCELLED, reason, actor)


def expire_overdue(session: Session, outbox: Outbox, now: datetime | None = None) -> list[str]:
    """Needs whose window has passed with nobody agreed become expired (a cron or staff call this)."""
    waiting = [model.OPEN, model.PROPOSED, model.APPROVED, model.OFFERED]
    overdue = session.execute(sa.select(needs.c.id).where(needs.c.window_end < (now or _now()),
                                                          needs.c.status.in_(waiting))).scalars().all()
    for need_id in overdue:
        change_status(session, outbox, need_id, model.EXPIRED, "termin minął bez uzgodnionej wizyty",
                      actor=audit.SYSTEM)
    return list(overdue)


def _completed(session: Session, outbox: Outbox, row: dict[str, Any]) -> None:
    outbox.add(session, need_contract.TOPIC, "NeedCompleted", row["id"], {
        "need_id": row["id"], "visits": row["visits_delivered"], "hours": row["hours_delivered"],
        "plan_ref": row["plan_ref"]})


def timeline_of(session: Session, need_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(
        sa.select(timeline).where(timeline.c.need_id == need_id).order_by(timeline.c.id)).mappings()]


# --- match events -------------------------------------------------------------------------------------------
def _describe(event: Event) -> str:
    d = event.data
    parts = [f"dopasowanie {str(d['match_id'])[:8]}"]
    if d.get("volunteer_id"):
        parts.append(f"wykonawca {str(d['volunteer_id'])[:8]}")
    if d.get("hours"):
        parts.append(f"godziny: {d['hours']}")
    if d.get("reason"):
        parts.append(f"powód: {match_contract.reason_label(d['reason'])}")
    return "; ".join(parts)


def on_match_event(session: Session, outbox: Outbox, event: Event) -> None:
    """Record the match's new state, move the need's status when the lifecycle allows, log it."""
    d = event.data
    match_status = MATCH_STATUS[event.type]
    row = session.execute(sa.select(needs).where(needs.c.id == str(d["need_id"])).with_for_update()
                          ).mappings().first()
    if row is None:
        log.info("%s for unknown need %s ignored", event.type, d["need_id"])
        return
    need = dict(row)
    match_id = str(d["match_id"])
    current = session.execute(sa.select(need_matches).where(need_matches.c.match_id == match_id)).mappings().first()
    hours = float(d.get("hours") or 0.0) if match_status == "completed" else 0.0
    agreed = {k: _aware(d[k]) for k in ("agreed_start", "agreed_end") if d.get(k)}  # the latest known wins
    if current is None:
        session.execute(sa.insert(need_matches).values(
            match_id=match_id, need_id=need["id"], volunteer_id=str(d.get("volunteer_id") or ""),
            status=match_status, was_accepted=match_status in ("accepted", "completed"), hours=hours,
            updated_at=_now(), **agreed))
    else:
        session.execute(sa.update(need_matches).where(need_matches.c.match_id == match_id).values(
            status=match_status, hours=current["hours"] + hours, updated_at=_now(),
            was_accepted=current["was_accepted"] or match_status in ("accepted", "completed"), **agreed))
    if match_status == "completed":
        need["visits_delivered"] += 1
        need["hours_delivered"] += hours
    states = [model.MatchState(m.status, m.was_accepted) for m in session.execute(
        sa.select(need_matches.c.status, need_matches.c.was_accepted).where(need_matches.c.need_id == need["id"]))]
    wanted = model.status_from_matches(states, need["slots"])
    detail = _describe(event)
    status = need["status"]
    if wanted != status:
        if model.may_follow_matching(status, wanted):
            status = wanted
        else:
            detail += f" (status pozostaje „{model.STATUS_PL[status]}”)"
    session.execute(sa.update(needs).where(needs.c.id == need["id"]).values(
        status=status, updated_at=_now(), visits_delivered=need["visits_delivered"],
        hours_delivered=need["hours_delivered"]))
    note(session, need["id"], event.type, status, detail, actor=MATCHING)
    if status == model.COMPLETED and need["status"] != model.COMPLETED:
        need.update(status=status)
        _completed(session, outbox, need)


def handlers(outbox: Outbox, running_clock: Clock = utc_now) -> dict[str, Handler]:
    """The consumer's handlers, on the bootstrap's clock."""
    def follow(session: Session, event: Event) -> None:
        with clock.using(running_clock):
            on_match_event(session, outbox, event)

    return {name: follow for name in MATCH_STATUS if name in CONSUMES}


# --- residents (personal data lives only here) ------------------------------------------------------------
def new_resident_ref() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "M-" + "".join(secrets.choice(alphabet) for _ in range(6))


def create_resident(session: Session, data: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
    ref = data.get("ref") or new_resident_ref()
    if session.execute(sa.select(residents.c.id).where(residents.c.ref == ref)).first():
        raise Invalid({"ref": "Mieszkaniec o tym pseudonimie już istnieje."})
    now = _now()
    row = {**{k: data.get(k) for k in ("name", "address", "village", "preferred_channel", "legal_basis",
                                        "consent_date")},
           "phone": data.get("phone") or "", "email": data.get("email") or "", "notes": data.get("notes") or "",
           "id": str(uuid.uuid4()), "ref": ref, "created_at": now, "updated_at": now}
    session.execute(sa.insert(residents).values(**row))
    audit.record(session, "create", "resident", str(row["id"]), RESIDENT_PII, actor)
    return row


def read_resident(session: Session, resident_id: str, actor: str | None = None,
                  purpose: str | None = None) -> dict[str, Any]:
    """The resident's card; every call leaves an audit entry."""
    row = session.execute(sa.select(residents).where(residents.c.id == resident_id)).mappings().first()
    if row is None:
        raise NotFound(resident_id)
    audit.record(session, "read", "resident", resident_id, RESIDENT_PII, actor, purpose)
    return dict(row)


def update_resident(session: Session, resident_id: str, data: dict[str, Any], actor: str | None = None
                    ) -> dict[str, Any]:
    row = session.execute(sa.select(residents).where(residents.c.id == resident_id)).mappings().first()
    if row is None:
        raise NotFound(resident_id)
    if row["erased_at"] is not None:
        raise Refused(ALREADY_ERASED)
    values = {k: v for k, v in data.items() if k != "ref"}
    values.update(updated_at=_now())
    session.execute(sa.update(residents).where(residents.c.id == resident_id).values(**values))
    audit.record(session, "update", "resident", resident_id, sorted(k for k in data if k != "ref"), actor)
    return {**dict(row), **values}


def resident_by_ref(session: Session, ref: str) -> dict[str, Any] | None:
    row = session.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village)
                          .where(residents.c.ref == ref)).mappings().first()
    return dict(row) if row else None


# --- support packages -----------------------------------------------------------------------------------
def open_package(session: Session, outbox: Outbox, data: dict[str, Any], actor: str | None = None
                 ) -> dict[str, Any]:
    if _package(session, data["plan_ref"]) is not None:
        raise Invalid({"plan_ref": "Pakiet wsparcia o tym numerze już istnieje."})
    _check_not_erased(session, data.get("resident_ref"))
    row = {**data, "status": "open", "opened_at": _now(), "closed_at": None, "close_reason": "",
           "note": data.get("note", "")}
    session.execute(sa.insert(support_packages).values(**row))
    outbox.add(session, need_contract.TOPIC, "SupportPackageOpened", data["plan_ref"], {
        "plan_ref": data["plan_ref"], "resident_ref": data["resident_ref"], "village": data["village"],
        "start_date": data["start_date"].isoformat(), "end_date": data["end_date"].isoformat()})
    return row


def package_summary(session: Session, plan_ref: str) -> dict[str, Any]:
    package = _package(session, plan_ref)
    if package is None:
        raise NotFound(plan_ref)
    open_statuses = [s for s in model.STATUSES if s not in model.TERMINAL and s != model.EXPIRED]
    totals = session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(needs.c.visits_delivered), 0),
        sa.func.coalesce(sa.func.sum(needs.c.hours_delivered), 0.0),
        sa.func.coalesce(sa.func.sum(sa.case((needs.c.status.in_(open_statuses), 1), else_=0)), 0),
    ).where(needs.c.plan_ref == plan_ref)).one()
    return {**package, "needs_total": totals[0], "visits_delivered": int(totals[1]),
            "hours_delivered": round(float(totals[2]), 2), "needs_open": int(totals[3])}


def close_package(session: Session, outbox: Outbox, plan_ref: str, reason: str = "",
                  actor: str | None = None) -> dict[str, Any]:
    """Close a plan: occurrences not yet agreed with anyone are cancelled, then the summary is published."""
    package = _package(session, plan_ref)
    if package is None:
        raise NotFound(plan_ref)
    if package["status"] != "open":
        raise model.InvalidTransition("closed", "closed", "Ten pakiet wsparcia jest już zamknięty.")
    pending = session.execute(sa.select(needs.c.id).where(
        needs.c.plan_ref == plan_ref,
        needs.c.status.in_([model.OPEN, model.PROPOSED, model.APPROVED, model.OFFERED, model.FOLLOW_UP]),
    ).order_by(needs.c.window_start)).scalars().all()
    for need_id in pending:
        change_status(session, outbox, need_id, model.CANCELLED, f"zamknięcie planu {plan_ref}", actor)
    session.execute(sa.update(support_packages).where(support_packages.c.plan_ref == plan_ref).values(
        status="closed", closed_at=_now(), close_reason=reason[:500]))
    summary = package_summary(session, plan_ref)
    outbox.add(session, need_contract.TOPIC, "SupportPackageClosed", plan_ref, {  # the typed reason stays here
        "plan_ref": plan_ref, "reason": need_contract.PACKAGE_CLOSED_BY_STAFF, "visits_delivered": summary["visits_delivered"],
        "hours_delivered": summary["hours_delivered"]})
    return summary


def resident_by_id(session: Session, resident_id: str) -> dict[str, Any]:
    """Existence check without personal data (no audit entry needed)."""
    row = session.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village)
                          .where(residents.c.id == resident_id)).mappings().first()
    if row is None:
        raise NotFound(resident_id)
    return dict(row)


# --- erasure (RODO art. 17) -------------------------------------------------------------------------------
ALREADY_ERASED = "Dane osobowe tego mieszkańca zostały już usunięte."
ERASED_CANCEL_PL = "usunięcie danych mieszkańca (RODO)"
REDACTED = "(usunięto — RODO)"
ERASED_FIELDS = (*RESIDENT_PII, "needs.description", "needs.cancel_reason", "needs.relatives", "need_timeline.detail",
                 "support_packages.note", "support_packages.close_reason")


def open_packages_of(session: Session, resident_ref: str) -> list[str]:
    return list(session.execute(sa.select(support_packages.c.plan_ref).where(
        support_packages.c.resident_ref == resident_ref, support_packages.c.status == "open")
        .order_by(support_packages.c.plan_ref)).scalars())


def erasure_preview(session: Session, resident_id: str) -> dict[str, Any]:
    """What an erasure would do (no personal data): needs to cancel, open packages that block it."""
    resident = session.execute(sa.select(residents.c.id, residents.c.ref, residents.c.village,
                                         residents.c.legal_basis, residents.c.erased_at)
                               .where(residents.c.id == resident_id)).mappings().first()
    if resident is None:
        raise NotFound(resident_id)
    statuses = session.execute(sa.select(needs.c.status).where(needs.c.resident_ref == resident["ref"])).scalars()
    return {**dict(resident), "open_packages": open_packages_of(session, resident["ref"]),
            "to_cancel": sum(1 for s in statuses if model.can_transition(s, model.CANCELLED))}


def _redact_descriptions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("" if k == "description" else _redact_descriptions(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_descriptions(v) for v in value]
    return value


def erase_resident(session: Session, outbox: Outbox, resident_id: str, reason: str,
                   actor: str | None = None) -> dict[str, Any]:
    """RODO art. 17, in one transaction: personal data and free text blanked, the pseudonym and the
    statistics (category, village, dates, hours) kept, unfinished needs cancelled (NeedCancelled
    "resident_erased"), every service told by ResidentErased. Refused while an IPUS package is open."""
    row = session.execute(sa.select(residents).where(residents.c.id == resident_id).with_for_update()
                          ).mappings().first()
    if row is None:
        raise NotFound(resident_id)
    if row["erased_at"] is not None:
        raise Refused(ALREADY_ERASED)
    ref = row["ref"]
    blocking = open_packages_of(session, ref)
    if blocking:
        raise Refused("Nie można usunąć danych: mieszkaniec ma otwarty pakiet wsparcia (IPUS) "
                      + ", ".join(blocking) + ". Dokumentację planu trzeba przechowywać do jego zamknięcia; "
                      "najpierw zamknij pakiet.")
    actor = actor or audit.current_actor()
    at = _now()
    rows = [dict(r) for r in session.execute(sa.select(needs).where(needs.c.resident_ref == ref)
                                             .order_by(needs.c.window_start, needs.c.id).with_for_update()).mappings()]
    need_ids = [r["id"] for r in rows]
    cancelled = []
    for need in rows:
        values: dict[str, Any] = {"description": "", "cancel_reason": "", "relatives": [], "updated_at": at}
        if model.can_transition(need["status"], model.CANCELLED):
            values.update(status=model.CANCELLED, cancel_reason=ERASED_CANCEL_PL)
            cancelled.append(need["id"])
        session.execute(sa.update(needs).where(needs.c.id == need["id"]).values(**values))
    if need_ids:
        # staff-typed reasons of status changes are free text: they go; match events and sources stay
        session.execute(sa.update(timeline).where(timeline.c.need_id.in_(need_ids),
                                                  timeline.c.kind.like("status:%")).values(detail=""))
    for need in rows:
        if need["id"] in cancelled:
            note(session, need["id"], "status:cancelled", model.CANCELLED, ERASED_CANCEL_PL, actor)
            outbox.add(session, need_contract.TOPIC, "NeedCancelled", need["id"], {
                "need_id": need["id"], "reason": need_contract.CANCEL_RESIDENT_ERASED, "plan_ref": need["plan_ref"],
                "series_id": need["series_id"]})
    plan_refs = list(session.execute(sa.select(support_packages.c.plan_ref).where(
        support_packages.c.resident_ref == ref).order_by(support_packages.c.plan_ref)).scalars())
    session.execute(sa.update(support_packages).where(support_packages.c.resident_ref == ref)
                    .values(note="", close_reason=""))
    _redact_case_system_answers(session, set(need_ids))
    _redact_kept_cancel_reasons(session, need_ids)
    # concerns about the resident: their text goes (the rows, with who reported and when, stay)
    session.execute(sa.update(concerns).where(concerns.c.resident_ref == ref).values(text=REDACTED))
    # call series: what the calls were for goes; the series ends (outcomes, codes only, stay)
    session.execute(sa.update(call_series).where(call_series.c.resident_ref == ref).values(purpose="", status="ended"))
    session.execute(sa.update(concerns).where(concerns.c.resident_ref == ref,  # and the outcome staff wrote
                                              concerns.c.outcome.is_not(None)).values(outcome=REDACTED))
    if need_ids:  # notes of the resident's feedback calls go; the scores stay
        session.execute(sa.update(resident_feedback).where(resident_feedback.c.need_id.in_(need_ids))
                        .values(note=""))
    session.execute(sa.update(residents).where(residents.c.id == resident_id).values(
        name=REDACTED, address="", phone="", email="", notes="", preferred_channel="", social_worker_email="",
        notice_channel="none", notice_consent_date=None, notice_consent_by="",
        erased_at=at,
        erasure_reason=reason.strip()[:500], updated_at=at))
    audit.record(session, "erase", "resident", resident_id, [f"ref={ref}", *ERASED_FIELDS], actor)
    outbox.add(session, need_contract.TOPIC, "ResidentErased", ref, {
        "resident_ref": ref, "erased_at": at.isoformat(), "need_ids": need_ids, "plan_refs": plan_refs})
    return {"id": resident_id, "ref": ref, "village": row["village"], "erased_at": at, "cancelled_needs": cancelled}


SERVICE_CANCEL_REASONS = frozenset({"", need_contract.CANCEL_EXPIRED, need_contract.CANCEL_RESIDENT_ERASED,
                                    need_contract.CANCEL_NO_LONGER_NEEDED})


def _redact_kept_cancel_reasons(session: Session, need_ids: list[str]) -> None:
    """Kept outbox rows (for `wspolnota replay`) of NeedCancelled carry the reason staff typed: it goes."""
    if not need_ids:
        return
    for row_id, body in session.execute(sa.select(outbox.c.id, outbox.c.body).where(
            outbox.c.type == "NeedCancelled", outbox.c.key.in_(need_ids))).all():
        event = decode(body)
        if event.data.get("reason") not in SERVICE_CANCEL_REASONS:
            event.data["reason"] = ""
            session.execute(sa.update(outbox).where(outbox.c.id == row_id).values(body=encode(event)))


def _redact_case_system_answers(session: Session, need_ids: set[str]) -> None:
    """Stored answers the case system may replay (Idempotency-Key, kept 30 days) lose the descriptions."""
    if not need_ids:
        return
    for stored in session.execute(sa.select(idempotency_keys.c.client_id, idempotency_keys.c.key,
                                            idempotency_keys.c.response_body)).all():
        if not stored.response_body or not any(n in stored.response_body for n in need_ids):
            continue
        try:
            body = json.dumps(_redact_descriptions(json.loads(stored.response_body)), ensure_ascii=False)
        except ValueError:
            body = "{}"
        session.execute(sa.update(idempotency_keys).where(idempotency_keys.c.client_id == stored.client_id,
                                                          idempotency_keys.c.key == stored.key)
                        .values(response_body=body))
