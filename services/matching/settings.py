"""Matching's tunables as one frozen object, read from the settings declared in wspolnota/config.py.

The dataclass's defaults are the declared defaults (`MATCHING_*`), so the service, the solver command and the
benchmark (bench/matching) share one set of numbers; `from_config()` reads the environment. The bootstrap
builds it once and hands it to the handlers, the consumer loop and the web app (`Parts.settings`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from services.matching.solver import Weights
from wspolnota import config

DEBOUNCED_INTERVAL = timedelta(seconds=5)  # the batch-tick loop's re-solve debounce when none is set


def _float(name: str) -> float:
    return float(config.default(name))


def _int(name: str) -> int:
    return int(config.default(name))


def _minutes(name: str) -> timedelta:
    return timedelta(minutes=_float(name))


def _weights() -> Weights:
    """The service's cost balance, as benchmarked (docs/matching-benchmark.md, "ours"): distance and load ×3
    against the unmet penalties (an unmet normal need is worth ≈ 33 km), and the look-ahead's expected needs
    at 0.6 of their penalty in all (shared by the past weeks replayed). The rest are the solver's defaults."""
    return Weights(km_cost=_int("MATCHING_KM_COST"), load_cost=_int("MATCHING_LOAD_COST"),
                   expected_weight=_float("MATCHING_EXPECTED_WEIGHT"))


@dataclass(frozen=True)
class Settings:
    # How often a full re-solve may run (debounce). `from_config` makes it 0 unless set, for handlers that solve
    # after each event; the batch-tick loop uses `batch_resolve_interval`, its idle tick runs a deferred solve.
    resolve_interval: timedelta = DEBOUNCED_INTERVAL
    batch_resolve_interval: timedelta = DEBOUNCED_INTERVAL
    tick_s: float = _float("MATCHING_TICK_S")  # the loop's idle tick
    offer_deadline: timedelta = _minutes("MATCHING_OFFER_DEADLINE_MIN")
    urgent_offer_deadline: timedelta = _minutes("MATCHING_URGENT_OFFER_DEADLINE_MIN")
    urgent_parallel: int = _int("MATCHING_URGENT_PARALLEL")  # providers alerted at once for an urgent need
    horizon_days: int = _int("MATCHING_HORIZON_DAYS")  # how far ahead weekly slots are expanded
    candidates_shown: int = _int("MATCHING_CANDIDATES_SHOWN")
    # An unapproved proposal is replaced only when the new assignment is cheaper by at least this much (solver
    # cost units: 30 per km, so 10 km of travel): a stable review queue, no cancel + re-notify churn.
    replace_margin: int = _int("MATCHING_REPLACE_MARGIN")
    weights: Weights = field(default_factory=_weights)
    # The look-ahead: needs reported in the next `forecast_hours` of the past `history_weeks` weeks take part
    # in every solve (0: none).
    forecast_hours: float = _float("MATCHING_FORECAST_HOURS")
    history_weeks: int = _int("MATCHING_HISTORY_WEEKS")
    # Holding back easy needs (schedule.hold_until): a non-urgent need whose visit is more than `hold_hours`
    # away and which at least `hold_min_providers` providers could serve is planned in every solve but
    # proposed only from `hold_hours` before the visit (0: every need is proposed at once).
    hold_hours: float = _float("MATCHING_HOLD_HOURS")
    hold_min_providers: int = _int("MATCHING_HOLD_MIN_PROVIDERS")
    # Stepping back from an accepted visit less than this long before it starts is allowed but flagged urgent
    # for the organiser (series.step_back).
    step_back_notice: timedelta = timedelta(hours=_float("MATCHING_STEP_BACK_NOTICE_H"))

    @classmethod
    def from_config(cls) -> Settings:
        """The settings the environment sets (wspolnota.config), each else its declared default."""
        interval = config.get("MATCHING_RESOLVE_INTERVAL_S")
        resolve = timedelta(seconds=float(interval)) if interval else timedelta(0)
        return cls(
            resolve_interval=resolve,
            batch_resolve_interval=resolve if interval else DEBOUNCED_INTERVAL,
            tick_s=config.get_float("MATCHING_TICK_S"),
            offer_deadline=timedelta(minutes=config.get_float("MATCHING_OFFER_DEADLINE_MIN")),
            urgent_offer_deadline=timedelta(minutes=config.get_float("MATCHING_URGENT_OFFER_DEADLINE_MIN")),
            urgent_parallel=config.get_int("MATCHING_URGENT_PARALLEL"),
            horizon_days=config.get_int("MATCHING_HORIZON_DAYS"),
            candidates_shown=config.get_int("MATCHING_CANDIDATES_SHOWN"),
            replace_margin=config.get_int("MATCHING_REPLACE_MARGIN"),
            weights=Weights(km_cost=config.get_int("MATCHING_KM_COST"), load_cost=config.get_int("MATCHING_LOAD_COST"),
                            expected_weight=config.get_float("MATCHING_EXPECTED_WEIGHT")),
            forecast_hours=config.get_float("MATCHING_FORECAST_HOURS"),
            history_weeks=config.get_int("MATCHING_HISTORY_WEEKS"),
            hold_hours=config.get_float("MATCHING_HOLD_HOURS"),
            hold_min_providers=config.get_int("MATCHING_HOLD_MIN_PROVIDERS"),
            step_back_notice=timedelta(hours=config.get_float("MATCHING_STEP_BACK_NOTICE_H")),
        )

    def for_batch_loop(self) -> Settings:
        """These settings as the batch-tick consumer loop runs them (its debounce)."""
        return replace(self, resolve_interval=self.batch_resolve_interval)
