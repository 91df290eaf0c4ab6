"""Polish message texts: Jinja templates per kind, SMS segment counting, quiet hours.

Each kind has `templates/messages/<kind>.txt` with three blocks: `subject`, `sms` and `email` (plain
text). The HTML part of an e-mail is the plain text put through `email.html` with autoescaping on,
so anything that came from an event is shown inert. Texts carry no personal data: the greeting is
generic and the recipient's address is looked up only when the sender sends.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from contracts.community import ACTIVITY_KIND_LABELS
from wspolnota import reference
from wspolnota.localtime import WARSAW

TEMPLATES = Path(__file__).parent / "templates" / "messages"

_text = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined,
                    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
_html = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                    undefined=StrictUndefined)

KINDS = ("match_offered", "match_accepted", "visit_reminder", "match_cancelled", "credential_expiring",
         "need_unmatched", "support_package_started", "support_package_ended", "volunteer_safety",
         "match_too_late", "helper_offered", "helper_accepted", "helper_cancelled", "activity_reminder",
         "activity_changed", "activity_cancelled", "activity_announcement", "match_stepped_back",
         "series_notice", "volunteer_sign_in", "concern_reported", "visit_thanks", "idle_nudge",
         "request_received", "request_converted", "request_closed", "visit_check", "need_check",
         "call_series_escalated",
         # residents' notices (services/notify/resident_notices.py)
         "resident_arranged", "resident_reminder", "resident_looking", "resident_cancelled", "resident_changed",
         "concern_escalated", "feedback_request")
ENGAGEMENT_KINDS = ("visit_thanks", "idle_nudge")  # a volunteer may switch these off (engagement_messages)

WEEKDAYS = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
CREDENTIALS = {
    "driving_licence": "prawo jazdy", "own_car": "własny samochód", "kamilka_check": "sprawdzenie z ustawy Kamilka",
    "first_aid": "szkolenie z pierwszej pomocy", "confidentiality_authorisation": "upoważnienie do danych",
    "nnw_insurance": "ubezpieczenie NNW", "agreement": "porozumienie wolontariackie",
}


def _local(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(WARSAW)


def when(value: datetime | str | None) -> str:
    """'30.11.2026 (poniedziałek), godz. 10:00', in Warsaw time."""
    if value is None:
        return "termin do ustalenia"
    local = _local(value)
    return f"{local:%d.%m.%Y} ({WEEKDAYS[local.weekday()]}), godz. {local:%H:%M}"


def short_when(value: datetime | str | None) -> str:
    """'30.11 10:00': the SMS form, every character counts."""
    if value is None:
        return "termin do ustalenia"
    local = _local(value)
    return f"{local:%d.%m} {local:%H:%M}"


def hour(value: datetime | str | None) -> str:
    """'13:00': the end of an activity on the same day."""
    return "" if value is None else f"{_local(value):%H:%M}"


ON_WEEKDAY = ("w poniedziałek", "we wtorek", "w środę", "w czwartek", "w piątek", "w sobotę", "w niedzielę")


def on_day(value: datetime | str | None) -> str:
    """'we wtorek 8.12 o 10:00': when, as a resident is told (the weekday with its preposition and case)."""
    if value is None:
        return "w terminie do ustalenia"
    local = _local(value)
    return f"{ON_WEEKDAY[local.weekday()]} {local.day}.{local.month:02d} o {local:%H:%M}"


def plural_pl(n: int, one: str, few: str, many: str) -> str:
    """The Polish form for a count: 1 → one, 2–4 (not 12–14; 22–24 …) → few, else many."""
    if n == 1:
        return one
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return few
    return many


def for_duration(minutes: int | None) -> str:
    """How long a visit is, after "na": "na 1 godzinę", "na 2 godziny", "na 5 godzin", "na półtorej godziny",
    "na 2,5 godziny", "na 45 minut"; "" when unknown."""
    if not minutes or minutes <= 0:
        return ""
    hours, rest = divmod(int(minutes), 60)
    if rest == 0:
        return f"na {hours} {plural_pl(hours, 'godzinę', 'godziny', 'godzin')}"
    if rest == 30 and hours:
        return "na półtorej godziny" if hours == 1 else f"na {hours},5 godziny"
    if not hours:
        return f"na {rest} {plural_pl(rest, 'minutę', 'minuty', 'minut')}"
    return f"na {hours} godz. {rest} min"


for _env in (_text, _html):
    _env.filters["when"] = when
    _env.filters["short"] = short_when
    _env.filters["hour"] = hour
    _env.filters["on_day"] = on_day
    _env.filters["for_duration"] = for_duration


def activity_name(code: str | None) -> str:
    return ACTIVITY_KIND_LABELS.get(code or "", "zajęcia")


def category_name(code: str | None) -> str:
    return reference.categories().get(code or "", {}).get("name", code or "pomoc")


def village_name(code: str | None) -> str:
    return reference.villages().get(code or "", {}).get("name", code or "gmina Zagnańsk")


REVOCATION_REASONS = {  # CredentialRevoked.reason codes (docs/events.md)
    "revoked_by_staff": "decyzja pracownika CUS",
    "adverse_result": "niekorzystny wynik nowego sprawdzenia",
    "superseded": "zastąpione nowszym sprawdzeniem",
}


def visits_pl(n: int) -> str:
    """"1 wizyta", "3 wizyty", "5 wizyt" (Polish plural forms)."""
    if n == 1:
        return "1 wizyta"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} wizyty"
    return f"{n} wizyt"


def waiting_pl(n: int) -> str:
    """"1 prośba o pomoc czeka", "3 prośby o pomoc czekają", "5 próśb o pomoc czeka" (plural forms and the verb)."""
    if n == 1:
        return "1 prośba o pomoc czeka"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} prośby o pomoc czekają"
    return f"{n} próśb o pomoc czeka"


# Why an occurrence of a committed series went to the cascade (SeriesVisitSkipped.reason: the rule that failed)
GATE_REASONS = {
    "provider_not_paused": "wykonawca ma przerwę lub jego udział wstrzymano",
    "provider_verified": "wykonawca nie jest zweryfikowany",
    "category_offered": "wykonawca nie oferuje już tej kategorii",
    "kamilka_gate": "brak aktualnej weryfikacji Kamilka na dzień wizyty",
    "volunteer_agreement": "brak aktualnego porozumienia wolontariackiego na dzień wizyty",
    "nnw_insurance_for_short_agreement": "brak aktualnego ubezpieczenia NNW na dzień wizyty",
    "required_credentials_in_date": "brak aktualnych uprawnień na dzień wizyty",
    "driving_licence_and_car_for_transport": "brak ważnego prawa jazdy lub samochodu",
    "within_area": "poza obszarem działania wykonawcy",
    "time_windows_overlap": "wykonawca nie ma wtedy czasu (nieobecność lub inna wizyta)",
    "weekly_hours_left": "wyczerpany tygodniowy limit godzin wykonawcy",
    "unknown_provider": "wykonawcy nie ma już w rejestrze",
}


def gate_reason(code: str | None) -> str:
    return GATE_REASONS.get(code or "", "wykonawca nie spełnia warunków na termin tej wizyty")


def credential_name(code: str | None) -> str:
    return CREDENTIALS.get(code or "", code or "uprawnienie")


@dataclass(frozen=True)
class Rendered:
    subject: str
    sms: str
    email: str

    def html(self) -> str:
        return _html.get_template("email.html").render(subject=self.subject, paragraphs=self.email.split("\n\n"))


def render(kind: str, **context: Any) -> Rendered:
    if kind not in KINDS:
        raise ValueError(f"no template for {kind!r}")
    template = _text.get_template(f"{kind}.txt")
    ctx = template.new_context({"category": category_name, "village": village_name, "activity": activity_name,
                                "credential": credential_name, **context})

    def block(name: str) -> str:
        return "".join(template.blocks[name](ctx)).strip()

    return Rendered(subject=" ".join(block("subject").split()), sms=" ".join(block("sms").split()),
                    email=block("email"))


# -- SMS length ---------------------------------------------------------------------------------------
GSM7_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7, extension characters count twice) or UTF-16 code units (UCS-2)
    segments: int


def sms_length(text: str) -> SmsLength:
    """How many SMS parts a text takes: GSM-7 160/153 per part, UCS-2 (any Polish diacritic) 70/67."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / multi)
    return SmsLength(encoding, units, segments)


POLISH_TO_GSM7 = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–", "acelnoszzACELNOSZZ\"\"-")


def sms_text(text: str) -> str:
    """The text to send: with Polish letters unless dropping them saves SMS parts (UCS-2 → GSM-7)."""
    plain = text.translate(POLISH_TO_GSM7)
    if sms_length(plain).encoding == "GSM-7" and sms_length(plain).segments < sms_length(text).segments:
        return plain
    return text


# -- quiet hours --------------------------------------------------------------------------------------
def quiet_until(now: datetime, start: time, end: time, tz: ZoneInfo = WARSAW) -> datetime | None:
    """When the quiet hours that `now` falls in end (aware UTC), or None outside quiet hours."""
    local = now.astimezone(tz)
    t = local.time()
    overnight = start > end
    inside = (t >= start or t < end) if overnight else (start <= t < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if overnight and t >= start else local.date()
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
