"""The organiser's dashboard on the front door's `/`: the day's work gathered from the services.

Fifteen sections, each read from an existing JSON API of the owning service, on the signed-in person's behalf
(their session cookie is forwarded, so every service applies its own role policy):

| section | API | filtered here |
|---|---|---|
| concerns about residents nobody has acknowledged yet (the most urgent first) | needs `GET /api/concerns?status=open` (never the text) | — |
| proposals waiting for staff review | matching `GET /api/proposals?status=proposed` | — |
| offers sent, waiting for the provider's answer | matching `GET /api/proposals?status=offered` | — |
| needs unmatched for more than 48 h | needs `GET /api/needs?status=open` (paged) | created more than 48 h ago |
| credentials expired (last 90 days, not renewed) or expiring within 30 days | volunteers `GET /api/credentials/expiring?days=30&expired_days=90` | — |
| failed notifications nobody has handled | notify `GET /api/notifications/failed` | — |
| surveys collecting answers, with their response counts | community `GET /api/surveys` | published only |
| the community organising plans in force, with their progress | community `GET /api/overview` | not ended |
| upcoming activities, with free places and missing helpers | community `GET /api/activities` | — |
| residents' requests for help waiting for a decision (count, the oldest first) | needs `GET /api/requests` | — |
| accepted visits whose provider has not answered "did it happen?" in time ("Wizyty bez potwierdzenia") | matching `GET /api/visit-checks/overdue` | — |
| open needs whose requesting worker has not answered "is it still needed?" in time ("Potrzeby do potwierdzenia") | needs `GET /api/need-checks/overdue` | — |
| call series to look into: two unanswered calls in a row, or past their review date | needs `GET /api/call-series/attention` | — |
| residents' notices staff phone today (and overdue ones) | notify `GET /api/calls?due=today` (no contact) | — |
| visit ratings 3 ("źle" / "potrzebna interwencja") nobody has marked as seen | matching `GET /api/feedback?status=unseen` | — |

The sections are fetched in parallel with short timeouts; a section whose service is down, too slow, or refuses
the role is shown as "niedostępne" and the rest of the page still works. Nothing personal is shown: needs by
category, village, urgency and start; providers by their id; notifications by kind and channel; activities by
their title, village and start, with counts of places and helpers (never who registered); concerns by
whether they name a resident, how and when they came, their kind and whether they are past their deadline or
escalated (the text only on needs' concern page, where reading it is audited); ratings by category and source.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import copy_current_request_context, has_request_context
from flask_babel import lazy_gettext as _l

from wspolnota import access, reference
from wspolnota.web import WARSAW, local_dt

log = logging.getLogger("wspolnota.dashboard")

PROPOSALS, OFFERS, UNMATCHED, CREDENTIALS, FAILED = "proposals", "offers", "unmatched", "credentials", "failed"
SURVEYS, PLANS, ACTIVITIES = "surveys", "plans", "activities"
CONCERNS = "concerns"
REQUESTS = "requests"
VISIT_CHECKS, NEED_CHECKS = "visit_checks", "need_checks"  # follow-ups of "did it happen?", "is it still needed?"
CALLS = "calls"  # well-being call series to look into
CALL_LIST = "call_list"  # residents' notices staff phone today
FEEDBACK = "feedback"
SECTIONS = (CONCERNS, PROPOSALS, OFFERS, UNMATCHED, CREDENTIALS, FAILED, SURVEYS, PLANS, ACTIVITIES, REQUESTS,
            VISIT_CHECKS, NEED_CHECKS, CALLS, CALL_LIST, FEEDBACK)
UNMATCHED_AFTER = timedelta(hours=48)
EXPIRY_WARNING_DAYS = 30
EXPIRED_LOOKBACK_DAYS = 90  # an expired, unrenewed credential stays on the dashboard this long
FIRST_N = 10
CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 4.0
NEEDS_PAGE_SIZE = 200  # the needs API's maximum
NEEDS_MAX_PAGES = 10  # at most 2000 open needs are looked through; beyond that the count says "at least"

# What each role sees. "act": links to act on each item (where the role may); "view": the items, read-only;
# "count": the numbers only. A section missing for a role is not shown at all.
ACT, VIEW, COUNT = "act", "view", "count"
ROLE_SECTIONS: dict[str, dict[str, str]] = {
    access.OSL: dict.fromkeys(SECTIONS, ACT),
    access.ADMIN: dict.fromkeys(SECTIONS, ACT),
    access.SOCIAL_WORKER: dict.fromkeys((CONCERNS, PROPOSALS, OFFERS, UNMATCHED, REQUESTS, CALLS, FEEDBACK), ACT),
    access.IPUS: {CONCERNS: ACT, PROPOSALS: ACT, OFFERS: ACT, UNMATCHED: ACT, FAILED: VIEW, FEEDBACK: VIEW},
    access.DIRECTOR: {**dict.fromkeys(SECTIONS, VIEW), REQUESTS: ACT},
    access.AUDITOR: dict.fromkeys(SECTIONS, COUNT),
}
ROLE_SECTIONS[access.SOCIAL_WORKER][CALL_LIST] = ACT  # they phone residents their notices too
ROLE_SECTIONS[access.IPUS][CALL_LIST] = ACT

CREDENTIAL_NAMES = {
    "driving_licence": _l("prawo jazdy"), "own_car": _l("własny samochód (ubezpieczenie OC)"),
    "kamilka_check": _l("weryfikacja Kamilka (ochrona małoletnich)"),
    "first_aid": _l("szkolenie z pierwszej pomocy"),
    "confidentiality_authorisation": _l("upoważnienie do przetwarzania danych"),
    "nnw_insurance": _l("ubezpieczenie NNW"), "agreement": _l("porozumienie wolontariackie"),
}
URGENCY_NAMES = {"normal": _l("zwykła"), "high": _l("wysoka"), "urgent": _l("pilna")}
PLAN_STATUS_NAMES = {"draft": _l("projekt"), "approved": _l("zatwierdzony")}
ACTIVITIES_PAGE = 50  # community's list of upcoming activities holds at most this many: beyond, "at least"
CHANNEL_NAMES = {"panel": _l("panel"), "email": _l("e-mail"), "sms": _l("SMS"), "webhook": _l("system CUS")}


class Unavailable(Exception):
    """Why a section could not be read (a Polish reason for the notice)."""


@dataclass
class Item:
    """One line of a section: what it is, when, and where to act on it."""

    href: str
    label: str  # category / kind: never a person's name
    place: str = ""
    when: datetime | None = None  # the visit's start, the answer deadline, the expiry day, the failure time
    flag: str = ""  # "pilne", "termin minął"…
    detail: str = ""


@dataclass
class Section:
    key: str
    mode: str
    count: int = 0
    at_least: bool = False  # the API's page limit was reached: the real number may be higher
    items: list[Item] = field(default_factory=list)
    unavailable: str = ""


@dataclass(frozen=True)
class Spec:
    key: str
    service: str
    title: Any
    empty: Any
    more_href: str  # the service's own page for the whole list
    act_endpoint: tuple[str, str]  # (service, endpoint) whose POST is "acting" on an item
    act_label: Any
    view_label: Any
    when_label: Any  # what Item.when means in this section
    read: Callable[[Callable[..., Any], datetime], tuple[list[Item], int, bool]]


Get = Callable[..., requests.Response]


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _category(code: str) -> str:
    return str(reference.categories().get(code, {}).get("name", code))


def _village(code: str) -> str:
    return str(reference.villages().get(code, {}).get("name", code))


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise Unavailable(_l("usługa odpowiedziała niezrozumiale")) from err


# --- the readers ----------------------------------------------------------------------------------------
def _total(response: requests.Response, rows: list[Any]) -> tuple[int, bool]:
    """The count of all rows (matching's X-Total-Count; the body holds the newest 200) and, without the header
    (an older matching), whether the count is only a lower bound."""
    header = response.headers.get("X-Total-Count", "")
    if header.isdigit():
        return int(header), False
    return len(rows), len(rows) >= 200


def read_proposals(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    response = get("matching", "/api/proposals", {"status": "proposed"})
    rows = _json(response)
    rows.sort(key=lambda r: (not r.get("urgent"), r.get("window_start") or "", r.get("created_at") or ""))
    items = [Item(f"/matching/matches/{r['id']}", _category(r["category"]), _village(r["village"]),
                  _dt(r.get("window_start")), str(_l("pilne")) if r.get("urgent") else "") for r in rows]
    return items, *_total(response, rows)


def read_offers(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    response = get("matching", "/api/proposals", {"status": "offered"})
    rows = _json(response)
    rows.sort(key=lambda r: r.get("deadline") or "9999")
    items = []
    for r in rows:
        deadline = _dt(r.get("deadline"))
        flag = str(_l("termin minął")) if deadline is not None and deadline < now else ""
        items.append(Item(f"/matching/matches/{r['id']}", _category(r["category"]), _village(r["village"]),
                          deadline, flag, str(_l("wizyta od")) + " " + local_dt(_dt(r.get("window_start")))))
    return items, *_total(response, rows)


def read_unmatched(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Open needs registered more than 48 h ago. The API lists newest first and cannot filter by age, so the
    pages are read from the last (oldest) backwards until a page holds a need younger than 48 h."""
    cutoff = now - UNMATCHED_AFTER
    first = get("needs", "/api/needs", {"status": "open", "per_page": 1})
    total = int(first.headers.get("X-Total-Count") or len(_json(first)))
    pages = math.ceil(total / NEEDS_PAGE_SIZE)
    found: dict[str, dict[str, Any]] = {}
    at_least = False
    for page in range(pages, 0, -1):
        if pages - page >= NEEDS_MAX_PAGES:
            at_least = True
            break
        rows = _json(get("needs", "/api/needs", {"status": "open", "per_page": NEEDS_PAGE_SIZE, "page": page}))
        old = [r for r in rows if (_dt(r.get("created_at")) or now) <= cutoff]
        found.update((r["id"], r) for r in old)
        if len(old) < len(rows):
            break  # this page reaches into the last 48 h: every earlier page is newer still
    rows = sorted(found.values(), key=lambda r: (r.get("urgency") != "urgent", not r.get("urgent"),
                                                  r.get("window_start") or ""))
    items = [Item(f"/needs/needs/{r['id']}", _category(r["category"]), _village(r["village"]),
                  _dt(r.get("window_start")), str(URGENCY_NAMES.get(r.get("urgency", ""), ""))
                  if r.get("urgency") in ("high", "urgent") else "",
                  str(_l("zgłoszona")) + " " + local_dt(_dt(r.get("created_at")))) for r in rows]
    return items, len(rows), at_least


def read_credentials(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    rows = _json(get("volunteers", "/api/credentials/expiring",
                     {"days": EXPIRY_WARNING_DAYS, "expired_days": EXPIRED_LOOKBACK_DAYS}))
    today = now.astimezone(WARSAW).date()
    items = []
    for r in rows:
        until = datetime.fromisoformat(r["valid_until"]).date() if r.get("valid_until") else None
        left = (until - today).days if until else None
        flag = "" if left is None else str(_l("wygasło")) if left < 0 else \
            str(_l("ostatni dzień ważności")) if left == 0 else str(_l("jutro")) if left == 1 else \
            str(_l("za %(days)s dni", days=left))
        items.append(Item(f"/volunteers/wykonawcy/{r['volunteer_id']}", str(CREDENTIAL_NAMES.get(r["kind"], r["kind"])),
                          str(_l("wykonawca")) + " " + str(r["volunteer_id"])[:8],
                          None, flag, (str(_l("ważne do")) + " " + until.strftime("%d.%m.%Y")) if until else ""))
    return items, len(rows), False


def read_failed(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    rows = _json(get("notify", "/api/notifications/failed", {}))
    items = [Item("/notify/", str(r.get("kind", "")), str(CHANNEL_NAMES.get(r.get("channel", ""), r.get("channel", ""))),
                  _dt(r.get("failed_at")), str(_l("prób: %(n)s", n=r.get("attempts", 0))),
                  str(r.get("reason", ""))[:160]) for r in rows]
    return items, len(rows), False


def read_surveys(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Published surveys (still collecting answers), the oldest first, each with its response count."""
    rows = [r for r in _json(get("community", "/api/surveys", {})) if r.get("status") == "published"]
    rows.sort(key=lambda r: r.get("published_at") or "")
    items = [Item(f"/community/ankiety/{r['id']}", str(r.get("title", ""))[:200],
                  ", ".join(_village(v) for v in r.get("villages") or []) or str(_l("cała gmina")),
                  _dt(r.get("published_at")), "", str(_l("odpowiedzi: %(n)s", n=r.get("responses", 0))))
             for r in rows]
    return items, len(rows), False


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    return value


def read_plans(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """The community organising plans not yet ended, the latest first, each with its progress."""
    today = now.astimezone(WARSAW).date()
    rows = [r for r in _mapping(_json(get("community", "/api/overview", {}))).get("plans") or []
            if not r.get("ends_on") or datetime.fromisoformat(r["ends_on"]).date() >= today]
    items = [Item(f"/community/plans/{r['id']}", str(r.get("title", ""))[:200],
                  str(_l("wersja %(n)s", n=r.get("version", 1))), None,
                  str(PLAN_STATUS_NAMES.get(r.get("status", ""), "")) if r.get("status") != "approved" else "",
                  str(_l("postęp: %(percent)s%%; działań: %(actions)s", percent=r.get("progress", 0),
                         actions=r.get("actions", 0)))) for r in rows]
    return items, len(rows), False


def read_activities(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Activities still to come, the soonest first, with their free places and how many helpers are missing."""
    rows = _json(get("community", "/api/activities", {}))
    rows.sort(key=lambda r: r.get("starts_at") or "")
    items = []
    for r in rows:
        missing = int(r.get("helpers_missing") or 0)
        places = r.get("free_places")
        items.append(Item(f"/community/activities/{r['id']}", str(r.get("title", ""))[:200],
                          _village(r.get("village", "")), _dt(r.get("starts_at")),
                          str(_l("brakuje pomocników: %(n)s", n=missing)) if missing else "",
                          str(_l("bez limitu miejsc")) if places is None else
                          str(_l("wolne miejsca: %(n)s", n=places))))
    return items, len(rows), len(rows) >= ACTIVITIES_PAGE


CONCERN_CHANNELS = {"volunteer_space": _l("od wolontariusza"), "phone": _l("telefonicznie"),
                    "staff": _l("od pracownika")}


def read_concerns(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Concerns nobody has acknowledged, urgent first then the oldest (the needs API's order): never the text."""
    rows = _json(get("needs", "/api/concerns", {"status": "open"}))
    items = [Item(f"/needs/zgloszenia/{r['id']}", str(_l("o mieszkańcu") if r.get("resident_ref")
                                                      else _l("zgłoszenie ogólne")),
                  str(CONCERN_CHANNELS.get(r.get("channel", ""), "")), _dt(r.get("created_at")),
                  str(_l("pilne")) if r.get("urgent") else "", concern_detail(r)) for r in rows]
    return items, len(rows), len(rows) >= 200


CONCERN_KINDS = {"incident": _l("zdarzenie"), "safeguarding": _l("ochrona przed krzywdzeniem")}


def concern_detail(row: dict[str, Any]) -> str:
    """The kind (other than a plain concern) and "przekroczony termin" / "eskalowano do dyrektora"."""
    parts = [str(CONCERN_KINDS[row["kind"]])] if row.get("kind") in CONCERN_KINDS else []
    if row.get("overdue"):
        parts.append(str(_l("przekroczony termin")))
    if row.get("escalated_at"):
        parts.append(str(_l("eskalowano do dyrektora")))
    return ", ".join(parts)


FEEDBACK_SOURCES = {"volunteer": _l("od wolontariusza"), "resident_sms": _l("SMS od mieszkańca"),
                    "resident_call": _l("rozmowa z mieszkańcem")}


def read_feedback(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Feedback scored 3 ("źle" / "potrzebna interwencja") nobody has marked as seen, the oldest first: codes."""
    rows = _json(get("matching", "/api/feedback", {"status": "unseen"}))
    items = [Item(f"/matching/matches/{r['match_id']}#oceny",
                  _category(r.get("category") or "") if r.get("category") else str(_l("wizyta")),
                  str(FEEDBACK_SOURCES.get(r.get("source", ""), "")), _dt(r.get("given_at")),
                  str(_l("potrzebna interwencja")) if r.get("source") == "volunteer" else str(_l("źle")))
             for r in rows]
    return items, len(rows), len(rows) >= 200


REQUEST_HELP = {"shopping": _l("zakupy"), "transport": _l("dowóz"), "company": _l("towarzystwo"),
                "home": _l("pomoc w domu"), "repairs": _l("naprawy"), "paperwork": _l("sprawy urzędowe"),
                "digital": _l("pomoc cyfrowa"), "other": _l("inna pomoc")}


def read_requests(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Residents' requests for help waiting for a decision, oldest first (the needs API's order): the first item
    is the oldest. Village, kind of help and urgency only, never who asked."""
    rows = _json(get("needs", "/api/requests", {}))
    items = [Item(f"/needs/prosby/{r['id']}", ", ".join(str(REQUEST_HELP.get(k, k)) for k in r.get("help_kinds", []))
                  or str(_l("prośba o pomoc")), _village(r.get("village") or ""), _dt(r.get("created_at")),
                  str(_l("pilne")) if r.get("urgency") == "today" else "",
                  str(_l("najstarsza")) if i == 0 and len(rows) > 1 else "") for i, r in enumerate(rows)]
    return items, len(rows), len(rows) >= 200


def read_visit_checks(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Accepted visits whose provider has not answered "did it happen?" in time: the organiser completes them or
    marks them not done on the match page; the oldest question first (matching's order)."""
    rows = _json(get("matching", "/api/visit-checks/overdue", {}))
    items = [Item(f"/matching/matches/{r['match_id']}", _category(r["category"]), _village(r["village"]),
                  _dt(r.get("visit_start")), "",
                  str(_l("zapytano")) + " " + local_dt(_dt(r.get("asked_at")))) for r in rows]
    return items, len(rows), False


def read_need_checks(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Open needs whose requesting worker has not answered "is it still needed?" in time, the oldest question
    first (the needs API's order): the organiser decides on the need's check page."""
    rows = _json(get("needs", "/api/need-checks/overdue", {}))
    items = [Item(f"/needs/needs/{r['need_id']}/sprawdzenie", _category(r["category"]), _village(r["village"]),
                  _dt(r.get("window_start")), str(URGENCY_NAMES.get(r.get("urgency", ""), ""))
                  if r.get("urgency") in ("high", "urgent") else "",
                  str(_l("zapytano")) + " " + local_dt(_dt(r.get("asked_at")))) for r in rows]
    return items, len(rows), False


def read_calls(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Well-being call series to look into: two unanswered calls in a row (oldest first), then series past their
    review date. The resident's pseudonym only; what the calls are for stays on the series page (audited)."""
    rows = _json(get("needs", "/api/call-series/attention", {}))
    items = [Item(f"/needs/rozmowy/{r['series_id']}",
                  str(_l("dwie nieodebrane rozmowy z rzędu") if r.get("kind") == "escalation"
                      else _l("minęła data przeglądu")),
                  str(r.get("resident_ref") or ""), _dt(r.get("since")),
                  str(_l("pilne")) if r.get("kind") == "escalation" else "") for r in rows]
    return items, len(rows), False


CALL_KINDS = {"resident_arranged": _l("pomoc umówiona"), "resident_reminder": _l("przypomnienie o wizycie"),
              "resident_looking": _l("szukamy kogoś innego"), "resident_cancelled": _l("wizyta odwołana"),
              "resident_changed": _l("zmiana terminu")}


def read_call_list(get: Get, now: datetime) -> tuple[list[Item], int, bool]:
    """Residents' notices staff phone, due by the end of today (overdue ones first): the kind and when, no contact."""
    rows = _json(get("notify", "/api/calls", {"due": "today"}))
    items = []
    for r in rows:
        due = _dt(r.get("due_at"))
        attempts = int(r.get("attempts") or 0)
        items.append(Item(f"/notify/do-zadzwonienia/{r['id']}", str(CALL_KINDS.get(r.get("kind", ""), r.get("kind", ""))),
                          "", due, str(_l("termin minął")) if due is not None and due < now else "",
                          str(_l("prób: %(n)s", n=attempts)) if attempts else ""))
    return items, len(rows), len(rows) >= 200


SPECS: dict[str, Spec] = {
    CONCERNS: Spec(CONCERNS, "needs", _l("Zgłoszenia niepokoju do przyjęcia"),
                   _l("Każde zgłoszenie niepokoju zostało przyjęte."), "/needs/zgloszenia",
                   ("needs", "needs_concerns.acknowledge"), _l("Przeczytaj i przyjmij"), _l("Zobacz"),
                   _l("zgłoszono"), read_concerns),
    PROPOSALS: Spec(PROPOSALS, "matching", _l("Propozycje do przejrzenia"),
                    _l("Żadna propozycja nie czeka na przegląd."), "/matching/", ("matching", "matching.approve"),
                    _l("Przejrzyj"), _l("Zobacz"), _l("początek wizyty"), read_proposals),
    OFFERS: Spec(OFFERS, "matching", _l("Oferty czekające na odpowiedź wykonawcy"),
                 _l("Żadna oferta nie czeka na odpowiedź."), "/matching/", ("matching", "matching.pick"),
                 _l("Otwórz"), _l("Zobacz"), _l("termin odpowiedzi"), read_offers),
    UNMATCHED: Spec(UNMATCHED, "needs", _l("Potrzeby bez dopasowania dłużej niż 48 godzin"),
                    _l("Każda otwarta potrzeba czeka krócej niż 48 godzin."), "/needs/?status=open",
                    ("needs", "needs.edit_need"), _l("Otwórz"), _l("Zobacz"), _l("początek wizyty"), read_unmatched),
    CREDENTIALS: Spec(CREDENTIALS, "volunteers", _l("Uprawnienia wygasłe lub wygasające w ciągu 30 dni"),
                      _l("Żadne uprawnienie nie wygasło ani nie wygasa w ciągu 30 dni."), "/volunteers/",
                      ("volunteers", "volunteers.add_credential"), _l("Uzupełnij"), _l("Zobacz"), None, read_credentials),
    FAILED: Spec(FAILED, "notify", _l("Nieudane powiadomienia"),
                 _l("Wszystkie powiadomienia zostały wysłane."), "/notify/", ("notify", "notify.retry_failed"),
                 _l("Ponów lub zamknij"), _l("Zobacz"), _l("nieudane"), read_failed),
    SURVEYS: Spec(SURVEYS, "community", _l("Ankiety zbierające odpowiedzi"),
                  _l("Żadna ankieta nie zbiera teraz odpowiedzi."), "/community/ankiety",
                  ("community", "community.paper_entry"), _l("Otwórz"), _l("Zobacz"), _l("opublikowana"),
                  read_surveys),
    PLANS: Spec(PLANS, "community", _l("Plan organizowania społeczności lokalnej: postęp"),
                _l("Nie ma planu w toku."), "/community/plans", ("community", "community_plan.action_progress"),
                _l("Aktualizuj postęp"), _l("Zobacz"), None, read_plans),
    ACTIVITIES: Spec(ACTIVITIES, "community", _l("Najbliższe zajęcia: wolne miejsca i brakujący pomocnicy"),
                     _l("Nie zaplanowano żadnych zajęć."), "/community/activities",
                     ("community", "community_plan.attendance"), _l("Otwórz"), _l("Zobacz"), _l("początek"),
                     read_activities),
    REQUESTS: Spec(REQUESTS, "needs", _l("Prośby mieszkańców do rozpatrzenia"),
                   _l("Żadna prośba mieszkańca nie czeka na rozpatrzenie."), "/needs/prosby",
                   ("needs", "needs_requests.close_request"), _l("Rozpatrz"), _l("Zobacz"), _l("wpłynęła"),
                   read_requests),
    VISIT_CHECKS: Spec(VISIT_CHECKS, "matching", _l("Wizyty bez potwierdzenia"),
                       _l("Każda zakończona wizyta ma potwierdzenie."), "/matching/",
                       ("matching", "matching.complete"), _l("Rozlicz"), _l("Zobacz"), _l("początek wizyty"),
                       read_visit_checks),
    NEED_CHECKS: Spec(NEED_CHECKS, "needs", _l("Potrzeby do potwierdzenia"),
                      _l("Żadna potrzeba nie czeka na potwierdzenie, że jest aktualna."), "/needs/?status=open",
                      ("needs", "needs_checks.decide"), _l("Zdecyduj"), _l("Zobacz"), _l("początek wizyty"),
                      read_need_checks),
    CALLS: Spec(CALLS, "needs", _l("Telefon życzliwości: do wyjaśnienia"),
                _l("Żaden cykl rozmów nie czeka na wyjaśnienie ani przegląd."), "/needs/rozmowy",
                ("needs", "needs_calls.escalation_resolved"), _l("Wyjaśnij"), _l("Zobacz"), _l("od"), read_calls),
    CALL_LIST: Spec(CALL_LIST, "notify", _l("Do zadzwonienia dziś: powiadomienia dla mieszkańców"),
                    _l("Dziś nie trzeba do nikogo dzwonić."), "/notify/do-zadzwonienia",
                    ("notify", "notify_calls.call_task"), _l("Zadzwoń"), _l("Zobacz"), _l("do kiedy"),
                    read_call_list),
    FEEDBACK: Spec(FEEDBACK, "matching", _l("Oceny „źle” i „potrzebna interwencja” do przeczytania"),
                   _l("Nie ma nieprzeczytanych złych ocen wizyt."), "/matching/raporty/oceny",
                   ("matching", "matching_feedback.mark_seen"), _l("Otwórz i oznacz"), _l("Zobacz"),
                   _l("oceniono"), read_feedback),
}


def sections_for(role: str, overrides: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
    """{section: mode} for a role; "act" becomes "view" where the role may not act in the owning service."""
    wanted = (overrides or {}).get(role, ROLE_SECTIONS.get(role, {}))
    out = {}
    for key in SECTIONS:
        mode = wanted.get(key)
        if mode is None:
            continue
        service, endpoint = SPECS[key].act_endpoint
        if mode == ACT and role not in access.allowed_roles(service, endpoint, "POST"):
            mode = VIEW
        out[key] = mode
    return out


def gather(upstreams: dict[str, str], cookie: tuple[str, str] | None, modes: dict[str, str],
           now: datetime | None = None, timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
           first_n: int = FIRST_N) -> list[Section]:
    """Read every wanted section in parallel; never raises for a section's failure."""
    now = now or datetime.now(UTC)
    headers = {"Accept": "application/json"}
    cookies = dict([cookie]) if cookie else {}

    def get(service: str, path: str, params: dict[str, Any]) -> requests.Response:
        try:
            response = requests.get(upstreams[service] + path, params=params, headers=headers, cookies=cookies,
                                    timeout=timeout, allow_redirects=False)
        except requests.Timeout as err:
            raise Unavailable(_l("usługa nie odpowiedziała na czas")) from err
        except requests.RequestException as err:
            raise Unavailable(_l("usługa nie odpowiada")) from err
        if response.status_code in (401, 403):
            raise Unavailable(_l("brak uprawnień do tych danych"))
        if response.status_code != 200:
            raise Unavailable(_l("usługa zgłosiła błąd (HTTP %(code)s)", code=response.status_code))
        return response

    def one(key: str) -> Section:
        section = Section(key, modes[key])
        started = time.monotonic()
        try:
            items, section.count, section.at_least = SPECS[key].read(get, now)
        except Unavailable as err:
            section.unavailable = str(err)
            log.warning("dashboard section %s unavailable: %s", key, err.args[0])
            return section
        except (KeyError, TypeError, ValueError) as err:
            section.unavailable = str(_l("usługa odpowiedziała niezrozumiale"))
            log.warning("dashboard section %s: unexpected answer (%s)", key, type(err).__name__)
            return section
        section.items = [] if section.mode == COUNT else items[:first_n]
        log.debug("dashboard section %s read in %.0f ms", key, 1000 * (time.monotonic() - started))
        return section

    keys = [k for k in SECTIONS if k in modes]
    if not keys:
        return []
    with ThreadPoolExecutor(max_workers=len(keys), thread_name_prefix="dashboard") as pool:
        # each worker gets a copy of the request context: messages are translated for this person
        work = [pool.submit(copy_current_request_context(one) if has_request_context() else one, key)
                for key in keys]
        return [w.result() for w in work]
