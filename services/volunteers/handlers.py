"""Volunteers service use cases: providers, credentials, availability, offers, and their events.

Every use case takes the caller's session and writes its events into the outbox in that same
transaction, so a change and its event commit together or not at all. Payloads carry no names,
e-mail addresses, phone numbers or free text.
"""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import community as community_contract
from contracts import matching as match_contract
from contracts import volunteers as volunteer_contract
from services.volunteers import hours, model, schemas, visits
from services.volunteers.db import (
    assignments,
    audit_log,
    availability_exceptions,
    confirmation_mails,
    credentials,
    offers,
    submissions,
    volunteers,
)
from wspolnota import errors
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(volunteer_contract.EVENTS)
CONSUMES = Catalog(match_contract.EVENTS, community_contract.EVENTS)
SUBSCRIPTIONS = [match_contract.TOPIC, community_contract.TOPIC]
CONSENT_VERSION = "2026-11"

PROFILE_FIELDS = ("organisation_kind", "krs", "contact_person", "preferred_channel", "home_village", "radius_km",
                  "skills", "languages", "own_car", "weekly_slots", "capacity_hours_per_week", "max_open_tasks",
                  "neighbour_conditions", "notes", "quiet_hours")


class NotFound(errors.NotFound):
    """No such provider, credential or offer (404; an erased provider's contact is "not found" too)."""

    def __init__(self, key: str = ""):
        super().__init__("Nie ma takiego wykonawcy lub oferty.")
        self.key = key


class Conflict(errors.Refused):
    """The request cannot be carried out in the provider's present state (409, Polish message for staff)."""


class DuplicateSubmission(Conflict):
    def __init__(self, volunteer_id: str | None):
        super().__init__("To zgłoszenie zostało już przyjęte.")
        self.volunteer_id = volunteer_id


def now() -> datetime:
    return datetime.now(UTC)


# --- reading ---------------------------------------------------------------------------------------


def get_volunteer(session: Session, volunteer_id: str) -> sa.RowMapping:
    row = session.execute(sa.select(volunteers).where(volunteers.c.id == volunteer_id)).mappings().first()
    if row is None:
        raise NotFound(volunteer_id)
    return row


def credential_rows(session: Session, volunteer_id: str) -> list[sa.RowMapping]:
    return list(session.execute(sa.select(credentials).where(credentials.c.volunteer_id == volunteer_id)
                                .order_by(credentials.c.recorded_at)).mappings())


def as_credential(row: sa.RowMapping | dict[str, Any]) -> model.Credential:
    return model.Credential(row["kind"], row["valid_from"], row["valid_until"], dict(row["details"] or {}),
                            revoked=row.get("revoked_at") is not None, credential_id=row["id"])


def as_provider(volunteer: sa.RowMapping, creds: list[sa.RowMapping]) -> model.Provider:
    conditions = volunteer["neighbour_conditions"] or {}
    return model.Provider(
        type=volunteer["provider_type"], verified=volunteer["verified_at"] is not None,
        paused=bool(volunteer["paused"]), erased=volunteer["erased_at"] is not None,
        credentials=tuple(as_credential(c) for c in creds),
        neighbour=model.NeighbourConditions(**{k: bool(conditions.get(k)) for k in (
            "adult", "not_family", "lives_nearby", "fitness_declared", "accepted_by_cus")}))


def provider(session: Session, volunteer_id: str) -> model.Provider:
    return as_provider(get_volunteer(session, volunteer_id), credential_rows(session, volunteer_id))


def profile_record(volunteer: sa.RowMapping, p: model.Provider) -> dict[str, Any]:
    """The stored profile with its yes/no states (what a use case that changed it returns)."""
    return {**volunteer, "skills": volunteer["skills"] or [], "languages": volunteer["languages"] or ["pl"],
            "weekly_slots": volunteer["weekly_slots"] or [], "verified": p.verified, "paused": p.paused,
            "erased": p.erased, "email_confirmed": volunteer["email_confirmed_at"] is not None}


def profile_out(session: Session, volunteer: sa.RowMapping, on_date: date) -> dict[str, Any]:
    """The profile with the categories the provider may take on `on_date` (the centre's calendar day)."""
    p = as_provider(volunteer, credential_rows(session, volunteer["id"]))
    return {**profile_record(volunteer, p), "eligible_categories": sorted(model.eligible_categories(p, on_date))}


