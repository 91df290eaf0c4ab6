"""Polish labels the community pages share (codes stay English in the code and on the bus)."""
from __future__ import annotations

from typing import Any

from flask import current_app

from wspolnota import reference


def village_name(code: str) -> str:
    if code == "gmina":
        return "cała gmina"
    village = reference.villages().get(code)
    return str(village["name"]) if village else code


def context() -> dict[str, Any]:
    ordered = sorted(((c, str(v["name"])) for c, v in reference.villages().items()), key=lambda cv: cv[1])
    return {"villages": reference.villages(), "village_options": ordered, "village_name": village_name,
            "url_endpoints": set(current_app.view_functions)}
