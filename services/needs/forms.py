"""Staff forms (Flask-WTF, CSRF). WTForms only parses types; the rules are the API schemas' rules.

`to_need_body` turns a submitted form into the same body the JSON API takes, so one set of
validators (schemas.py + model.py) judges both, and `attach_errors` puts their Polish messages
next to the fields.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from services.needs import model, schemas
from wspolnota import reference

REQUIRED = "To pole jest wymagane."


def opts(pairs: Any) -> list[SelectChoice]:
    """Choices whose labels follow the page's language (the Polish text is the message id)."""
    return [SelectChoice(value, _l(label) if isinstance(label, str) and label else label) for value, label in pairs]


class PolishForm(FlaskForm):
    class Meta:
        locales = ["pl_PL", "pl"]


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _categories() -> list[tuple[str, str]]:
    return [("", "— wybierz —")] + [(c, v["name"]) for c, v in reference.categories().items()]


def _villages() -> list[tuple[str, str]]:
    return [("", "— wybierz —")] + sorted(((c, v["name"]) for c, v in reference.villages().items()),
                                          key=lambda cv: cv[1])


class NeedForm(PolishForm):
    submission_id = HiddenField()
    resident_ref = StringField(_l("Mieszkaniec (pseudonim)"), validators=[InputRequired(_l(REQUIRED))],
                               description=_l("np. M-7K3QXA — bez imienia i nazwiska"))
    category = SelectField(_l("Kategoria"), validators=[InputRequired(_l(REQUIRED))])
    village = SelectField(_l("Miejscowość"), validators=[InputRequired(_l(REQUIRED))])
    description = TextAreaField(_l("Opis (widoczny tylko w CUS)"), validators=[Optional()])
    kind = RadioField(_l("Rodzaj"), choices=opts([("one_off", "jednorazowa"), ("recurring", "cykliczna (co tydzień)")]),
                      default="one_off")
    window_start = DateTimeLocalField(_l("Początek terminu"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    window_end = DateTimeLocalField(_l("Koniec terminu"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    weekdays = MultiCheckboxField(_l("Dni tygodnia"), coerce=int,
                                  choices=opts(list(enumerate(model.WEEKDAYS_PL))), validators=[Optional()])
    time_from = TimeField(_l("Godzina od"), validators=[Optional()])
    time_to = TimeField(_l("Godzina do"), validators=[Optional()])
    starts_on = DateField(_l("Pierwszy dzień"), validators=[Optional()])
    until = DateField(_l("Ostatni dzień (nie później niż koniec planu)"), validators=[Optional()])
    duration_minutes = IntegerField(_l("Czas trwania (minuty)"), default=60, validators=[InputRequired(_l(REQUIRED))])
    urgency = SelectField(_l("Pilność"), choices=opts(list(model.URGENCY_PL.items())), default="normal")
    slots = IntegerField(_l("Liczba potrzebnych osób"), default=1, validators=[InputRequired(_l(REQUIRED))])
    involves_minor = BooleanField(_l("Dotyczy dziecka (małoletniego)"))
    requirements = MultiCheckboxField(_l("Dodatkowe wymagania"), choices=opts(list(model.REQUIREMENT_PL.items())))
    waived_requirements = MultiCheckboxField(_l("Pomiń wymagania kategorii (nie dotyczy wymogów prawnych)"),
                                             choices=opts(list(model.REQUIREMENT_PL.items())))
    continuity = BooleanField(_l("Ta sama osoba przy kolejnych wizytach"))
    personal_care = BooleanField(_l("Czynności opiekuńcze lub higieniczne (np. mycie, ubieranie)"))
    installation_work = BooleanField(_l("Praca przy instalacji gazowej lub elektrycznej"))
    skills = StringField(_l("Wymagane umiejętności (oddzielone przecinkami)"), validators=[Optional()])
    relatives = TextAreaField(_l("Krewni mieszkańca w rejestrze wykonawców (identyfikatory, oddzielone "
                                 "przecinkami lub w osobnych wierszach)"), validators=[Optional()])
    moderation = SelectField(_l("Akceptacja propozycji"), choices=opts(list(schemas.MODERATION_PL.items())),
                             default="review")
    source = SelectField(_l("Źródło zgłoszenia"), choices=opts(list(schemas.SOURCE_PL.items())), default="staff_form")
    plan_ref = StringField(_l("Numer planu IPUS (pakiet wsparcia)"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.category.choices = opts(_categories())
        self.village.choices = opts(_villages())
        if not self.submission_id.data:
            self.submission_id.data = uuid.uuid4().hex


class NeedEditForm(NeedForm):
    """Editing keeps who and when the need was registered for; one-off terms only."""


class CancelForm(PolishForm):
    reason = TextAreaField(_l("Powód anulowania"), validators=[Optional()])


class StatusForm(PolishForm):
    status = SelectField(_l("Nowy status"), choices=opts((s, model.STATUS_PL[s]) for s in model.STATUSES
                                                     if s in model.STAFF_TARGETS and s != model.CANCELLED))
    reason = StringField(_l("Uzasadnienie"), validators=[Optional()])


class ResidentForm(PolishForm):
    name = StringField(_l("Imię i nazwisko"), validators=[InputRequired(_l(REQUIRED))])
    address = StringField(_l("Adres"), validators=[InputRequired(_l(REQUIRED))])
    village = SelectField(_l("Miejscowość"), validators=[InputRequired(_l(REQUIRED))])
    phone = StringField(_l("Telefon"), validators=[Optional()])
    email = StringField(_l("E-mail"), validators=[Optional()])
    preferred_channel = SelectField(_l("Preferowany kontakt"), choices=opts(list(schemas.CHANNEL_PL.items())))
    notes = TextAreaField(_l("Uwagi"), validators=[Optional()])
    legal_basis = SelectField(_l("Podstawa prawna przetwarzania"), choices=opts(list(schemas.LEGAL_BASIS_PL.items())))
    consent_date = DateField(_l("Data zgody (gdy podstawą jest zgoda)"), validators=[Optional()])
    notice_channel = SelectField(_l("Powiadomienia o wizytach"), default="none", choices=opts([
        ("none", _l("bez powiadomień")), ("sms", _l("SMS")),
        ("call", _l("telefon od pracownika CUS (bez telefonu komórkowego)"))]))
    notice_consent_date = DateField(_l("Data zgody mieszkańca na powiadomienia"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.village.choices = opts(_villages())


class PackageForm(PolishForm):
    plan_ref = StringField(_l("Numer planu IPUS"), validators=[InputRequired(_l(REQUIRED))])
    resident_ref = StringField(_l("Mieszkaniec (pseudonim)"), validators=[InputRequired(_l(REQUIRED))])
    village = SelectField(_l("Miejscowość"), validators=[InputRequired(_l(REQUIRED))])
    start_date = DateField(_l("Początek planu"), validators=[InputRequired(_l(REQUIRED))])
    end_date = DateField(_l("Koniec planu"), validators=[InputRequired(_l(REQUIRED))])
    note = TextAreaField(_l("Uwagi"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.village.choices = opts(_villages())


class ClosePackageForm(PolishForm):
    reason = StringField(_l("Powód zamknięcia"), validators=[Optional()])


class EraseResidentForm(PolishForm):
    reason = StringField(_l("Podstawa usunięcia (np. numer wniosku)"), validators=[InputRequired(_l(REQUIRED))])
    confirm = BooleanField(_l("Potwierdzam nieodwracalne usunięcie danych osobowych tego mieszkańca"),
                           validators=[InputRequired(_l("Zaznacz potwierdzenie, aby usunąć dane."))])


def _aware(value: datetime | None) -> str | None:
    return value.replace(tzinfo=model.WARSAW).isoformat() if value else None


def split_list(text: str | None) -> list[str]:
    """"a, b\nc" → ["a", "b", "c"] (commas, semicolons or new lines; blanks dropped)."""
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


def to_need_body(form: NeedForm) -> dict[str, Any]:
    """The API body a filled-in need form stands for (times entered in Polish local time)."""
    body: dict[str, Any] = {
        "resident_ref": (form.resident_ref.data or "").strip(), "category": form.category.data,
        "village": form.village.data, "description": form.description.data or "",
        "duration_minutes": form.duration_minutes.data, "urgency": form.urgency.data, "slots": form.slots.data,
        "involves_minor": form.involves_minor.data, "requirements": form.requirements.data or [],
        "waived_requirements": form.waived_requirements.data or [], "continuity": form.continuity.data,
        "moderation": form.moderation.data, "source": form.source.data,
        "plan_ref": (form.plan_ref.data or "").strip() or None,
        "personal_care": form.personal_care.data, "installation_work": form.installation_work.data,
        "skills": split_list(form.skills.data), "relatives": split_list(form.relatives.data),
    }
    if form.kind.data == "recurring":
        body["recurrence"] = {
            "weekdays": form.weekdays.data or [],
            "time_from": form.time_from.data.strftime("%H:%M") if form.time_from.data else None,
            "time_to": form.time_to.data.strftime("%H:%M") if form.time_to.data else None,
            "starts_on": form.starts_on.data.isoformat() if form.starts_on.data else None,
            "until": form.until.data.isoformat() if form.until.data else None,
        }
    else:
        body["window_start"] = _aware(form.window_start.data)
        body["window_end"] = _aware(form.window_end.data)
    return body


FIELD_ALIASES = {"recurrence": "weekdays", "_schema": "description", "urgent": "urgency"}


def attach_errors(form: FlaskForm, errors: dict[str, Any]) -> None:
    """Marshmallow's (or the use cases') field errors, shown next to the form's fields, in Polish."""
    for key, messages in _flatten(errors):
        head = key.split(".")[0]  # "skills.3" (an item of a list) belongs to the list's field
        name = key.split(".")[-1] if key.startswith("recurrence.") else FIELD_ALIASES.get(head, head)
        field = getattr(form, name, None)
        if field is None:
            field = form.description if hasattr(form, "description") else next(iter(form))
        field.errors = list(field.errors or []) + [_polish(m) for m in messages]


def _flatten(errors: dict[str, Any], prefix: str = "") -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            out.append((name, [str(v) for v in value]))
        else:
            out.append((name, [str(value)]))
    return out


_ENGLISH = {
    "Missing data for required field.": REQUIRED,
    "Field may not be null.": REQUIRED,
    "Not a valid datetime.": "Nieprawidłowa data i godzina.",
    "Not a valid integer.": "Nieprawidłowa liczba całkowita.",
    "Not a valid date.": "Nieprawidłowa data.",
    "Not a valid time.": "Nieprawidłowa godzina.",
    "Not a valid string.": "Nieprawidłowy tekst.",
    "Not a valid boolean.": "Nieprawidłowa wartość tak/nie.",
    "Not a valid list.": "Nieprawidłowa lista.",
    "Not a valid email address.": "Nieprawidłowy adres e-mail.",
    "Must be one of: pl.": "Nieprawidłowy język.",
    "Not a valid aware datetime.": "Podaj datę i godzinę ze strefą czasową.",
    "Unknown field.": "Nieznane pole.",
}


def _polish(message: str) -> str:
    if message in _ENGLISH:
        return _ENGLISH[message]
    if message.startswith("Must be greater than or equal to") or message.startswith("Must be less than"):
        return "Wartość spoza dozwolonego zakresu."
    if message.startswith("Length must be") or message.startswith("Shorter than") or message.startswith("Longer than"):
        return "Nieprawidłowa długość tekstu."
    if message.startswith("String does not match"):
        return "Nieprawidłowy format."
    return message
