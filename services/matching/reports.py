"""Reports for the needs-and-potential diagnosis and the village map.

Everything is computed from matching's own tables — the projection (open_needs, providers, offers), the
kept events (applied_events: NeedRegistered times, NeedCompleted hours, ProviderResponded answers), the
match lifecycle (proposals, with the hours of each confirmed visit) and, for matches completed before the
proposals kept their hours, the outbox's MatchCompleted rows while the relay still keeps them. No
resident data is read or shown: needs are counted by village and category, providers appear only as
pseudonyms (the first 8 characters of their id) or, for partner organisations, the organisation name if
the volunteers service ever publishes one. Definitions: docs/reports.md.
"""
from __future__ import annotations

import io
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from services.matching import feedback, model, svg
from services.matching.db import (
    applied_events,
    community_assets,
    offers,
    open_needs,
    proposals,
    providers,
    unmet_needs,
)
from services.matching.rules import Point, haversine_km
from wspolnota import reference, spreadsheet
from wspolnota.db import Database
from wspolnota.errors import NotFound
from wspolnota.localtime import WARSAW, local_day
from wspolnota.web import current_parts

CONFIRMED = model.SERVED
DEFAULT_WEEKS = 12
MAX_DAYS = 731
PARTNER = "partner_organisation"
PROVIDER_TYPES = ("volunteer", "paid_neighbour", PARTNER, "staff")
PROVIDER_TYPES_PL = {"volunteer": _l("Wolontariusze"), "paid_neighbour": _l("Opiekunowie sąsiedzcy"),
                     PARTNER: _l("Organizacje partnerskie"), "staff": _l("Pracownicy CUS")}
UNMET_REASONS_PL = {"no_feasible_provider": _l("brak wykonawcy spełniającego warunki"),
                    "capacity_taken": _l("wykonawcy zajęci innymi potrzebami"),
                    "too_costly": _l("zbyt duży koszt (dojazd, obciążenie)"),
                    "held": _l("odłożona: propozycja bliżej terminu wizyty")}
MONTHS_PL = (_l("styczeń"), _l("luty"), _l("marzec"), _l("kwiecień"), _l("maj"), _l("czerwiec"), _l("lipiec"),
             _l("sierpień"), _l("wrzesień"), _l("październik"), _l("listopad"), _l("grudzień"))

REPORTS = {
    "potrzeby-i-potencjal": (_l("Potrzeby a dostępni wykonawcy (mapa cieplna)"),
                             _l("Liczba potrzeb i dostępnych wykonawców w każdej miejscowości i kategorii.")),
    "pokrycie": (_l("Pokrycie potrzeb i czas do dopasowania"),
                 _l("Tydzień po tygodniu: jaka część zgłoszonych potrzeb dostała wykonawcę i po jakim czasie.")),
    "godziny": (_l("Godziny pomocy w miesiącach"),
                _l("Wykonane wizyty i przepracowane godziny, według rodzaju wykonawcy.")),
    "partnerzy": (_l("Wkład organizacji partnerskich"),
                  _l("Wizyty i godziny organizacji partnerskich (KGW, OSP, parafie, szkoły, NGO).")),
    "niezaspokojone": (_l("Potrzeby niezaspokojone"),
                       _l("Potrzeby bez wykonawcy według miejscowości i kategorii, z najczęstszym powodem.")),
    "oceny": (_l("Oceny wizyt"),
              _l("Oceny od wolontariuszy i mieszkańców: liczby według oceny w miesiącach i kategoriach.")),
}


# --- the period -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    first: date  # local (Europe/Warsaw) dates, both included
    last: date

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:  # exclusive
        return local_midnight(self.last + timedelta(days=1))

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= aware(moment) < self.end

    def weeks(self) -> list[date]:
        monday = self.first - timedelta(days=self.first.weekday())
        out = []
        while monday <= self.last:
            out.append(monday)
            monday += timedelta(days=7)
        return out

    def months(self) -> list[date]:
        month = self.first.replace(day=1)
        out = []
        while month <= self.last:
            out.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return out

    def query(self) -> dict[str, str]:
        return {"od": self.first.isoformat(), "do": self.last.isoformat()}


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), WARSAW).astimezone(UTC)


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def default_period(now: datetime) -> Period:
    today = local_day(now)
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(weeks=DEFAULT_WEEKS - 1), today)