def organisation_payload(v: sa.RowMapping | dict[str, Any]) -> dict[str, Any] | None:
    """A partner organisation's public identity (a legal entity's name, kind and KRS number): it travels on the bus
    with the organisation's profile. Its contact person, phone and e-mail stay here. Other providers are people:
    None (their names never leave this service)."""
    if v["provider_type"] != model.PARTNER_ORGANISATION or v["erased_at"] is not None:
        return None
    return {"name": v["name"], "kind": v["organisation_kind"], "krs": v["krs"]}


def profile_payload(session: Session, volunteer_id: str, today: date) -> dict[str, Any]:
    """The profile as it travels on the bus: no contact data, no free text, no Kamilka details; absences that
    ended before `today` (the centre's calendar day) are left out. A partner organisation's profile carries its
    public identity (`organisation_payload`); a person's never carries their name."""
    v = get_volunteer(session, volunteer_id)
    p = as_provider(v, credential_rows(session, volunteer_id))
    organisation = organisation_payload(v)
    return {**({"organisation": organisation} if organisation else {}),
        "volunteer_id": v["id"], "provider_type": v["provider_type"], "villages": v["villages"],
        "home_village": v["home_village"], "radius_km": v["radius_km"], "languages": v["languages"] or ["pl"],
        "skills": v["skills"] or [], "capacity_hours_per_week": v["capacity_hours_per_week"],
        "max_open_tasks": v["max_open_tasks"], "verified": p.verified, "paused": p.paused,
        "credentials": [credential_payload(c) for c in counting_credentials(p.credentials)],
        "neighbour_conditions_met": p.neighbour.all_met(), "weekly_slots": v["weekly_slots"] or [],
        "unavailable": [{"starts_on": a.starts_on.isoformat(), "ends_on": a.ends_on.isoformat()}
                        for a in session.execute(
                            sa.select(availability_exceptions.c.starts_on, availability_exceptions.c.ends_on)
                            .where(availability_exceptions.c.volunteer_id == volunteer_id,
                                   availability_exceptions.c.ends_on >= today)
                            .order_by(availability_exceptions.c.starts_on))],
    }


def counting_credentials(creds: tuple[model.Credential, ...]) -> list[model.Credential]:
    """What the bus may know a provider holds: nothing revoked, and of the Kamilka checks only the deciding
    (latest) one, when it is complete and clean. Dates are left to the consumer (a lapsed one is listed)."""
    deciding = model.deciding_kamilka_check(creds)
    return [c for c in creds if not c.revoked and (
        c.kind != model.KAMILKA_CHECK or (c is deciding and model.kamilka_check_complete(c.details)))]


def credential_payload(c: model.Credential) -> dict[str, Any]:
    payload: dict[str, Any] = {"credential_id": c.credential_id, "kind": c.kind,
                               "valid_from": c.valid_from.isoformat(),
                               "valid_until": c.valid_until.isoformat() if c.valid_until else None}
    if c.kind == model.AGREEMENT:
        payload["written"] = bool(c.details.get("written"))
    return payload


# --- submissions: a double submit stores and publishes nothing --------------------------------------


def claim_submission(session: Session, token: str | None, form: str, volunteer_id: str | None) -> None:
    if not token:
        return
    existing = session.execute(sa.select(submissions.c.volunteer_id).where(submissions.c.token == token)).first()
    if existing is not None:
        raise DuplicateSubmission(existing.volunteer_id)
    try:
        session.execute(sa.insert(submissions).values(token=token, form=form, volunteer_id=volunteer_id,
                                                      created_at=now()))
    except IntegrityError as err:  # the twin request got there first (PostgreSQL, concurrent submits)
        raise DuplicateSubmission(None) from err


def email_taken(session: Session, email: str, except_id: str | None = None) -> bool:
    query = sa.select(volunteers.c.id).where(sa.func.lower(volunteers.c.email) == email.lower(),
                                             volunteers.c.erased_at.is_(None))
    if except_id:
        query = query.where(volunteers.c.id != except_id)
    return session.execute(query).first() is not None


# --- providers -------------------------------------------------------------------------------------


