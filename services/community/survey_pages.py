"""Survey pages: the organiser builds, publishes and closes a survey, enters paper answers on a keyboard-only
form, reads the results (charts per question and village, open answers) and exports them; respondents answer
on a public, rate-limited page without an account."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from services.community import export, forms, model, surveys, svg
from services.community.labels import village_name
from services.community.pages import actor, bp
from wspolnota import config, reference
from wspolnota.errors import Invalid, NotFound, Refused
from wspolnota.web import current_parts

RATE_WINDOW_S = 3600


def _load(survey_id: str) -> dict[str, Any]:
    try:
        with current_parts().db.engine.connect() as conn:
            return surveys.get_survey(conn, survey_id)
    except NotFound:
        abort(404)


@bp.get("/ankiety")
def survey_list():  # type: ignore[no-untyped-def]
    with current_parts().db.engine.connect() as conn:
        rows = surveys.list_surveys(conn)
    return render_template("community/surveys.html", surveys=rows, status_pl=model.SURVEY_STATUS_PL)


@bp.route("/ankiety/nowa", methods=["GET", "POST"])
def new_survey():  # type: ignore[no-untyped-def]
    form = forms.SurveyForm()
    if request.method == "POST" and form.validate_on_submit():
        parts = current_parts()
        try:
            with parts.db.transaction() as session:
                survey = surveys.create_survey(session, {
                    "title": form.title.data, "intro": form.intro.data, "villages": form.villages.data or [],
                    "one_answer_per_token": form.one_answer_per_token.data}, clock=parts.clock)
        except Invalid as err:
            forms.attach_errors(form, err.errors)
        else:
            flash("Utworzono ankietę. Dodaj pytania.")
            return redirect(url_for("community.survey_page", survey_id=survey["id"]))
    return render_template("community/survey_form.html", form=form), (422 if form.errors else 200)


def _survey_page(survey: dict[str, Any], question_form: forms.QuestionForm | None = None, status: int = 200,
                 tokens: list[str] | None = None, tokens_form: forms.TokensForm | None = None):  # type: ignore[no-untyped-def]
    with current_parts().db.engine.connect() as conn:
        counts = surveys.response_counts(conn, survey["id"])
    return render_template("community/survey.html", survey=survey, counts=counts,
                           question_form=question_form or forms.QuestionForm(),
                           tokens_form=tokens_form or forms.TokensForm(), tokens=tokens or [],
                           status_pl=model.SURVEY_STATUS_PL, kind_pl=model.QUESTION_KIND_PL,
                           public_url=url_for("community.public_survey", public_key=survey["public_key"],
                                              _external=True)), status


@bp.get("/ankiety/<survey_id>")
def survey_page(survey_id: str):  # type: ignore[no-untyped-def]
    return _survey_page(_load(survey_id))


@bp.post("/ankiety/<survey_id>/pytania")
def add_question(survey_id: str):  # type: ignore[no-untyped-def]
    survey = _load(survey_id)
    form = forms.QuestionForm()
    if not form.validate_on_submit():
        return _survey_page(survey, form, 422)
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            surveys.add_question(session, survey_id, forms.question_body(form), clock=parts.clock)
    except Invalid as err:
        forms.attach_errors(form, err.errors)
        return _survey_page(survey, form, 422)
    except Refused as err:
        flash(err.message)
        return _survey_page(survey, form, 409)
    flash("Dodano pytanie.")
    return redirect(url_for("community.survey_page", survey_id=survey_id) + "#pytania")


@bp.post("/ankiety/<survey_id>/pytania/<question_id>/usun")
def remove_question(survey_id: str, question_id: str):  # type: ignore[no-untyped-def]
    return _act(survey_id, lambda s: surveys.remove_question(s, survey_id, question_id), "Usunięto pytanie.")


@bp.post("/ankiety/<survey_id>/publikuj")
def publish_survey(survey_id: str):  # type: ignore[no-untyped-def]
    parts = current_parts()
    return _act(survey_id, lambda s: surveys.publish(s, survey_id, clock=parts.clock),
                "Ankieta jest opublikowana — link publiczny działa.")


@bp.post("/ankiety/<survey_id>/zamknij")
def close_survey(survey_id: str):  # type: ignore[no-untyped-def]
    parts = current_parts()
    assert parts.outbox is not None
    outbox = parts.outbox
    return _act(survey_id, lambda s: surveys.close(s, outbox, survey_id, clock=parts.clock),
                "Ankieta jest zamknięta — nie przyjmuje już odpowiedzi.")


def _act(survey_id: str, action: Any, done: str):  # type: ignore[no-untyped-def]
    if not forms.PolishForm().validate_on_submit():
        abort(400)
    try:
        with current_parts().db.transaction() as session:
            action(session)
    except NotFound:
        abort(404)
    except Refused as err:
        flash(err.message)
    else:
        flash(done)
    return redirect(url_for("community.survey_page", survey_id=survey_id))


@bp.post("/ankiety/<survey_id>/kody")
def issue_tokens(survey_id: str):  # type: ignore[no-untyped-def]
    survey = _load(survey_id)
    form = forms.TokensForm()
    if not form.validate_on_submit():
        return _survey_page(survey, tokens_form=form, status=422)
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            tokens = surveys.issue_tokens(session, survey_id, form.count.data or 0, clock=parts.clock)
    except Invalid as err:
        forms.attach_errors(form, err.errors)
        return _survey_page(survey, tokens_form=form, status=422)
    except Refused as err:
        form.form_errors.append(err.message)
        return _survey_page(survey, tokens_form=form, status=409)
    return _survey_page(survey, tokens=tokens)


# --- paper answers, entered by staff ---------------------------------------------------------------------
@bp.route("/ankiety/<survey_id>/papierowe", methods=["GET", "POST"])
def paper_entry(survey_id: str):  # type: ignore[no-untyped-def]
    survey = _load(survey_id)
    form = forms.AnswerForm()
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = request.form.to_dict()
        answers = forms.answers_from(survey["questions"], request.form, paper=True)
        key = request.form.get("submission_id") or None
        parts = current_parts()
        try:
            with parts.db.transaction() as session:
                if surveys.submitted_before(session, key):
                    flash("Ta ankieta papierowa została już zapisana.")
                    return redirect(url_for("community.paper_entry", survey_id=survey_id))
                surveys.submit_response(session, survey_id, request.form.get("village"), answers,
                                        channel=model.PAPER, entered_by=actor(), submission_key=key,
                                        clock=parts.clock)
        except Invalid as err:
            errors, status = dict(err.errors), 422
        except Refused as err:
            errors, status = {"answers": err.message}, 409
        else:
            with parts.db.engine.connect() as conn:
                count = surveys.response_counts(conn, survey_id)[model.PAPER]
            flash(gettext("Zapisano ankietę papierową nr %(number)s. Następna:", number=count))
            return redirect(url_for("community.paper_entry", survey_id=survey_id, village=request.form.get("village")))
    village = values.get("village") or request.args.get("village", "")
    return render_template("community/paper.html", survey=survey, form=form, errors=errors, values=values,
                           village=village, submission_id=str(uuid.uuid4()), village_choices=_villages(survey),
                           kind_pl=model.QUESTION_KIND_PL), status


def _villages(survey: dict[str, Any]) -> list[tuple[str, str]]:
    """The villages a respondent may choose: the survey's, or the whole gmina's."""
    codes = survey["villages"] or list(reference.villages())
    return sorted(((c, village_name(c)) for c in codes), key=lambda cv: cv[1])


# --- results and export ------------------------------------------------------------------------------------
@bp.get("/ankiety/<survey_id>/wyniki")
def survey_results(survey_id: str):  # type: ignore[no-untyped-def]
    village = request.args.get("village", "").strip() or None
    try:
        with current_parts().db.engine.connect() as conn:
            result = surveys.results(conn, survey_id, village)
    except NotFound:
        abort(404)
    charts = {}
    for i, q in enumerate(result["questions"]):
        if q.get("labels"):
            charts[q["id"]] = svg.bars(f"wykres-{i + 1}", q["text"], q["labels"], q["counts"])
    return render_template("community/results.html", result=result, survey=result["survey"], charts=charts,
                           village=village or "", number=svg.number, village_choices=_villages(result["survey"]),
                           kind_pl=model.QUESTION_KIND_PL, status_pl=model.SURVEY_STATUS_PL)


@bp.get("/ankiety/<survey_id>/odpowiedzi.<fmt>")
def survey_export(survey_id: str, fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in ("csv", "xlsx"):
        abort(404)
    try:
        with current_parts().db.engine.connect() as conn:
            survey = surveys.get_survey(conn, survey_id)
            rows = export.table(survey, surveys.responses_of(conn, survey_id))
    except NotFound:
        abort(404)
    name = f"ankieta-{survey_id[:8]}-odpowiedzi.{fmt}"
    if fmt == "csv":
        return Response(export.to_csv(rows), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(export.to_xlsx(rows, survey["title"]),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- contact details left for follow-up --------------------------------------------------------------------
@bp.get("/ankiety/<survey_id>/kontakty")
def survey_contacts(survey_id: str):  # type: ignore[no-untyped-def]
    survey = _load(survey_id)
    parts = current_parts()
    with parts.db.transaction() as session:
        rows = surveys.contacts(session, survey_id, actor(), parts.clock)
    return render_template("community/contacts.html", survey=survey, contacts=rows, form=forms.PolishForm())


@bp.post("/ankiety/<survey_id>/kontakty/<contact_id>/usun")
def erase_contact(survey_id: str, contact_id: str):  # type: ignore[no-untyped-def]
    if not forms.PolishForm().validate_on_submit():
        abort(400)
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            surveys.erase_contact(session, contact_id, actor(), parts.clock)
    except NotFound:
        abort(404)
    flash("Usunięto dane kontaktowe. Odpowiedzi zostały w wynikach.")
    return redirect(url_for("community.survey_contacts", survey_id=survey_id))


# --- the public answer page (no account) -------------------------------------------------------------------
@bp.route("/a/<public_key>", methods=["GET", "POST"])
def public_survey(public_key: str):  # type: ignore[no-untyped-def]
    parts = current_parts()
    try:
        with parts.db.engine.connect() as conn:
            survey = surveys.survey_by_key(conn, public_key)
    except NotFound:
        abort(404)
    token = request.values.get("t", "")
    form = forms.AnswerForm()
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    status = 200
    if survey["status"] != model.PUBLISHED:
        return render_template("community/public_closed.html", survey=survey), (
            410 if survey["status"] == model.CLOSED else 404)
    if survey["one_answer_per_token"] and not token:
        return render_template("community/public_closed.html", survey=survey, needs_token=True), 403
    if request.method == "POST":
        limit = config.get_int("COMMUNITY_PUBLIC_ANSWERS_PER_HOUR")
        if not surveys.allow_public_request(parts.db, f"{request.remote_addr}|{public_key}", limit, RATE_WINDOW_S,
                                            parts.clock()):
            return render_template("community/public_closed.html", survey=survey, too_many=True), 429
        if not form.validate_on_submit():
            errors, status = {"answers": "Formularz wygasł — odśwież stronę i odpowiedz jeszcze raz."}, 400
        else:
            values = {k: request.form.getlist(k) for k in request.form}
            try:
                with parts.db.transaction() as session:
                    surveys.submit_response(session, survey["id"], request.form.get("village"),
                                            forms.answers_from(survey["questions"], request.form),
                                            channel=model.ONLINE, token=token or None,
                                            contact=forms.contact_from(request.form), clock=parts.clock)
            except Invalid as err:
                errors, status = dict(err.errors), 422
            except Refused as err:
                errors, status = {"answers": err.message}, 409
            else:
                return render_template("community/public_thanks.html", survey=survey)
    return render_template("community/public_survey.html", survey=survey, form=form, errors=errors, values=values,
                           token=token, village_choices=_villages(survey), consent_text=surveys.CONSENT_TEXT,
                           scale=lambda q: range(int(q["min_value"]), int(q["max_value"]) + 1)), status
