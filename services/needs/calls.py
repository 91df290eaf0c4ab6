"""Well-being call series ("telefon życzliwości"): regular calls to a resident, taken by a matched volunteer.

- **Set-up** (`set_up`): a social worker or the organiser chooses the days and hours, a first and a last day (at
  most `MAX_SPAN_DAYS`), a review date inside that period and what the calls are for. It is a recurring need of the
  remote category `TEL` inside the resident's support package (handlers.register_series): one need per call,
  sharing the series id, so matching applies its gates and the series commitment ("accept the series once") as to
  any weekly series, and ignores distance (docs/matching.md). `call_series` keeps the rest.
- **Outcome** (`record_outcome`): after a call the volunteer records `all_well`, `needs_something` (with a category:
  a new need for the resident, registered on behalf of the series' owner), `worrying` (an urgent concern to the
  social worker through concerns.py; its text stays there) or `no_answer`. One outcome per call (match): the same
  outcome again is a no-op answered like the first, another one is refused. `CallOutcomeRecorded` carries codes.
- **Escalation** (`plan_escalations`, pure): the outcomes of a series in the order of the calls; every run of two
  or more `no_answer` in a row is one escalation (`call_escalations`, `CallSeriesEscalated`, notify e-mails the
  social worker once). An outcome arriving late joins a run already escalated without a second escalation; an
  escalation once made stays until staff mark it resolved.
- **Review** (`review`, `extend`, `end`): a new review date, a later last day (more calls, same pattern), or the
  series ended (future calls cancelled). The dashboard lists open escalations and series past their review date.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import needs as need_contract
from services.needs import audit, clock, concerns, handlers, model, schemas
from services.needs.db import (
    call_escalations,
    call_outcomes,
    call_series,
    need_matches,
    needs,
    residents,
    support_packages,
)
from services.needs.db import series as need_series
from services.needs.handlers import Invalid, NotFound, Refused
from wspolnota import reference
from wspolnota.localtime import WARSAW
from wspolnota.transport.outbox import Outbox

CATEGORY = "TEL"
ALL_WELL, NEEDS_SOMETHING, WORRYING, NO_ANSWER = need_contract.CALL_OUTCOMES
OUTCOMES = need_contract.CALL_OUTCOMES
OUTCOME_PL = {ALL_WELL: "wszystko dobrze", NEEDS_SOMETHING: "czegoś potrzebuje", WORRYING: "niepokojąca",
              NO_ANSWER: "nie odebrano"}
ACTIVE, ENDED = "active", "ended"
STATUS_PL = {ACTIVE: "trwa", ENDED: "zakończony"}
MAX_SPAN_DAYS = 183  # about six months; then staff review and set up (or extend) again
DEFAULT_MINUTES = 20
MINUTES_MIN, MINUTES_MAX = 5, 240  # as a visit confirmed in the volunteer's space (5 min at least)
NO_ANSWER_MINUTES = 5  # an unanswered call counts as an attempt of this length unless the volunteer says
MAX_TEXT = 2000
NEED_DAYS = 7  # a need found on a call: within the next week, from tomorrow 8:00 to 18:00 on the seventh day

NOT_YOUR_CALL = "To nie jest Twoja rozmowa albo nie została przyjęta."
NOT_A_CALL = "Ta wizyta nie należy do cyklu telefonów życzliwości."
NOT_YET = "Wynik rozmowy można zapisać od jej terminu."
OTHER_OUTCOME = "Wynik tej rozmowy został już zapisany inaczej. Jeśli trzeba go poprawić, zadzwoń do organizatora."
TEXT_NEEDED = {NEEDS_SOMETHING: "Napisz, czego mieszkaniec potrzebuje.", WORRYING: "Napisz, co Cię zaniepokoiło."}
CATEGORY_NEEDED = "Wybierz, w czym trzeba pomóc."
MINUTES_BAD = f"Podaj czas rozmowy w minutach: od {MINUTES_MIN} do {MINUTES_MAX}."


@dataclass(frozen=True)
class Recorded:
    outcome: dict[str, Any]
    created: bool  # False: the same outcome again (a retry); nothing new was stored or published


# --- the escalation rule (pure) ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    key: str  # the match id
    outcome: str
    escalation: str | None = None  # the escalation this unanswered call already belongs to


@dataclass(frozen=True)
class Run:
    """A run of two or more unanswered calls in a row: `escalation` is the one it already belongs to (its other
    calls join it) or None (a new escalation)."""

    keys: tuple[str, ...]
    escalation: str | None


def plan_escalations(calls: Sequence[Call]) -> list[Run]:
    """Runs of `no_answer` (length ≥ 2) among the calls in the order they were planned that still need something:
    a new escalation, or calls to add to the one the run already has. An `all_well` (any answered call) in between
    breaks a run. Runs with every call already escalated are left out."""
    found: list[Run] = []
    run: list[Call] = []

    def close() -> None:
        if len(run) >= 2:
            known = next((c.escalation for c in run if c.escalation), None)
            if known is None or any(c.escalation is None for c in run):
                found.append(Run(tuple(c.key for c in run if c.escalation is None), known))
        run.clear()

    for call in calls:
        if call.outcome == NO_ANSWER:
            run.append(call)
        else:
            close()
    close()
    return found


# --- checks ----------------------------------------------------------------------------------------------------
def check_outcome(outcome: Any, minutes: Any, category: Any, text: Any) -> tuple[str, int, str | None, str]:
    """The volunteer's answer as stored: (outcome, minutes, category, text), or Invalid with Polish field errors."""
    problems: dict[str, str] = {}
    if outcome not in OUTCOMES:
        raise Invalid({"outcome": "Wybierz, jak poszła rozmowa."})
    given = str(text or "").strip()
    if outcome in TEXT_NEEDED and not given:
        problems["text"] = TEXT_NEEDED[outcome]
    elif len(given) > MAX_TEXT:
        problems["text"] = f"Opis może mieć najwyżej {MAX_TEXT} znaków."
    chosen = None
    if outcome == NEEDS_SOMETHING:
        if not category or category not in reference.categories() or category in reference.remote_categories():
            problems["category"] = CATEGORY_NEEDED
        else:
            chosen = str(category)
    if minutes in (None, ""):
        if outcome != NO_ANSWER:
            problems["minutes"] = MINUTES_BAD
        length = NO_ANSWER_MINUTES
    else:
        try:
            length = int(str(minutes).strip())
        except ValueError:
            length = -1
        if not MINUTES_MIN <= length <= MINUTES_MAX:
            problems["minutes"] = MINUTES_BAD
    if problems:
        raise Invalid(problems)
    return str(outcome), length, chosen, given if outcome in TEXT_NEEDED else ""


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, WARSAW).astimezone(UTC)