def register_volunteer(session: Session, outbox: Outbox, data: dict[str, Any], source: str = "api",
                       submission: str | None = None, verified_by: str = "API", *, today: date) -> dict[str, Any]:
    volunteer_id = str(uuid.uuid4())
    claim_submission(session, submission, f"register-{source}", volunteer_id)
    if email_taken(session, data["email"]):
        raise Conflict("Ten adres e-mail jest już zarejestrowany.")
    at = now()
    row = {"id": volunteer_id, "name": data["name"], "email": data["email"],
           "phone": schemas.normalise_phone(data["phone"]), "provider_type": data.get("provider_type", "volunteer"),
           "villages": data["villages"], "created_at": at, "updated_at": at, "source": source, "paused": False,
           **{k: data.get(k) for k in PROFILE_FIELDS if k in data}}
    row.setdefault("languages", ["pl"])
    if data.get("consent"):
        row.update(consent_at=at, consent_version=CONSENT_VERSION)
    if data.get("verified") and source != "self":
        row.update(verified_at=at, verified_by=verified_by)
    session.execute(sa.insert(volunteers).values(**row))
    outbox.add(session, volunteer_contract.TOPIC, "VolunteerRegistered", volunteer_id,
               profile_payload(session, volunteer_id, today))
    v = get_volunteer(session, volunteer_id)
    return profile_record(v, as_provider(v, credential_rows(session, volunteer_id)))


def self_register(session: Session, outbox: Outbox, data: dict[str, Any], submission: str | None, *,
                  today: date) -> str:
    """A person's own registration: stored unverified; what they offer waits as a draft offer."""
    profile = {k: data[k] for k in ("name", "email", "phone", "villages", "languages", "own_car",
                                    "weekly_slots", "notes", "consent")}
    created = register_volunteer(session, outbox, {**profile, "provider_type": model.VOLUNTEER, "verified": False},
                                 source="self", submission=submission, today=today)
    if data.get("categories"):
        at = now()
        session.execute(sa.insert(offers).values(
            id=str(uuid.uuid4()), volunteer_id=created["id"], categories=data["categories"],
            villages=data["villages"], available_from=at, available_to=at + timedelta(days=365),
            weekly_slots=data.get("weekly_slots") or [], standing=False, status="draft", created_at=at))
    return str(created["id"])


def _live(session: Session, volunteer_id: str) -> sa.RowMapping:
    v = get_volunteer(session, volunteer_id)
    if v["erased_at"] is not None:
        raise Conflict("Dane tego wykonawcy zostały usunięte.")
    return v


def _updated(session: Session, outbox: Outbox, volunteer_id: str, today: date) -> None:
    session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id).values(updated_at=now()))
    outbox.add(session, volunteer_contract.TOPIC, "VolunteerUpdated", volunteer_id,
               profile_payload(session, volunteer_id, today))


def update_volunteer(session: Session, outbox: Outbox, volunteer_id: str, changes: dict[str, Any],
                     submission: str | None = None, *, today: date) -> dict[str, Any]:
    current = _live(session, volunteer_id)
    claim_submission(session, submission, "update", volunteer_id)
    if "email" in changes and email_taken(session, changes["email"], except_id=volunteer_id):
        raise Conflict("Ten adres e-mail jest już zarejestrowany.")
    values = {k: v for k, v in changes.items() if k in PROFILE_FIELDS + ("name", "email", "phone", "villages",
                                                                          "provider_type")}
    if "phone" in values:
        values["phone"] = schemas.normalise_phone(values["phone"])
    merged = {**current, **values}
    if merged["provider_type"] == model.PARTNER_ORGANISATION and not merged.get("contact_person"):
        raise Conflict("Organizacja partnerska musi mieć osobę kontaktową.")
    if merged["provider_type"] != model.PARTNER_ORGANISATION and merged.get("krs"):
        if values.get("krs"):
            raise errors.Invalid({"krs": schemas.KRS_ONLY_PARTNERS})
        values["krs"] = None  # no longer an organisation: its KRS number goes with its kind
    if values:
        session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id).values(**values))
    _updated(session, outbox, volunteer_id, today)
    v = get_volunteer(session, volunteer_id)
    return profile_record(v, as_provider(v, credential_rows(session, volunteer_id)))


