"""Use cases of the survey (questionnaire) part of the diagnosis: build, publish, answer, close, read results.

Answers are anonymous: a response keeps its village, channel and answers. Contact details for follow-up are
stored apart (`survey_contacts`), only with the consent, and can be erased. Closing publishes SurveyClosed with
counts only, in the same transaction.
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import community as contract
from services.community import model
from services.community.db import (
    audit_log,
    public_rate_windows,
    survey_answers,
    survey_contacts,
    survey_questions,
    survey_responses,
    survey_tokens,
    surveys,
)
from wspolnota import ratelimit
from wspolnota.db import Database
from wspolnota.errors import Invalid, NotFound, Refused
from wspolnota.service import Clock, utc_now
from wspolnota.transport.outbox import Outbox

CONSENT_TEXT = ("Zgadzam się, aby Centrum Usług Społecznych w Zagnańsku skontaktowało się ze mną w sprawie tej "
                "ankiety. Dane kontaktowe są przechowywane tylko w tym celu i można je usunąć w każdej chwili.")
ERASED = "(usunięto)"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- building ------------------------------------------------------------------------------------------------
def create_survey(session: Session, data: dict[str, Any], *, clock: Clock = utc_now) -> dict[str, Any]:
    errors = model.survey_errors(data)
    if errors:
        raise Invalid(errors)
    now = clock()
    row = {"id": str(uuid.uuid4()), "title": data["title"].strip(), "intro": (data.get("intro") or "").strip(),
           "status": model.DRAFT, "villages": sorted(set(data.get("villages") or [])),
           "one_answer_per_token": bool(data.get("one_answer_per_token")),
           "public_key": secrets.token_urlsafe(12), "created_at": now, "updated_at": now}
    session.execute(sa.insert(surveys).values(**row))
    return get_survey(session, row["id"])


def update_survey(session: Session, survey_id: str, data: dict[str, Any], *, clock: Clock = utc_now
                  ) -> dict[str, Any]:
    survey = get_survey(session, survey_id)
    _editable(survey)
    merged = {**survey, **{k: v for k, v in data.items() if k in ("title", "intro", "villages",
                                                                   "one_answer_per_token")}}
    errors = model.survey_errors(merged)
    if errors:
        raise Invalid(errors)
    session.execute(sa.update(surveys).where(surveys.c.id == survey_id).values(
        title=merged["title"].strip(), intro=(merged.get("intro") or "").strip(),
        villages=sorted(set(merged.get("villages") or [])),
        one_answer_per_token=bool(merged.get("one_answer_per_token")), updated_at=clock()))
    return get_survey(session, survey_id)


def add_question(session: Session, survey_id: str, data: dict[str, Any], *, clock: Clock = utc_now
                 ) -> dict[str, Any]:
    survey = get_survey(session, survey_id)
    _editable(survey)
    errors = model.question_errors(data)
    if errors:
        raise Invalid(errors)
    position = len(survey["questions"]) + 1
    row = {"id": str(uuid.uuid4()), "survey_id": survey_id, "position": position, **model.normalise_question(data)}
    session.execute(sa.insert(survey_questions).values(**row))
    session.execute(sa.update(surveys).where(surveys.c.id == survey_id).values(updated_at=clock()))
    return row


def remove_question(session: Session, survey_id: str, question_id: str) -> None:
    survey = get_survey(session, survey_id)
    _editable(survey)
    if question_id not in {q["id"] for q in survey["questions"]}:
        raise NotFound("Nie ma takiego pytania.")
    session.execute(sa.delete(survey_questions).where(survey_questions.c.id == question_id))
    for position, q in enumerate((q for q in survey["questions"] if q["id"] != question_id), start=1):
        session.execute(sa.update(survey_questions).where(survey_questions.c.id == q["id"]).values(position=position))


def _editable(survey: dict[str, Any]) -> None:
    if survey["status"] != model.DRAFT:
        raise Refused("Opublikowanej ankiety nie można już zmieniać — odpowiedzi muszą dotyczyć tych samych pytań.")


def publish(session: Session, survey_id: str, *, clock: Clock = utc_now) -> dict[str, Any]:
    survey = get_survey(session, survey_id)
    try:
        status = model.survey_transition(survey["status"], model.PUBLISHED)
    except model.InvalidTransition as err:
        raise Refused(err.message) from err
    if not survey["questions"]:
        raise Refused("Dodaj co najmniej jedno pytanie, zanim opublikujesz ankietę.")
    now = clock()
    session.execute(sa.update(surveys).where(surveys.c.id == survey_id)
                    .values(status=status, published_at=now, updated_at=now))
    return get_survey(session, survey_id)


def close(session: Session, outbox: Outbox, survey_id: str, *, clock: Clock = utc_now) -> dict[str, Any]:
    """Close the survey (no more answers) and publish SurveyClosed with its counts."""
    survey = get_survey(session, survey_id)
    try:
        status = model.survey_transition(survey["status"], model.CLOSED)
    except model.InvalidTransition as err:
        raise Refused(err.message) from err
    now = clock()
    session.execute(sa.update(surveys).where(surveys.c.id == survey_id)
                    .values(status=status, closed_at=now, updated_at=now))
    counts = response_counts(session, survey_id)
    outbox.add(session, contract.TOPIC, "SurveyClosed", survey_id, {
        "survey_id": survey_id, "closed_at": now.isoformat(), "questions": len(survey["questions"]),
        "responses": counts["total"], "online": counts[model.ONLINE], "paper": counts[model.PAPER],
        "by_village": [{"village": v, "responses": n} for v, n in sorted(counts["by_village"].items())]})
    return get_survey(session, survey_id)


def issue_tokens(session: Session, survey_id: str, count: int, *, clock: Clock = utc_now) -> list[str]:
    """`count` one-answer tokens; only their hashes are kept, so the list is shown once."""
    survey = get_survey(session, survey_id)
    if survey["status"] == model.CLOSED:
        raise Refused("Ankieta jest zamknięta — nie można jej zmienić.")
    if not survey["one_answer_per_token"]:
        raise Refused("Ta ankieta nie wymaga jednorazowych kodów.")
    if not 1 <= count <= 500:
        raise Invalid({"count": "Podaj liczbę od 1 do 500."})
    tokens = [secrets.token_urlsafe(9) for _ in range(count)]
    now = clock()
    session.execute(sa.insert(survey_tokens), [{"token_hash": token_hash(t), "survey_id": survey_id,
                                                "created_at": now} for t in tokens])
    return tokens


# --- answering -----------------------------------------------------------------------------------------------
def submit_response(session: Session, survey_id: str, village: str | None, answers: dict[str, Any], *,
                    channel: str, token: str | None = None, contact: dict[str, Any] | None = None,
                    entered_by: str = "", submission_key: str | None = None, clock: Clock = utc_now
                    ) -> dict[str, Any]:
    """Store one response: every answer checked, the token spent (where the survey asks for one), contact
    details only with consent. Everything or nothing."""
    survey = get_survey(session, survey_id)
    if survey["status"] != model.PUBLISHED:
        raise Refused("Ta ankieta nie przyjmuje już odpowiedzi." if survey["status"] == model.CLOSED
                      else "Ta ankieta nie została jeszcze opublikowana.")
    errors, stored = model.response_errors(survey["questions"], answers, village, survey["villages"])
    errors.update(model.contact_errors(contact or {}))
    if errors:
        raise Invalid(errors)
    now = clock()
    if survey["one_answer_per_token"] and channel == model.ONLINE:
        spent = session.execute(sa.update(survey_tokens).where(
            survey_tokens.c.token_hash == token_hash(token or ""), survey_tokens.c.survey_id == survey_id,
            survey_tokens.c.used_at.is_(None)).values(used_at=now))
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise Refused("Ten kod ankiety jest nieważny albo został już wykorzystany.")
    response_id = str(uuid.uuid4())
    session.execute(sa.insert(survey_responses).values(
        id=response_id, survey_id=survey_id, village=village, channel=channel, entered_by=entered_by,
        submission_key=(submission_key or None) and submission_key[:64], created_at=now))
    if stored:
        session.execute(sa.insert(survey_answers), [
            {"response_id": response_id, "question_id": qid, "choices": a.get("choices"),
             "number": a.get("number"), "text": a.get("text")} for qid, a in stored.items()])
    contact = contact or {}
    if any((contact.get(k) or "").strip() for k in ("name", "phone", "email")):
        session.execute(sa.insert(survey_contacts).values(
            id=str(uuid.uuid4()), survey_id=survey_id, response_id=response_id,
            name=(contact.get("name") or "").strip(), phone=(contact.get("phone") or "").strip(),
            email=(contact.get("email") or "").strip(), consent_text=CONSENT_TEXT, consent_at=now))
    return {"id": response_id, "survey_id": survey_id, "village": village, "channel": channel}


def submitted_before(session: Session, submission_key: str | None) -> bool:
    if not submission_key:
        return False
    return session.execute(sa.select(survey_responses.c.id)
                           .where(survey_responses.c.submission_key == submission_key[:64])).first() is not None


def allow_public_request(db: Database, client: str, limit: int, window_s: int, now: datetime) -> bool:
    """False once the client (hashed address and page) has used `limit` requests in the current window
    (wspolnota/ratelimit.py: shared by every worker; a refused answer still counts)."""
    key = hashlib.sha256(client.encode("utf-8")).hexdigest()
    count = ratelimit.count_request(db, public_rate_windows, key, window_s, now.timestamp())
    return count is not None and count <= limit


# --- reading -------------------------------------------------------------------------------------------------
def get_survey(session: Session | sa.Connection, survey_id: str) -> dict[str, Any]:
    row = session.execute(sa.select(surveys).where(surveys.c.id == survey_id)).mappings().first()
    if row is None:
        raise NotFound("Nie ma takiej ankiety.")
    return _with_questions(session, dict(row))


def survey_by_key(session: Session | sa.Connection, public_key: str) -> dict[str, Any]:
    row = session.execute(sa.select(surveys).where(surveys.c.public_key == public_key)).mappings().first()
    if row is None:
        raise NotFound("Nie ma takiej ankiety.")
    return _with_questions(session, dict(row))


def _with_questions(session: Session | sa.Connection, survey: dict[str, Any]) -> dict[str, Any]:
    survey["questions"] = [dict(q) for q in session.execute(
        sa.select(survey_questions).where(survey_questions.c.survey_id == survey["id"])
        .order_by(survey_questions.c.position)).mappings()]
    survey["villages"] = list(survey["villages"] or [])
    return survey


def list_surveys(conn: Session | sa.Connection) -> list[dict[str, Any]]:
    counts: dict[str, int] = dict(conn.execute(sa.select(survey_responses.c.survey_id, sa.func.count())
                               .group_by(survey_responses.c.survey_id)).all())
    return [{**dict(r), "responses": counts.get(r["id"], 0)}
            for r in conn.execute(sa.select(surveys).order_by(surveys.c.created_at.desc())).mappings()]


def response_counts(session: Session | sa.Connection, survey_id: str) -> dict[str, Any]:
    rows = session.execute(sa.select(survey_responses.c.village, survey_responses.c.channel, sa.func.count())
                           .where(survey_responses.c.survey_id == survey_id)
                           .group_by(survey_responses.c.village, survey_responses.c.channel)).all()
    by_village: dict[str, int] = {}
    out: dict[str, Any] = {"total": 0, model.ONLINE: 0, model.PAPER: 0}
    for village, channel, n in rows:
        by_village[village] = by_village.get(village, 0) + n
        out[channel] = out.get(channel, 0) + n
        out["total"] += n
    out["by_village"] = by_village
    return out


def responses_of(session: Session | sa.Connection, survey_id: str, village: str | None = None
                 ) -> list[dict[str, Any]]:
    """Every response with its answers ({id, village, channel, created_at, answers: {question id: answer}})."""
    query = sa.select(survey_responses).where(survey_responses.c.survey_id == survey_id)
    if village:
        query = query.where(survey_responses.c.village == village)
    responses = {r["id"]: {**dict(r), "answers": {}} for r in session.execute(
        query.order_by(survey_responses.c.created_at, survey_responses.c.id)).mappings()}
    if responses:
        for a in session.execute(sa.select(survey_answers).join(
                survey_responses, survey_responses.c.id == survey_answers.c.response_id)
                .where(survey_responses.c.survey_id == survey_id)).mappings():
            if a["response_id"] in responses:
                responses[a["response_id"]]["answers"][a["question_id"]] = {
                    "choices": a["choices"], "number": a["number"], "text": a["text"]}
    return list(responses.values())


def results(session: Session | sa.Connection, survey_id: str, village: str | None = None) -> dict[str, Any]:
    survey = get_survey(session, survey_id)
    return {"survey": survey, **model.tally(survey["questions"], responses_of(session, survey_id, village))}


# --- contact details for follow-up ---------------------------------------------------------------------------
def contacts(session: Session, survey_id: str, actor: str, clock: Clock = utc_now) -> list[dict[str, Any]]:
    """The contact details respondents left, with consent; the read is audited."""
    rows = [dict(r) for r in session.execute(
        sa.select(survey_contacts, survey_responses.c.village)
        .join(survey_responses, survey_responses.c.id == survey_contacts.c.response_id)
        .where(survey_contacts.c.survey_id == survey_id, survey_contacts.c.erased_at.is_(None))
        .order_by(survey_contacts.c.consent_at)).mappings()]
    if rows:
        session.execute(sa.insert(audit_log).values(at=clock(), actor=actor or "system", action="read",
                                                    subject="survey_contacts", subject_id=survey_id,
                                                    purpose="kontakty z ankiety"))
    return rows


def erase_contact(session: Session, contact_id: str, actor: str, clock: Clock = utc_now) -> None:
    """Blank a respondent's contact details (consent withdrawn, or the follow-up done); the answers stay."""
    row = session.execute(sa.select(survey_contacts).where(survey_contacts.c.id == contact_id)).mappings().first()
    if row is None or row["erased_at"] is not None:
        raise NotFound("Nie ma takich danych kontaktowych.")
    now = clock()
    session.execute(sa.update(survey_contacts).where(survey_contacts.c.id == contact_id)
                    .values(name=ERASED, phone="", email="", erased_at=now))
    session.execute(sa.insert(audit_log).values(at=now, actor=actor or "system", action="erase",
                                                subject="survey_contact", subject_id=contact_id,
                                                purpose="usunięcie danych kontaktowych"))
