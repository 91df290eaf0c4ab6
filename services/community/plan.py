"""Pure rules of the local community organising plan: versions and approval, actions and their progress,
indicators with a baseline, a target and a value computed from real data where one can be.

Nothing here imports Flask, Kafka or SQLAlchemy; handlers call these functions and turn `PlanRuleError`
into a 409/422 answer or a Polish message beside a form.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

# --- plan versions (docs/community.md) ------------------------------------------------------------------
DRAFT, APPROVED = "draft", "approved"
PLAN_STATUS_PL = {DRAFT: "projekt", APPROVED: "zatwierdzony"}


class PlanRuleError(Exception):
    """A change the plan's rules refuse; `errors` maps a field to a Polish message (empty: the whole request)."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


def check_period(starts_on: date, ends_on: date) -> dict[str, str]:
    """A plan covers at least one day and at most five years (field → Polish message)."""
    if ends_on < starts_on:
        return {"ends_on": "Koniec okresu nie może być wcześniejszy niż jego początek."}
    if (ends_on - starts_on).days > 5 * 366:
        return {"ends_on": "Plan obejmuje najwyżej pięć lat."}
    return {}


def version_after_edit(status: str, version: int) -> tuple[str, int]:
    """A change to an approved plan opens the next version as a draft; a draft is edited in place."""
    if status == APPROVED:
        return DRAFT, version + 1
    return status, version


