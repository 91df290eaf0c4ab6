"""A volunteer reports a concern about a resident's well-being or safety from their space: about a visit of theirs
(`/wolontariusz/wizyty/<match_id>/niepokoj`) or in general (`/wolontariusz/niepokoj`).

The text is never stored here and never goes on the bus: the page posts it to the needs service's internal API
(`POST {NEEDS_INTERNAL_URL}/internal/concerns`, the shared bearer token), where the resident's record is. The form
carries its own id (a UUID made when the page is shown), so a retried or double-clicked submit is one concern.
The needs service checks that the visit is the volunteer's and was accepted. If it cannot be reached, the volunteer
sees a clear Polish message with the organiser's phone and the form again with their text in it: nothing is lost
silently. Here only the fact is audited (`concern_reported`, the concern's id), never the text.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice

from services.volunteers import handlers, sign_in, signed_in
from services.volunteers.volunteer_space import bp, page, signed_in_volunteer
from wspolnota.web import current_parts

log = logging.getLogger("services.volunteers")

MAX_TEXT = 4000
TIMEOUT_S = (2.0, 5.0)
PATH = "/internal/concerns"
NOT_SENT = ("Nie udało się teraz wysłać zgłoszenia — Twój opis jest nadal w formularzu. Spróbuj ponownie za "
            "chwilę, a jeśli sprawa jest pilna, zadzwoń do organizatora")
KINDS = ("concern", "incident", "safeguarding")
EMERGENCY = "Jeśli komuś grozi niebezpieczeństwo, dzwoń pod 112."


class ConcernForm(FlaskForm):
    concern_id = HiddenField()
    text = TextAreaField(_l("Co Cię niepokoi?"), render_kw={"rows": 7, "maxlength": MAX_TEXT})
    urgent = BooleanField(_l("To pilne — trzeba zareagować jeszcze dziś"), default=True)
    kind = RadioField(_l("Czego dotyczy zgłoszenie?"), default="concern", choices=[
        SelectChoice("concern", _l("Martwię się o tę osobę (zdrowie, samopoczucie, warunki)")),
        SelectChoice("incident", _l("Coś się wydarzyło podczas wizyty (wypadek, upadek, konflikt, szkoda)")),
        SelectChoice("safeguarding", _l("Podejrzewam, że ktoś krzywdzi tę osobę albo ją zaniedbuje"))])

    def check(self) -> bool:
        """The same rules as the needs service's, so a mistake is shown before anything is sent."""
        given = (self.text.data or "").strip()
        if not given:
            self.text.errors = ["Opisz, co Cię niepokoi."]
        elif len(given) > MAX_TEXT:
            self.text.errors = [f"Opis może mieć najwyżej {MAX_TEXT} znaków."]
        try:
            uuid.UUID(self.concern_id.data or "")
        except ValueError:
            self.concern_id.data = str(uuid.uuid4())  # a form without its id (an old page): a new one
        if self.kind.data not in KINDS:
            self.kind.data = "concern"
        return not self.text.errors


@dataclass(frozen=True)
class Answer:
    ok: bool
    problem: str = ""  # a Polish message for the volunteer
    field_errors: dict[str, list[str]] | None = None
    status: int = 503  # the page's status when not ok: 503 not sent, 409 refused, 422 a field's error


def organiser_phone() -> str:
    phone = signed_in.settings().centre_phone.strip()
    return f"{NOT_SENT}: {phone}." if phone else f"{NOT_SENT} w CUS."


def post_to_needs(path: str, body: dict[str, Any], fields: dict[str, str], what: str) -> Answer:
    """POST the volunteer's report to the needs service's internal API; any failure is a Polish message, never an
    exception. Needs' 409 message is shown as it is; its 422 field errors go to the form's fields (`fields`: needs'
    name → the form's). `what` names the report in the log (never its text)."""
    base = signed_in.settings().needs_internal_url.rstrip("/")
    token = str(current_app.config.get("INTERNAL_SERVICE_TOKEN") or "")
    try:
        response = requests.post(base + path, json=body, timeout=TIMEOUT_S, headers={
            "Authorization": f"Bearer {token}", "X-Service-Name": "volunteers"})
    except requests.RequestException as err:
        log.warning("%s not sent: needs service unreachable (%s)", what, type(err).__name__)
        return Answer(False, organiser_phone())
    if response.status_code in (200, 201):
        return Answer(True)
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code == 409 and isinstance(answer, dict) and answer.get("message"):
        return Answer(False, str(answer["message"]), status=409)
    if response.status_code == 422 and isinstance(answer, dict):
        found = (answer.get("errors") or {}).get("json") or {}
        mapped = {fields[k]: [str(m) for m in v] for k, v in found.items() if k in fields}
        if mapped:
            return Answer(False, "", mapped, status=422)
    log.warning("%s not sent: needs service answered %s", what, response.status_code)
    return Answer(False, organiser_phone())


def send(body: dict[str, Any]) -> Answer:
    """POST the concern to the needs service (`post_to_needs`)."""
    return post_to_needs(PATH, body, {"text": "text"}, f"concern {body['id']}")


def concern_page(match_id: str | None):  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    action = (url_for(".visit_concern", match_id=match_id) if match_id else url_for(".general_concern"))
    if request.method == "GET":
        form = ConcernForm(formdata=None)
        form.concern_id.data = str(uuid.uuid4())
        if request.args.get("rodzaj") in KINDS:  # "potrzebna interwencja" in a visit's feedback suggests a kind
            form.kind.data = request.args["rodzaj"]
        return page("concern.html", form=form, action=action, match_id=match_id, emergency=EMERGENCY)[0]
    form = ConcernForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        form.kind.errors = []  # an unknown kind is read as a plain concern (check)
    if not form.check():
        return page("concern.html", 422, form=form, action=action, match_id=match_id, emergency=EMERGENCY)
    body = {"id": form.concern_id.data, "text": (form.text.data or "").strip(), "urgent": bool(form.urgent.data),
            "volunteer_id": volunteer["id"], "match_id": match_id, "kind": form.kind.data or "concern"}
    answer = send(body)
    if not answer.ok:
        if answer.field_errors:
            form.text.errors = answer.field_errors["text"]
        else:
            form.form_errors.append(answer.problem)
        return page("concern.html", answer.status, form=form, action=action, match_id=match_id, emergency=EMERGENCY)
    with current_parts().db.transaction() as session:
        handlers.audit(session, sign_in.actor(volunteer["id"]), "concern_reported", volunteer["id"],
                       f"zgłoszenie niepokoju {body['id']}" + (f" (wizyta {match_id})" if match_id else ""))
    flash("Dziękujemy. Zgłoszenie trafiło do pracownika socjalnego — odezwie się, jeśli będzie potrzebować "
          "więcej informacji.", "info")
    return redirect(url_for(".home"))


@bp.route("/niepokoj", methods=["GET", "POST"])
def general_concern():  # type: ignore[no-untyped-def]
    """A concern that names no visit (a neighbour met on the way, something heard in the village)."""
    return concern_page(None)


@bp.route("/wizyty/<match_id>/niepokoj", methods=["GET", "POST"])
def visit_concern(match_id: str):  # type: ignore[no-untyped-def]
    """A concern about the resident of one of the volunteer's visits (the needs service checks it is theirs)."""
    if len(match_id) > 36:
        abort(404)
    return concern_page(match_id)
