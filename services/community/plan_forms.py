"""Staff and public forms of the plan, activities, groups and partners (Flask-WTF, CSRF).

WTForms only carries text; `body()` turns a form into the JSON API's body and the API's schemas (plan_schemas.py)
and use cases judge it, so a form and the API give the same Polish messages, shown beside the fields.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms import SelectField as _SelectField
from wtforms import SelectMultipleField as _SelectMultipleField
from wtforms.fields.choices import SelectChoice

from services.community import animation, plan
from services.community.plan_handlers import LOG_KIND_PL
from wspolnota import reference
from wspolnota.localtime import WARSAW

DATE = {"type": "date"}
DATETIME = {"type": "datetime-local"}
NUMBER = {"inputmode": "numeric"}


class SelectField(_SelectField):
    """A choice the API's schema judges (its Polish message), not WTForms."""

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, validate_choice=False, **kw)


class SelectMultipleField(_SelectMultipleField):
    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, validate_choice=False, **kw)


def opts(pairs: Any, translate: bool = False) -> list[SelectChoice]:
    """Choices; `translate`: the labels are Polish message ids that follow the page's language."""
    return [SelectChoice(value, _l(label) if translate and label else label) for value, label in pairs]


def _villages() -> list[SelectChoice]:
    return opts((code, v["name"]) for code, v in sorted(reference.villages().items(), key=lambda kv: kv[1]["name"]))


def _categories() -> list[SelectChoice]:
    return opts([("", "—")] + [(code, f"{code} — {c['name']}") for code, c in sorted(reference.categories().items())])


class PlanForm(FlaskForm):
    title = StringField(_l("Nazwa planu"))
    starts_on = StringField(_l("Początek okresu"), render_kw=DATE)
    ends_on = StringField(_l("Koniec okresu"), render_kw=DATE)


class GoalForm(FlaskForm):
    title = StringField(_l("Cel"))
    description = TextAreaField(_l("Opis"))
    diagnosis_ref = StringField(_l("Wniosek z diagnozy, na który odpowiada"))


class ActionForm(FlaskForm):
    goal_id = SelectField(_l("Cel"), choices=[])
    title = StringField(_l("Działanie"))
    description = TextAreaField(_l("Opis"))
    villages = SelectMultipleField(_l("Miejscowości (żadna: cała gmina)"), choices=[])
    target_group = StringField(_l("Grupa docelowa"))
    responsible = StringField(_l("Osoba odpowiedzialna"))
    starts_on = StringField(_l("Od"), render_kw=DATE)
    ends_on = StringField(_l("Do"), render_kw=DATE)
    partners = SelectMultipleField(_l("Organizacje partnerskie"), choices=[])

    def __init__(self, goals: list[dict[str, Any]], partners: list[tuple[str, str]], **kw: Any):
        """`partners`: (organisation id, its name) of the active partner organisations."""
        super().__init__(**kw)
        self.goal_id.choices = opts((g["id"], g["title"]) for g in goals)
        self.villages.choices = _villages()
        self.partners.choices = opts(partners)


class IndicatorForm(FlaskForm):
    goal_id = SelectField(_l("Cel"), choices=[])
    title = StringField(_l("Wskaźnik"))
    unit = StringField(_l("Jednostka"))
    source = SelectField(_l("Skąd wartość"), choices=opts(plan.SOURCE_PL.items(), translate=True))
    baseline = StringField(_l("Wartość bazowa"), render_kw=NUMBER)
    target = StringField(_l("Wartość docelowa"), render_kw=NUMBER)

    def __init__(self, goals: list[dict[str, Any]], **kw: Any):
        super().__init__(**kw)
        self.goal_id.choices = opts((g["id"], g["title"]) for g in goals)


class ProgressForm(FlaskForm):
    status = SelectField(_l("Status"), choices=opts(plan.ACTION_STATUS_PL.items(), translate=True))
    percent_done = StringField(_l("Wykonano (%)"), render_kw=NUMBER)
    automatic = BooleanField(_l("Liczyć postęp z odbytych zajęć (status i procent ustawiane ręcznie są pomijane)"))


class ActivityForm(FlaskForm):
    kind = SelectField(_l("Rodzaj"), choices=opts(animation.KIND_PL.items(), translate=True))
    title = StringField(_l("Tytuł"))
    description = TextAreaField(_l("Opis"))
    village = SelectField(_l("Miejscowość"), choices=[])
    venue = StringField(_l("Miejsce (np. świetlica, remiza OSP)"))
    starts_at = StringField(_l("Początek"), render_kw=DATETIME)
    ends_at = StringField(_l("Koniec"), render_kw=DATETIME)
    capacity = StringField(_l("Liczba miejsc (puste: bez limitu)"), render_kw=NUMBER)
    count = StringField(_l("Liczba spotkań cyklu"), render_kw=NUMBER)
    every_days = StringField(_l("Co ile dni"), render_kw=NUMBER)
    helpers_wanted = StringField(_l("Potrzebni wolontariusze (liczba)"), render_kw=NUMBER)
    helpers_category = SelectField(_l("Kategoria pomocy"), choices=[])
    involves_children = BooleanField(_l("Z udziałem dzieci (pomocnicy po sprawdzeniu z ustawy Kamilka)"))
    action_id = SelectField(_l("Działanie planu"), choices=[])

    def __init__(self, actions: list[dict[str, Any]], **kw: Any):
        super().__init__(**kw)
        self.village.choices = _villages()
        self.helpers_category.choices = _categories()
        self.action_id.choices = opts([("", "—")] + [(a["id"], a["title"]) for a in actions])


