"""Matching's tunables are declared once (wspolnota/config.py) and read into one frozen Settings."""
from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import timedelta

import pytest

from services.matching.settings import DEBOUNCED_INTERVAL, Settings
from services.matching.solver import Weights
from wspolnota import config

MATCHING_NAMES = [s.name for s in config.SETTINGS if s.name.startswith("MATCHING_")]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in MATCHING_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults_are_the_declared_ones_and_the_benchmarked_balance(clean_env: pytest.MonkeyPatch) -> None:
    read = Settings.from_config()
    # the same numbers as the dataclass's defaults, but the per-event handlers do not debounce
    assert read == replace(Settings(), resolve_interval=timedelta(0))
    assert read.weights == replace(Weights(), km_cost=30, load_cost=120, expected_weight=0.6)
    assert (read.offer_deadline, read.urgent_offer_deadline) == (timedelta(hours=2), timedelta(minutes=30))
    assert (read.forecast_hours, read.history_weeks, read.hold_hours, read.hold_min_providers) == (48, 3, 48, 16)
    assert (read.replace_margin, read.urgent_parallel, read.horizon_days, read.candidates_shown) == (300, 2, 28, 5)
    assert read.for_batch_loop().resolve_interval == DEBOUNCED_INTERVAL == timedelta(seconds=5)


def test_the_environment_sets_them(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MATCHING_HOLD_HOURS", "0")
    clean_env.setenv("MATCHING_KM_COST", "10")
    clean_env.setenv("MATCHING_RESOLVE_INTERVAL_S", "2")
    read = Settings.from_config()
    assert (read.hold_hours, read.weights.km_cost) == (0, 10)
    assert read.resolve_interval == read.for_batch_loop().resolve_interval == timedelta(seconds=2)


def test_settings_cannot_change_under_a_running_service() -> None:
    with pytest.raises(FrozenInstanceError):
        Settings().hold_hours = 1  # type: ignore[misc]


def test_every_matching_setting_is_documented() -> None:
    assert len(MATCHING_NAMES) >= 14
    assert all(s.help for s in config.SETTINGS if s.name in MATCHING_NAMES)