def announce_organisations(session: Session, outbox: Outbox, today: date) -> int:
    """A fresh `VolunteerUpdated` snapshot of every partner organisation not erased, so consumers that keep its public
    identity (community's partner register) get it for organisations registered before snapshots carried it.
    Nothing changes here; returns how many were announced."""
    ids = session.execute(sa.select(volunteers.c.id).where(
        volunteers.c.provider_type == model.PARTNER_ORGANISATION, volunteers.c.erased_at.is_(None))
        .order_by(volunteers.c.created_at)).scalars().all()
    for volunteer_id in ids:
        outbox.add(session, volunteer_contract.TOPIC, "VolunteerUpdated", volunteer_id,
                   profile_payload(session, volunteer_id, today))
    return len(ids)


def confirm_email(session: Session, volunteer_id: str) -> bool:
    """True if this call confirmed the address (False: already confirmed or erased)."""
    v = get_volunteer(session, volunteer_id)
    if v["erased_at"] is not None or v["email_confirmed_at"] is not None:
        return False
    session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id).values(email_confirmed_at=now()))
    return True


def verify_volunteer(session: Session, outbox: Outbox, volunteer_id: str, verified_by: str, *,
                     today: date) -> None:
    """Staff confirm the person: from now on they can be matched; drafts from self-registration go live."""
    v = _live(session, volunteer_id)
    if v["verified_at"] is not None:
        raise Conflict("Wykonawca jest już zweryfikowany.")
    if v["source"] == "self" and v["email_confirmed_at"] is None:
        raise Conflict("Wolontariusz nie potwierdził jeszcze adresu e-mail.")
    session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id)
                    .values(verified_at=now(), verified_by=verified_by))
    _updated(session, outbox, volunteer_id, today)
    drafts = session.execute(sa.select(offers).where(offers.c.volunteer_id == volunteer_id,
                                                     offers.c.status == "draft")).mappings().all()
    for draft in drafts:
        at = now()
        session.execute(sa.update(offers).where(offers.c.id == draft["id"]).values(
            status="published", available_from=at, available_to=at + timedelta(days=365)))
        _offer_published(session, outbox, draft["id"])


def pause(session: Session, outbox: Outbox, volunteer_id: str, reason: str | None = None, *,
          by_volunteer: bool = False) -> None:
    """Pause: no new tasks. With `reason` (a code, e.g. SAFETY_REVIEW) the pause is staff's decision and is
    announced even when the person had already paused themselves, so that matching acts on the reason.
    `by_volunteer`: the person paused themselves (their own page), so they may also end it."""
    if _live(session, volunteer_id)["paused"] and reason is None:
        raise Conflict("Wykonawca ma już przerwę.")
    session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id).values(
        paused=True, paused_by_self=by_volunteer and reason is None, updated_at=now()))
    outbox.add(session, volunteer_contract.TOPIC, "VolunteerPaused", volunteer_id,
               {"volunteer_id": volunteer_id, **({"reason": reason} if reason else {})})


def resume(session: Session, outbox: Outbox, volunteer_id: str, *, by_volunteer: bool = False) -> None:
    """End a pause. The person themselves (`by_volunteer`) may end only a pause they chose: a pause staff or the
    service set (a safety review) is staff's to end."""
    v = _live(session, volunteer_id)
    if not v["paused"]:
        raise Conflict("Wykonawca nie ma przerwy.")
    if by_volunteer and not v["paused_by_self"]:
        raise Conflict("Tę przerwę ustalił pracownik CUS — aby ją zakończyć, skontaktuj się z organizatorem.")
    session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id).values(
        paused=False, paused_by_self=None, updated_at=now()))
    outbox.add(session, volunteer_contract.TOPIC, "VolunteerResumed", volunteer_id, {"volunteer_id": volunteer_id})