def parse_period(args: dict[str, str], now: datetime) -> tuple[Period, dict[str, str]]:
    """The period from ?od=RRRR-MM-DD&do=RRRR-MM-DD (either may be left out); errors are Polish, by field."""
    default = default_period(now)
    errors: dict[str, str] = {}
    values: dict[str, date] = {}
    for name, fallback in (("od", default.first), ("do", default.last)):
        raw = (args.get(name) or "").strip()
        if not raw:
            values[name] = fallback
            continue
        try:
            values[name] = date.fromisoformat(raw)
            if len(raw) != 10:
                raise ValueError(raw)
        except ValueError:
            errors[name] = _("Podaj datę w formacie RRRR-MM-DD (np. 2026-11-26).")
    if errors:
        return default, errors
    first, last = values["od"], values["do"]
    if first > last:
        errors["od"] = _("Data początkowa nie może być późniejsza niż końcowa.")
    elif (last - first).days > MAX_DAYS:
        errors["do"] = _("Okres może obejmować najwyżej 2 lata.")
    return (default if errors else Period(first, last)), errors


def week_label(monday: date) -> str:
    return monday.strftime("%d.%m.%Y")


def month_label(month: date) -> str:
    return f"{MONTHS_PL[month.month - 1]} {month.year}"


# --- the facts, read once per request ----------------------------------------------------------------

@dataclass
class Facts:
    now: datetime
    needs: dict[str, dict[str, Any]]
    received: dict[str, datetime]  # need_id → when the needs service registered it
    matches: list[dict[str, Any]]
    accepted_at: dict[str, datetime]  # match_id → the provider's "yes"
    match_hours: dict[str, float]  # match_id → hours reported in MatchCompleted (while the outbox keeps it)
    need_completed: dict[str, dict[str, Any]]  # need_id → NeedCompleted data
    providers: dict[str, dict[str, Any]]
    offers: list[dict[str, Any]]
    unmet_codes: dict[str, str]
    organisations: dict[str, dict[str, Any]] = field(default_factory=dict)  # latest profile data of partners
    assets: list[dict[str, Any]] = field(default_factory=list)  # community's register (AssetRecorded)

    def confirmed(self, need_id: str) -> list[dict[str, Any]]:
        return [m for m in self.by_need.get(need_id, []) if m["status"] in CONFIRMED]

    def __post_init__(self) -> None:
        self.by_need: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for m in self.matches:
            self.by_need[m["need_id"]].append(m)

    def received_at(self, need_id: str) -> datetime:
        return self.received.get(need_id) or aware(self.needs[need_id]["window_start"])

    def first_confirmed_at(self, need_id: str) -> datetime | None:
        times = [t for m in self.confirmed(need_id) if (t := self.acceptance(m)) is not None]
        return min(times) if times else None

    def acceptance(self, match: dict[str, Any]) -> datetime | None:
        if match["id"] in self.accepted_at:
            return self.accepted_at[match["id"]]
        if match["status"] == model.ACCEPTED and match["updated_at"] is not None:
            return aware(match["updated_at"])  # still accepted: its last change was the "yes"
        return None

    def visit_hours(self, match: dict[str, Any]) -> tuple[float, bool]:
        """Hours of a completed visit and whether they are an estimate (the planned duration)."""
        if match.get("hours") is not None:  # kept on the match since it was confirmed (migration 0004)
            return float(match["hours"]), False
        if match["id"] in self.match_hours:  # older matches: the MatchCompleted row, while the outbox keeps it
            return self.match_hours[match["id"]], False
        need = self.needs.get(match["need_id"])
        planned = need["duration_minutes"] / 60 if need else 0.0
        completed = self.need_completed.get(match["need_id"])
        if completed is not None:  # what cascade.complete_need recorded: the reported hours, else the duration
            return float(completed.get("hours") or planned), False
        return planned, True

    def completed_in(self, period: Period) -> list[dict[str, Any]]:
        return [m for m in self.matches
                if m["status"] == model.COMPLETED and period.contains(m.get("completed_at") or m["updated_at"])]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def load_facts(db: Database, now: datetime) -> Facts:
    with db.engine.connect() as conn:
        needs = {r["need_id"]: dict(r) for r in conn.execute(sa.select(open_needs)).mappings()}
        matches = [dict(r) for r in conn.execute(sa.select(
            proposals.c.id, proposals.c.need_id, proposals.c.volunteer_id, proposals.c.category,
            proposals.c.village, proposals.c.status, proposals.c.created_at, proposals.c.updated_at,
            proposals.c.hours, proposals.c.completed_at)).mappings()]
        kept = conn.execute(sa.select(applied_events.c.type, applied_events.c.key, applied_events.c.data,
                                      applied_events.c.time)
                            .where(applied_events.c.type.in_(("NeedRegistered", "NeedCompleted", "ProviderResponded",
                                                              "VolunteerRegistered", "VolunteerUpdated")))
                            .order_by(applied_events.c.seq)).all()
        outbox = db.outbox
        completed_rows = conn.execute(sa.select(outbox.c.body).where(outbox.c.type == "MatchCompleted")).all()
        people = {r["volunteer_id"]: dict(r) for r in conn.execute(sa.select(providers)).mappings()}
        offer_rows = [dict(r) for r in conn.execute(sa.select(offers).where(offers.c.status == "published")).mappings()]
        codes = dict(conn.execute(sa.select(unmet_needs.c.need_id, unmet_needs.c.code)).all())
        asset_rows = [dict(r) for r in conn.execute(sa.select(community_assets)
                                                    .order_by(community_assets.c.village, community_assets.c.kind,
                                                              community_assets.c.asset_id)).mappings()]
    received: dict[str, datetime] = {}
    accepted: dict[str, datetime] = {}
    need_completed: dict[str, dict[str, Any]] = {}
    organisations: dict[str, dict[str, Any]] = {}
    for row in kept:
        data = _json(row.data)
        if row.type == "NeedRegistered":
            received.setdefault(data.get("need_id", row.key), aware(row.time))
        elif row.type == "NeedCompleted":
            need_completed[data.get("need_id", row.key)] = data
        elif row.type == "ProviderResponded" and data.get("response") == "accept":
            accepted.setdefault(data["match_id"], aware(row.time))
        elif data.get("provider_type") == PARTNER:
            organisations[data["volunteer_id"]] = data
    match_hours = {}
    for (body,) in completed_rows:
        event = _json(bytes(body))
        match_hours[event["data"]["match_id"]] = float(event["data"].get("hours") or 0.0)
    return Facts(now=now, needs=needs, received=received, matches=matches, accepted_at=accepted,
                 match_hours=match_hours, need_completed=need_completed, providers=people, offers=offer_rows,
                 unmet_codes=codes, organisations=organisations, assets=asset_rows)


