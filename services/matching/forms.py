"""Staff forms of the review queue (Flask-WTF, CSRF) and the Polish words the pages use."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from services.matching import model, rules

RULES_PL = {
    "provider_not_paused": "przerwa w działalności wykonawcy",
    "provider_verified": "wykonawca niezweryfikowany przez CUS",
    "not_declined_before": "odmówił lub nie odpowiedział wcześniej / już obsługuje tę potrzebę",
    "category_offered": "nie oferuje pomocy w tej kategorii",
    "kamilka_gate": "brak aktualnej weryfikacji Kamilka (ochrona małoletnich)",
    "volunteer_agreement": "brak aktualnego porozumienia wolontariackiego",
    "nnw_insurance_for_short_agreement": "brak ubezpieczenia NNW przy porozumieniu do 30 dni",
    "neighbour_services_only_by_paid_neighbours": "usługi sąsiedzkie tylko przez opiekuna sąsiedzkiego",
    "not_a_relative": "członek rodziny osoby wspieranej",
    "no_personal_care_by_volunteers": "czynności opiekuńcze tylko przez opiekuna sąsiedzkiego",
    "driving_licence_and_car_for_transport": "brak prawa jazdy lub samochodu",
    "confidentiality_authorisation_for_paperwork": "brak upoważnienia do danych",
    "required_credentials_in_date": "brak wymaganych, aktualnych uprawnień",
    "skills_present": "brak wymaganych umiejętności",
    "language_spoken": "nie mówi w języku osoby wspieranej",
    "within_area": "poza obszarem działania",
    "time_windows_overlap": "brak wspólnego terminu",
    "weekly_hours_left": "wyczerpany tygodniowy limit godzin",
    "open_tasks_left": "maksymalna liczba otwartych zadań",
}
assert set(RULES_PL) == {r.__name__ for r in rules.RULES}, "every rule needs a Polish name"

TERMS_PL = {
    "distance": "dojazd (koszt)",
    "load": "obciążenie wykonawcy (koszt)",
    "continuity": "ten sam wykonawca co wcześniej (bonus)",
    "urgency": "waga pilności (kara za brak pomocy)",
    "deficit": "wyrównanie dla miejscowości i kategorii (dodatkowa waga)",
}

STATUSES_PL = model.STATUS_PL

REASONS_PL = {
    "covered": "potrzeba jest już obsłużona",
    "replaced": "zastąpiona lepszą propozycją lub wyborem personelu",
    "need_cancelled": "potrzeba odwołana",
    "need_completed": "potrzeba zakończona",
    "need_updated": "potrzeba zmieniona — wykonawca nie spełnia już warunków",
    "volunteer_paused": "wykonawca zawiesił działalność",
    "volunteer_updated": "dane wykonawcy zmienione — nie spełnia już warunków",
    "volunteer_erased": "dane wykonawcy usunięte",
    "credential_expired": "wygasło uprawnienie wykonawcy",
    "credential_changed": "zmiana uprawnień wykonawcy",
    "credential_revoked": "cofnięte uprawnienie wykonawcy",
    "safety_review": "udział wykonawcy wstrzymany przez CUS do wyjaśnienia",
    "offer_withdrawn": "wykonawca wycofał ofertę",
    "offer_changed": "zmiana oferty wykonawcy",
    "stepped_back": "wykonawca zrezygnował z wizyty",
    "did_not_happen": "wizyta się nie odbyła (według wykonawcy)",
    "did_not_happen_staff": "wizyta się nie odbyła (według pracownika)",
}
STEP_BACK_SCOPES_PL = {"visit": "z jednej wizyty", "series": "z całego cyklu"}

# A helper offer's status (helpers.py), as staff read it on "Pomocnicy na zajęciach".
HELPER_STATUSES_PL = {"offered": "czeka na odpowiedź", "accepted": "przyjęta", "declined": "odmowa wykonawcy",
                      "expired": "brak odpowiedzi w terminie", "cancelled": "wycofana"}

SOURCES_PL = {"solver": "optymalizacja", "cascade": "kaskada ofert", "staff": "wybór personelu",
              "series": "przyjęty cały cykl (wizyta przydzielona bez oferty)"}


class ApproveForm(FlaskForm):
    """The reviewer is the signed-in account (app.staff_actor), never a typed name."""


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Powód odrzucenia"), validators=[
        DataRequired(message=_l("Podaj powód odrzucenia.")),
        Length(min=3, max=500, message=_l("Powód musi mieć od 3 do 500 znaków."))])


class PickForm(FlaskForm):
    volunteer_id = SelectField(_l("Inny kandydat"), validators=[DataRequired(message=_l("Wybierz kandydata."))],
                               choices=[])


class PolishDecimalField(DecimalField):
    """Accepts a decimal comma ("1,5") and says in Polish when the text is not a number."""

    def process_formdata(self, valuelist):  # type: ignore[no-untyped-def]
        if valuelist:
            valuelist = [valuelist[0].strip().replace(",", ".")]
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError(gettext("Podaj liczbę, np. 1,5.")) from err


class CompleteForm(FlaskForm):
    hours = PolishDecimalField(_l("Przepracowane godziny"), places=2, validators=[
        InputRequired(message=_l("Podaj liczbę godzin.")),
        NumberRange(min=0, max=24, message=_l("Podaj liczbę godzin od 0 do 24."))])


class NotDoneForm(FlaskForm):
    """An accepted visit that did not take place (the match page): a button, nothing else."""


class ModerationForm(FlaskForm):
    mode = SelectField(_l("Tryb moderacji"), choices=[SelectChoice("review", _l("przegląd przez personel")),
                                                        SelectChoice("auto", _l("automatycznie"))],
                       validators=[DataRequired(message=_l("Wybierz tryb."))])