def erase(session: Session, outbox: Outbox, volunteer_id: str, actor: str) -> None:
    """RODO erasure: personal data overwritten, offers withdrawn, every service told by VolunteerErased."""
    _live(session, volunteer_id)
    for offer_id in session.execute(sa.select(offers.c.id).where(
            offers.c.volunteer_id == volunteer_id, offers.c.status.in_(["published", "draft"]))).scalars().all():
        withdraw_offer(session, outbox, offer_id)
    at = now()
    session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer_id).values(
        name="(usunięto)", email="", phone="", contact_person=None, notes=None, skills=[], weekly_slots=[],
        neighbour_conditions=None, paused=True, erased_at=at, updated_at=at))
    session.execute(sa.update(credentials).where(credentials.c.volunteer_id == volunteer_id).values(details={}))
    session.execute(sa.delete(confirmation_mails).where(confirmation_mails.c.volunteer_id == volunteer_id))
    audit(session, actor, "erase", volunteer_id, "usunięcie danych osobowych")
    outbox.add(session, volunteer_contract.TOPIC, "VolunteerErased", volunteer_id, {"volunteer_id": volunteer_id})


# --- credentials and availability ------------------------------------------------------------------


KAMILKA_DETAIL_FIELDS = ("register_checked_on", "checked_by", "register_result", "krk_seen_on", "krk_entry",
                         "countries_last_20_years", "foreign_record_seen_on")


def record_credential(session: Session, outbox: Outbox, volunteer_id: str, data: dict[str, Any],
                      kamilka_validity_days: int, *, actor: str, today: date,
                      submission: str | None = None) -> dict[str, Any]:
    """Record a credential; `actor` (the signed-in account) is who recorded it and, for a Kamilka check, who
    checked. A Kamilka check is announced (`CredentialRecorded`) only when it is complete, clean and now the
    deciding (latest) check; an adverse one (listed, or a KRK entry) runs the adverse-result flow. A check dated
    after `today` (the centre's calendar day) is refused as a whole (Invalid, nothing written)."""
    future = model.future_check_dates(data, today)
    if future:
        raise errors.Invalid(future)
    _live(session, volunteer_id)
    claim_submission(session, submission, "credential", volunteer_id)
    details: dict[str, Any] = {}
    valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
    if data["kind"] == model.KAMILKA_CHECK:
        details = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()
                   if k in KAMILKA_DETAIL_FIELDS}
        details["checked_by"] = actor[:120]
        valid_from = max(data["register_checked_on"], data["krk_seen_on"])
        valid_until = model.kamilka_valid_until(data["register_checked_on"], data["krk_seen_on"],
                                                kamilka_validity_days)
    elif data["kind"] == model.AGREEMENT:
        details = {"written": bool(data.get("written"))}
    row = {"id": str(uuid.uuid4()), "volunteer_id": volunteer_id, "kind": data["kind"], "valid_from": valid_from,
           "valid_until": valid_until, "details": details, "recorded_by": actor[:120],
           "recorded_at": now()}
    before = model.deciding_kamilka_check(provider(session, volunteer_id).credentials)
    session.execute(sa.insert(credentials).values(**row))
    credential = as_credential(row)
    if credential.kind != model.KAMILKA_CHECK:
        outbox.add(session, volunteer_contract.TOPIC, "CredentialRecorded", volunteer_id,
                   {"volunteer_id": volunteer_id, **credential_payload(credential)})
    elif model.kamilka_check_adverse(credential.details):
        _adverse_kamilka_result(session, outbox, volunteer_id, credential, actor)
    elif _is_deciding(session, volunteer_id, credential.credential_id) \
            and model.kamilka_check_complete(credential.details):
        # The new clean check decides from now on; the one that decided so far no longer counts. The new one is
        # announced first: a consumer folding the two in order never sees the person without a check between them.
        outbox.add(session, volunteer_contract.TOPIC, "CredentialRecorded", volunteer_id,
                   {"volunteer_id": volunteer_id, **credential_payload(credential)})
        if before is not None and not before.revoked and model.kamilka_check_complete(before.details):
            _announce_revoked(session, outbox, volunteer_id, before, volunteer_contract.REVOKED_SUPERSEDED)
    # else: an older check recorded late, or an incomplete one: kept on file, it decides nothing.
    return row


def _is_deciding(session: Session, volunteer_id: str, credential_id: str) -> bool:
    deciding = model.deciding_kamilka_check(provider(session, volunteer_id).credentials)
    return deciding is not None and deciding.credential_id == credential_id


def _announce_revoked(session: Session, outbox: Outbox, volunteer_id: str, c: model.Credential,
                      reason: str) -> None:
    outbox.add(session, volunteer_contract.TOPIC, "CredentialRevoked", volunteer_id, {
        "volunteer_id": volunteer_id, "credential_id": c.credential_id, "kind": c.kind, "reason": reason})


