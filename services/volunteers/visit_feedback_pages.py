"""The volunteer's feedback on a visit from their visits page: POST /wolontariusz/wizyty/<match_id>/ocena (fields
`ocena`: good | difficulties | intervention, `notatka`; CSRF), on the space's blueprint. The rules are in
visit_feedback.py; a refusal or bad input shows the visits page again with the Polish message at that visit.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from services.volunteers import self_forms, visit_feedback
from services.volunteers.visits_pages import render
from services.volunteers.volunteer_space import bp, now, signed_in_volunteer
from wspolnota import errors
from wspolnota.web import current_parts

ENDPOINTS = ("visit_feedback_page",)  # PUBLIC in wspolnota/access.py (the volunteer's own session)


@bp.post("/wizyty/<match_id>/ocena")
def visit_feedback_page(match_id: str):  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    if not self_forms.ButtonForm().validate_on_submit():
        abort(400)
    code = request.form.get("ocena", "")
    parts = current_parts()
    assert parts.outbox is not None
    try:
        with parts.db.transaction() as session:
            visit_feedback.give(session, parts.outbox, volunteer["id"], match_id, code, request.form.get("notatka"), now())
    except errors.NotFound:
        abort(404)
    except errors.Invalid as err:
        return render(volunteer, 422, {match_id: err.message or str(err)})
    except errors.Refused as err:
        return render(volunteer, 409, {match_id: err.message or str(err)})
    if code == "intervention":
        flash("Dziękujemy za ocenę. Ocena to nie zgłoszenie: opisz, co się stało — zgłoszenie od razu trafi do "
              "pracownika socjalnego.", "info")
        return redirect(url_for(".visit_concern", match_id=match_id, rodzaj="incident"))
    flash("Dziękujemy za ocenę wizyty.", "info")
    return redirect(url_for(".visits_page"))
