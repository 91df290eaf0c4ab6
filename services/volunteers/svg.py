"""A provider's hours per month as a column chart (wspolnota/charts.py)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup

from wspolnota.charts import columns, number

__all__ = ["month_bars", "number"]


def month_bars(uid: str, title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = "h",
               fmt: Callable[[float], str] = number) -> Markup:
    """One labelled column per month, its value above it (written by `fmt`: the page's language); none on 0."""
    return columns(uid, title, labels, values, unit=unit, fmt=fmt, label_zero=False)
