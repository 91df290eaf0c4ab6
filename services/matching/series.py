"""One "yes" for a weekly series, and stepping back.

**Commitment.** A provider who accepts an offer for one occurrence of a weekly series (a support package's
recurring need: its needs share a `series_id`) "for the whole series" (`ProviderResponded{scope: "series"}`)
commits to it: `commit` keeps a row in `series_commitments`, and every later occurrence of that series, already
open or registered later, is given to them directly — no offer, `MatchAccepted{series_commitment}` — once it
comes within the availability horizon (`MATCHING_HORIZON_DAYS`), **through every gate at that occurrence's
time**: the matcher's rules (rules.py) on that occurrence, except the offer history (they said yes to the series)
and the open-task limit (a commitment's visits count as one task, world.load_world). Until then the occurrence is
kept out of the solve (`reserved_needs`), so nobody else is proposed for it.

A gate failing for one occurrence (a credential out of date on its day, an absence, the week's hours, a pause)
does not end the commitment: that occurrence goes to the normal cascade (`SeriesVisitSkipped`, the organiser is
told) and is never taken again (`series_skips`). Permanent changes end it (`SeriesCommitmentEnded`): the
provider erased, a credential revoked (not superseded) that the next occurrence needs, the support package
closed, the series over — and stepping back.

**Stepping back** (`step_back`): from one accepted visit (it is cancelled and re-offered through the cascade;
the commitment keeps the other weeks) or from the series (the commitment ends, its future accepted visits are
cancelled and re-offered). Less than `MATCHING_STEP_BACK_NOTICE_H` before the (first) visit it is still allowed,
flagged `short_notice`. One `MatchSteppedBack` per step-back (the organiser is told once); the same step-back
again changes nothing (`step_backs`, unique per match and scope).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import matching as match_contract
from services.matching import projection
from services.matching.cascade import refill
from services.matching.confirmations import DID_NOT_HAPPEN, DID_NOT_HAPPEN_BY_STAFF
from services.matching.db import open_needs, proposals, series_commitments, series_skips, step_backs
from services.matching.explain import explain, price_of, terms_of
from services.matching.model import (
    ACCEPTED,
    APPROVED,
    CANCELLED,
    COMMITTED,
    OFFERED,
    PROPOSED,
    REPLACED,
    NotAllowed,
)
from services.matching.rules import (
    RULES,
    Candidate,
    Rule,
    confidentiality_authorisation_for_paperwork,
    distance_km,
    driving_licence_and_car_for_transport,
    first_rejection,
    kamilka_gate,
    neighbour_services_only_by_paid_neighbours,
    nnw_insurance_for_short_agreement,
    not_declined_before,
    open_tasks_left,
    required_credentials_in_date,
    volunteer_agreement,
    weekly_hours_left,
)
from services.matching.settings import Settings
from services.matching.solver import earliest_visit, fits, option
from services.matching.store import (
    audit,
    close_match,
    create_match,
    get_match,
    match_ids,
    update_match,
    visit_fields,
)
from services.matching.world import load_world, visit_begun, visit_of
from wspolnota.transport.outbox import Outbox

SERIES_REVIEWER = "cykl"  # who approved a visit a commitment gave
# The gates an occurrence meets to go to the committed provider: every rule but the offer history and the
# open-task limit (see the module's docstring); weekly hours and the time (availability, absences) included.
GATES: tuple[Rule, ...] = tuple(r for r in RULES if r not in (not_declined_before, open_tasks_left))
# What a revoked credential can break: when the next occurrence fails one of these, the commitment ends.
CREDENTIAL_RULES: tuple[Rule, ...] = (
    kamilka_gate, volunteer_agreement, nnw_insurance_for_short_agreement, neighbour_services_only_by_paid_neighbours,
    driving_licence_and_car_for_transport, confidentiality_authorisation_for_paperwork, required_credentials_in_date)
COVERED = "covered"  # a skip: someone else already held every slot of that occurrence
STEPPED_BACK = "stepped_back"
NOT_HAPPENED = (DID_NOT_HAPPEN, DID_NOT_HAPPEN_BY_STAFF)

NOT_THEIRS = "To nie jest wizyta tego wykonawcy."
ONLY_ACCEPTED = "Zrezygnować można tylko z przyjętej wizyty, która jeszcze się nie zaczęła."
NO_SERIES = "Ta wizyta nie należy do przyjętego cyklu."
UNKNOWN_REASON = "Nieznany powód rezygnacji."


# -- the commitment -------------------------------------------------------------------------------------------
def active_commitment(session: Session, series_id: str, volunteer_id: str) -> sa.RowMapping | None:
    c = series_commitments.c
    return session.execute(sa.select(series_commitments).where(
        c.series_id == series_id, c.volunteer_id == volunteer_id, c.ended_at.is_(None))).mappings().first()


def commit(session: Session, outbox: Outbox, match_id: str, now: datetime, settings: Settings) -> str | None:
    """The provider accepted this match for the whole series: keep the commitment (once per series and provider)
    and give them the later occurrences already within the horizon. None when the need is not part of a series
    or the match is not accepted."""
    row = get_match(session, match_id)
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == row["need_id"])).mappings().first()
    if row["status"] != ACCEPTED or need is None or not need["series_id"]:
        return None
    known = active_commitment(session, need["series_id"], row["volunteer_id"])
    if known is not None:
        commitment_id = str(known["id"])
    else:
        commitment_id = str(uuid.uuid4())
        until = session.execute(sa.select(sa.func.max(open_needs.c.window_end)).where(
            open_needs.c.series_id == need["series_id"], open_needs.c.status == "open")).scalar()
        session.execute(sa.insert(series_commitments).values(
            id=commitment_id, series_id=need["series_id"], volunteer_id=row["volunteer_id"], plan_ref=need["plan_ref"],
            match_id=match_id, since=need["window_start"], until=until, created_at=now))
        outbox.add(session, match_contract.TOPIC, "SeriesCommitted", need["series_id"], {
            "commitment_id": commitment_id, "series_id": need["series_id"], "volunteer_id": row["volunteer_id"],
            "match_id": match_id, "need_id": row["need_id"], "plan_ref": need["plan_ref"]})
    session.execute(sa.update(proposals).where(proposals.c.id == match_id).values(series_commitment_id=commitment_id))
    apply(session, outbox, now, settings)
    return commitment_id


def end(session: Session, outbox: Outbox, commitment: Any, reason: str, now: datetime) -> None:
    session.execute(sa.update(series_commitments).where(series_commitments.c.id == commitment["id"],
                                                        series_commitments.c.ended_at.is_(None))
                    .values(ended_at=now, ended_reason=reason))
    outbox.add(session, match_contract.TOPIC, "SeriesCommitmentEnded", commitment["series_id"], {
        "commitment_id": commitment["id"], "series_id": commitment["series_id"],
        "volunteer_id": commitment["volunteer_id"], "reason": reason})


def _active(session: Session, **where: Any) -> list[sa.RowMapping]:
    query = sa.select(series_commitments).where(series_commitments.c.ended_at.is_(None))
    for name, value in where.items():
        query = query.where(series_commitments.c[name] == value)
    return list(session.execute(query.order_by(series_commitments.c.created_at, series_commitments.c.id)).mappings())


def _pending(session: Session, commitment: Any, now: datetime) -> list[sa.RowMapping]:
    """The commitment's occurrences still to be given or let go: open, later than the one accepted, not over,
    not accepted by the provider yet (a proposal or an offer to them is turned into the acceptance), not one whose
    visit they or staff said did not happen (its window may still be open: given again, a second "it happened"
    would count its hours twice) and not let go before; earliest first."""
    n = open_needs.c
    theirs = sa.select(proposals.c.need_id).where(proposals.c.volunteer_id == commitment["volunteer_id"], sa.or_(
        proposals.c.status == ACCEPTED,  # or that they (or staff) said did not happen: not given to them again
        sa.and_(proposals.c.status == CANCELLED, proposals.c.decision_reason.in_(NOT_HAPPENED))))
    skipped = sa.select(series_skips.c.need_id).where(series_skips.c.commitment_id == commitment["id"])
    return list(session.execute(sa.select(open_needs).where(
        n.series_id == commitment["series_id"], n.status == "open", n.window_start > commitment["since"],
        n.window_end > now, n.need_id.not_in(theirs), n.need_id.not_in(skipped),
    ).order_by(n.window_start, n.need_id)).mappings())


def reserved_needs(session: Session, now: datetime) -> set[str]:
    """Occurrences kept for their committed provider: the solver proposes nobody else for them."""
    return {need["need_id"] for c in _active(session) for need in _pending(session, c, now)}


def apply(session: Session, outbox: Outbox, now: datetime, settings: Settings) -> int:
    """Give every active commitment its occurrences within the horizon (or let them go to the cascade when a
    gate fails at their time); end the commitments whose series is over. Returns the visits given."""
    given = 0
    horizon = now + timedelta(days=settings.horizon_days)
    for c in _active(session):
        pending = _pending(session, c, now)
        if not pending and c["until"] is not None and c["until"] <= now:
            end(session, outbox, c, "series_ended", now)
            continue
        for need in pending:
            if need["window_start"] <= horizon:
                given += _give(session, outbox, c, need["need_id"], now, settings)
            else:  # kept for them: a proposal to someone else made before the commitment leaves the review queue
                for row in session.execute(sa.select(proposals).where(
                        proposals.c.need_id == need["need_id"], proposals.c.status == PROPOSED,
                        proposals.c.volunteer_id != c["volunteer_id"])).mappings().all():
                    close_match(session, outbox, row, REPLACED, "replaced", now)
    return given


def _give(session: Session, outbox: Outbox, c: Any, need_id: str, now: datetime, settings: Settings) -> int:
    world = load_world(session, now, settings)
    need_row = world.needs[need_id]
    vid = c["volunteer_id"]
    others = [m for m in world.active(need_id, (ACCEPTED,)) if m["volunteer_id"] != vid]
    if len(others) >= need_row["slots"]:
        _skip(session, outbox, c, need_id, COVERED, now, publish=False)
        return 0
    found = next((m for m in world.active(need_id) if m["volunteer_id"] == vid), None)
    own: dict[str, Any] | None = dict(found) if found is not None else None
    provider = world.provider_for(vid, need_id)
    need = projection.need_from_row(need_row)
    gates = GATES if own is None or own["status"] not in COMMITTED else tuple(
        r for r in GATES if r is not weekly_hours_left)  # an approved or offered match already counts its hours
    rejection = None if provider is None else first_rejection(Candidate(need, provider, distance_km(need, provider)),
                                                              gates)
    if provider is None or rejection is not None:
        _skip(session, outbox, c, need_id, rejection.rule if rejection else "unknown_provider", now)
        refill(session, outbox, need_id, now, settings)  # the normal cascade (or, with nobody, the solver)
        return 0
    if own is None:
        domain = world.domain_need(need_id)
        opt = option(domain, provider, distance_km(domain, provider), settings.weights)
        explanation = explain(domain, vid, list(world.providers.values()), settings, source="series",
                              km=round(opt.km, 2), terms=terms_of(opt, domain, settings), runner_up=None)
        explanation["commitment_id"] = c["id"]
        own = create_match(session, outbox, world, need_id, vid, now, explanation, price_of(opt, settings),
                           publish=False)
    if own["status"] == PROPOSED and provider is not None:  # a plan's time reserves nothing until approved
        planned = visit_of(own, need_row)
        if not fits(planned, need, provider.availability):
            visit = earliest_visit(need, provider.availability)
            if visit is not None:
                session.execute(sa.update(proposals).where(proposals.c.id == own["id"])
                                .values(agreed_start=visit.start, agreed_end=visit.end))
    status = own["status"]
    for step in (APPROVED, OFFERED, ACCEPTED)[(PROPOSED, APPROVED, OFFERED).index(status):]:
        extra = {"reviewer": SERIES_REVIEWER} if step == APPROVED else {}
        update_match(session, {**own, "status": status}, now, status=step, **extra)
        status = step
    session.execute(sa.update(proposals).where(proposals.c.id == own["id"]).values(series_commitment_id=c["id"]))
    row = get_match(session, own["id"])
    outbox.add(session, match_contract.TOPIC, "MatchAccepted", need_id, {
        **match_ids(row), "series_commitment": c["id"], "series_id": c["series_id"], "category": row["category"],
        "village": row["village"], "window_start": row["window_start"].isoformat(), **visit_fields(row)})
    refill(session, outbox, need_id, now, settings)  # the others asked meanwhile are told it is covered
    return 1


def _record_skip(session: Session, commitment_id: str, need_id: str, reason: str, now: datetime) -> bool:
    """The commitment lets this occurrence go, once: False when it had let it go already (the first reason stays)."""
    known = session.execute(sa.select(series_skips.c.need_id).where(
        series_skips.c.commitment_id == commitment_id, series_skips.c.need_id == need_id)).first()
    if known is None:
        session.execute(sa.insert(series_skips).values(commitment_id=commitment_id, need_id=need_id,
                                                       reason=reason[:60], at=now))
    return known is None


def _skip(session: Session, outbox: Outbox, c: Any, need_id: str, reason: str, now: datetime,
          publish: bool = True) -> None:
    if _record_skip(session, c["id"], need_id, reason, now) and publish:  # the organiser is told once
        outbox.add(session, match_contract.TOPIC, "SeriesVisitSkipped", need_id, {
            "commitment_id": c["id"], "series_id": c["series_id"], "need_id": need_id,
            "volunteer_id": c["volunteer_id"], "reason": reason[:60]})


# -- permanent changes ----------------------------------------------------------------------------------------
def volunteer_erased(session: Session, outbox: Outbox, volunteer_id: str, now: datetime) -> None:
    for c in _active(session, volunteer_id=volunteer_id):
        end(session, outbox, c, "volunteer_erased", now)


def credential_revoked(session: Session, outbox: Outbox, volunteer_id: str, now: datetime,
                       settings: Settings) -> None:
    """A revocation is final for that credential: a commitment whose next occurrence now fails a credential
    rule ends (an expiry does not end it: a renewal is expected, the weeks without one go to the cascade)."""
    commitments = _active(session, volunteer_id=volunteer_id)
    if not commitments:
        return
    world = load_world(session, now, settings)
    provider = world.providers.get(volunteer_id)
    for c in commitments:
        nxt = session.execute(sa.select(open_needs).where(
            open_needs.c.series_id == c["series_id"], open_needs.c.status == "open",
            open_needs.c.window_start >= c["since"], open_needs.c.window_end > now)
            .order_by(open_needs.c.window_start).limit(1)).mappings().first()
        if nxt is None:
            continue
        need = projection.need_from_row(nxt)
        if provider is None or first_rejection(Candidate(need, provider, distance_km(need, provider)),
                                               CREDENTIAL_RULES) is not None:
            end(session, outbox, c, "credential_revoked", now)


def plan_closed(session: Session, outbox: Outbox, plan_ref: str, now: datetime) -> None:
    for c in _active(session, plan_ref=plan_ref):
        end(session, outbox, c, "plan_closed", now)


# -- stepping back --------------------------------------------------------------------------------------------
def step_back(session: Session, outbox: Outbox, match_id: str, volunteer_id: str, scope: str, reason: str,
              actor: str, now: datetime, settings: Settings) -> dict[str, Any]:
    """The provider steps back from an accepted visit (`visit`) or from its series (`series`); see the module's
    docstring. The same step-back again returns what the first did (`repeated`) and changes nothing."""
    if reason not in match_contract.STEP_BACK_REASONS or scope not in match_contract.STEP_BACK_SCOPES:
        raise NotAllowed(UNKNOWN_REASON)
    done = session.execute(sa.select(step_backs).where(step_backs.c.match_id == match_id,
                                                       step_backs.c.scope == scope)).mappings().first()
    row = get_match(session, match_id)
    if row["volunteer_id"] != volunteer_id:
        raise NotAllowed(NOT_THEIRS)
    if done is not None:
        return {**dict(done), "repeated": True}
    need = session.execute(sa.select(open_needs).where(open_needs.c.need_id == row["need_id"])).mappings().first()
    commitment = None
    if scope == "series":
        if row["series_commitment_id"]:
            commitment = session.execute(sa.select(series_commitments).where(
                series_commitments.c.id == row["series_commitment_id"],
                series_commitments.c.ended_at.is_(None))).mappings().first()
        elif need is not None and need["series_id"]:
            commitment = active_commitment(session, need["series_id"], volunteer_id)
        if commitment is None:
            raise NotAllowed(NO_SERIES)
        rows = list(session.execute(sa.select(proposals).where(
            proposals.c.series_commitment_id == commitment["id"], proposals.c.status == ACCEPTED)).mappings())
        if row["status"] == ACCEPTED and all(r["id"] != row["id"] for r in rows):
            rows.append(row)
    else:
        if row["status"] != ACCEPTED or need is None or visit_begun(row, need, now):
            raise NotAllowed(ONLY_ACCEPTED)
        rows = [row]
    needs = {n["need_id"]: n for n in session.execute(sa.select(open_needs).where(
        open_needs.c.need_id.in_([r["need_id"] for r in rows]))).mappings()}
    cancel = sorted((r for r in rows if r["need_id"] in needs and not visit_begun(r, needs[r["need_id"]], now)),
                    key=lambda r: visit_of(r, needs[r["need_id"]]).start)
    if commitment is not None:
        end(session, outbox, commitment, STEPPED_BACK, now)
    for r in cancel:
        close_match(session, outbox, r, CANCELLED, STEPPED_BACK, now)
        if r["series_commitment_id"] and commitment is None:  # this week only: the commitment keeps the others
            _record_skip(session, r["series_commitment_id"], r["need_id"], STEPPED_BACK, now)
    first = visit_of(cancel[0], needs[cancel[0]["need_id"]]).start if cancel else None
    record = {"id": str(uuid.uuid4()), "match_id": match_id, "need_id": row["need_id"], "volunteer_id": volunteer_id,
              "scope": scope, "reason": reason, "short_notice": first is not None and first - now < settings.step_back_notice,
              "visit_start": first, "cancelled": len(cancel),
              "commitment_id": commitment["id"] if commitment is not None else row["series_commitment_id"],
              "actor": actor[:200], "at": now}
    session.execute(sa.insert(step_backs).values(**record))
    audit(session, actor, "step_back", match_id, f"scope {scope}, reason {reason}, cancelled {len(cancel)}", now)
    outbox.add(session, match_contract.TOPIC, "MatchSteppedBack", row["need_id"], {
        **match_ids(row), "scope": scope, "reason": reason, "short_notice": record["short_notice"],
        "visit_start": first.isoformat() if first else None, "cancelled": len(cancel),
        "commitment_id": record["commitment_id"], "series_id": commitment["series_id"] if commitment is not None
        else (need["series_id"] if need is not None else None)})
    for need_id in sorted({r["need_id"] for r in cancel}):
        refill(session, outbox, need_id, now, settings)  # re-offered through the cascade (or the solver)
    return {**record, "repeated": False}


def recent_step_backs(session: Session, limit: int = 20) -> list[sa.RowMapping]:
    return list(session.execute(sa.select(step_backs).order_by(step_backs.c.at.desc(), step_backs.c.id)
                                .limit(limit)).mappings())