# --- set-up -----------------------------------------------------------------------------------------------------
def set_up(session: Session, outbox: Outbox, *, resident_ref: str, plan_ref: str, weekdays: Sequence[int],
           time_from: time, time_to: time, starts_on: date, until: date, review_on: date | None, purpose: str,
           duration_minutes: int = DEFAULT_MINUTES, actor: str | None = None,
           submission_key: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """A call series: a TEL weekly series in the resident's package plus its `call_series` row. Invalid (Polish
    field errors named as the form's fields) when anything is wrong; nothing is written then."""
    problems: dict[str, str] = {}
    purpose = str(purpose or "").strip()
    if not purpose:
        problems["purpose"] = "Napisz, czemu mają służyć rozmowy."
    elif len(purpose) > MAX_TEXT:
        problems["purpose"] = f"Opis może mieć najwyżej {MAX_TEXT} znaków."
    if until >= starts_on and (until - starts_on).days > MAX_SPAN_DAYS:
        problems["until"] = "Cykl rozmów trwa najwyżej pół roku; potem go przejrzyj i przedłuż."
    if review_on is None:
        problems["review_on"] = "Podaj datę przeglądu cyklu."
    elif not starts_on <= review_on <= until:
        problems["review_on"] = "Data przeglądu musi wypaść między pierwszym a ostatnim dniem cyklu."
    resident = session.execute(sa.select(residents.c.ref, residents.c.village, residents.c.erased_at).where(
        residents.c.ref == resident_ref)).mappings().first()
    package = session.execute(sa.select(support_packages).where(
        support_packages.c.plan_ref == plan_ref)).mappings().first()
    if package is None:
        problems["plan_ref"] = "Nie ma pakietu wsparcia (IPUS) o takim numerze."
    elif package["resident_ref"] != resident_ref:
        problems["plan_ref"] = "Ten pakiet wsparcia należy do innego mieszkańca."
    village = resident["village"] if resident else (package["village"] if package else "")
    if problems:
        raise Invalid(problems)
    actor = actor or audit.current_actor()
    body = {"resident_ref": resident_ref, "category": CATEGORY, "village": village, "description": purpose,
            "duration_minutes": duration_minutes, "slots": 1, "moderation": "review", "source": "staff_form",
            "continuity": True, "plan_ref": plan_ref,
            "recurrence": {"weekdays": list(weekdays), "time_from": time_from.strftime("%H:%M"),
                           "time_to": time_to.strftime("%H:%M"), "starts_on": starts_on.isoformat(),
                           "until": until.isoformat()}}
    errors = schemas.RecurringNeedCreate().validate(body)
    if errors:
        raise Invalid({_field(k): (v[0] if isinstance(v, list) else str(v)) for k, v in _flat(errors).items()})
    try:
        series_id, rows = handlers.register_series(session, outbox, schemas.RecurringNeedCreate().load(body),
                                                   submission_key, actor=actor, may_moderate=True)
    except Invalid as err:
        raise Invalid({_field(k): v for k, v in _flat(err.errors).items()}) from err
    session.execute(sa.insert(call_series).values(
        id=series_id, resident_ref=resident_ref, plan_ref=plan_ref, purpose=purpose, owner=actor[:200],
        review_on=review_on, status=ACTIVE, created_at=clock.now(), ended_at=None, ended_by=None))
    audit.record(session, "create", "call_series", series_id, ["purpose"], actor)
    return series_id, rows


def _flat(errors: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (errors or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        else:
            out[name] = value[0] if isinstance(value, list) and value else value
    return out


def _field(name: str) -> str:
    """A register_series error's field as the set-up form names it."""
    return name.removeprefix("recurrence.").replace("description", "purpose")


# --- outcomes ---------------------------------------------------------------------------------------------------
def call_of(session: Session, match_id: str, volunteer_id: str) -> dict[str, Any]:
    """The call (need) of an accepted match of this volunteer in a call series, or Refused."""
    row = session.execute(
        sa.select(need_matches.c.volunteer_id, need_matches.c.was_accepted, need_matches.c.status,
                  needs.c.id.label("need_id"),
                  needs.c.series_id, needs.c.resident_ref, needs.c.village, needs.c.window_start)
        .join(needs, needs.c.id == need_matches.c.need_id).where(need_matches.c.match_id == match_id)
    ).mappings().first()
    if (row is None or row["volunteer_id"] != volunteer_id or not row["was_accepted"]
            or row["status"] not in ("accepted", "completed")):  # a call called off is not recorded
        raise Refused(NOT_YOUR_CALL)
    series = session.execute(sa.select(call_series).where(call_series.c.id == row["series_id"])).mappings().first() \
        if row["series_id"] else None
    if series is None:
        raise Refused(NOT_A_CALL)
    return {**dict(row), "series": dict(series)}


def record_outcome(session: Session, outbox: Outbox, *, match_id: str, volunteer_id: str, outcome: Any,
                   minutes: Any = None, category: Any = None, text: Any = None) -> Recorded:
    """Store the outcome of one call and everything it sets off, in one transaction; the same again is a no-op."""
    code, length, chosen, body = check_outcome(outcome, minutes, category, text)
    call = call_of(session, match_id, volunteer_id)
    before = session.execute(sa.select(call_outcomes).where(call_outcomes.c.match_id == match_id)
                             ).mappings().first()
    if before is not None:
        if before["outcome"] == code and before["category"] == chosen:
            return Recorded(dict(before), False)
        raise Refused(OTHER_OUTCOME)
    now = clock.now()
    if call["window_start"] > now:
        raise Refused(NOT_YET)
    series = call["series"]
    row: dict[str, Any] = {
        "match_id": match_id, "series_id": series["id"], "need_id": call["need_id"], "volunteer_id": volunteer_id,
        "outcome": code, "minutes": length, "category": chosen, "call_at": call["window_start"],
        "recorded_at": now, "created_need_id": None, "concern_id": None, "escalation_id": None}
    try:
        with session.begin_nested():
            session.execute(sa.insert(call_outcomes).values(**row))
    except IntegrityError:  # the same call recorded by a concurrent retry in between
        return record_outcome(session, outbox, match_id=match_id, volunteer_id=volunteer_id, outcome=outcome,
                              minutes=minutes, category=category, text=text)
    actor = concerns.VOLUNTEER_ACTOR + volunteer_id
    if code == NEEDS_SOMETHING:
        row["created_need_id"] = _need_found(session, outbox, call, str(chosen), body)
    elif code == WORRYING:
        done = concerns.report(session, outbox, concern_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"call:{match_id}")),
                               text=body, reported_by=actor, channel="volunteer_space", urgent=True,
                               match_id=match_id, volunteer_id=volunteer_id)
        row["concern_id"] = done.concern["id"]
    session.execute(sa.update(call_outcomes).where(call_outcomes.c.match_id == match_id).values(
        created_need_id=row["created_need_id"], concern_id=row["concern_id"]))
    current = handlers.get_need(session, call["need_id"])
    handlers.note(session, call["need_id"], "call_outcome", current["status"],
                  f"wynik rozmowy: {OUTCOME_PL[code]} ({length} min)", actor)
    outbox.add(session, need_contract.TOPIC, "CallOutcomeRecorded", series["resident_ref"], {
        "match_id": match_id, "series_id": series["id"], "need_id": call["need_id"], "volunteer_id": volunteer_id,
        "outcome": code, "minutes": length, "category": chosen})
    escalate(session, outbox, series["id"])
    return Recorded(row, True)


def _need_found(session: Session, outbox: Outbox, call: dict[str, Any], category: str, text: str) -> str:
    """A one-off need for the resident, registered as if by the series' owner (its requester), within a week."""
    series = call["series"]
    tomorrow = clock.today() + timedelta(days=1)
    data = schemas.NeedCreate().load({
        "resident_ref": series["resident_ref"], "category": category, "village": call["village"],
        "description": text, "window_start": _local(tomorrow, time(8)).isoformat(),
        "window_end": _local(tomorrow + timedelta(days=NEED_DAYS - 1), time(18)).isoformat(),
        "duration_minutes": 60, "slots": 1, "moderation": "review", "source": "phone"})
    need = handlers.register_need(session, outbox, data, actor=series["owner"], may_moderate=True)
    handlers.note(session, need["id"], "call_need", need["status"], "zgłoszone podczas telefonu życzliwości",
                  series["owner"])
    return str(need["id"])


def escalate(session: Session, outbox: Outbox, series_id: str) -> list[str]:
    """Apply the escalation rule to the series' outcomes; the ids of new escalations (each published once)."""
    rows = session.execute(sa.select(call_outcomes.c.match_id, call_outcomes.c.outcome, call_outcomes.c.escalation_id)
                           .where(call_outcomes.c.series_id == series_id)
                           .order_by(call_outcomes.c.call_at, call_outcomes.c.match_id)).all()
    new = []
    for run in plan_escalations([Call(r[0], r[1], r[2]) for r in rows]):
        escalation = run.escalation
        if escalation is None:
            escalation = str(uuid.uuid4())
            session.execute(sa.insert(call_escalations).values(id=escalation, series_id=series_id,
                                                               created_at=clock.now()))
            outbox.add(session, need_contract.TOPIC, "CallSeriesEscalated", series_id,
                       {"escalation_id": escalation, "series_id": series_id})
            new.append(escalation)
        session.execute(sa.update(call_outcomes).where(call_outcomes.c.match_id.in_(run.keys))  # type: ignore
                        .values(escalation_id=escalation))
    return new


def resolve(session: Session, escalation_id: str, actor: str) -> bool:
    """Staff found out why nobody answered; False when someone already had."""
    done = session.execute(sa.update(call_escalations).where(
        call_escalations.c.id == escalation_id, call_escalations.c.resolved_at.is_(None))
        .values(resolved_at=clock.now(), resolved_by=actor[:200])).rowcount  # type: ignore[attr-defined]
    if not done and session.execute(sa.select(call_escalations.c.id).where(
            call_escalations.c.id == escalation_id)).first() is None:
        raise NotFound(escalation_id)
    return bool(done)


# --- review, extend, end ----------------------------------------------------------------------------------------
def get_series(session: Session, series_id: str) -> dict[str, Any]:
    row = session.execute(sa.select(call_series, need_series.c.weekdays, need_series.c.time_from,
                                    need_series.c.time_to, need_series.c.starts_on, need_series.c.until)
                          .join(need_series, need_series.c.id == call_series.c.id)
                          .where(call_series.c.id == series_id)).mappings().first()
    if row is None:
        raise NotFound(series_id)
    return dict(row)


def review(session: Session, series_id: str, review_on: date | None, actor: str) -> None:
    """The series was reviewed: the next review date (inside the series' period)."""
    series = get_series(session, series_id)
    if series["status"] != ACTIVE:
        raise Refused("Cykl rozmów jest już zakończony.")
    if review_on is None or not clock.today() <= review_on <= series["until"]:
        raise Invalid({"review_on": "Następny przegląd musi wypaść od dziś do ostatniego dnia cyklu "
                                    f"({series['until']:%d.%m.%Y})."})
    session.execute(sa.update(call_series).where(call_series.c.id == series_id).values(review_on=review_on))
    audit.record(session, "update", "call_series", series_id, ["review_on"], actor)


def extend(session: Session, outbox: Outbox, series_id: str, until: date | None, review_on: date | None,
           actor: str) -> list[dict[str, Any]]:
    """More calls on the same days and hours up to `until` (at most half a year from today), a new review date."""
    series = get_series(session, series_id)
    if series["status"] != ACTIVE:
        raise Refused("Cykl rozmów jest już zakończony.")
    today = clock.today()
    if until is None or until <= series["until"]:
        raise Invalid({"until": f"Nowy ostatni dzień musi być po obecnym ({series['until']:%d.%m.%Y})."})
    if (until - today).days > MAX_SPAN_DAYS:
        raise Invalid({"until": "Cykl rozmów można przedłużyć najwyżej o pół roku od dziś."})
    if review_on is None or not today <= review_on <= until:
        raise Invalid({"review_on": "Data przeglądu musi wypaść od dziś do nowego ostatniego dnia."})
    package = session.execute(sa.select(support_packages).where(
        support_packages.c.plan_ref == series["plan_ref"])).mappings().first()
    if package is None or package["status"] != "open":
        raise Refused("Pakiet wsparcia tego cyklu jest zamknięty; otwórz nowy i ustaw nowy cykl.")
    pattern = model.WeeklyPattern(tuple(int(d) for d in series["weekdays"].split(",") if d),
                                  time.fromisoformat(series["time_from"]), time.fromisoformat(series["time_to"]),
                                  max(series["until"] + timedelta(days=1), today), until)
    latest = session.execute(sa.select(needs).where(needs.c.series_id == series_id)
                             .order_by(needs.c.window_start.desc()).limit(1)).mappings().first()
    assert latest is not None
    try:
        windows = model.expand(pattern, latest["duration_minutes"], package["end_date"], today)
    except model.WindowError as err:
        raise Invalid({"until": err.message}) from err
    data = {**dict(latest), "skills": latest["skills"] or [], "relatives": latest["relatives"] or [],
            "requirements": handlers._codes(latest["explicit_requirements"]),
            "waived_requirements": handlers._codes(latest["waived_requirements"])}
    rows = [handlers._insert_need(session, outbox, data, start, end, series_id, actor) for start, end in windows]
    session.execute(sa.update(need_series).where(need_series.c.id == series_id).values(until=until))
    session.execute(sa.update(call_series).where(call_series.c.id == series_id).values(review_on=review_on))
    audit.record(session, "update", "call_series", series_id, ["until", "review_on"], actor)
    return rows


def end(session: Session, outbox: Outbox, series_id: str, actor: str) -> int:
    """The series ends today: every call not yet due and not done is cancelled (NeedCancelled each)."""
    series = get_series(session, series_id)
    if series["status"] != ACTIVE:
        raise Refused("Cykl rozmów jest już zakończony.")
    now = clock.now()
    ids = session.execute(sa.select(needs.c.id).where(
        needs.c.series_id == series_id, needs.c.window_start > now,
        needs.c.status.notin_(tuple(model.TERMINAL)))).scalars().all()
    for need_id in ids:
        handlers.cancel_need(session, outbox, need_id, "koniec cyklu rozmów", actor=actor)
    session.execute(sa.update(call_series).where(call_series.c.id == series_id).values(
        status=ENDED, ended_at=now, ended_by=actor[:200]))
    audit.record(session, "update", "call_series", series_id, ["status"], actor)
    return len(ids)


# --- reading ----------------------------------------------------------------------------------------------------
def summary(session: Session, series_id: str, purpose_read_by: str | None = None) -> dict[str, Any]:
    """The series page: its terms (the purpose is an audited read), outcomes with counts, escalations."""
    series = get_series(session, series_id)
    audit.record(session, "read", "call_series", series_id, ["purpose"], purpose_read_by)
    outcomes = [dict(r) for r in session.execute(sa.select(call_outcomes).where(
        call_outcomes.c.series_id == series_id).order_by(call_outcomes.c.call_at.desc())).mappings()]
    counts = Counter(r["outcome"] for r in outcomes)
    escalations = [dict(r) for r in session.execute(sa.select(call_escalations).where(
        call_escalations.c.series_id == series_id).order_by(call_escalations.c.created_at.desc())).mappings()]
    calls = session.execute(sa.select(needs.c.status, sa.func.count()).where(needs.c.series_id == series_id)
                            .group_by(needs.c.status)).all()
    return {"series": series, "outcomes": outcomes, "counts": {code: counts.get(code, 0) for code in OUTCOMES},
            "escalations": escalations, "calls": {status: n for status, n in calls},
            "past_review": series["status"] == ACTIVE and series["review_on"] < clock.today()}


def listed(session: Session) -> list[dict[str, Any]]:
    """Every series without its purpose: for the list page."""
    open_escalations = (sa.select(sa.func.count()).where(call_escalations.c.series_id == call_series.c.id,
                                                         call_escalations.c.resolved_at.is_(None))
                        .scalar_subquery())
    rows = session.execute(sa.select(call_series.c.id, call_series.c.resident_ref, call_series.c.plan_ref,
                                     call_series.c.review_on, call_series.c.status, need_series.c.starts_on,
                                     need_series.c.until, open_escalations.label("open_escalations"))
                           .join(need_series, need_series.c.id == call_series.c.id)
                           .order_by(call_series.c.status, need_series.c.until)).mappings()
    return [dict(r) for r in rows]


def attention(session: Session) -> list[dict[str, Any]]:
    """The dashboard's "do wyjaśnienia": open escalations (oldest first), then series past their review date that
    still run (not ended, last day not passed, package open)."""
    out: list[dict[str, Any]] = []
    for r in session.execute(sa.select(call_escalations.c.id, call_escalations.c.series_id,
                                       call_escalations.c.created_at, call_series.c.resident_ref)
                             .join(call_series, call_series.c.id == call_escalations.c.series_id)
                             .where(call_escalations.c.resolved_at.is_(None))
                             .order_by(call_escalations.c.created_at)).mappings():
        out.append({"kind": "escalation", "series_id": r["series_id"], "escalation_id": r["id"],
                    "resident_ref": r["resident_ref"], "since": r["created_at"].isoformat()})
    today = clock.today()
    for r in session.execute(sa.select(call_series.c.id, call_series.c.resident_ref, call_series.c.review_on)
                             .join(need_series, need_series.c.id == call_series.c.id)
                             .join(support_packages, support_packages.c.plan_ref == call_series.c.plan_ref)
                             .where(call_series.c.status == ACTIVE, call_series.c.review_on < today,
                                    need_series.c.until >= today, support_packages.c.status == "open")
                             .order_by(call_series.c.review_on)).mappings():
        out.append({"kind": "review", "series_id": r["id"], "escalation_id": None,
                    "resident_ref": r["resident_ref"], "since": r["review_on"].isoformat()})
    return out


def recipient(session: Session, series_id: str) -> str:
    """The e-mail address of the resident's social worker, or "" (notify then tells the organiser)."""
    row = session.execute(sa.select(call_series.c.resident_ref).where(call_series.c.id == series_id)).first()
    if row is None:
        raise NotFound(series_id)
    email = session.execute(sa.select(residents.c.social_worker_email).where(
        residents.c.ref == row[0], residents.c.erased_at.is_(None))).scalar()
    return str(email or "")
