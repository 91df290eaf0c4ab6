"""The forms of the volunteer's own pages (Flask-WTF, CSRF on every one): sign-in, the weekly picker (days ×
time ranges chosen from lists, no free text), where and how they help, and the buttons."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from services.volunteers.forms import WEEKDAYS_PL, MultiCheckbox, category_choices, opts, village_choices

WEEKDAYS = WEEKDAYS_PL  # lower case, as in the catalogue; the pages capitalise them
STARTS = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
ENDS = STARTS[1:] + ["24:00"]
RANGES_PER_DAY = 2


class SignInForm(FlaskForm):
    identifier = StringField(_l("Adres e-mail albo numer telefonu"),
                             render_kw={"autocomplete": "username", "inputmode": "email", "maxlength": 200})


class ButtonForm(FlaskForm):
    """Only the CSRF token: sign in with the link, sign out, pause, resume, delete an absence."""


def _times(values: list[str], extra: str | None) -> list[SelectChoice]:
    items = list(values)
    if extra and extra not in items:  # a time staff entered that is not on the half hour: keep it selectable
        items = sorted([*items, extra])
    return [SelectChoice("", "—"), *(SelectChoice(v, v) for v in items)]


def weekly_form(slots: list[dict[str, Any]] | None, formdata: Any = None) -> FlaskForm:
    """A form with, for each weekday, as many rows "from – to" as the stored slots of that day need (at least
    RANGES_PER_DAY); field names d<weekday>_<row>_start / _end."""
    by_day: dict[int, list[dict[str, Any]]] = {d: [] for d in range(7)}
    for slot in sorted(slots or [], key=lambda s: (s["weekday"], s["start"])):
        by_day[int(slot["weekday"])].append(slot)
    rows = {d: max(RANGES_PER_DAY, len(by_day[d])) for d in range(7)}
    stored = {s["start"] for s in slots or []}, {s["end"] for s in slots or []}

    class WeeklyForm(FlaskForm):
        pass

    for day in range(7):
        for row in range(rows[day]):
            extra_start = sorted(stored[0] - set(STARTS))
            extra_end = sorted(stored[1] - set(ENDS))
            setattr(WeeklyForm, f"d{day}_{row}_start", SelectField(
                _l("od"), choices=_times(STARTS, extra_start[0] if extra_start else None), validate_choice=False))
            setattr(WeeklyForm, f"d{day}_{row}_end", SelectField(
                _l("do"), choices=_times(ENDS, extra_end[0] if extra_end else None), validate_choice=False))
    form = WeeklyForm(formdata=formdata) if formdata is not None else WeeklyForm()
    form.rows = rows  # type: ignore[attr-defined]
    if formdata is None:
        for day, day_slots in by_day.items():
            for row, slot in enumerate(day_slots):
                getattr(form, f"d{day}_{row}_start").data = slot["start"]
                getattr(form, f"d{day}_{row}_end").data = slot["end"]
    return form


def weekly_slots(form: FlaskForm) -> tuple[list[dict[str, Any]], list[Any]]:
    """The slots the picker holds, with the start field of each (to put a slot's error on), or field errors for a
    row with only one end chosen."""
    slots: list[dict[str, Any]] = []
    fields: list[Any] = []
    complete = True
    for day in range(7):
        for row in range(form.rows[day]):  # type: ignore[attr-defined]
            start, end = getattr(form, f"d{day}_{row}_start"), getattr(form, f"d{day}_{row}_end")
            if not start.data and not end.data:
                continue
            if not start.data or not end.data:
                start.errors = ["Wybierz początek i koniec albo zostaw oba puste."]
                complete = False
                continue
            slots.append({"weekday": day, "start": start.data, "end": end.data})
            fields.append(start)
    if not complete:
        raise ValueError("incomplete")
    return slots, fields


class AbsenceForm(FlaskForm):
    starts_on = StringField(_l("Od dnia"), render_kw={"type": "date"})
    ends_on = StringField(_l("Do dnia"), render_kw={"type": "date"})
    reason = SelectField(_l("Przyczyna"), choices=opts([("holiday", "urlop / wyjazd"), ("sick", "choroba"),
                                                        ("other", "inna przyczyna")]), validate_choice=False)

    def to_data(self) -> dict[str, Any]:
        return {k: v for k, v in {"starts_on": self.starts_on.data, "ends_on": self.ends_on.data,
                                  "reason": self.reason.data}.items() if v}


class WhereForm(FlaskForm):
    """Where and how they help: villages, home village and radius, categories, channel and quiet hours."""

    villages = MultiCheckbox(_l("W których miejscowościach pomagasz?"), choices=village_choices(),
                             validate_choice=False)
    home_village = SelectField(_l("Gdzie mieszkasz?"), choices=village_choices(blank=True), validate_choice=False)
    radius_km = StringField(_l("Jak daleko możesz dojechać (km, od 0 do 50)?"),
                            render_kw={"type": "number", "min": 0, "max": 50, "step": "0.5", "inputmode": "decimal"})
    categories = MultiCheckbox(_l("W czym pomagasz?"), choices=category_choices(), validate_choice=False)
    preferred_channel = RadioField(_l("Jak mamy się z Tobą kontaktować?"),
                                   choices=opts([("sms", "SMS"), ("email", "e-mail")]), validate_choice=False)
    quiet_start = SelectField(_l("Bez SMS-ów od"), choices=_times(STARTS, None), validate_choice=False)
    quiet_end = SelectField(_l("Bez SMS-ów do"), choices=_times(STARTS, None), validate_choice=False)

    def fill(self, v: dict[str, Any], categories: list[str]) -> None:
        self.villages.data = list(v.get("villages") or [])
        self.home_village.data = v.get("home_village") or ""
        self.radius_km.data = "" if v.get("radius_km") is None else f"{v['radius_km']:g}"
        self.categories.data = categories
        self.preferred_channel.data = v.get("preferred_channel") or "email"
        if v.get("quiet_hours"):
            self.quiet_start.data, self.quiet_end.data = v["quiet_hours"].split("-")

    def profile_data(self) -> dict[str, Any]:
        """The profile part, for the same schema and use case as a staff edit (partial update)."""
        data: dict[str, Any] = {"villages": self.villages.data or [],
                                "home_village": self.home_village.data or None,
                                "preferred_channel": self.preferred_channel.data or "email"}
        radius = (self.radius_km.data or "").strip().replace(",", ".")
        data["radius_km"] = radius if radius else 0
        start, end = self.quiet_start.data or "", self.quiet_end.data or ""
        if start or end:
            data["quiet_hours"] = f"{start}-{end}"  # one end missing: the schema refuses the pair
        else:
            data["quiet_hours"] = None
        return data
