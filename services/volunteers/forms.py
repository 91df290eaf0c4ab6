"""Staff and public forms (Flask-WTF, CSRF). The forms only collect text: the marshmallow schemas in
schemas.py validate it, so the forms and the JSON API give the same Polish messages for the same mistake.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from services.volunteers import model, schemas
from wspolnota import reference
from wspolnota.web import WARSAW

PROVIDER_TYPES_PL = {"volunteer": "wolontariusz", "paid_neighbour": "opiekun sąsiedzki (usługi sąsiedzkie)",
                     "partner_organisation": "organizacja partnerska", "staff": "pracownik CUS"}
ORGANISATION_KINDS_PL = {"kgw": "Koło Gospodyń Wiejskich", "osp": "Ochotnicza Straż Pożarna", "parish": "parafia",
                         "school": "szkoła", "ngo": "organizacja pozarządowa", "business": "firma",
                         "other": "inna"}
CREDENTIALS_PL = {"driving_licence": "prawo jazdy", "own_car": "własny samochód (ubezpieczenie OC)",
                  "kamilka_check": "weryfikacja Kamilka (ochrona małoletnich)",
                  "first_aid": "szkolenie z pierwszej pomocy",
                  "confidentiality_authorisation": "upoważnienie do przetwarzania danych",
                  "nnw_insurance": "ubezpieczenie NNW", "agreement": "porozumienie wolontariackie"}
# The languages a person can choose on the forms, by their Polish names; the stored value is the ISO 639-1 code.
LANGUAGES_PL = {"pl": "polski", "uk": "ukraiński", "en": "angielski", "de": "niemiecki", "ru": "rosyjski",
                "be": "białoruski", "fr": "francuski", "es": "hiszpański", "it": "włoski", "cs": "czeski",
                "sk": "słowacki", "lt": "litewski"}
NO_LANGUAGE = "Wybierz co najmniej jeden język."
EXCEPTIONS_PL = {"holiday": "urlop / wyjazd", "sick": "choroba", "other": "inna przyczyna"}
WEEKDAYS_PL = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
CONSENT_TEXT = (
    "Wyrażam zgodę na przetwarzanie moich danych osobowych (imię i nazwisko, adres e-mail, numer telefonu, "
    "miejscowości, dostępność) przez Centrum Usług Społecznych w Zagnańsku, ul. Turystyczna 86, 26-050 Zagnańsk, "
    "w celu organizowania pomocy wolontariackiej i sąsiedzkiej. Zgodę mogę wycofać w każdej chwili, "
    "co nie wpływa na zgodność z prawem wcześniejszego przetwarzania. Moje dane kontaktowe nie są "
    "przekazywane innym osobom bez potrzeby.")

_DAY_ALIASES = {"pn": 0, "pon": 0, "poniedzialek": 0, "wt": 1, "wto": 1, "wtorek": 1, "sr": 2, "sro": 2,
                "sroda": 2, "cz": 3, "czw": 3, "czwartek": 3, "pt": 4, "pia": 4, "piatek": 4, "so": 5,
                "sob": 5, "sobota": 5, "nd": 6, "nie": 6, "niedz": 6, "ndz": 6, "niedziela": 6}
_PLAIN = str.maketrans("ąćęłńóśźż", "acelnoszz")
SLOT_LINE = re.compile(r"^\s*([^\d\s]+)\.?\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


class MultiCheckbox(SelectMultipleField):
    """Checkboxes for a multiple choice (the public form: easier than a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def opts(pairs: Any) -> list[SelectChoice]:
    """Choices whose labels follow the page's language (the Polish text is the message id)."""
    return [SelectChoice(value, _l(label) if isinstance(label, str) and label else label) for value, label in pairs]


def village_choices(blank: bool = False) -> list[SelectChoice]:
    items = sorted(((code, v["name"]) for code, v in reference.villages().items()), key=lambda c: c[1])
    return opts(([("", "— wybierz —")] if blank else []) + items)


def category_choices() -> list[SelectChoice]:
    return opts((code, f"{c['name']} ({code})") for code, c in reference.categories().items())


def language_choices() -> list[SelectChoice]:
    return opts(LANGUAGES_PL.items())


def new_token() -> str:
    return str(uuid.uuid4())


class SlotSyntaxError(ValueError):
    pass


def parse_slots(text: str | None) -> list[dict[str, Any]]:
    """'pon 16:00-19:00' per line → weekly slots; raise SlotSyntaxError with a Polish message."""
    slots = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        m = SLOT_LINE.match(line)
        day = _DAY_ALIASES.get(m.group(1).lower().translate(_PLAIN)) if m else None
        if m is None or day is None:
            raise SlotSyntaxError(gettext("Wiersz %(number)s: nieczytelny zapis — użyj np. „pon 16:00-19:00”.",
                                          number=number))
        slots.append({"weekday": day, "start": m.group(2).zfill(5), "end": m.group(3).zfill(5)})
    return slots


def format_slots(slots: list[dict[str, Any]] | None) -> str:
    return "\n".join(f"{WEEKDAYS_PL[s['weekday']]} {s['start']}-{s['end']}" for s in slots or [])


def split_list(text: str | None, upper: bool = False) -> list[str]:
    items = [t.strip() for t in re.split(r"[,;\n]", text or "") if t.strip()]
    return [t.upper() if upper else t.lower() for t in items]


def local_to_utc_iso(value: str | None) -> str | None:
    """A datetime-local value typed in Warsaw time → aware ISO string; None if empty or unreadable."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema reports it as an invalid date
    return naive.replace(tzinfo=WARSAW).isoformat()


def apply_errors(form: FlaskForm, messages: dict[str, Any]) -> None:
    """Put the schema's Polish messages on the form's fields (nested messages flattened)."""
    for name, value in messages.items():
        target = getattr(form, name, None)
        text = list(_flatten(value, name))
        if target is None:
            form.form_errors.extend(text)
        else:
            target.errors = list(target.errors or []) + text


def _flatten(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        for key, inner in value.items():
            label = gettext("Przedział %(n)s: ", n=key + 1) if isinstance(key, int) and name == "weekly_slots" else ""
            for message in _flatten(inner, name):
                yield label + message
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item, name)
    else:
        yield str(value)


class ProviderForm(FlaskForm):
    submission = HiddenField()
    provider_type = SelectField(_l("Rodzaj wykonawcy"), choices=opts(PROVIDER_TYPES_PL.items()), validate_choice=False)
    name = StringField(_l("Imię i nazwisko albo nazwa organizacji"))
    organisation_kind = SelectField(_l("Rodzaj organizacji (dla organizacji partnerskiej)"),
                                    choices=opts([("", "— nie dotyczy —"), *ORGANISATION_KINDS_PL.items()]), validate_choice=False)
    krs = StringField(_l("Numer KRS (dla organizacji partnerskiej, nieobowiązkowo)"),
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})
    contact_person = StringField(_l("Osoba kontaktowa (dla organizacji partnerskiej)"))
    email = StringField(_l("Adres e-mail"), render_kw={"type": "email", "autocomplete": "off"})
    phone = StringField(_l("Telefon"), render_kw={"type": "tel"})
    preferred_channel = SelectField(_l("Preferowany kanał kontaktu"), choices=opts([("email", "e-mail"), ("sms", "SMS")]), validate_choice=False)
    villages = SelectMultipleField(_l("Miejscowości, w których pomaga"), choices=village_choices(), validate_choice=False)
    home_village = SelectField(_l("Miejscowość zamieszkania"), choices=village_choices(blank=True), validate_choice=False)
    radius_km = StringField(_l("Promień działania (km)"), render_kw={"type": "number", "min": 0, "max": 50, "step": "0.5"})
    skills = StringField(_l("Umiejętności (oddzielone przecinkami)"))
    languages = MultiCheckbox(_l("Języki"), choices=language_choices(), default=["pl"], validate_choice=False)
    own_car = BooleanField(_l("Ma własny samochód"))
    weekly_slots = TextAreaField(_l("Dostępność tygodniowa (jeden przedział w wierszu, np. „pon 16:00-19:00”)"))
    capacity_hours_per_week = StringField(_l("Godzin tygodniowo (najwyżej)"), render_kw={"type": "number", "min": 0})
    max_open_tasks = StringField(_l("Otwartych zadań naraz (najwyżej)"), render_kw={"type": "number", "min": 1})
    nc_adult = BooleanField(_l("Osoba pełnoletnia"))
    nc_not_family = BooleanField(_l("Oświadczenie: nie jest członkiem rodziny osób, którym będzie pomagać"))
    nc_lives_nearby = BooleanField(_l("Mieszka w pobliżu"))
    nc_fitness_declared = BooleanField(_l("Oświadczenie o stanie zdrowia (sprawność psychofizyczna)"))
    nc_accepted_by_cus = BooleanField(_l("Zaakceptowany przez CUS"))
    notes = TextAreaField(_l("Uwagi (najwyżej 2000 znaków)"))
    consent = BooleanField(_l("Osoba wyraziła zgodę na przetwarzanie danych"))
    verified = BooleanField(_l("Tożsamość i dane sprawdzone (zweryfikowany)"))

    NEIGHBOUR = ("adult", "not_family", "lives_nearby", "fitness_declared", "accepted_by_cus")

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in ("provider_type", "name", "organisation_kind", "krs", "contact_person", "email", "phone",
                     "preferred_channel", "home_village", "radius_km", "capacity_hours_per_week", "max_open_tasks",
                     "notes"):
            value = (getattr(self, name).data or "").strip()
            if value:
                data[name] = value
        data["villages"] = self.villages.data or []
        data["skills"] = split_list(self.skills.data)
        data["languages"] = list(self.languages.data or [])
        data["own_car"] = bool(self.own_car.data)
        data["weekly_slots"] = parse_slots(self.weekly_slots.data)
        if data.get("provider_type") == model.PAID_NEIGHBOUR:
            data["neighbour_conditions"] = {k: bool(getattr(self, f"nc_{k}").data) for k in self.NEIGHBOUR}
        data["consent"] = bool(self.consent.data)
        data["verified"] = bool(self.verified.data)
        return data

    def fill(self, v: dict[str, Any]) -> None:
        for name in ("provider_type", "name", "organisation_kind", "krs", "contact_person", "email", "phone",
                     "preferred_channel", "home_village", "notes", "villages", "own_car"):
            getattr(self, name).data = v.get(name) or getattr(self, name).data
        for name in ("radius_km", "capacity_hours_per_week", "max_open_tasks"):
            getattr(self, name).data = "" if v.get(name) is None else f"{v[name]:g}"
        self.skills.data = ", ".join(v.get("skills") or [])
        self.languages.data = list(v.get("languages") or ["pl"])
        self.weekly_slots.data = format_slots(v.get("weekly_slots"))
        for k in self.NEIGHBOUR:
            getattr(self, f"nc_{k}").data = bool((v.get("neighbour_conditions") or {}).get(k))


class SelfRegistrationForm(FlaskForm):
    submission = HiddenField()
    name = StringField(_l("Imię i nazwisko"), render_kw={"autocomplete": "name"})
    email = StringField(_l("Adres e-mail"), render_kw={"type": "email", "autocomplete": "email"})
    phone = StringField(_l("Telefon"), render_kw={"type": "tel", "autocomplete": "tel"})
    villages = MultiCheckbox(_l("W których miejscowościach możesz pomagać?"), choices=village_choices(), validate_choice=False)
    categories = MultiCheckbox(_l("W czym chcesz pomagać?"), choices=category_choices(), validate_choice=False)
    languages = MultiCheckbox(_l("Języki, którymi się posługujesz"), choices=language_choices(), default=["pl"],
                              validate_choice=False)
    own_car = BooleanField(_l("Mam samochód i mogę nim dowozić"))
    weekly_slots = TextAreaField(_l("Kiedy zwykle masz czas? (jeden przedział w wierszu, np. „sob 10:00-13:00”)"))
    notes = TextAreaField(_l("Coś o sobie (nieobowiązkowo, najwyżej 2000 znaków)"))
    consent = BooleanField(_l("Zgadzam się na przetwarzanie moich danych na zasadach opisanych powyżej"))

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in ("name", "email", "phone", "notes"):
            value = (getattr(self, name).data or "").strip()
            if value:
                data[name] = value
        data["villages"] = self.villages.data or []
        data["categories"] = self.categories.data or []
        data["languages"] = list(self.languages.data or [])
        data["own_car"] = bool(self.own_car.data)
        data["weekly_slots"] = parse_slots(self.weekly_slots.data)
        data["consent"] = bool(self.consent.data)
        return data


class CredentialForm(FlaskForm):
    submission = HiddenField()
    kind = SelectField(_l("Rodzaj uprawnienia"), choices=opts(CREDENTIALS_PL.items()), validate_choice=False)
    valid_from = StringField(_l("Ważne od"), render_kw={"type": "date"})
    valid_until = StringField(_l("Ważne do (puste: bezterminowo)"), render_kw={"type": "date"})
    written = BooleanField(_l("Porozumienie zawarte na piśmie"))
    register_checked_on = StringField(_l("Kamilka: data sprawdzenia w Rejestrze Sprawców (dostęp ograniczony)"),
                                      render_kw={"type": "date"})
    register_result = SelectField(_l("Kamilka: wynik sprawdzenia w rejestrze"),
                                  choices=opts([("", "— wybierz —"),
                                                ("not_listed", "osoba nie figuruje w rejestrze"),
                                                ("listed", "osoba figuruje w rejestrze")]), validate_choice=False)
    krk_seen_on = StringField(_l("Kamilka: data okazania informacji z KRK"), render_kw={"type": "date"})
    krk_entry = BooleanField(_l("Kamilka: informacja z KRK zawiera wpis (wynik niekorzystny)"))
    countries_last_20_years = StringField(_l("Kamilka: kraje zamieszkania w ostatnich 20 latach (kody, np. PL, DE)"),
                                          default="PL")
    foreign_record_seen_on = StringField(_l("Kamilka: data okazania informacji z rejestrów karnych innych krajów"),
                                         render_kw={"type": "date"})
    # Who checked and who recorded is the signed-in account (services/volunteers/signed_in.py), never typed here.

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.data, "written": bool(self.written.data),
                                "krk_entry": bool(self.krk_entry.data),
                                "countries_last_20_years": split_list(self.countries_last_20_years.data, upper=True)
                                or ["PL"]}
        for name in ("valid_from", "valid_until", "register_checked_on", "register_result", "krk_seen_on",
                     "foreign_record_seen_on"):
            value = (getattr(self, name).data or "").strip()
            if value:
                data[name] = value
        return data


class ExceptionForm(FlaskForm):
    submission = HiddenField()
    starts_on = StringField(_l("Od dnia"), render_kw={"type": "date"})
    ends_on = StringField(_l("Do dnia"), render_kw={"type": "date"})
    reason = SelectField(_l("Przyczyna"), choices=opts(EXCEPTIONS_PL.items()), validate_choice=False)

    def to_data(self) -> dict[str, Any]:
        return {k: v for k, v in {"starts_on": self.starts_on.data, "ends_on": self.ends_on.data,
                                  "reason": self.reason.data}.items() if v}


class OfferForm(FlaskForm):
    submission = HiddenField()
    categories = SelectMultipleField(_l("Kategorie pomocy"), choices=category_choices(), validate_choice=False)
    villages = SelectMultipleField(_l("Miejscowości (puste: jak w profilu)"), choices=village_choices(), validate_choice=False)
    available_from = StringField(_l("Dostępny od"), render_kw={"type": "datetime-local"})
    available_to = StringField(_l("Dostępny do"), render_kw={"type": "datetime-local"})
    weekly_slots = TextAreaField(_l("Godziny w tygodniu (np. „pon 16:00-19:00”; puste: cały okres)"))
    standing = BooleanField(_l("Oferta stała (organizacja partnerska)"))

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"categories": self.categories.data or [],
                                "weekly_slots": parse_slots(self.weekly_slots.data),
                                "standing": bool(self.standing.data)}
        if self.villages.data:
            data["villages"] = self.villages.data
        for name in ("available_from", "available_to"):
            value = local_to_utc_iso(getattr(self, name).data)
            if value:
                data[name] = value
        return data


class VerifyForm(FlaskForm):
    """Only the CSRF token: the verifier is the signed-in account."""


class ActionForm(FlaskForm):
    """Buttons that only need the CSRF token (pause, resume, withdraw)."""


class RevokeCredentialForm(FlaskForm):
    """Staff revoke one credential; the reason is required and stays in this service."""

    reason = TextAreaField(_l("Powód cofnięcia"))

    def to_data(self) -> dict[str, Any]:
        value = (self.reason.data or "").strip()
        return {"reason": value} if value else {}


class EraseForm(FlaskForm):
    confirm = BooleanField(_l("Potwierdzam usunięcie danych osobowych tej osoby (nieodwracalne)"))


def load(schema: schemas.PolishSchema, form: FlaskForm, partial: bool = False) -> dict[str, Any] | None:
    """Validate the form's data with the API's schema; on errors put them on the form and return None."""
    from marshmallow import ValidationError

    try:
        raw = form.to_data()  # type: ignore[attr-defined]
    except SlotSyntaxError as err:
        form.weekly_slots.errors = [str(err)]  # type: ignore[attr-defined]
        return None
    # Nothing ticked among the languages is a mistake on the form (the API's default of Polish is for JSON only).
    languages = getattr(form, "languages", None)
    no_language = isinstance(languages, MultiCheckbox) and not raw.get("languages") and not (
        partial and "languages" not in raw)
    try:
        data = schema.load(raw, partial=partial)
    except ValidationError as err:
        apply_errors(form, err.messages)  # type: ignore[arg-type]
        data = None
    if no_language:
        assert languages is not None
        languages.errors = list(languages.errors or []) + [NO_LANGUAGE]
        return None
    return data  # type: ignore[no-any-return]