class RegistrationForm(FlaskForm):
    name = StringField(_l("Imię i nazwisko"))
    phone = StringField(_l("Telefon (nieobowiązkowy)"), render_kw={"type": "tel", "autocomplete": "tel"})
    email = StringField(_l("E-mail (nieobowiązkowy)"), render_kw={"type": "email", "autocomplete": "email"})
    consent = BooleanField(_l("Zgadzam się na przypomnienia SMS/e-mail o tych zajęciach"))


class ActivityEditForm(FlaskForm):
    title = StringField(_l("Tytuł"))
    description = TextAreaField(_l("Opis"))
    village = SelectField(_l("Miejscowość"), choices=[])
    venue = StringField(_l("Miejsce (np. świetlica, remiza OSP)"))
    starts_at = StringField(_l("Początek"), render_kw=DATETIME)
    ends_at = StringField(_l("Koniec"), render_kw=DATETIME)
    capacity = StringField(_l("Liczba miejsc (puste: bez limitu)"), render_kw=NUMBER)
    helpers_wanted = StringField(_l("Potrzebni wolontariusze (liczba)"), render_kw=NUMBER)

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.village.choices = _villages()


class AnnouncementForm(FlaskForm):
    text = TextAreaField(_l("Ogłoszenie (najwyżej 300 znaków, bez nazwisk, telefonów i adresów e-mail)"),
                         render_kw={"maxlength": "300", "rows": "3"})


class HelperForm(FlaskForm):
    provider_id = StringField(_l("Identyfikator wolontariusza z rejestru wolontariatu"))


class GroupForm(FlaskForm):
    name = StringField(_l("Nazwa grupy"))
    topic = StringField(_l("Temat"))
    village = SelectField(_l("Miejscowość"), choices=[])
    facilitator = StringField(_l("Prowadzący"))
    schedule = StringField(_l("Harmonogram spotkań (np. co drugi wtorek, 17:00)"))
    venue = StringField(_l("Miejsce"))
    max_members = StringField(_l("Najwięcej członków (puste: bez limitu)"), render_kw=NUMBER)

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.village.choices = _villages()


class MemberForm(FlaskForm):
    name = StringField(_l("Imię i nazwisko"))
    phone = StringField(_l("Telefon (nieobowiązkowy)"), render_kw={"type": "tel"})
    joined_on = StringField(_l("Od kiedy"), render_kw=DATE)


class PartnerForm(FlaskForm):
    brings = TextAreaField(_l("Co wnosi (miejsce, ludzie, sprzęt, wiedza)"))


class AgreementForm(FlaskForm):
    scope = TextAreaField(_l("Zakres współpracy"))
    starts_on = StringField(_l("Od"), render_kw=DATE)
    ends_on = StringField(_l("Do (puste: bezterminowo)"), render_kw=DATE)
    document_ref = StringField(_l("Znak dokumentu"))


class LogForm(FlaskForm):
    on = StringField(_l("Data"), render_kw=DATE)
    kind = SelectField(_l("Rodzaj"), choices=opts(LOG_KIND_PL.items(), translate=True))
    note = TextAreaField(_l("Notatka"))


def body(form: FlaskForm, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The form as the API's JSON body: empty optional fields left out, local times made aware (Warsaw)."""
    out: dict[str, Any] = {}
    for field in form:
        if field.short_name == "csrf_token" or field.short_name in skip:
            continue
        value = field.data
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
            if field.render_kw == DATETIME:
                value = _aware(value)
        out[field.short_name] = value
    return out


def local_input(value: datetime) -> str:
    """An aware time as a datetime-local field's value (Warsaw)."""
    return value.astimezone(WARSAW).strftime("%Y-%m-%dT%H:%M")


def _aware(value: str) -> str:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=WARSAW).isoformat()
    except ValueError:
        return value  # the schema says what is wrong with it


def attach_errors(form: FlaskForm, errors: dict[str, Any], message: str = "") -> None:
    """Field errors (marshmallow's or a use case's) beside their fields; the rest above the form."""
    for key, messages in errors.items():
        texts = messages if isinstance(messages, list) else [messages]
        if isinstance(messages, dict):
            texts = [str(m) for ms in messages.values() for m in (ms if isinstance(ms, list) else [ms])]
        field = getattr(form, key.split(".")[0], None)
        if field is None:
            form.form_errors.extend(str(t) for t in texts)
        else:
            field.errors = list(field.errors or []) + [str(t) for t in texts]
    if message and not errors:
        form.form_errors.append(message)
