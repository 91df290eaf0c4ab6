"""The volunteer's visits in their own space, /volunteers/wolontariusz/wizyty: open offers (accept this visit, the
whole series, or "not this time"), upcoming and past visits, stepping back, "it happened". Phone-first, Polish,
no JavaScript; every POST carries the CSRF token; only the signed-in volunteer's own visits (services/volunteers/
visits.py checks the match is theirs). Routes on the space's blueprint, so they share its session and header.

The resident's first name, address and phone are shown for an accepted visit only from
VOLUNTEER_RESIDENT_DETAILS_BEFORE_H hours before its start until VOLUNTEER_RESIDENT_DETAILS_AFTER_H hours after its
end, read at that moment from the needs service (which checks the match and the window again and audits the read).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for

from services.volunteers import self_forms, visit_feedback, visits
from services.volunteers.signed_in import settings
from services.volunteers.volunteer_space import bp, now, page, read_audited, signed_in_volunteer
from wspolnota import errors, localtime, reference
from wspolnota.web import current_parts

log = logging.getLogger("volunteers.web")
WEEKDAYS = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
OUTSIDE_WINDOW = "Dane mieszkańca zobaczysz dzień przed wizytą."
NOT_YET_KNOWN = "Dane mieszkańca nie są jeszcze dostępne. Odśwież stronę za chwilę albo zadzwoń do organizatora."
CONTACT_FAILED = "Nie udało się teraz pobrać danych mieszkańca. Spróbuj za chwilę albo zadzwoń do organizatora."
ENDPOINTS = ("visits_page", "visit_answer", "visit_step_back", "visit_confirm")  # PUBLIC in wspolnota/access.py


def when(value: datetime | None) -> str:
    """"środa 09.12.2026, 10:00" on the Warsaw calendar."""
    if value is None:
        return ""
    local = value.astimezone(localtime.WARSAW)
    return f"{WEEKDAYS[local.weekday()]} {local:%d.%m.%Y}, {local:%H:%M}"


def with_contacts(volunteer_id: str, rows: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    s = settings()
    out = []
    for row in rows:
        row = dict(row)
        row["contact"], row["contact_note"] = None, None
        if row["status"] in (visits.ACCEPTED, visits.COMPLETED) and row["stepped_back"] is None:
            if visits.details_open(row, at, s.volunteer_resident_details_before_h,
                                   s.volunteer_resident_details_after_h):
                try:
                    row["contact"] = visits.visit_contact(s.needs_internal_url,
                                                          str(current_app.config.get("INTERNAL_SERVICE_TOKEN") or ""),
                                                          row["match_id"], volunteer_id)
                except visits.ContactUnavailable as err:
                    log.warning("visit contact for match %s unavailable: %s", row["match_id"], err)
                    row["contact_note"] = CONTACT_FAILED
                if row["contact"] is None and row["contact_note"] is None:
                    row["contact_note"] = NOT_YET_KNOWN  # needs has not heard of the acceptance yet, or says no
            elif row["starts_at"] is not None and row["starts_at"] > at:
                row["contact_note"] = OUTSIDE_WINDOW
        out.append(row)
    return out


def render(volunteer: Any, status: int = 200, problems: dict[str, str] | None = None) -> tuple[str, int]:
    at = now()
    with current_parts().db.transaction() as session:
        found = visits.lists(session, volunteer["id"], at)
        read_audited(session, volunteer["id"], "wizyty (strona wolontariusza)")
        rated = visit_feedback.given(session, volunteer["id"])
    return page("visits.html", status, offers=found.offers, upcoming=with_contacts(volunteer["id"], found.upcoming, at),
                past=with_contacts(volunteer["id"], found.past, at), at=at, when=when, problems=problems or {},
                decline_reasons=visits.DECLINE_REASONS, step_back_reasons=visits.STEP_BACK_REASONS,
                organiser_phone=settings().centre_phone, form=self_forms.ButtonForm(formdata=None),
                minutes_min=visits.MINUTES_MIN, minutes_max=visits.MINUTES_MAX,
                remote_categories=reference.remote_categories(), rated=rated, feedback_pl=visit_feedback.CODE_PL)


@bp.get("/wizyty")
def visits_page():  # type: ignore[no-untyped-def]
    return render(signed_in_volunteer())[0]


def act(match_id: str, use_case: Any, done: str) -> Any:
    """Run one of visits.py's use cases for the signed-in volunteer after the CSRF check; a refusal or bad input
    shows the page again with the Polish message next to that visit, nothing written."""
    volunteer = signed_in_volunteer()
    if not self_forms.ButtonForm().validate_on_submit():
        abort(400)
    parts = current_parts()
    assert parts.outbox is not None
    try:
        with parts.db.transaction() as session:
            use_case(session, parts.outbox, volunteer["id"], now())
    except errors.NotFound:
        abort(404)
    except errors.Invalid as err:
        return render(volunteer, 422, {match_id: err.message or str(err)})
    except errors.Refused as err:
        return render(volunteer, 409, {match_id: err.message or str(err)})
    flash(done, "info")
    return redirect(url_for(".visits_page"))


@bp.post("/wizyty/<match_id>/odpowiedz")
def visit_answer(match_id: str):  # type: ignore[no-untyped-def]
    choice = request.form.get("odpowiedz", "")
    if choice not in ("accept", "accept_series", "decline"):
        choice = "bad"

    def use_case(session: Any, outbox: Any, volunteer_id: str, at: datetime) -> None:
        if choice == "bad":
            raise errors.Invalid("Wybierz odpowiedź.")
        visits.answer(session, outbox, volunteer_id, match_id, "decline" if choice == "decline" else "accept", at,
                      series=choice == "accept_series", reason_code=request.form.get("powod", ""))
    done = {"accept": "Dziękujemy! Wizyta przyjęta.", "accept_series": "Dziękujemy! Przyjęto cały cykl wizyt.",
            "decline": "Zapisano: nie tym razem. Dziękujemy za odpowiedź."}.get(choice, "")
    return act(match_id, use_case, done)


@bp.post("/wizyty/<match_id>/rezygnacja")
def visit_step_back(match_id: str):  # type: ignore[no-untyped-def]
    scope = request.form.get("zakres", "visit")

    def use_case(session: Any, outbox: Any, volunteer_id: str, at: datetime) -> None:
        visits.step_back(session, outbox, volunteer_id, match_id, scope, request.form.get("powod", ""), at)
    return act(match_id, use_case, "Zapisano rezygnację. Organizator został powiadomiony.")


@bp.post("/wizyty/<match_id>/potwierdzenie")
def visit_confirm(match_id: str):  # type: ignore[no-untyped-def]
    happened = request.form.get("odbyla") != "nie"

    def use_case(session: Any, outbox: Any, volunteer_id: str, at: datetime) -> None:
        minutes = None
        if happened:
            try:
                minutes = visits.parse_minutes(request.form.get("minuty"))
            except ValueError as err:
                raise errors.Invalid(str(err)) from err
        visits.confirm(session, outbox, volunteer_id, match_id, happened, minutes, at)
    return act(match_id, use_case, "Dziękujemy! Zapisano godziny wizyty." if happened
               else "Zapisano: wizyta się nie odbyła.")
