"""The hours section of the provider's card: the chosen year's hours by month (a chart and the same numbers in a
table) and the period form of the certificate and the export (certificate_pages.py answers its buttons)."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import StringField

from services.volunteers import engagement, hours, svg
from wspolnota import access
from wspolnota.auth import auth_disabled, current_user

MONTHS = (_l("sty"), _l("lut"), _l("mar"), _l("kwi"), _l("maj"), _l("cze"), _l("lip"), _l("sie"), _l("wrz"),
          _l("paź"), _l("lis"), _l("gru"))
MONTH_NAMES = (_l("styczeń"), _l("luty"), _l("marzec"), _l("kwiecień"), _l("maj"), _l("czerwiec"), _l("lipiec"),
               _l("sierpień"), _l("wrzesień"), _l("październik"), _l("listopad"), _l("grudzień"))
FIRST_YEAR, LAST_YEAR = 2000, 2100
BAD_YEAR = "Rok musi być liczbą od 2000 do 2100 — pokazano bieżący rok."


class PeriodForm(FlaskForm):
    since = StringField(_l("Od dnia"), render_kw={"type": "date"})
    until = StringField(_l("Do dnia"), render_kw={"type": "date"})

    def to_data(self) -> dict[str, Any]:
        return {k: v for k, v in {"since": self.since.data, "until": self.until.data}.items() if v}


def may_issue_documents() -> bool:
    """May the signed-in person issue the certificate and export hours (those who keep the register)?"""
    user = current_user()
    if user is None:
        return auth_disabled(current_app)  # only a test app with sign-in switched off has nobody signed in
    return user["role"] in access.VOLUNTEER_WRITE


def number(value: float) -> str:
    """Hours in the page's language: 6,5 in Polish, 6.5 in English."""
    from babel.numbers import format_decimal
    from flask_babel import get_locale

    return str(format_decimal(value, "#,##0.##", locale=str(get_locale() or "pl")))


def hours_section(session: Session, provider_id: str, today: date, form: PeriodForm | None = None) -> dict[str, Any]:
    """The card's hours-by-month context: the year asked for (`?rok=`, else this year), its months as a chart and
    as table rows, the period form (by default from 1 January to today)."""
    year, year_error = today.year, None
    asked = request.args.get("rok")
    if asked is not None:
        if asked.isdigit() and FIRST_YEAR <= int(asked) <= LAST_YEAR:
            year = int(asked)
        else:
            year_error = BAD_YEAR
    months = hours.by_month(session, provider_id, year)
    if form is None:
        form = PeriodForm(formdata=None)
        form.since.data, form.until.data = date(today.year, 1, 1).isoformat(), today.isoformat()
    labels = [str(m) for m in MONTHS]
    chart = svg.month_bars("hours-by-month", gettext("Godziny w kolejnych miesiącach roku %(year)s", year=year),
                           labels, [m["hours"] for m in months["months"]], unit=gettext("godz."), fmt=number)
    return {"hours_year": year, "hours_year_error": year_error, "hours_months": months,
            "hours_chart": chart, "month_names": [str(m) for m in MONTH_NAMES], "period_form": form,
            "may_issue_documents": may_issue_documents(),
            "milestones": engagement.milestones(session, provider_id, today)}