def _adverse_kamilka_result(session: Session, outbox: Outbox, volunteer_id: str, check: model.Credential,
                            actor: str) -> None:
    """The person is listed in the register (or the KRK shows an entry): the check is kept and decides; every
    Kamilka check recorded before it is revoked, and each that counted is withdrawn on the bus; the person is
    paused pending staff review (even if already paused, so matching acts on the reason)."""
    at = now()
    earlier = [c for c in provider(session, volunteer_id).credentials
               if c.kind == model.KAMILKA_CHECK and c.credential_id != check.credential_id and not c.revoked]
    for c in earlier:
        session.execute(sa.update(credentials).where(credentials.c.id == c.credential_id).values(
            revoked_at=at, revoked_by=actor[:120], revoke_reason="Niekorzystny wynik późniejszej weryfikacji."))
        if model.kamilka_check_complete(c.details):
            _announce_revoked(session, outbox, volunteer_id, c, volunteer_contract.REVOKED_ADVERSE_RESULT)
    pause(session, outbox, volunteer_id, reason=volunteer_contract.PAUSE_SAFETY_REVIEW)
    audit(session, actor, "kamilka_adverse", volunteer_id,
          f"niekorzystny wynik weryfikacji (Kamilka); cofnięto uprawnień: {len(earlier)}; wstrzymano do przeglądu")


def revoke_credential(session: Session, outbox: Outbox, credential_id: str, reason: str, actor: str,
                      volunteer_id: str | None = None, *, today: date) -> dict[str, Any]:
    """Staff revoke a credential with a reason (kept here, never on the bus): it counts for nothing from now on.
    Audited; `CredentialRevoked` (reason `revoked_by_staff`) and a `VolunteerUpdated` snapshot follow."""
    row = session.execute(sa.select(credentials).where(credentials.c.id == credential_id)).mappings().first()
    if row is None or (volunteer_id is not None and row["volunteer_id"] != volunteer_id):
        raise NotFound(credential_id)
    owner = row["volunteer_id"]
    _live(session, owner)
    if row["revoked_at"] is not None:
        raise Conflict("To uprawnienie zostało już cofnięte.")
    session.execute(sa.update(credentials).where(credentials.c.id == credential_id).values(
        revoked_at=now(), revoked_by=actor[:120], revoke_reason=reason))
    audit(session, actor, "credential_revoke", owner, f"cofnięcie uprawnienia ({row['kind']}): {reason}")
    _announce_revoked(session, outbox, owner, as_credential(row), volunteer_contract.REVOKED_BY_STAFF)
    _updated(session, outbox, owner, today)
    return dict(session.execute(sa.select(credentials).where(credentials.c.id == credential_id)).mappings().one())


def add_exception(session: Session, outbox: Outbox, volunteer_id: str, data: dict[str, Any],
                  submission: str | None = None, *, today: date) -> dict[str, Any]:
    _live(session, volunteer_id)
    claim_submission(session, submission, "exception", volunteer_id)
    row = {"id": str(uuid.uuid4()), "volunteer_id": volunteer_id, "created_at": now(), **data}
    session.execute(sa.insert(availability_exceptions).values(**row))
    _updated(session, outbox, volunteer_id, today)
    return row


def delete_exception(session: Session, outbox: Outbox, volunteer_id: str, exception_id: str, *,
                     today: date) -> None:
    """Remove an absence of this provider (NotFound for another's); the profile snapshot follows on the bus."""
    _live(session, volunteer_id)
    gone = session.execute(sa.delete(availability_exceptions).where(
        availability_exceptions.c.id == exception_id, availability_exceptions.c.volunteer_id == volunteer_id))
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise NotFound(exception_id)
    _updated(session, outbox, volunteer_id, today)