# --- who can serve where --------------------------------------------------------------------------

def active(provider: dict[str, Any]) -> bool:
    return bool(provider["verified"]) and not provider["paused"] and not provider["erased"]


def _point(code: str | None) -> Point | None:
    v = reference.villages().get(code or "")
    return None if v is None else Point(v["lat"], v["lon"])


def reach(provider: dict[str, Any], offer_villages: Iterable[str]) -> set[str]:
    """Villages the provider serves: the offers' villages (else the profile's) and any within the radius
    of home, as the matcher's area rule counts them (a radius of 0: only the villages listed)."""
    served = set(offer_villages) or set(provider["villages"] or ())
    radius = float(provider["radius_km"] or 0.0)
    home = _point(provider["home_village"] or (provider["villages"][0] if provider["villages"] else None))
    if radius > 0 and home is not None:
        for code, v in reference.villages().items():
            if haversine_km(home, Point(v["lat"], v["lon"])) <= radius:
                served.add(code)
    return served


def available_providers(facts: Facts, start: datetime, end: datetime) -> dict[str, tuple[set[str], set[str]]]:
    """Active providers with a published offer overlapping [start, end): (categories, villages reached)."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for offer in facts.offers:
        if aware(offer["available_from"]) < end and aware(offer["available_to"]) > start:
            by_provider[offer["volunteer_id"]].append(offer)
    for volunteer_id, held in by_provider.items():
        provider = facts.providers.get(volunteer_id)
        if provider is None or not active(provider):
            continue
        categories = {c for o in held for c in o["categories"]}
        found[volunteer_id] = (categories, reach(provider, {v for o in held for v in o["villages"]}))
    return found


# --- the reports -------------------------------------------------------------------------------------

@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]  # raw values: str, int, float or None

    def display(self) -> list[list[tuple[str, bool]]]:
        """Each cell as (text, is a number): numbers in Polish notation and right-aligned on the page."""
        return [[(cell, False) if isinstance(cell, str) else (svg.number(cell), True) for cell in row]
                for row in self.rows]


@dataclass
class HeatCell:
    needs: int
    providers: int

    @property
    def level(self) -> str:
        if self.needs == 0:
            return "potential" if self.providers else "none"
        if self.providers == 0:
            return "gap"
        return "ok" if self.providers >= self.needs else "tight"


HEAT_LEVELS = {"gap": ("✕", _l("brak wykonawców")), "tight": ("!", _l("mniej wykonawców niż potrzeb")),
               "ok": ("✓", _l("wykonawców co najmniej tylu, ile potrzeb")),
               "potential": ("+", _l("wykonawcy bez zgłoszonych potrzeb")), "none": ("", _l("brak potrzeb i wykonawców"))}


@dataclass
class Report:
    slug: str
    title: str
    intro: str
    table: Table
    charts: list[Markup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: bool = False
    heat: dict[str, Any] | None = None


def _village_name(code: str) -> str:
    return reference.villages().get(code, {}).get("name", code)


def _category_name(code: str) -> str:
    return reference.categories().get(code, {}).get("name", code)


def _needs_in(facts: Facts, period: Period) -> list[dict[str, Any]]:
    """Needs registered in the period (the same date as the coverage report), without the cancelled ones."""
    return [n for n in facts.needs.values()
            if n["status"] != "cancelled" and period.contains(facts.received_at(n["need_id"]))]


def heat_report(facts: Facts, period: Period) -> Report:
    counts: Counter[tuple[str, str]] = Counter((n["village"], n["category"]) for n in _needs_in(facts, period))
    supply: Counter[tuple[str, str]] = Counter()
    for offered, reached in available_providers(facts, period.start, period.end).values():
        for village in reached:
            for category in offered:
                supply[(village, category)] += 1
    villages, categories = list(reference.villages()), list(reference.categories())
    grid = {(v, c): HeatCell(counts[(v, c)], supply[(v, c)]) for v in villages for c in categories}
    rows = [[_village_name(v), _category_name(c), cell.needs, cell.providers, str(HEAT_LEVELS[cell.level][1])]
            for (v, c), cell in grid.items() if cell.needs or cell.providers]
    title, intro = REPORTS["potrzeby-i-potencjal"]
    report = Report("potrzeby-i-potencjal", str(title), str(intro), Table(
        [_("Miejscowość"), _("Kategoria"), _("Potrzeby"), _("Dostępni wykonawcy"), _("Ocena")], rows),
        empty=not rows)
    report.heat = {"villages": [(v, _village_name(v)) for v in villages],
                   "categories": [(c, _category_name(c)) for c in categories], "grid": grid,
                   "levels": {k: (sym, str(text)) for k, (sym, text) in HEAT_LEVELS.items()},
                   "totals_needs": sum(counts.values())}
    report.notes.append(_("Potrzeby: zgłoszone w wybranym okresie (bez odwołanych). Wykonawcy: "
                          "zweryfikowani, bez przerwy, z opublikowaną ofertą w tym okresie, którzy obsługują "
                          "miejscowość (lista miejscowości lub promień dojazdu) i kategorię."))
    return report


def coverage_report(facts: Facts, period: Period) -> Report:
    weeks = period.weeks()
    per_week: dict[date, dict[str, Any]] = {w: {"needs": 0, "matched": 0, "waiting": 0, "unmet": 0, "times": [],
                                                "unknown": 0} for w in weeks}
    for need_id, need in facts.needs.items():
        if need["status"] == "cancelled":
            continue
        received = facts.received_at(need_id)
        if not period.contains(received):
            continue
        day = local_day(received)
        bucket = per_week[day - timedelta(days=day.weekday())]
        bucket["needs"] += 1
        if facts.confirmed(need_id):
            bucket["matched"] += 1
            at = facts.first_confirmed_at(need_id)
            if at is None:
                bucket["unknown"] += 1
            else:
                bucket["times"].append(max(0.0, (at - received).total_seconds() / 3600))
        elif need["status"] == "open" and aware(need["window_end"]) > facts.now:
            bucket["waiting"] += 1
        else:
            bucket["unmet"] += 1
    rows, coverage, medians = [], [], []
    for w in weeks:
        b = per_week[w]
        share = round(100 * b["matched"] / b["needs"], 1) if b["needs"] else None
        median = round(statistics.median(b["times"]), 1) if b["times"] else None
        coverage.append(share)
        medians.append(median)
        rows.append([week_label(w), b["needs"], b["matched"], b["waiting"], b["unmet"], share, median, b["unknown"]])
    labels = [week_label(w) for w in weeks]
    title, intro = REPORTS["pokrycie"]
    report = Report("pokrycie", str(title), str(intro), Table(
        [_("Tydzień (od poniedziałku)"), _("Zgłoszone potrzeby"), _("Z wykonawcą"), _("W toku"), _("Bez wykonawcy"),
         _("Pokrycie (%)"), _("Mediana czasu do dopasowania (h)"), _("Dopasowania bez znanego czasu")], rows),
        empty=not any(b["needs"] for b in per_week.values()))
    if not report.empty:
        report.charts = [
            svg.line_chart("chart-coverage", labels, coverage, title=_("Pokrycie potrzeb w tygodniach (%)"),
                           desc=_("Odsetek potrzeb zgłoszonych w danym tygodniu, które dostały wykonawcę: ") +
                           "; ".join(f"{lab}: {svg.number(v)}" for lab, v in zip(labels, coverage, strict=True)
                                     if v is not None), unit=" %", top_value=100),
            svg.bar_chart("chart-time", labels, medians, title=_("Mediana czasu do dopasowania (godziny)"),
                          desc=_("Mediana godzin od zgłoszenia potrzeby do przyjęcia oferty przez wykonawcę: ") +
                          "; ".join(f"{lab}: {svg.number(v)} h" for lab, v in zip(labels, medians, strict=True)
                                    if v is not None), unit=" h")]
    report.notes.append(_("Tydzień zgłoszenia potrzeby. Pokrycie = potrzeby z przyjętym lub wykonanym dopasowaniem "
                          "÷ wszystkie zgłoszone (bez odwołanych). Czas do dopasowania: od zgłoszenia do przyjęcia "
                          "oferty przez wykonawcę."))
    return report


def hours_report(facts: Facts, period: Period) -> Report:
    months = period.months()
    visits: Counter[date] = Counter()
    hours: dict[date, dict[str, float]] = {m: defaultdict(float) for m in months}
    estimated: Counter[date] = Counter()
    for match in facts.completed_in(period):
        month = local_day(match["updated_at"]).replace(day=1)
        spent, guessed = facts.visit_hours(match)
        kind = (facts.providers.get(match["volunteer_id"]) or {}).get("provider_type", "volunteer")
        visits[month] += 1
        hours[month][kind if kind in PROVIDER_TYPES else "volunteer"] += spent
        estimated[month] += int(guessed)
    rows, totals = [], []
    for m in months:
        total = round(sum(hours[m].values()), 2)
        totals.append(total)
        rows.append([month_label(m), visits[m], total, *(round(hours[m][k], 2) for k in PROVIDER_TYPES), estimated[m]])
    labels = [month_label(m) for m in months]
    title, intro = REPORTS["godziny"]
    report = Report("godziny", str(title), str(intro), Table(
        [_("Miesiąc"), _("Wizyty"), _("Godziny razem"), *(str(PROVIDER_TYPES_PL[k]) + " (h)" for k in PROVIDER_TYPES),
         _("W tym wizyty z czasem szacowanym")], rows), empty=not sum(visits.values()))
    if not report.empty:
        report.charts = [svg.bar_chart(
            "chart-hours", labels, totals, title=_("Godziny pomocy w miesiącach"),
            desc=_("Suma godzin wykonanych wizyt: ") + "; ".join(
                f"{lab}: {svg.number(v)} h" for lab, v in zip(labels, totals, strict=True)), unit=" h")]
    report.notes.append(_("Wizyty oznaczone jako wykonane w danym miesiącu. Godziny: zgłoszone przy zakończeniu; "
                          "gdy ich już nie ma w danych dopasowań, liczony jest planowany czas wizyty "
                          "(kolumna „szacowanym”)."))
    return report


def organisation_name(facts: Facts, volunteer_id: str) -> str:
    data = facts.organisations.get(volunteer_id) or {}
    name = data.get("organisation_name") or data.get("display_name")
    if name and not (facts.providers.get(volunteer_id) or {}).get("erased"):
        return str(name)[:80]
    return _("Organizacja %(ref)s", ref=volunteer_id[:8])


def partners_report(facts: Facts, period: Period) -> Report:
    stats: dict[str, dict[str, Any]] = {
        pid: {"visits": 0, "hours": 0.0, "categories": set(), "villages": set()}
        for pid, p in facts.providers.items() if p["provider_type"] == PARTNER}
    for match in facts.completed_in(period):
        if match["volunteer_id"] not in stats:
            continue
        s = stats[match["volunteer_id"]]
        s["visits"] += 1
        s["hours"] += facts.visit_hours(match)[0]
        s["categories"].add(match["category"])
        s["villages"].add(match["village"])
    ordered = sorted(stats.items(), key=lambda kv: (-kv[1]["hours"], -kv[1]["visits"], kv[0]))
    rows = [[organisation_name(facts, pid), str((facts.organisations.get(pid) or {}).get("organisation_kind") or "—"),
             s["visits"], round(s["hours"], 2), ", ".join(sorted(s["categories"])) or "—",
             ", ".join(_village_name(v) for v in sorted(s["villages"])) or "—"] for pid, s in ordered]
    title, intro = REPORTS["partnerzy"]
    report = Report("partnerzy", str(title), str(intro), Table(
        [_("Organizacja"), _("Rodzaj"), _("Wizyty"), _("Godziny"), _("Kategorie"), _("Miejscowości")], rows),
        empty=not any(s["visits"] for s in stats.values()))
    if not report.empty:
        shown = [r for r in rows if r[2]][:15]
        report.charts = [svg.bar_chart(
            "chart-partners", [r[0] for r in shown], [r[3] for r in shown], title=_("Godziny organizacji partnerskich"),
            desc=_("Godziny wykonanych wizyt według organizacji: ") + "; ".join(
                f"{r[0]}: {svg.number(r[3])} h" for r in shown), unit=" h")]
    report.notes.append(_("Organizacje rozpoznajemy po pseudonimie (początek identyfikatora), bo usługa "
                          "wolontariuszy nie przesyła nazw organizacji. Bez danych mieszkańców."))
    return report


def unmet_report(facts: Facts, period: Period) -> Report:
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"all": 0, "missed": 0, "waiting": 0, "urgent": 0, "reasons": Counter()})
    for need in _needs_in(facts, period):
        if need["status"] != "open" or facts.confirmed(need["need_id"]):
            continue
        g = groups[(need["village"], need["category"])]
        g["all"] += 1
        g["missed" if aware(need["window_end"]) <= facts.now else "waiting"] += 1
        g["urgent"] += int(bool(need["urgent"]))
        code = facts.unmet_codes.get(need["need_id"])
        if code:
            g["reasons"][code] += 1
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1]["all"], _village_name(kv[0][0]), kv[0][1]))
    rows = [[_village_name(v), _category_name(c), g["all"], g["missed"], g["waiting"], g["urgent"],
             str(UNMET_REASONS_PL.get(g["reasons"].most_common(1)[0][0], "—")) if g["reasons"] else "—"]
            for (v, c), g in ordered]
    by_village: Counter[str] = Counter()
    for (v, _c), g in groups.items():
        by_village[v] += g["all"]
    title, intro = REPORTS["niezaspokojone"]
    report = Report("niezaspokojone", str(title), str(intro), Table(
        [_("Miejscowość"), _("Kategoria"), _("Bez wykonawcy"), _("Termin minął"), _("Jeszcze czekają"), _("Pilne"),
         _("Najczęstszy powód")], rows), empty=not rows)
    if not report.empty:
        top = by_village.most_common()
        report.charts = [svg.bar_chart(
            "chart-unmet", [_village_name(v) for v, _n in top], [n for _v, n in top],
            title=_("Potrzeby bez wykonawcy według miejscowości"),
            desc=_("Liczba potrzeb bez wykonawcy: ") + "; ".join(f"{_village_name(v)}: {n}" for v, n in top))]
    report.notes.append(_("Potrzeby zgłoszone w wybranym okresie, nieodwołane, bez przyjętego dopasowania."))
    return report


# --- feedback on visits ----------------------------------------------------------------------------

def feedback_report(facts: Facts, period: Period) -> Report:
    """Counts by score per month and per category (FeedbackGiven's time, Warsaw calendar): services/matching/
    feedback.py keeps them."""
    scores, score_pl, slug = feedback.SCORES, feedback.SCORE_PL, "oceny"
    with current_parts().db.engine.connect() as conn:
        rows = feedback.rows_between(conn, period.start, period.end)
    months = period.months()
    by_month: dict[date, Counter[int]] = {m: Counter() for m in months}
    by_category: dict[str, Counter[int]] = {}
    for r in rows:
        month = local_day(r["given_at"]).replace(day=1)
        by_month.setdefault(month, Counter())[r["score"]] += 1
        by_category.setdefault(r["category"] or "", Counter())[r["score"]] += 1
    table_rows: list[list[Any]] = []
    for m in months:
        c = by_month[m]
        table_rows.append([month_label(m), *(c[s] for s in scores), sum(c.values())])
    for code in sorted(by_category):
        c = by_category[code]
        name = _category_name(code) if code else _("kategoria nieznana")
        table_rows.append([_("Kategoria: %(name)s", name=name), *(c[s] for s in scores), sum(c.values())])
    title, intro = REPORTS[slug]
    built = Report(slug, str(title), str(intro), Table(
        [_("Miesiąc / kategoria"), *(str(score_pl[s]) for s in scores), _("Razem")], table_rows),
        empty=not rows and not facts.matches)  # visits but no feedback yet: the zeros are the news
    if rows:
        labels = [month_label(m) for m in months]
        bad = [float(by_month[m][3]) for m in months]
        totals = [float(sum(by_month[m].values())) for m in months]
        built.charts = [
            svg.bar_chart("chart-feedback", labels, totals, title=_("Oceny wizyt w miesiącach"),
                          desc=_("Liczba ocen: ") + "; ".join(
                              f"{lab}: {svg.number(v, 0)}" for lab, v in zip(labels, totals, strict=True))),
            svg.bar_chart("chart-feedback-bad", labels, bad, title=_("Oceny „źle / potrzebna interwencja”"),
                          desc=_("Liczba ocen 3: ") + "; ".join(
                              f"{lab}: {svg.number(v, 0)}" for lab, v in zip(labels, bad, strict=True)))]
    built.notes.append(_("Oceny: 1 — dobrze, 2 — średnio (były trudności), 3 — źle (potrzebna interwencja). "
                         "Źródła: wolontariusz po wizycie, SMS mieszkańca, rozmowa zapisana przez pracownika. "
                         "Notatki nie są tu pokazywane."))
    return built


BUILDERS: dict[str, Callable[[Facts, Period], Report]] = {
    "potrzeby-i-potencjal": heat_report, "pokrycie": coverage_report, "godziny": hours_report,
    "partnerzy": partners_report, "niezaspokojone": unmet_report,
    "oceny": feedback_report,
}


# --- the village map ----------------------------------------------------------------------------------

PLACE, LEADER = "place", "leader"
LENDABLE_KINDS = ("equipment", "transport")
# community's codes of places (contracts/community.py AssetRecorded.subtype); an unknown code shows as "inne miejsce"
PLACE_SUBTYPES_PL = {"swietlica": _l("świetlica wiejska"), "remiza": _l("remiza OSP"), "szkola": _l("szkoła"),
                     "biblioteka": _l("biblioteka"), "sala_parafialna": _l("sala parafialna"),
                     "inne": _l("inne miejsce")}


@dataclass
class VillageAssets:
    """The community's assets in one village: places by kind (how many of them accessible), things to lend,
    and how many local leaders (never who)."""

    by_kind: Counter[str] = field(default_factory=Counter)
    accessible: int = 0
    lendable: int = 0
    leaders: int = 0

    @property
    def places(self) -> int:
        return sum(self.by_kind.values())

    def kinds_text(self) -> str:
        """E.g. "świetlica wiejska: 1, remiza OSP: 1" (the label, a colon and the count: no plural forms)."""
        return ", ".join(f"{label}: {count}" for label, count in sorted(
            ((str(PLACE_SUBTYPES_PL.get(code, PLACE_SUBTYPES_PL["inne"])), n) for code, n in self.by_kind.items())))


def village_assets(facts: Facts) -> dict[str, VillageAssets]:
    found: dict[str, VillageAssets] = defaultdict(VillageAssets)
    for a in facts.assets:
        here = found[a["village"]]
        if a["kind"] == PLACE:
            here.by_kind[a["subtype"] or "inne"] += 1
            here.accessible += bool(a["accessible"])
        elif a["kind"] == LEADER:
            here.leaders += 1
        elif a["kind"] in LENDABLE_KINDS and a["lendable"]:
            here.lendable += 1
    return found


def map_places(facts: Facts) -> tuple[list[svg.Place], list[list[Any]]]:
    """Now: open needs still waiting for a provider per village, providers available to each village, and the
    community's places (by kind, how many accessible), things to lend and local leaders there."""
    waiting: Counter[str] = Counter()
    for need_id, need in facts.needs.items():
        if need["status"] == "open" and aware(need["window_end"]) > facts.now \
                and len(facts.confirmed(need_id)) < need["slots"]:
            waiting[need["village"]] += 1
    serving: Counter[str] = Counter()
    living: Counter[str] = Counter()
    for volunteer_id, (_categories, villages) in available_providers(facts, facts.now, datetime.max.replace(
            tzinfo=UTC)).items():
        for code in villages:
            serving[code] += 1
        p = facts.providers[volunteer_id]
        home = p["home_village"] or (p["villages"][0] if p["villages"] else None)
        if home:
            living[home] += 1
    assets = village_assets(facts)
    places, rows = [], []
    for code, v in sorted(reference.villages().items(), key=lambda kv: kv[1]["name"]):
        here = assets.get(code) or VillageAssets()
        places.append(svg.Place(code, v["name"], v["lat"], v["lon"], waiting[code], serving[code], here.places,
                                here.accessible, here.kinds_text()))
        rows.append([v["name"], waiting[code], serving[code], living[code], here.places, here.accessible,
                     here.kinds_text() or "—", here.lendable, here.leaders])
    return places, rows


# --- exports -----------------------------------------------------------------------------------------

safe_text = spreadsheet.safe_cell  # text a spreadsheet would run as a formula gets a leading apostrophe


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return svg.number(value, 2)
    return str(safe_text(value))


def to_csv(table: Table) -> bytes:
    """Semicolons and decimal commas (a Polish spreadsheet opens it as is), UTF-8 with a BOM."""
    return spreadsheet.csv_bytes([table.columns, *table.rows], _csv_cell)


def to_xlsx(title: str, period: Period, table: Table, generated: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Dane")
    sheet.append(table.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([safe_text(v) for v in row])
    for i, name in enumerate(table.columns, start=1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(12, min(40, len(name) + 2))
    info = book.create_sheet(_("Informacje"))
    info.append([_("Raport"), title])
    info.append([_("Okres od"), period.first.strftime("%d.%m.%Y")])
    info.append([_("Okres do"), period.last.strftime("%d.%m.%Y")])
    info.append([_("Wygenerowano"), aware(generated).astimezone(WARSAW).strftime("%d.%m.%Y %H:%M")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the pages ---------------------------------------------------------------------------------------

bp = Blueprint("reports", __name__)


def clock() -> datetime:
    return current_parts().clock()


def period_or_errors() -> tuple[Period, dict[str, str]]:
    return parse_period(request.args.to_dict(), clock())


def context(period: Period, errors: dict[str, str]) -> dict[str, Any]:
    return {"period": period, "errors": errors, "reports": {k: (str(t), str(d)) for k, (t, d) in REPORTS.items()},
            "form_values": {"od": request.args.get("od", period.first.isoformat()),
                            "do": request.args.get("do", period.last.isoformat())},
            "generated": clock()}


@bp.get("/raporty")
def index():  # type: ignore[no-untyped-def]
    period, errors = period_or_errors()
    return render_template("matching/report_index.html", **context(period, errors)), 400 if errors else 200


@bp.get("/raporty/<slug>")
def report(slug: str):  # type: ignore[no-untyped-def]
    if slug not in BUILDERS:
        raise NotFound()
    period, errors = period_or_errors()
    built = None if errors else BUILDERS[slug](load_facts(current_parts().db, clock()), period)
    title = str(REPORTS[slug][0])
    return render_template("matching/report.html", slug=slug, title=title, report=built,
                           **context(period, errors)), 400 if errors else 200


def export(slug: str, kind: str) -> Response:
    if slug not in BUILDERS:
        raise NotFound()
    period, errors = period_or_errors()
    if errors:
        return Response(_("Błędny okres: ") + " ".join(errors.values()), status=400,
                        mimetype="text/plain; charset=utf-8")
    built = BUILDERS[slug](load_facts(current_parts().db, clock()), period)
    name = f"{slug}_{period.first.isoformat()}_{period.last.isoformat()}.{kind}"
    if kind == "csv":
        body, mime = to_csv(built.table), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(built.title, period, built.table, clock())
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/raporty/<slug>/eksport.csv")
def export_csv(slug: str):  # type: ignore[no-untyped-def]
    return export(slug, "csv")


@bp.get("/raporty/<slug>/eksport.xlsx")
def export_xlsx(slug: str):  # type: ignore[no-untyped-def]
    return export(slug, "xlsx")


@bp.get("/mapa")
def village_map():  # type: ignore[no-untyped-def]
    facts = load_facts(current_parts().db, clock())
    places, rows = map_places(facts)
    drawing = svg.village_map(
        "village-map", places, title=_("Mapa miejscowości gminy Zagnańsk"),
        desc=_("Dla każdej miejscowości: otwarte potrzeby czekające na wykonawcę, dostępni wykonawcy, którzy ją "
               "obsługują, i miejsca spotkań społeczności (w tym dostępne dla osób z niepełnosprawnościami). ")
        + "; ".join(_map_text(p) for p in places),
        needs_label=_("otwarte potrzeby"), providers_label=_("dostępni wykonawcy"),
        needs_legend=_("Otwarte potrzeby (lewe koło)"), providers_legend=_("Dostępni wykonawcy (prawe koło)"),
        scale_note=_("Pole koła jest proporcjonalne do liczby; liczba wpisana obok kropki miejscowości. "
                     "Kwadrat pod kropką: miejsca spotkań; ♿ i liczba: dostępne."),
        places_label=_("miejsca spotkań"), accessible_label=_("dostępne"),
        places_legend=_("Miejsca spotkań (kwadrat pod kropką)"))
    table = Table([_("Miejscowość"), _("Otwarte potrzeby"), _("Dostępni wykonawcy"),
                   _("Wykonawcy mieszkający w miejscowości"), _("Miejsca spotkań"), _("w tym dostępne"),
                   _("Rodzaje miejsc"), _("Sprzęt i transport do wypożyczenia"), _("Liderzy lokalni")], rows)
    return render_template("matching/map.html", drawing=drawing, table=table, generated=clock(),
                           empty=not any(p.needs or p.providers or p.places for p in places))


def _map_text(p: svg.Place) -> str:
    """One village in the map's text alternative: needs / providers, then its places when it has any."""
    text = f"{p.name}: {p.needs} / {p.providers}"
    if p.places:
        text += " / " + _("miejsca spotkań %(count)s (%(kinds)s), dostępne %(accessible)s",
                          count=p.places, kinds=p.kinds, accessible=p.accessible)
    return text
