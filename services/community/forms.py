"""Staff forms of the community pages (Flask-WTF with CSRF). WTForms parses types; the rules are model.py's,
shared with the JSON API, and `attach_errors` puts their Polish messages beside the fields."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
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
