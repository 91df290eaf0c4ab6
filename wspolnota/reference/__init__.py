"""Reference data versioned in the repo: need categories (with hard rules) and villages of the gmina."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_DIR = Path(__file__).resolve().parent


@cache
def categories() -> dict[str, dict[str, Any]]:
    data = json.loads((_DIR / "categories.json").read_text(encoding="utf-8"))
    return {c["code"]: c for c in data["categories"]}


@cache
def villages() -> dict[str, dict[str, Any]]:
    data = json.loads((_DIR / "villages.json").read_text(encoding="utf-8"))
    return {v["code"]: v for v in data["villages"]}


@cache
def remote_categories() -> frozenset[str]:
    """Categories whose help is given at a distance (`rules.remote`: a phone call): no travel, no area limit."""
    return frozenset(code for code, c in categories().items() if c.get("rules", {}).get("remote"))
