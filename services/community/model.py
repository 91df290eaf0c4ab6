"""Pure rules of the community diagnosis: assets, surveys and their answers (no database, no Flask).

Every rule returns {field: Polish message}; an empty dict means the data may be stored.
"""
from __future__ import annotations

from typing import Any

from wspolnota import reference

REQUIRED = "To pole jest wymagane."

# --- the assets register ------------------------------------------------------------------------------------
PLACE, LEADER, EQUIPMENT, TRANSPORT = "place", "leader", "equipment", "transport"
ASSET_KINDS = (PLACE, LEADER, EQUIPMENT, TRANSPORT)
ASSET_KIND_PL = {PLACE: "miejsce", LEADER: "lider lokalny", EQUIPMENT: "sprzęt do wypożyczenia",
                 TRANSPORT: "transport"}
ASSET_SUBTYPES: dict[str, dict[str, str]] = {
    PLACE: {"swietlica": "świetlica wiejska", "remiza": "remiza OSP", "szkola": "szkoła", "biblioteka": "biblioteka",
            "sala_parafialna": "sala parafialna", "inne": "inne miejsce"},
    LEADER: {"soltys": "sołtys", "kgw": "przewodnicząca KGW", "osp": "prezes OSP", "radny": "radny",
             "inny": "inny lider"},
    EQUIPMENT: {"naglosnienie": "nagłośnienie", "namiot": "namiot", "stoly": "stoły i ławki", "inne": "inny sprzęt"},
    TRANSPORT: {"bus": "bus", "samochod": "samochód", "inne": "inny transport"},
}
ASSET_SUBTYPE_PL = {code: label for kinds in ASSET_SUBTYPES.values() for code, label in kinds.items()}


def asset_errors(data: dict[str, Any]) -> dict[str, str]:
    """What is wrong with an asset: its kind, village and name; a place's and transport's capacity; a leader is
    listed only with the consent date; a leader has no capacity."""
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in ASSET_KINDS:
        errors["kind"] = "Wybierz rodzaj zasobu."
    elif data.get("subtype") and data["subtype"] not in ASSET_SUBTYPES[kind]:
        errors["subtype"] = "Ten typ nie pasuje do rodzaju zasobu."
    if data.get("village") not in reference.villages():
        errors["village"] = "Wybierz miejscowość z listy."
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = REQUIRED
    elif len(name) > 200:
        errors["name"] = "Najwyżej 200 znaków."
    capacity = data.get("capacity")
    if capacity is not None and not (1 <= capacity <= 10000):
        errors["capacity"] = "Podaj liczbę od 1 do 10000."
    elif kind in (PLACE, TRANSPORT) and capacity is None:
        errors["capacity"] = "Podaj, ile osób się mieści."
    elif kind == LEADER and capacity is not None:
        errors["capacity"] = "Lider nie ma pojemności — zostaw to pole puste."
    if kind == LEADER and not data.get("consent_date"):
        errors["consent_date"] = "Lidera można wpisać tylko za jego zgodą — podaj datę zgody."
    return errors