def expire_credentials(session: Session, outbox: Outbox, today: date) -> int:
    """CredentialExpired (naming the credential) once per credential whose last valid day has passed, `today`
    being the Warsaw date; returns how many. A revoked credential is not announced again. Only that
    credential lapses: a renewal of the same kind keeps counting."""
    due = session.execute(
        sa.select(credentials.c.id, credentials.c.volunteer_id, credentials.c.kind, credentials.c.valid_until)
        .join(volunteers, volunteers.c.id == credentials.c.volunteer_id)
        .where(credentials.c.valid_until < today, credentials.c.expiry_published_at.is_(None),
               credentials.c.revoked_at.is_(None), volunteers.c.erased_at.is_(None))
        .order_by(credentials.c.valid_until)).all()
    for row in due:
        session.execute(sa.update(credentials).where(credentials.c.id == row.id).values(expiry_published_at=now()))
        outbox.add(session, volunteer_contract.TOPIC, "CredentialExpired", row.volunteer_id, {
            "volunteer_id": row.volunteer_id, "credential_id": row.id, "kind": row.kind,
            "valid_until": row.valid_until.isoformat()})
    return len(due)


def expiring_soon(session: Session, today: date, days: int = model.WARN_DAYS_AHEAD) -> list[sa.RowMapping]:
    """Staff warnings: in-date credentials ending within `days` days, soonest first — except those already
    renewed: a credential of the same kind of the same provider that starts by the day after this one ends
    and runs longer (or without an end). Revoked credentials neither warn nor count as a renewal."""
    ending = list(session.execute(
        sa.select(credentials.c.id, credentials.c.kind, credentials.c.valid_until, credentials.c.volunteer_id,
                  volunteers.c.name)
        .join(volunteers, volunteers.c.id == credentials.c.volunteer_id)
        .where(credentials.c.valid_until >= today, credentials.c.valid_until <= today + timedelta(days=days),
               credentials.c.revoked_at.is_(None), volunteers.c.erased_at.is_(None))
        .order_by(credentials.c.valid_until)).mappings())
    if not ending:
        return []
    later = session.execute(
        sa.select(credentials.c.volunteer_id, credentials.c.kind, credentials.c.valid_from, credentials.c.valid_until)
        .where(credentials.c.volunteer_id.in_({row["volunteer_id"] for row in ending}),
               credentials.c.revoked_at.is_(None))).all()

    def renewed(row: sa.RowMapping) -> bool:
        return any(c.volunteer_id == row["volunteer_id"] and c.kind == row["kind"]
                   and (c.valid_until is None or c.valid_until > row["valid_until"])
                   and (c.valid_from is None or c.valid_from <= row["valid_until"] + timedelta(days=1))
                   for c in later)

    return [row for row in ending if not renewed(row)]


def expired_not_renewed(session: Session, today: date, days: int) -> list[sa.RowMapping]:
    """Credentials whose last valid day was within the past `days` days and that no credential of the same kind
    of the same provider valid today (or without an end) has replaced; oldest first. For the staff dashboard."""
    renewal = credentials.alias("renewal")
    renewed = sa.exists().where(renewal.c.volunteer_id == credentials.c.volunteer_id,
                                renewal.c.kind == credentials.c.kind, renewal.c.valid_from <= today,
                                renewal.c.revoked_at.is_(None),
                                sa.or_(renewal.c.valid_until.is_(None), renewal.c.valid_until >= today))
    return list(session.execute(
        sa.select(credentials.c.id, credentials.c.kind, credentials.c.valid_until, credentials.c.volunteer_id)
        .join(volunteers, volunteers.c.id == credentials.c.volunteer_id)
        .where(credentials.c.valid_until < today, credentials.c.valid_until >= today - timedelta(days=days),
               credentials.c.revoked_at.is_(None), volunteers.c.erased_at.is_(None), ~renewed)
        .order_by(credentials.c.valid_until)).mappings())


# --- offers ----------------------------------------------------------------------------------------


def _offer_published(session: Session, outbox: Outbox, offer_id: str) -> None:
    o = session.execute(sa.select(offers).where(offers.c.id == offer_id)).mappings().one()
    outbox.add(session, volunteer_contract.TOPIC, "OfferPublished", o["volunteer_id"], {
        "offer_id": o["id"], "volunteer_id": o["volunteer_id"], "categories": o["categories"],
        "villages": o["villages"], "available_from": o["available_from"].isoformat(),
        "available_to": o["available_to"].isoformat(), "weekly_slots": o["weekly_slots"] or [],
        "standing": bool(o["standing"])})


