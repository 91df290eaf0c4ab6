"""Staff forms of the community pages (Flask-WTF with CSRF). WTForms parses types; the rules are model.py's,
shared with the JSON API, and `attach_errors` puts their Polish messages beside the fields."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from services.community import model
from wspolnota import reference

REQUIRED = model.REQUIRED
NOT_A_NUMBER = "Podaj liczbę całkowitą."
NOT_A_DATE = "Podaj datę w formacie RRRR-MM-DD."


def opts(pairs: Any) -> list[SelectChoice]:
    """Choices whose labels follow the page's language (the Polish text is the message id)."""
    return [SelectChoice(value, _l(label) if isinstance(label, str) and label else label) for value, label in pairs]


def village_choices(empty: str = "— wybierz —") -> list[SelectChoice]:
    ordered = sorted(((c, v["name"]) for c, v in reference.villages().items()), key=lambda cv: cv[1])
    return [SelectChoice("", _l(empty))] + [SelectChoice(c, n) for c, n in ordered]


class PolishForm(FlaskForm):
    class Meta:
        locales = ["pl_PL", "pl"]


class PolishIntegerField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError(_l(NOT_A_NUMBER)) from err


class PolishDateField(DateField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError(_l(NOT_A_DATE)) from err


class AssetForm(PolishForm):
    kind = SelectField(_l("Rodzaj"), choices=opts([("", "— wybierz —"), *model.ASSET_KIND_PL.items()]),
                       validators=[InputRequired(_l(REQUIRED))])
    subtype = SelectField(_l("Typ"), choices=opts([("", "— dowolny —"), *model.ASSET_SUBTYPE_PL.items()]),
                          validators=[Optional()])
    village = SelectField(_l("Miejscowość"), validators=[InputRequired(_l(REQUIRED))])
    name = StringField(_l("Nazwa (lider: imię i nazwisko lub funkcja)"), validators=[InputRequired(_l(REQUIRED))])
    description = TextAreaField(_l("Opis"), validators=[Optional()])
    capacity = PolishIntegerField(_l("Pojemność (liczba osób lub miejsc)"), validators=[Optional()])
    accessible = BooleanField(_l("Dostępne dla osób z niepełnosprawnościami"))
    accessibility_note = StringField(_l("Dostępność — uwagi"), validators=[Optional()])
    lendable = BooleanField(_l("Można wypożyczyć"))
    contact = StringField(_l("Kontakt (lider: tylko za zgodą)"), validators=[Optional()])
    consent_date = PolishDateField(_l("Data zgody lidera"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.village.choices = village_choices()


def asset_body(form: AssetForm) -> dict[str, Any]:
    return {"kind": form.kind.data, "subtype": form.subtype.data or "", "village": form.village.data,
            "name": form.name.data or "", "description": form.description.data or "",
            "capacity": form.capacity.data, "accessible": bool(form.accessible.data),
            "accessibility_note": form.accessibility_note.data or "", "lendable": bool(form.lendable.data),
            "contact": form.contact.data or "", "consent_date": form.consent_date.data}


def attach_errors(form: FlaskForm, errors: dict[str, Any]) -> None:
    """Field errors of the rules (or the API schemas) shown beside the form's fields."""
    for key, messages in errors.items():
        field = getattr(form, key.split(".")[0], None)
        if field is None:
            form.form_errors.append(messages if isinstance(messages, str) else " ".join(map(str, messages)))
            continue
        items = messages if isinstance(messages, list) else [messages]
        field.errors = list(field.errors or []) + [str(m) for m in items]


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SurveyForm(PolishForm):
    title = StringField(_l("Tytuł ankiety"), validators=[InputRequired(_l(REQUIRED))])
    intro = TextAreaField(_l("Wstęp dla ankietowanych"), validators=[Optional()])
    villages = MultiCheckboxField(_l("Dla miejscowości (nic nie zaznaczone: cała gmina)"), validators=[Optional()])
    one_answer_per_token = BooleanField(_l("Jedna odpowiedź na kod (rozdawane jednorazowe linki)"))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.villages.choices = village_choices()[1:]


class QuestionForm(PolishForm):
    kind = SelectField(_l("Rodzaj pytania"), choices=opts([("", "— wybierz —"), *model.QUESTION_KIND_PL.items()]),
                       validators=[InputRequired(_l(REQUIRED))])
    text = StringField(_l("Treść pytania"), validators=[InputRequired(_l(REQUIRED))])
    required = BooleanField(_l("Odpowiedź wymagana"))
    options = TextAreaField(_l("Odpowiedzi do wyboru (każda w osobnym wierszu)"), validators=[Optional()])
    min_value = PolishIntegerField(_l("Najmniejsza wartość (skala, liczba)"), validators=[Optional()])
    max_value = PolishIntegerField(_l("Największa wartość (skala, liczba)"), validators=[Optional()])


def question_body(form: QuestionForm) -> dict[str, Any]:
    return {"kind": form.kind.data, "text": form.text.data or "", "required": bool(form.required.data),
            "options": (form.options.data or "").splitlines(), "min_value": form.min_value.data,
            "max_value": form.max_value.data}


class TokensForm(PolishForm):
    count = PolishIntegerField(_l("Ile kodów"), default=20, validators=[InputRequired(_l(REQUIRED))])


class AnswerForm(PolishForm):
    """CSRF only: the answer fields follow the survey's questions and are read from the request (`answers_from`)."""


def answers_from(questions: list[dict[str, Any]], formdata: Any, *, paper: bool = False) -> dict[str, Any]:
    """The answers of a submitted answer form, keyed by question id. On the paper form choices are typed as
    option numbers from 1 ("2", or "1 3" for several), so staff never leave the keyboard."""
    answers: dict[str, Any] = {}
    for q in questions:
        name = f"q_{q['id']}"
        if q["kind"] == model.MULTIPLE and not paper:
            answers[q["id"]] = formdata.getlist(name)
            continue
        raw = (formdata.get(name) or "").strip()
        if paper and q["kind"] in model.CHOICE_KINDS and raw:
            parts = raw.replace(",", " ").split()
            try:
                picked = [str(int(p) - 1) for p in parts]
            except ValueError:
                picked = ["-1"]
            answers[q["id"]] = picked if q["kind"] == model.MULTIPLE else (picked[0] if len(picked) == 1 else picked)
        else:
            answers[q["id"]] = raw
    return answers


def contact_from(formdata: Any) -> dict[str, Any]:
    return {"name": formdata.get("contact_name", ""), "phone": formdata.get("contact_phone", ""),
            "email": formdata.get("contact_email", ""), "consent": formdata.get("contact_consent") == "y"}
