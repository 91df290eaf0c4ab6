"""Notify service: turn events into ledger rows, never twice for the same event, recipient and channel.

Only events whose schemas the publishers define are handled (`CONSUMES`); the others agreed in
docs/events.md get handlers here as soon as they appear in the publisher's contract (contracts/).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import community as community_contract
from contracts import matching as match_contract
from contracts import needs as need_contract
from contracts import notify as notify_contract
from contracts import volunteers as volunteer_contract
from services.notify import feedback, follow_ups, request_notices, resident_notices
from services.notify.call_notices import call_handlers
from services.notify.contacts import (
    CASE_SYSTEM,
    IPUS_COORDINATOR,
    ORGANISER,
    PARTICIPANT,
    SOCIAL_WORKER,
    VOLUNTEER,
)
from services.notify.db import (
    activities_seen,
    activity_recipients,
    matches_seen,
    needs_watched,
    notifications,
)
from services.notify.ledger import PROVIDER_CHANNELS, cancel_pending, derived_id, record, record_rendered
from services.notify.links import link_url
from services.notify.messages import (
    REVOCATION_REASONS,
    gate_reason,
    quiet_until,
    render,
    visits_pl,
    waiting_pl,
)
from services.notify.settings import Settings
from wspolnota import reference
from wspolnota.localtime import WARSAW
from wspolnota.service import Clock, utc_now
from wspolnota.transport import Catalog, Event
from wspolnota.transport.consumer import Handler
from wspolnota.transport.outbox import Outbox

PUBLISHES = Catalog(notify_contract.EVENTS)
ERASED_TEXT = "(treść usunięta — RODO)"
CONSUMES = Catalog(match_contract.EVENTS, need_contract.EVENTS, volunteer_contract.EVENTS,
                   community_contract.EVENTS)
SUBSCRIPTIONS = [match_contract.TOPIC, need_contract.TOPIC, volunteer_contract.TOPIC, community_contract.TOPIC]
ACTIVITY_KINDS_SENT = ("activity_reminder", "activity_changed", "activity_cancelled", "activity_announcement")


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _remember_match(session: Session, d: dict[str, Any], status: str) -> dict[str, Any]:
    """Keep what later events about this match will not repeat; return what is known of it."""
    t = matches_seen
    known = session.execute(sa.select(t).where(t.c.match_id == d["match_id"])).mappings().first()
    facts = {k: d[k] for k in ("category", "village", "urgent", "series_id", "series_commitment")
             if d.get(k) is not None}
    for when in ("window_start", "deadline"):
        if d.get(when):
            facts[when] = _dt(d[when])
    if d.get("agreed_start"):  # the visit's agreed time (MatchProposed / MatchOffered): the time messages show
        facts["window_start"] = _dt(d["agreed_start"])
    if known:
        session.execute(sa.update(t).where(t.c.match_id == d["match_id"]).values(status=status, **facts))
        return {**dict(known), **facts, "status": status}
    if {"category", "village", "window_start"} <= facts.keys():
        session.execute(sa.insert(t).values(match_id=d["match_id"], need_id=d["need_id"],
                                            volunteer_id=d["volunteer_id"], status=status,
                                            **{"urgent": False, **facts}))
    return {"need_id": d["need_id"], "volunteer_id": d["volunteer_id"], "urgent": False, **facts}


def _match_context(m: dict[str, Any]) -> dict[str, Any]:
    return {"category_code": m.get("category"), "village_code": m.get("village"),
            "window_start": m.get("window_start"), "urgent": bool(m.get("urgent"))}


def _webhook_payload(session: Session, event: Event, name: str, m: dict[str, Any], **extra: Any) -> dict[str, Any]:
    ws = m.get("window_start")
    plan_ref = session.execute(sa.select(needs_watched.c.plan_ref).where(
        needs_watched.c.need_id == event.data["need_id"])).scalar()
    return {"event": name, "occurred_at": event.time.isoformat(), "need_id": event.data["need_id"], "plan_ref": plan_ref,
            "match_id": event.data["match_id"], "provider_ref": event.data["volunteer_id"],
            "category": m.get("category"), "village": m.get("village"),
            "window_start": ws.isoformat() if isinstance(ws, datetime) else ws, **extra}


def handlers(outbox: Outbox, settings: Settings | None = None, clock: Clock = utc_now) -> dict[str, Handler]:
    """The handler of each consumed event; `clock` judges what is already past (the bootstrap's clock)."""
    cfg = settings or Settings.from_env()

    def on_match_proposed(session: Session, event: Event) -> None:
        d = event.data
        _remember_match(session, d, "proposed")
        category = reference.categories()[d["category"]]["name"]
        village = reference.villages()[d["village"]]["name"]
        urgent = " (PILNE)" if d["urgent"] else ""
        record(session, outbox, str(event.id), "match_proposed", ORGANISER, "panel",
               subject=f"Nowa propozycja dopasowania{urgent}: {category}, {village}",
               body=f"{d['reason']} Propozycja czeka na przegląd w module Dopasowania.",
               need_id=d["need_id"], match_id=d["match_id"])

    def on_match_offered(session: Session, event: Event) -> None:
        d = event.data
        m = _remember_match(session, d, "offered")
        offer_id = str(event.id)  # one answer per offer, whichever channel's link is used
        links = {a: link_url(cfg.public_url, cfg.link_secret, offer_id, a) for a in ("accept", "decline", "choose")}
        text = render("match_offered", **_match_context(m), deadline=d.get("deadline"), link=links["choose"],
                      accept_link=links["accept"], decline_link=links["decline"])
        record_rendered(session, outbox, offer_id, "match_offered", VOLUNTEER + d["volunteer_id"],
                        PROVIDER_CHANNELS, text, need_id=d["need_id"], match_id=d["match_id"],
                        urgent=bool(m.get("urgent")))

    def on_match_accepted(session: Session, event: Event) -> None:
        d = event.data
        m = _remember_match(session, d, "accepted")
        ctx = _match_context(m)
        text = render("match_accepted", **ctx, need_id=d["need_id"], match_id=d["match_id"])
        common = {"need_id": d["need_id"], "match_id": d["match_id"]}
        record(session, outbox, str(event.id), "match_accepted", ORGANISER, "email", text.subject, text.email,
               **common)
        record(session, outbox, str(event.id), "match_accepted", CASE_SYSTEM, "webhook", text.subject,
               text.email, payload=_webhook_payload(session, event, "match.accepted", m, status="accepted"), **common)
        session.execute(sa.update(needs_watched).where(needs_watched.c.need_id == d["need_id"],
                                                       needs_watched.c.status == "open").values(status="matched"))
        window = _dt(m.get("window_start"))
        if window is not None:
            due = window - timedelta(hours=cfg.reminder_hours)
            if due > clock():
                record_rendered(session, outbox, derived_id(str(event.id), "reminder"), "visit_reminder",
                                VOLUNTEER + d["volunteer_id"], PROVIDER_CHANNELS, render("visit_reminder", **ctx),
                                due=due, **common)

    def on_match_cancelled(session: Session, event: Event) -> None:
        d = event.data
        before = session.execute(sa.select(matches_seen.c.status).where(
            matches_seen.c.match_id == d["match_id"])).scalar()
        m = _remember_match(session, d, "cancelled")
        cancel_pending(session, notifications.c.match_id == d["match_id"],
                       notifications.c.kind.in_(["match_offered", "visit_reminder", "visit_check"]),
                       reason="dopasowanie odwołane")
        ctx = {**_match_context(m), "reason": match_contract.reason_label(d.get("reason")), "match_id": d["match_id"]}
        common = {"need_id": d["need_id"], "match_id": d["match_id"]}
        cause = str(event.id)
        # Affected: the provider if they heard of it (offered or accepted; unknown history counts as heard),
        # the case system if it was told of the acceptance, and always the organiser. A visit the provider stepped
        # back from: they know, and the organiser hears of it once, from MatchSteppedBack.
        stepped_back = d.get("reason") == "stepped_back"
        if before in (None, "offered", "accepted") and not stepped_back:
            record_rendered(session, outbox, cause, "match_cancelled", VOLUNTEER + d["volunteer_id"],
                            PROVIDER_CHANNELS, render("match_cancelled", **ctx, for_provider=True), urgent=True,
                            **common)
        staff = render("match_cancelled", **ctx, for_provider=False)
        if not stepped_back:
            record(session, outbox, cause, "match_cancelled", ORGANISER, "email", staff.subject, staff.email,
                   **common)
        if before in (None, "accepted"):
            record(session, outbox, cause, "match_cancelled", CASE_SYSTEM, "webhook", staff.subject, staff.email,
                   payload=_webhook_payload(session, event, "match.cancelled", m, status="cancelled",
                                            reason=d.get("reason")), **common)

    def on_match_answer_too_late(session: Session, event: Event) -> None:
        """An acceptance that came after the offer closed: the provider is told not to come, the organiser
        sees it. The match's state stays as matching left it."""
        d = event.data
        known = session.execute(sa.select(matches_seen).where(matches_seen.c.match_id == d["match_id"])
                                ).mappings().first()
        ctx = {**_match_context(dict(known or {})), "status": d["status"], "match_id": d["match_id"],
               "reason": match_contract.reason_label(d.get("reason")) if d.get("reason") else ""}
        common = {"need_id": d["need_id"], "match_id": d["match_id"]}
        record_rendered(session, outbox, str(event.id), "match_too_late", VOLUNTEER + d["volunteer_id"],
                        PROVIDER_CHANNELS, render("match_too_late", **ctx, for_provider=True), urgent=True,
                        **common)
        staff = render("match_too_late", **ctx, for_provider=False)
        record(session, outbox, str(event.id), "match_too_late", ORGANISER, "email", staff.subject, staff.email,
               **common)

    def on_match_stepped_back(session: Session, event: Event) -> None:
        """A provider stepped back from an accepted visit or its whole series: the organiser is told once per
        step-back, urgently when it came at short notice (the dashboard lists it from matching)."""
        d = event.data
        known = session.execute(sa.select(matches_seen).where(matches_seen.c.match_id == d["match_id"])
                                ).mappings().first()
        ctx = _match_context(dict(known or {}))
        if d.get("visit_start"):
            ctx["window_start"] = _dt(d["visit_start"])
        text = render("match_stepped_back", **ctx, scope=d["scope"], short_notice=bool(d["short_notice"]),
                      reason=match_contract.STEP_BACK_REASONS.get(d["reason"], d["reason"]),
                      visits=visits_pl(int(d.get("cancelled") or 0)), need_id=d["need_id"], match_id=d["match_id"])
        record(session, outbox, str(event.id), "match_stepped_back", ORGANISER, "email", text.subject, text.email,
               need_id=d["need_id"], match_id=d["match_id"], urgent=bool(d["short_notice"]))

    def on_series_event(notice: str) -> Handler:
        """A whole series accepted, one of its visits sent to the cascade, a commitment ended (not by stepping
        back: that is MatchSteppedBack's message): the organiser's panel or e-mail."""
        def handle(session: Session, event: Event) -> None:
            d = event.data
            if notice == "ended" and d["reason"] == "stepped_back":
                return
            seen = session.execute(sa.select(needs_watched).where(
                needs_watched.c.need_id == d.get("need_id"))).mappings().first() if d.get("need_id") else None
            reason = (gate_reason(d.get("reason")) if notice == "skipped"
                      else match_contract.COMMITMENT_END_REASONS.get(d.get("reason") or "", d.get("reason") or ""))
            text = render("series_notice", notice=notice, series_id=d["series_id"], reason=reason,
                          category_code=seen["category"] if seen else None,
                          village_code=seen["village"] if seen else None,
                          window_start=seen["window_start"] if seen else None)
            record(session, outbox, str(event.id), "series_notice", ORGANISER,
                   "panel" if notice == "committed" else "email", text.subject, text.email, need_id=d.get("need_id"))
        return handle

    def on_match_closed(status: str, kinds: tuple[str, ...] = ("match_offered",)) -> Handler:
        def handle(session: Session, event: Event) -> None:
            _remember_match(session, event.data, status)
            cancel_pending(session, notifications.c.match_id == event.data["match_id"],
                           notifications.c.kind.in_(kinds), reason=f"dopasowanie zamknięte ({status})")
        return handle

    def on_need_registered(session: Session, event: Event) -> None:
        d = event.data
        facts = {"category": d["category"], "village": d["village"], "window_start": _dt(d.get("window_start")),
                 "plan_ref": d.get("plan_ref")}
        if session.execute(sa.select(needs_watched.c.need_id).where(needs_watched.c.need_id == d["need_id"])).first():
            session.execute(sa.update(needs_watched).where(needs_watched.c.need_id == d["need_id"]).values(**facts))
            return
        session.execute(sa.insert(needs_watched).values(
            need_id=d["need_id"], cause_event_id=str(event.id), registered_at=event.time, status="open", **facts))

    def on_need_closed(session: Session, event: Event) -> None:
        need_id = event.data["need_id"]
        session.execute(sa.update(needs_watched).where(needs_watched.c.need_id == need_id,
                                                       needs_watched.c.status == "open").values(status="closed"))
        cancel_pending(session, notifications.c.need_id == need_id,
                       notifications.c.kind.in_(["need_unmatched", "visit_reminder", "match_offered"]),
                       reason=f"potrzeba zamknięta ({event.type})")

    def on_package(kind: str, name: str) -> Handler:
        def handle(session: Session, event: Event) -> None:
            plan_ref = event.data.get("plan_ref") or event.key
            text = render(kind, plan_ref=plan_ref)
            record(session, outbox, str(event.id), kind, IPUS_COORDINATOR, "email", text.subject, text.email)
            record(session, outbox, str(event.id), kind, CASE_SYSTEM, "webhook", text.subject, text.email,
                   payload={"event": name, "occurred_at": event.time.isoformat(), "plan_ref": plan_ref})
        return handle

    def on_credential_recorded(session: Session, event: Event) -> None:
        d = event.data
        valid_until = d.get("valid_until")
        if not valid_until:
            return
        until = _dt(valid_until) if "T" in str(valid_until) else datetime.fromisoformat(
            str(valid_until) + "T00:00:00+00:00")
        assert until is not None
        due = max(until - timedelta(days=cfg.credential_warning_days), clock())
        text = render("credential_expiring", credential_code=d["kind"], expired=False,
                      valid_until=f"{until:%d.%m.%Y}")
        cause = derived_id(str(event.id), "expiring")
        # A renewal replaces the warning booked for the old date (same recipient, same credential).
        cancel_pending(session, notifications.c.recipient == VOLUNTEER + d["volunteer_id"],
                       notifications.c.kind == "credential_expiring", notifications.c.subject == text.subject,
                       notifications.c.cause_event_id != cause, reason="uprawnienie odnowione")
        record_rendered(session, outbox, cause, "credential_expiring",
                        VOLUNTEER + d["volunteer_id"], PROVIDER_CHANNELS, text, due=due)

    def on_credential_expired(session: Session, event: Event) -> None:
        d = event.data
        text = render("credential_expiring", credential_code=d["kind"], expired=True, valid_until="")
        record_rendered(session, outbox, str(event.id), "credential_expiring", VOLUNTEER + d["volunteer_id"],
                        PROVIDER_CHANNELS, text)

    def on_safety_event(session: Session, event: Event) -> None:
        """A credential revoked, or the person paused pending a safety review: one message to the organiser
        per event, with no name — a link to the volunteer's page by id."""
        d = event.data
        paused = event.type == "VolunteerPaused"
        if paused and d.get("reason") != volunteer_contract.PAUSE_SAFETY_REVIEW:
            return  # the person's own pause: nothing for the organiser
        if not paused and d.get("reason") == "superseded":
            return  # a routine renewal: the newer check took over, nobody lost anything
        front_door = cfg.public_url.rstrip("/").removesuffix("/notify")
        text = render("volunteer_safety", paused=paused, credential_code=d.get("kind"),
                      reason=REVOCATION_REASONS.get(d.get("reason") or "", d.get("reason") or ""),
                      link=f"{front_door}/volunteers/wykonawcy/{d['volunteer_id']}")
        record(session, outbox, str(event.id), "volunteer_safety", ORGANISER, "email", text.subject, text.email)

    def on_sign_in_link_requested(session: Session, event: Event) -> None:
        """A volunteer asked for a sign-in link: one message on the channel they typed (their e-mail address or
        phone number, read from the volunteers service at send time), whatever their preferred channel and even
        in quiet hours (urgent: they are waiting for it). The link is built here from the token id with the
        sign-in key (contracts/volunteers.py); the bus never carried it."""
        d = event.data
        front_door = cfg.public_url.rstrip("/").removesuffix("/notify")
        token = volunteer_contract.sign_in_token(cfg.secret_key, d["token_id"])
        expires = _dt(d["expires_at"])
        if expires is not None and expires <= clock():
            return  # the request waited on the bus past its link's life: a dead link helps nobody
        text = render("volunteer_sign_in", link=f"{front_door}{volunteer_contract.SIGN_IN_PATH}{token}",
                      until=f"{expires.astimezone(WARSAW):%H:%M}" if expires else "")
        body = text.sms if d["channel"] == "sms" else text.email
        record(session, outbox, str(event.id), "volunteer_sign_in", VOLUNTEER + d["volunteer_id"], d["channel"],
               text.subject, body, urgent=True)

    def not_in_quiet_hours() -> datetime | None:
        """When a message that may wait goes out: now, or the end of the centre's quiet hours (both channels)."""
        return quiet_until(clock(), *cfg.quiet_window(), ZoneInfo(cfg.timezone))

    def on_match_completed(session: Session, event: Event) -> None:
        """The visit happened: close it as before, and thank the volunteer once per visit (the match id makes the
        cause, so a corrected MatchCompleted does not thank twice), never in quiet hours; a volunteer who switched
        thanks off is skipped at send time (the contact's `engagement_messages`)."""
        close_completed(session, event)
        d = event.data
        known = session.execute(sa.select(matches_seen.c.category).where(
            matches_seen.c.match_id == d["match_id"])).scalar()
        front_door = cfg.public_url.rstrip("/").removesuffix("/notify")
        text = render("visit_thanks", category_code=d.get("category") or known,
                      link=f"{front_door}/volunteers/wolontariusz/godziny")
        record_rendered(session, outbox, derived_id(d["match_id"], "thanks"), "visit_thanks",
                        VOLUNTEER + d["volunteer_id"], PROVIDER_CHANNELS, text, need_id=d["need_id"],
                        match_id=d["match_id"], due=not_in_quiet_hours())

    def on_idle_volunteer_nudged(session: Session, event: Event) -> None:
        """Matching found the volunteer idle with needs waiting near them: one gentle message per period."""
        d = event.data
        front_door = cfg.public_url.rstrip("/").removesuffix("/notify")
        text = render("idle_nudge", waiting=waiting_pl(int(d["open_needs"])),
                      link=f"{front_door}/volunteers/wolontariusz/dostepnosc")
        record_rendered(session, outbox, derived_id(d["volunteer_id"], f"nudge:{d['period']}"), "idle_nudge",
                        VOLUNTEER + d["volunteer_id"], PROVIDER_CHANNELS, text, due=not_in_quiet_hours())

    def on_concern_reported(session: Session, event: Event) -> None:
        """A concern about a resident: at once (urgent: no quiet hours) to the resident's social worker, whose
        address the sender asks the needs service for at send time (the organiser when there is none). The
        message is a link to the concern page; the concern's text never comes here."""
        d = event.data
        front_door = cfg.public_url.rstrip("/").removesuffix("/notify")
        text = render("concern_reported", link=f"{front_door}/needs/zgloszenia/{d['concern_id']}",
                      urgent=bool(d.get("urgent", True)), general=not d.get("resident_ref"))
        record(session, outbox, str(event.id), "concern_reported", SOCIAL_WORKER + d["concern_id"], "email",
               text.subject, text.email, need_id=d.get("need_id"), urgent=True)

    def on_volunteer_erased(session: Session, event: Event) -> None:
        cancel_pending(session, notifications.c.recipient == VOLUNTEER + event.data["volunteer_id"],
                       reason="dane wolontariusza usunięte")

    def on_resident_erased(session: Session, event: Event) -> None:
        """RODO art. 17. Notify never stored the resident's name, address or phone, but its texts and webhook
        bodies about the resident's needs and plans (village, category, times, plan number) go: rows not sent
        yet are cancelled — except notices that a visit is off, which the provider must still get — and the
        rest are redacted. The ledger rows (cause, recipient, channel, status) stay, so nothing is sent twice."""
        need_ids = list(event.data.get("need_ids") or [])
        plan_refs = list(event.data.get("plan_refs") or [])
        about_needs = notifications.c.need_id.in_(need_ids)
        package_subjects = [render(kind, plan_ref=p).subject for p in plan_refs
                            for kind in ("support_package_started", "support_package_ended")]
        about_plans = sa.and_(notifications.c.need_id.is_(None), notifications.c.subject.in_(package_subjects))
        concerns = sa.or_(about_needs, about_plans)
        cancel_pending(session, concerns, notifications.c.kind != "match_cancelled",
                       reason="dane mieszkańca usunięte (RODO)")
        done = notifications.c.status.not_in(["pending", "sending"])
        session.execute(sa.update(notifications).where(concerns, done).values(subject=ERASED_TEXT, body="",
                                                                              payload=None))
        if need_ids:
            session.execute(sa.update(needs_watched).where(needs_watched.c.need_id.in_(need_ids)).values(
                plan_ref=None, status=sa.case((needs_watched.c.status == "open", "closed"),
                                              else_=needs_watched.c.status)))

    # -- helper places at community activities (matching's Helper* events) ----------------------------------
    def _remember_helper(session: Session, d: dict[str, Any], status: str) -> dict[str, Any]:
        t = matches_seen
        known = session.execute(sa.select(t).where(t.c.match_id == d["match_id"])).mappings().first()
        if known is not None:
            session.execute(sa.update(t).where(t.c.match_id == d["match_id"]).values(status=status))
            return {**dict(known), "status": status}
        if "starts_at" not in d or "village" not in d:
            return {"activity_id": d["activity_id"], "status": status}
        facts = {"match_id": d["match_id"], "need_id": d["activity_id"], "activity_id": d["activity_id"],
                 "volunteer_id": d["volunteer_id"], "category": d.get("category") or "", "village": d["village"],
                 "window_start": _dt(d["starts_at"]), "window_end": _dt(d.get("ends_at")),
                 "deadline": _dt(d.get("deadline")), "activity_kind": d.get("kind"), "urgent": False,
                 "status": status}
        session.execute(sa.insert(t).values(**facts))
        return facts

    def _helper_context(h: dict[str, Any]) -> dict[str, Any]:
        return {"activity_kind": h.get("activity_kind"), "village_code": h.get("village"),
                "window_start": h.get("window_start"), "window_end": h.get("window_end"),
                "activity_id": h.get("activity_id")}

    def on_helper_offered(session: Session, event: Event) -> None:
        d = event.data
        h = _remember_helper(session, d, "offered")
        offer_id = str(event.id)  # one answer per offer, whichever channel's link is used
        links = {a: link_url(cfg.public_url, cfg.link_secret, offer_id, a) for a in ("accept", "decline", "choose")}
        text = render("helper_offered", **_helper_context(h), deadline=d["deadline"], link=links["choose"],
                      accept_link=links["accept"], decline_link=links["decline"],
                      involves_children=bool(d.get("involves_children")))
        record_rendered(session, outbox, offer_id, "helper_offered", VOLUNTEER + d["volunteer_id"],
                        PROVIDER_CHANNELS, text, match_id=d["match_id"])

    def on_helper_accepted(session: Session, event: Event) -> None:
        d = event.data
        h = _remember_helper(session, d, "accepted")
        # reminders and notices come once community has added them (ParticipantAdded): an acceptance may still
        # wait at community's Kamilka gate
        text = render("helper_accepted", **_helper_context(h))
        record(session, outbox, str(event.id), "helper_accepted", ORGANISER, "panel", text.subject, text.email,
               match_id=d["match_id"])

    def on_helper_closed(status: str) -> Handler:
        def handle(session: Session, event: Event) -> None:
            _remember_helper(session, event.data, status)
            cancel_pending(session, notifications.c.match_id == event.data["match_id"],
                           notifications.c.kind == "helper_offered", reason=f"prośba zamknięta ({status})")
        return handle

    def on_helper_cancelled(session: Session, event: Event) -> None:
        """The activity is off, the places are taken or the helper no longer qualifies: a provider who heard of
        it (an offer out or an acceptance) is told not to come."""
        d = event.data
        before = session.execute(sa.select(matches_seen.c.status).where(
            matches_seen.c.match_id == d["match_id"])).scalar()
        h = _remember_helper(session, d, "cancelled")
        cancel_pending(session, notifications.c.match_id == d["match_id"],
                       notifications.c.kind == "helper_offered", reason="prośba odwołana")
        if d.get("accepted"):
            _leave(session, d["activity_id"], VOLUNTEER + d["volunteer_id"], "pomocnik odwołany")
        if before in ("offered", "accepted") or d.get("accepted"):
            text = render("helper_cancelled", **_helper_context(h),
                          reason=match_contract.reason_label(d.get("reason")))
            record_rendered(session, outbox, str(event.id), "helper_cancelled", VOLUNTEER + d["volunteer_id"],
                            PROVIDER_CHANNELS, text, match_id=d["match_id"], urgent=True)

    # -- community activities: reminders, notices of change, cancellations, announcements (docs/notify.md) ------
    def _activity(session: Session, activity_id: str) -> dict[str, Any] | None:
        row = session.execute(sa.select(activities_seen).where(activities_seen.c.activity_id == activity_id)
                              ).mappings().first()
        return dict(row) if row is not None else None

    def _recipients(session: Session, activity_id: str) -> list[str]:
        r = activity_recipients
        return list(session.execute(sa.select(r.c.recipient).where(r.c.activity_id == activity_id, r.c.active)
                                    .order_by(r.c.recipient)).scalars())

    def _activity_context(a: dict[str, Any]) -> dict[str, Any]:
        return {"activity_kind": a["kind"], "village_code": a["village"], "window_start": a["starts_at"],
                "window_end": a["ends_at"]}

    def _book_reminder(session: Session, a: dict[str, Any], recipient: str) -> None:
        """The day before, once per reminder round (cause) and recipient; none when that moment has passed.
        SMS waits out the quiet hours in the sender (not urgent)."""
        due = a["starts_at"] - timedelta(days=1)
        if a["status"] != "scheduled" or due <= clock():
            return
        record_rendered(session, outbox, a["reminder_cause"], "activity_reminder", recipient, PROVIDER_CHANNELS,
                        render("activity_reminder", **_activity_context(a)), due=due, activity_id=a["activity_id"])

    def _join(session: Session, activity_id: str, recipient: str) -> None:
        r = activity_recipients
        updated = session.execute(sa.update(r).where(r.c.activity_id == activity_id, r.c.recipient == recipient)
                                  .values(active=True)).rowcount  # type: ignore[attr-defined]
        if not updated:
            session.execute(sa.insert(r).values(activity_id=activity_id, recipient=recipient, active=True))
        a = _activity(session, activity_id)
        if a is not None:
            _book_reminder(session, a, recipient)

    def _leave(session: Session, activity_id: str, recipient: str, reason: str) -> None:
        r = activity_recipients
        session.execute(sa.update(r).where(r.c.activity_id == activity_id, r.c.recipient == recipient)
                        .values(active=False))
        cancel_pending(session, notifications.c.activity_id == activity_id, notifications.c.recipient == recipient,
                       reason=reason)

    def _set_times(session: Session, event: Event) -> dict[str, Any]:
        """Keep the activity's facts; a new start opens a new reminder round: the old round's reminders not sent
        are cancelled and every participant gets one for the new day."""
        d = event.data
        facts = {"village": d["village"], "starts_at": _dt(d["starts_at"]), "ends_at": _dt(d.get("ends_at")),
                 **({"kind": d["kind"]} if d.get("kind") else {})}
        known = _activity(session, d["activity_id"])
        if known is None:
            row = {"activity_id": d["activity_id"], "kind": d.get("kind"), "status": "scheduled",
                   "reminder_cause": derived_id(str(event.id), "reminder"), **facts}
            session.execute(sa.insert(activities_seen).values(**row))
        elif known["starts_at"] != facts["starts_at"] and known["status"] == "scheduled":
            row = {**known, **facts, "reminder_cause": derived_id(str(event.id), "reminder")}
            session.execute(sa.update(activities_seen).where(activities_seen.c.activity_id == d["activity_id"])
                            .values(**facts, reminder_cause=row["reminder_cause"]))
            cancel_pending(session, notifications.c.activity_id == d["activity_id"],
                           notifications.c.kind == "activity_reminder",
                           notifications.c.cause_event_id != row["reminder_cause"], reason="nowy termin zajęć")
        else:
            row = {**known, **facts}
            session.execute(sa.update(activities_seen).where(activities_seen.c.activity_id == d["activity_id"])
                            .values(**facts))
            return row
        for recipient in _recipients(session, d["activity_id"]):
            _book_reminder(session, row, recipient)
        return row

    def on_activity_scheduled(session: Session, event: Event) -> None:
        _set_times(session, event)

    def on_activity_changed(session: Session, event: Event) -> None:
        d = event.data
        a = _set_times(session, event)
        changed = set(d.get("changed") or [])
        if a["status"] != "scheduled" or not changed & set(community_contract.NOTICE_CHANGES):
            return
        text = render("activity_changed", **_activity_context(a), venue_changed="venue" in changed)
        for recipient in _recipients(session, d["activity_id"]):
            record_rendered(session, outbox, str(event.id), "activity_changed", recipient, PROVIDER_CHANNELS, text,
                            activity_id=d["activity_id"])

    def on_activity_cancelled(session: Session, event: Event) -> None:
        """Nothing more about it is sent; residents and staff-added helpers are told it is off (a helper from
        matching's offer hears it from HelperCancelled, which matching publishes for the same cancellation)."""
        activity_id = event.data["activity_id"]
        cancel_pending(session, notifications.c.activity_id == activity_id,
                       notifications.c.kind.in_(ACTIVITY_KINDS_SENT), reason="zajęcia odwołane")
        a = _activity(session, activity_id)
        if a is None:
            return
        session.execute(sa.update(activities_seen).where(activities_seen.c.activity_id == activity_id)
                        .values(status="cancelled"))
        via_matching = set(session.execute(sa.select(matches_seen.c.volunteer_id).where(
            matches_seen.c.activity_id == activity_id)).scalars())
        text = render("activity_cancelled", **_activity_context(a))
        urgent = a["starts_at"] - clock() < timedelta(hours=12)  # tomorrow morning's: not held back till 8:00
        for recipient in _recipients(session, activity_id):
            if recipient.startswith(VOLUNTEER) and recipient.removeprefix(VOLUNTEER) in via_matching:
                continue
            record_rendered(session, outbox, str(event.id), "activity_cancelled", recipient, PROVIDER_CHANNELS,
                            text, activity_id=activity_id, urgent=urgent)

    def on_participant_added(session: Session, event: Event) -> None:
        d = event.data
        if d["role"] == community_contract.RESIDENT and not d.get("reminders"):
            return  # no consent or no address: staff call them (the activity page's call list)
        prefix = PARTICIPANT if d["role"] == community_contract.RESIDENT else VOLUNTEER
        _join(session, d["activity_id"], prefix + d["participant_id"])

    def on_participant_removed(session: Session, event: Event) -> None:
        d = event.data
        prefix = PARTICIPANT if d["role"] == community_contract.RESIDENT else VOLUNTEER
        _leave(session, d["activity_id"], prefix + d["participant_id"],
               "uczestnik wypisany" if d.get("reason") != community_contract.ERASED else "dane uczestnika usunięte")

    def on_announcement(session: Session, event: Event) -> None:
        d = event.data
        a = _activity(session, d["activity_id"])
        if a is None or a["status"] != "scheduled":
            return
        text = render("activity_announcement", **_activity_context(a), text=d["text"])
        for recipient in _recipients(session, d["activity_id"]):
            record_rendered(session, outbox, str(event.id), "activity_announcement", recipient, PROVIDER_CHANNELS,
                            text, activity_id=d["activity_id"])

    close_completed = on_match_closed("completed", ("match_offered", "visit_reminder", "visit_check"))
    wanted: dict[str, Callable[[Session, Event], None]] = {
        "MatchProposed": on_match_proposed,
        "MatchOffered": on_match_offered,
        "MatchAccepted": on_match_accepted,
        "MatchCancelled": on_match_cancelled,
        "MatchDeclined": on_match_closed("declined"),
        "MatchExpired": on_match_closed("expired"),
        "MatchCompleted": on_match_completed,
        "IdleVolunteerNudged": on_idle_volunteer_nudged,
        "MatchAnswerTooLate": on_match_answer_too_late,
        "MatchSteppedBack": on_match_stepped_back,
        "SeriesCommitted": on_series_event("committed"),
        "SeriesVisitSkipped": on_series_event("skipped"),
        "SeriesCommitmentEnded": on_series_event("ended"),
        "HelperOffered": on_helper_offered,
        "HelperAccepted": on_helper_accepted,
        "HelperDeclined": on_helper_closed("declined"),
        "HelperExpired": on_helper_closed("expired"),
        "HelperCancelled": on_helper_cancelled,
        "NeedRegistered": on_need_registered,
        "NeedUpdated": on_need_registered,
        "NeedCancelled": on_need_closed,
        "NeedCompleted": on_need_closed,
        "SupportPackageOpened": on_package("support_package_started", "support_package.opened"),
        "SupportPackageClosed": on_package("support_package_ended", "support_package.closed"),
        "CredentialRecorded": on_credential_recorded,
        "CredentialExpired": on_credential_expired,
        "CredentialRevoked": on_safety_event,
        "VolunteerPaused": on_safety_event,
        "VolunteerErased": on_volunteer_erased,
        "SignInLinkRequested": on_sign_in_link_requested,
        "ResidentErased": on_resident_erased,
        "ConcernReported": on_concern_reported,
        "ActivityScheduled": on_activity_scheduled,
        "ActivityChanged": on_activity_changed,
        "ActivityCancelled": on_activity_cancelled,
        "ParticipantAdded": on_participant_added,
        "ParticipantRemoved": on_participant_removed,
        "AnnouncementPosted": on_announcement,
        **follow_ups.handlers(outbox, cfg, clock),  # "did it happen?", "is it still needed?"
    }
    wanted.update(request_notices.handlers(outbox, cfg))  # residents' requests for help
    wanted.update(call_handlers(outbox, cfg))
    wanted = resident_notices.merged(wanted, resident_notices.handlers(outbox, cfg, clock))
    for name, extra in feedback.handlers(outbox, cfg, clock).items():  # escalated concerns, feedback requests
        wanted[name] = feedback.chained(wanted.get(name), extra)
    return {name: handler for name, handler in wanted.items() if name in CONSUMES}