def publish_offer(session: Session, outbox: Outbox, volunteer_id: str, data: dict[str, Any],
                  submission: str | None = None) -> dict[str, Any]:
    volunteer = _live(session, volunteer_id)
    if volunteer["verified_at"] is None:
        raise Conflict("Wykonawca nie został jeszcze zweryfikowany przez pracownika CUS.")
    claim_submission(session, submission, "offer", volunteer_id)
    row = {"categories": data["categories"], "available_from": data["available_from"],
           "available_to": data["available_to"], "weekly_slots": data.get("weekly_slots") or [],
           "standing": bool(data.get("standing")), "id": str(uuid.uuid4()), "volunteer_id": volunteer_id,
           "status": "published", "villages": data.get("villages") or volunteer["villages"], "created_at": now()}
    session.execute(sa.insert(offers).values(**row))
    _offer_published(session, outbox, row["id"])
    return row


def withdraw_offer(session: Session, outbox: Outbox, offer_id: str) -> dict[str, Any]:
    o = session.execute(sa.select(offers).where(offers.c.id == offer_id)).mappings().first()
    if o is None:
        raise NotFound(offer_id)
    if o["status"] == "withdrawn":
        raise Conflict("Oferta została już wycofana.")
    session.execute(sa.update(offers).where(offers.c.id == offer_id).values(status="withdrawn", withdrawn_at=now()))
    if o["status"] == "published":
        outbox.add(session, volunteer_contract.TOPIC, "OfferWithdrawn", o["volunteer_id"],
                   {"offer_id": offer_id, "volunteer_id": o["volunteer_id"]})
    return {**o, "status": "withdrawn"}


# --- personal data reads ---------------------------------------------------------------------------


def audit(session: Session, actor: str, action: str, volunteer_id: str | None, detail: str) -> None:
    session.execute(sa.insert(audit_log).values(at=now(), actor=actor[:120], action=action,
                                                volunteer_id=volunteer_id, detail=detail[:200]))


def read_contact(session: Session, volunteer_id: str, actor: str) -> dict[str, Any]:
    """Contact details for the one service that needs them at send time; the read is audited."""
    v = get_volunteer(session, volunteer_id)
    if v["erased_at"] is not None:
        raise NotFound(volunteer_id)  # erased: as if never known
    audit(session, actor, "contact_read", volunteer_id, "odczyt danych kontaktowych (API wewnętrzne)")
    name = v["contact_person"] if v["provider_type"] == model.PARTNER_ORGANISATION and v["contact_person"] \
        else v["name"]
    return {"name": name, "email": v["email"], "phone": v["phone"],
            "preferred_channel": v["preferred_channel"] or "email", "quiet_hours": v["quiet_hours"],
            "engagement_messages": bool(v.get("engagement_messages", True))}


# --- consumed events -------------------------------------------------------------------------------


def on_match_proposed(session: Session, event: Event) -> None:
    session.execute(sa.insert(assignments).values(
        match_id=event.data["match_id"], volunteer_id=event.data["volunteer_id"], need_id=event.data["need_id"],
        status="proposed", updated_at=now()))


def handlers(outbox: Outbox) -> dict[str, Handler]:
    return visits.with_visits({"MatchProposed": on_match_proposed, "MatchCompleted": hours.on_match_completed,
                               "ParticipationRecorded": hours.on_participation_recorded})


# --- what every staff role may see of a Kamilka check; the audit log -------------------------------------------


def minors_clearance(provider: model.Provider, day: date) -> tuple[bool, date | None]:
    """May this provider be given tasks involving minors on `day`, and the last day of the Kamilka check in force:
    all that staff without access to criminal-record details see (docs/security.md)."""
    if not model.CATEGORIES_INVOLVING_MINORS & model.eligible_categories(provider, day):
        return False, None
    deciding = model.deciding_kamilka_check(provider.credentials)
    return True, deciding.valid_until if deciding is not None else None


def audit_entries(session: Session, volunteer_id: str | None = None, action: str | None = None,
                  limit: int = 200) -> list[sa.RowMapping]:
    """The audit log, newest first, optionally of one provider and/or one action."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if volunteer_id:
        query = query.where(audit_log.c.volunteer_id == volunteer_id)
    if action:
        query = query.where(audit_log.c.action == action)
    return list(session.execute(query).mappings())
