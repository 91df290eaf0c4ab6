"""After a call of a well-being call series ("telefon życzliwości"), the volunteer records its outcome in their space:
`/wolontariusz/wizyty/<match_id>/rozmowa` (phone-first, Polish, no JavaScript, CSRF on the POST).

The outcome — all well / needs something (with a category and a short description) / worrying (what worried them)
/ no answer — is posted to the needs service's internal API (`POST {NEEDS_INTERNAL_URL}/internal/call-outcomes`,
the shared bearer token), where the resident's record is: the text is never stored here and never goes on the bus.
Needs stores one outcome per call, creates the need or the urgent concern and escalates two unanswered calls in a
row. Once needs has it, the call counts here as a visit that happened, with its minutes (visits.confirm:
`VisitConfirmed`, so matching completes the match and the hours reach the ledger); an unanswered call counts as an
attempt of `NO_ANSWER_MINUTES` unless the volunteer says how long they tried. A retry after a failure is safe: needs
answers the same outcome again, and a call already confirmed here is not confirmed twice.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, redirect, request, url_for

from services.volunteers import handlers, self_forms, sign_in, visits
from services.volunteers.concern_pages import Answer, post_to_needs
from services.volunteers.volunteer_space import bp, now, page, signed_in_volunteer
from wspolnota import errors, reference
from wspolnota.web import current_parts

log = logging.getLogger("services.volunteers")

PATH = "/internal/call-outcomes"
OUTCOMES = {"all_well": "Wszystko dobrze", "needs_something": "Czegoś potrzebuje",
            "worrying": "Coś mnie niepokoi", "no_answer": "Nie odebrał(a)"}
NO_ANSWER_MINUTES = 5
MINUTES_MIN, MINUTES_MAX = 5, 240
MAX_TEXT = 2000
CHOOSE = "Wybierz, jak poszła rozmowa."
TEXT_NEEDED = {"needs_something": "Napisz, czego mieszkaniec potrzebuje.",
               "worrying": "Napisz, co Cię zaniepokoiło."}
CATEGORY_NEEDED = "Wybierz, w czym trzeba pomóc."
MINUTES_BAD = f"Podaj czas rozmowy w minutach: od {MINUTES_MIN} do {MINUTES_MAX}."
NOT_A_CALL = "To nie jest rozmowa telefonu życzliwości."
EMERGENCY = "Jeśli komuś grozi niebezpieczeństwo, dzwoń pod 112."


def categories() -> dict[str, str]:
    """What a resident may need, by name: every category except the remote ones."""
    remote = reference.remote_categories()
    return {code: c["name"] for code, c in reference.categories().items() if code not in remote}


def check(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's answer as the needs service takes it, and Polish problems per field (the same rules as needs')."""
    outcome = str(form.get("wynik", ""))
    problems: dict[str, str] = {}
    if outcome not in OUTCOMES:
        return {}, {"wynik": CHOOSE}
    text = str(form.get("opis", "")).strip()
    category = str(form.get("kategoria", "")) or None
    if outcome in TEXT_NEEDED and not text:
        problems["opis"] = TEXT_NEEDED[outcome]
    elif len(text) > MAX_TEXT:
        problems["opis"] = f"Opis może mieć najwyżej {MAX_TEXT} znaków."
    if outcome == "needs_something" and category not in categories():
        problems["kategoria"] = CATEGORY_NEEDED
    raw = str(form.get("minuty", "")).strip()
    minutes: int | None = None
    if raw:
        minutes = int(raw) if raw.isdigit() else -1
        if not MINUTES_MIN <= minutes <= MINUTES_MAX:
            problems["minuty"] = MINUTES_BAD
    elif outcome != "no_answer":
        problems["minuty"] = MINUTES_BAD
    body = {"outcome": outcome, "minutes": minutes, "category": category if outcome == "needs_something" else None,
            "text": text if outcome in TEXT_NEEDED else None}
    return body, problems


FIELDS = {"text": "opis", "category": "kategoria", "minutes": "minuty", "outcome": "wynik"}


def send(body: dict[str, Any]) -> Answer:
    """POST the outcome to the needs service (`concern_pages.post_to_needs`)."""
    return post_to_needs(PATH, body, FIELDS, f"call outcome for {body['match_id']}")


def show(match_id: str, row: Any, status: int = 200, problems: dict[str, str] | None = None,
         given: Any = None, problem: str = "") -> tuple[str, int]:
    return page("call_outcome.html", status, row=row, match_id=match_id, outcomes=OUTCOMES,
                categories=categories(), problems=problems or {}, given=given or {}, problem=problem,
                form=self_forms.ButtonForm(formdata=None), minutes_max=MINUTES_MAX, emergency=EMERGENCY)


@bp.route("/wizyty/<match_id>/rozmowa", methods=["GET", "POST"])
def call_outcome(match_id: str):  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    if len(match_id) > 36:
        abort(404)
    parts = current_parts()
    with parts.db.transaction() as session:
        try:
            row = dict(visits.mine(session, volunteer["id"], match_id))
        except errors.NotFound:
            abort(404)
    if row["category"] not in reference.remote_categories():
        abort(404)
    if request.method == "GET":
        return show(match_id, row)[0]
    if not self_forms.ButtonForm().validate_on_submit():
        abort(400)
    if row["confirmed"] is not None or row["status"] == visits.COMPLETED:
        return show(match_id, row, 409, problem="Wynik tej rozmowy jest już zapisany.")
    if row["status"] != visits.ACCEPTED or row["stepped_back"] is not None:
        return show(match_id, row, 409, problem="Wynik można zapisać tylko dla przyjętej rozmowy.")
    if row["starts_at"] is None or row["starts_at"] > now():
        return show(match_id, row, 409, problem="Wynik rozmowy można zapisać od jej terminu.")
    body, problems = check(request.form)
    if problems:
        return show(match_id, row, 422, problems, request.form)
    answer = send({**body, "match_id": match_id, "volunteer_id": volunteer["id"]})
    if not answer.ok:
        problems = {k: "; ".join(v) for k, v in (answer.field_errors or {}).items()}
        return show(match_id, row, answer.status, problems, request.form, answer.problem)
    minutes = body["minutes"] or NO_ANSWER_MINUTES
    assert parts.outbox is not None
    try:
        with parts.db.transaction() as session:
            visits.confirm(session, parts.outbox, volunteer["id"], match_id, True, minutes, now())
            handlers.audit(session, sign_in.actor(volunteer["id"]), "call_outcome", volunteer["id"],
                           f"wynik rozmowy {body['outcome']} (wizyta {match_id})")
    except errors.Refused:
        pass  # confirmed by a retry in between: the outcome is in needs, the hours counted once
    flash("Dziękujemy! Zapisano wynik rozmowy." + (" Pracownik socjalny dostanie Twoje zgłoszenie od razu."
                                                  if body["outcome"] == "worrying" else ""), "info")
    return redirect(url_for(".visits_page"))
