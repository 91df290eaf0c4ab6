"""Pure rules of local animation: activities (meetings, workshops, events, recurring series) with capacity,
registration and attendance; helpers wanted; self-help groups and their members.

Nothing here imports Flask, Kafka or SQLAlchemy; `AnimationRuleError` carries a Polish message (and the field
it belongs to) that handlers turn into a 409/422 answer or a message beside a form.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from contracts.community import ACTIVITY_KIND_LABELS

MEETING, WORKSHOP, EVENT, SERIES = "meeting", "workshop", "event", "series"
KINDS = (MEETING, WORKSHOP, EVENT, SERIES)
KIND_PL = ACTIVITY_KIND_LABELS

SCHEDULED, HELD, CANCELLED = "scheduled", "held", "cancelled"
STATUS_PL = {SCHEDULED: "zaplanowane", HELD: "odbyło się", CANCELLED: "odwołane"}

MAX_OCCURRENCES = 52
MAX_HOURS_PER_ACTIVITY = 16.0


class AnimationRuleError(Exception):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field

    @property
    def errors(self) -> dict[str, str]:
        return {self.field: self.message} if self.field else {}


def check_activity(kind: str, starts_at: datetime, ends_at: datetime, capacity: int | None,
                   helpers_wanted: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = "Nieznany rodzaj zajęć."
    if ends_at <= starts_at:
        errors["ends_at"] = "Koniec musi być później niż początek."
    elif ends_at - starts_at > timedelta(hours=MAX_HOURS_PER_ACTIVITY):
        errors["ends_at"] = "Jedne zajęcia trwają najwyżej 16 godzin; dłuższe zaplanuj jako cykl."
    if capacity is not None and capacity < 1:
        errors["capacity"] = "Liczba miejsc to co najmniej 1 (puste pole: bez limitu)."
    if helpers_wanted < 0:
        errors["helpers_wanted"] = "Liczba potrzebnych pomocników nie może być ujemna."
    return errors


def occurrences(starts_at: datetime, ends_at: datetime, every_days: int, count: int) -> list[tuple[datetime, datetime]]:
    """The meetings of a recurring series: `count` occurrences, `every_days` apart (the same local hour)."""
    if not 1 <= count <= MAX_OCCURRENCES:
        raise AnimationRuleError(f"Cykl ma od 1 do {MAX_OCCURRENCES} spotkań.", "count")
    if every_days < 1:
        raise AnimationRuleError("Odstęp między spotkaniami to co najmniej 1 dzień.", "every_days")
    step = timedelta(days=every_days)
    return [(starts_at + i * step, ends_at + i * step) for i in range(count)]


def free_places(capacity: int | None, registered: int) -> int | None:
    """None: no limit."""
    return None if capacity is None else max(0, capacity - registered)


def places_pl(n: int) -> str:
    """"1 wolne miejsce", "3 wolne miejsca", "5 wolnych miejsc" (Polish plural forms)."""
    if n == 1:
        return "1 wolne miejsce"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} wolne miejsca"
    return f"{n} wolnych miejsc"


def check_registration(status: str, starts_at: datetime, now: datetime, capacity: int | None,
                       registered: int) -> None:
    """A resident may register for scheduled activities that have not started and have a free place."""
    if status == CANCELLED:
        raise AnimationRuleError("Zajęcia zostały odwołane.")
    if status == HELD or starts_at <= now:
        raise AnimationRuleError("Zapisy są zamknięte: zajęcia już się rozpoczęły.")
    if free_places(capacity, registered) == 0:
        raise AnimationRuleError("Brak wolnych miejsc.")


def check_edit(status: str, starts_at: datetime, now: datetime, capacity: int | None, registered: int) -> None:
    """An activity is edited while it is scheduled and has not started; its places never fewer than registered."""
    if status == CANCELLED:
        raise AnimationRuleError("Zajęcia zostały odwołane: nie można ich zmienić.")
    if status == HELD or starts_at <= now:
        raise AnimationRuleError("Zajęcia już się rozpoczęły: nie można ich zmienić.")
    if capacity is not None and capacity < registered:
        raise AnimationRuleError(f"Zapisanych jest już {registered} {people_pl(registered)}: liczba miejsc nie "
                                 "może być mniejsza.", "capacity")


def people_pl(n: int) -> str:
    """"osoba", "osoby", "osób" after a number."""
    if n == 1:
        return "osoba"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "osoby"
    return "osób"


def check_reminder_contact(consent: bool, phone: str, email: str) -> dict[str, str]:
    """Reminders need both the consent and an address to send them to; an address alone sends nothing."""
    if consent and not (phone or email):
        return {"email": "Podaj telefon lub e-mail, na który wyślemy przypomnienia."}
    return {}


def gets_reminders(consent: bool, phone: str, email: str) -> bool:
    return bool(consent and (phone or email))


_PHONE_IN_TEXT = re.compile(r"(?:\+?\d[\d \-()]{7,}\d)")
_EMAIL_IN_TEXT = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
MAX_ANNOUNCEMENT = 300


def check_announcement(status: str, text: str) -> dict[str, str]:
    """A short notice about the activity for its participants: no phone numbers or e-mail addresses in it (it
    travels to the notify service on the bus)."""
    if status != SCHEDULED:
        return {"text": "Ogłoszenia wysyła się tylko do zaplanowanych zajęć."}
    if not text:
        return {"text": "Wpisz treść ogłoszenia."}
    if len(text) > MAX_ANNOUNCEMENT:
        return {"text": f"Najwyżej {MAX_ANNOUNCEMENT} znaków."}
    if _PHONE_IN_TEXT.search(text) or _EMAIL_IN_TEXT.search(text):
        return {"text": "Ogłoszenie nie może zawierać numeru telefonu ani adresu e-mail."}
    return {}


def check_attendance(status: str, starts_at: datetime, now: datetime) -> None:
    """Attendance is recorded after the activity started (again after it was recorded: corrections)."""
    if status == CANCELLED:
        raise AnimationRuleError("Zajęcia zostały odwołane: nie ma czego odnotować.")
    if starts_at > now:
        raise AnimationRuleError("Obecność odnotowuje się po rozpoczęciu zajęć.")


def check_helper_hours(hours: Mapping[str, float], duration_hours: float) -> dict[str, str]:
    """Hours per helper (provider id → hours): more than zero and no more than the activity lasted (+1 h to set
    up and clear away)."""
    errors: dict[str, str] = {}
    limit = duration_hours + 1
    for provider_id, value in hours.items():
        if value <= 0:
            errors[f"helpers.{provider_id}"] = "Liczba godzin musi być większa od zera."
        elif value > limit:
            errors[f"helpers.{provider_id}"] = f"Najwyżej {limit:g} godz. (czas zajęć i godzina na przygotowanie)."
    return errors


def helpers_missing(wanted: int, confirmed: int) -> int:
    return max(0, wanted - confirmed)


# --- self-help groups ---------------------------------------------------------------------------------------
def check_member(group_active: bool, member_names: list[str], name: str, max_members: int | None) -> None:
    if not group_active:
        raise AnimationRuleError("Grupa zakończyła działalność.")
    if name.strip().casefold() in {n.strip().casefold() for n in member_names}:
        raise AnimationRuleError("Ta osoba już należy do grupy.", "name")
    if max_members is not None and len(member_names) >= max_members:
        raise AnimationRuleError("Grupa ma już komplet członków.")