def approval_problems(goals: Iterable[Mapping[str, Any]], actions: Iterable[Mapping[str, Any]],
                      indicators: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why a draft cannot be approved yet (empty: it can). Polish sentences for the director."""
    goals, actions, indicators = list(goals), list(actions), list(indicators)
    problems: list[str] = []
    if not goals:
        problems.append("Plan nie ma żadnego celu.")
    goal_ids_with_actions = {a["goal_id"] for a in actions}
    for goal in goals:
        if goal["id"] not in goal_ids_with_actions:
            problems.append(f"Cel „{goal['title']}” nie ma żadnego działania.")
    goal_ids_with_indicators = {i["goal_id"] for i in indicators}
    for goal in goals:
        if goal["id"] not in goal_ids_with_indicators:
            problems.append(f"Cel „{goal['title']}” nie ma wskaźnika (wartość bazowa i docelowa).")
    return problems


def check_approval(status: str, problems: list[str]) -> None:
    if status == APPROVED:
        raise PlanRuleError("Ta wersja planu jest już zatwierdzona.")
    if problems:
        raise PlanRuleError(" ".join(problems))


# --- actions -------------------------------------------------------------------------------------------------
PLANNED, IN_PROGRESS, DONE, CANCELLED = "planned", "in_progress", "done", "cancelled"
ACTION_STATUSES = (PLANNED, IN_PROGRESS, DONE, CANCELLED)
ACTION_STATUS_PL = {PLANNED: "zaplanowane", IN_PROGRESS: "w toku", DONE: "zrealizowane", CANCELLED: "odwołane"}
ACTION_TRANSITIONS = {
    PLANNED: frozenset({IN_PROGRESS, DONE, CANCELLED}),
    IN_PROGRESS: frozenset({DONE, CANCELLED, PLANNED}),
    DONE: frozenset({IN_PROGRESS}),  # reopened when it turns out not to be finished
    CANCELLED: frozenset({PLANNED}),
}


def check_action_dates(starts_on: date | None, ends_on: date | None, plan_start: date,
                       plan_end: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "Koniec działania nie może być wcześniejszy niż jego początek."
    for name, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if value and not plan_start <= value <= plan_end and name not in errors:
            errors[name] = (f"Data poza okresem planu ({plan_start:%d.%m.%Y}–{plan_end:%d.%m.%Y}).")
    return errors


def action_progress(status: str, requested: int | None, current: int) -> tuple[str, int]:
    """The status and % done after staff set either: done means 100 %, planned with work started means in progress."""
    percent = current if requested is None else requested
    if not 0 <= percent <= 100:
        raise PlanRuleError("Postęp podaje się w procentach od 0 do 100.", {"percent_done": "Od 0 do 100."})
    if status == DONE:
        return DONE, 100
    if status == CANCELLED:
        return CANCELLED, percent
    if percent == 100:
        return DONE, 100
    if status == PLANNED and percent > 0:
        return IN_PROGRESS, percent
    return status, percent


def progress_from_activities(status: str, percent: int, by_hand: bool, held: int, scheduled: int
                             ) -> tuple[str, int]:
    """An action carried out by activities follows them until staff set its status or % by hand.

    `scheduled` counts the action's activities that were not cancelled (held ones included), `held` those held.
    Set by hand (`by_hand`), cancelled, or without activities: unchanged — staff's decision stands. Otherwise the %
    is the share of its activities held (rounded down, so 100 % only when every one was held); the first held
    activity moves a planned action to in progress, all of them held make it done (100 % means done), and a new
    activity scheduled under an action done this way opens it again."""
    if by_hand or status == CANCELLED or scheduled <= 0:
        return status, percent
    held = max(0, min(held, scheduled))
    share = held * 100 // scheduled
    if held == 0:
        return PLANNED, 0
    if share == 100:
        return DONE, 100
    return IN_PROGRESS, share


def check_action_transition(current: str, target: str) -> None:
    if target != current and target not in ACTION_TRANSITIONS.get(current, frozenset()):
        raise PlanRuleError(
            f"Nie można zmienić statusu działania z „{ACTION_STATUS_PL.get(current, current)}” "
            f"na „{ACTION_STATUS_PL.get(target, target)}”.", {"status": "Niedozwolona zmiana statusu."})


# --- indicators ---------------------------------------------------------------------------------------------
MANUAL = "manual"
ACTIVITIES_HELD = "activities_held"
PARTICIPANTS = "participants"
VOLUNTEER_HOURS = "volunteer_hours"
GROUP_MEETINGS = "group_meetings"
PARTNERS = "partners"
SOURCES = (MANUAL, ACTIVITIES_HELD, PARTICIPANTS, VOLUNTEER_HOURS, GROUP_MEETINGS, PARTNERS)
SOURCE_PL = {
    MANUAL: "wpisywany ręcznie",
    ACTIVITIES_HELD: "liczba odbytych zajęć",
    PARTICIPANTS: "liczba uczestników zajęć",
    VOLUNTEER_HOURS: "godziny pracy wolontariuszy",
    GROUP_MEETINGS: "liczba spotkań grup samopomocowych",
    PARTNERS: "liczba partnerów przy działaniach",
}


@dataclass(frozen=True)
class ActionFigures:
    """What really happened under one action (from activities, attendance, groups and partners)."""

    activities_held: int = 0
    participants: int = 0
    volunteer_hours: float = 0.0
    group_meetings: int = 0
    partners: int = 0

    def __add__(self, other: ActionFigures) -> ActionFigures:
        return ActionFigures(self.activities_held + other.activities_held, self.participants + other.participants,
                             self.volunteer_hours + other.volunteer_hours,
                             self.group_meetings + other.group_meetings, self.partners + other.partners)

    def value(self, source: str) -> float:
        return float(getattr(self, source))


def check_indicator(source: str, baseline: float, target: float) -> dict[str, str]:
    errors: dict[str, str] = {}
    if source not in SOURCES:
        errors["source"] = "Nieznane źródło wartości wskaźnika."
    if baseline < 0:
        errors["baseline"] = "Wartość bazowa nie może być ujemna."
    if target < 0:
        errors["target"] = "Wartość docelowa nie może być ujemna."
    elif target == baseline:
        errors["target"] = "Wartość docelowa musi różnić się od bazowej."
    return errors


def indicator_value(source: str, baseline: float, manual_value: float | None, figures: ActionFigures) -> float:
    """The current value: typed by staff for a manual indicator; for a computed one, the baseline plus what the
    linked actions' activities, attendance and groups added since the plan began."""
    if source == MANUAL:
        return baseline if manual_value is None else manual_value
    return baseline + figures.value(source)


def indicator_progress(baseline: float, target: float, value: float) -> int:
    """% of the way from baseline to target (a target below the baseline counts a fall as progress), 0–100."""
    if target == baseline:
        return 100
    share = (value - baseline) / (target - baseline)  # may overflow to ±inf for a tiny target − baseline
    return round(max(0.0, min(1.0, share)) * 100)


def plan_progress(action_rows: Iterable[Mapping[str, Any]]) -> int:
    """The plan's % done: the mean of its actions' progress, cancelled actions left out."""
    percents = [int(a["percent_done"]) for a in action_rows if a["status"] != CANCELLED]
    return round(sum(percents) / len(percents)) if percents else 0
