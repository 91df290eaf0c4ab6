"""Diagnosis report pages: versions per scope (the gmina or a village), a new version with the organiser's
conclusions, and the printable report of any version."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from services.community import diagnosis, forms, model, svg
from services.community.labels import village_name
from services.community.pages import actor, bp
from wspolnota.errors import Invalid, NotFound
from wspolnota.web import current_parts


class DiagnosisForm(forms.PolishForm):
    scope = SelectField(_l("Zakres"), validators=[InputRequired(_l(forms.REQUIRED))])
    title = StringField(_l("Tytuł"), validators=[InputRequired(_l(forms.REQUIRED))])
    conclusions = TextAreaField(_l("Wnioski organizatora"), validators=[Optional()])

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.scope.choices = [SelectChoice(c, _l("cała gmina") if c == diagnosis.GMINA else village_name(c))
                              for c in diagnosis.scopes()]


@bp.route("/diagnoza", methods=["GET", "POST"])
def diagnosis_list():  # type: ignore[no-untyped-def]
    form = DiagnosisForm()
    parts = current_parts()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with parts.db.transaction() as session:
                    row = diagnosis.create_version(session, {"scope": form.scope.data, "title": form.title.data,
                                                             "conclusions": form.conclusions.data},
                                                   author=actor(), clock=parts.clock)
            except Invalid as err:
                forms.attach_errors(form, err.errors)
            else:
                flash("Zapisano nową wersję diagnozy.")
                return redirect(url_for("community.diagnosis_page", diagnosis_id=row["id"]))
        status = 422
    elif request.args.get("scope"):
        form.scope.data = request.args["scope"]
    with parts.db.engine.connect() as conn:
        rows = diagnosis.versions(conn)
    return render_template("community/diagnoses.html", form=form, versions=rows), status


@bp.get("/diagnoza/<diagnosis_id>")
def diagnosis_page(diagnosis_id: str):  # type: ignore[no-untyped-def]
    try:
        with current_parts().db.engine.connect() as conn:
            row = diagnosis.get_version(conn, diagnosis_id)
            others = diagnosis.versions(conn, row["scope"])
    except NotFound:
        abort(404)
    snap = row["snapshot"]
    charts = {}
    for s_index, s in enumerate(snap["surveys"]):
        for q_index, q in enumerate(s["questions"]):
            if q.get("labels"):
                charts[(s["id"], q["id"])] = svg.bars(f"d{s_index}-{q_index}", q["text"], q["labels"], q["counts"])
    return render_template("community/diagnosis.html", d=row, snap=snap, others=others, charts=charts,
                           number=svg.number, kind_pl=model.ASSET_KIND_PL, subtype_pl=model.ASSET_SUBTYPE_PL,
                           latest=others[0]["id"] == row["id"] if others else True)
