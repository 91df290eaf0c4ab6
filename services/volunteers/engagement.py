"""Keeping volunteers with us: milestones the organiser sees, and the volunteer's choice about thank-you messages
and nudges.

- **Milestones** are computed from the hours ledger, never stored: 10, 50 and 100 hours given (the day the
  running total reached it) and one year since the first hour given. The staff card shows a provider's
  (`hours_view.hours_section`), `/kamienie-milowe` lists those reached in the last days (`?dni=`, default 90) so
  the organiser can thank people in person.
- **Messages**: after a completed visit notify thanks the volunteer (once per visit), and matching's periodic job
  nudges a volunteer idle for MATCHING_NUDGE_IDLE_DAYS when open needs wait in their villages (docs/matching.md).
  Both are on unless the volunteer switches them off here (`/wolontariusz/wiadomosci`); notify reads the choice
  with the contact at send time (`engagement_messages` in the internal contact API), so it applies at once.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField

from services.volunteers import handlers, sign_in, signed_in
from services.volunteers.db import hours_ledger, volunteers
from services.volunteers.volunteer_space import bp as space
from services.volunteers.volunteer_space import page, read_audited, signed_in_volunteer
from wspolnota.web import current_parts

HOUR_MILESTONES = (10, 50, 100)
YEAR = "year"
MILESTONE_PL = {10: "10 godzin pomocy", 50: "50 godzin pomocy", 100: "100 godzin pomocy",
                YEAR: "rok pomagania (od pierwszej godziny)"}
RECENT_DAYS = 90

staff = Blueprint("engagement", __name__)


# --- milestones ---------------------------------------------------------------------------------------------
def reached(entries: Iterable[tuple[date, float]], today: date) -> list[dict[str, Any]]:
    """The milestones reached by `today`, from (day, hours) ledger entries in any order: the day each hour total
    was first reached, and the first anniversary of the first day with hours."""
    running, out = 0.0, []
    days = sorted((d, h) for d, h in entries if h > 0 and d <= today)
    pending = list(HOUR_MILESTONES)
    for day, hours in days:
        running += hours
        while pending and running + 1e-9 >= pending[0]:
            out.append({"code": pending.pop(0), "reached_on": day})
    if days:
        first = days[0][0]
        try:
            anniversary = first.replace(year=first.year + 1)
        except ValueError:  # 29 February
            anniversary = first + timedelta(days=365)
        if anniversary <= today:
            out.append({"code": YEAR, "reached_on": anniversary})
    for m in out:
        m["label"] = MILESTONE_PL[m["code"]]
    return sorted(out, key=lambda m: m["reached_on"])


def milestones(session: Session, provider_id: str, today: date) -> list[dict[str, Any]]:
    rows = session.execute(sa.select(hours_ledger.c.on_date, hours_ledger.c.hours)
                           .where(hours_ledger.c.provider_id == provider_id)).all()
    return reached([(r.on_date, r.hours) for r in rows], today)


def recent(session: Session, today: date, days: int) -> list[dict[str, Any]]:
    """Milestones every provider reached in the last `days` days, the newest first (ids only, no names)."""
    by_provider: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for r in session.execute(sa.select(hours_ledger.c.provider_id, hours_ledger.c.on_date, hours_ledger.c.hours)):
        by_provider[r.provider_id].append((r.on_date, r.hours))
    since = today - timedelta(days=days)
    out = [{"provider_id": pid, **m} for pid, entries in by_provider.items()
           for m in reached(entries, today) if m["reached_on"] >= since]
    return sorted(out, key=lambda m: (m["reached_on"], m["provider_id"]), reverse=True)


@staff.get("/kamienie-milowe")
def milestone_list():  # type: ignore[no-untyped-def]
    asked = request.args.get("dni", str(RECENT_DAYS))
    days, problem = RECENT_DAYS, None
    if asked.isdigit() and 1 <= int(asked) <= 3660:
        days = int(asked)
    else:
        problem = "Liczba dni musi być liczbą od 1 do 3660 — pokazano ostatnie 90 dni."
    with current_parts().db.transaction() as session:
        rows = recent(session, signed_in.today(), days)
        names = dict(session.execute(sa.select(volunteers.c.id, volunteers.c.name).where(
            volunteers.c.id.in_({r["provider_id"] for r in rows}), volunteers.c.erased_at.is_(None))).all())
        if names:
            handlers.audit(session, signed_in.staff_actor(), "read", None,
                           f"kamienie milowe: {len(names)} osób (imiona i nazwiska)")
    return render_template("volunteers/milestones.html", rows=rows, names=names, days=days, problem=problem)


# --- the volunteer's choice ---------------------------------------------------------------------------------
class MessagesForm(FlaskForm):
    engagement_messages = BooleanField(_l("Chcę dostawać podziękowania po wizytach i przypomnienia, gdy ktoś w "
                                          "mojej okolicy czeka na pomoc"))


@space.route("/wiadomosci", methods=["GET", "POST"])
def messages():  # type: ignore[no-untyped-def]
    volunteer = signed_in_volunteer()
    if request.method == "GET":
        form = MessagesForm(formdata=None)
        form.engagement_messages.data = bool(volunteer["engagement_messages"])
        with current_parts().db.transaction() as session:
            read_audited(session, volunteer["id"], "wiadomości (strona wolontariusza)")
        return page("messages.html", form=form)[0]
    form = MessagesForm()
    if not form.validate_on_submit():
        abort(400)
    wanted = bool(form.engagement_messages.data)
    with current_parts().db.transaction() as session:
        session.execute(sa.update(volunteers).where(volunteers.c.id == volunteer["id"]).values(
            engagement_messages=wanted))
        handlers.audit(session, sign_in.actor(volunteer["id"]), "self_update", volunteer["id"],
                       "podziękowania i przypomnienia: " + ("włączone" if wanted else "wyłączone"))
    flash("Zapisano. Będziemy wysyłać podziękowania i przypomnienia." if wanted else
          "Zapisano. Nie będziemy wysyłać podziękowań ani przypomnień.", "info")
    return redirect(url_for("volunteer_space.messages"))
