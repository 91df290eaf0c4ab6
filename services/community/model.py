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


# --- surveys ------------------------------------------------------------------------------------------------
DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"
SURVEY_STATUSES = (DRAFT, PUBLISHED, CLOSED)
SURVEY_STATUS_PL = {DRAFT: "szkic", PUBLISHED: "opublikowana", CLOSED: "zamknięta"}
SURVEY_TRANSITIONS = {DRAFT: {PUBLISHED}, PUBLISHED: {CLOSED}, CLOSED: set()}

SINGLE, MULTIPLE, SCALE, NUMBER, TEXT = "single", "multiple", "scale", "number", "text"
QUESTION_KINDS = (SINGLE, MULTIPLE, SCALE, NUMBER, TEXT)
QUESTION_KIND_PL = {SINGLE: "jednokrotny wybór", MULTIPLE: "wielokrotny wybór", SCALE: "skala",
                    NUMBER: "liczba", TEXT: "odpowiedź otwarta"}
CHOICE_KINDS = (SINGLE, MULTIPLE)
ONLINE, PAPER = "online", "paper"
CHANNEL_PL = {ONLINE: "przez internet", PAPER: "papierowa"}
MAX_OPTIONS = 20
MAX_TEXT = 2000
NUMBER_LIMIT = 1_000_000


class InvalidTransition(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def survey_transition(status: str, target: str) -> str:
    """The survey's next status, or InvalidTransition with a Polish sentence."""
    if target not in SURVEY_TRANSITIONS.get(status, set()):
        if status == CLOSED:
            raise InvalidTransition("Ankieta jest zamknięta — nie można jej zmienić.")
        if target == PUBLISHED:
            raise InvalidTransition("Ankieta jest już opublikowana.")
        raise InvalidTransition("Najpierw opublikuj ankietę.")
    return target


def survey_errors(data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = REQUIRED
    elif len(title) > 200:
        errors["title"] = "Najwyżej 200 znaków."
    unknown = [v for v in data.get("villages") or [] if v not in reference.villages()]
    if unknown:
        errors["villages"] = "Wybierz miejscowości z listy."
    return errors


def question_errors(data: dict[str, Any]) -> dict[str, str]:
    """A question's rules: its kind and text; choice questions have 2–20 distinct options; a scale runs from
    0 or 1 up to at most 10; number bounds, when given, are in order."""
    errors: dict[str, str] = {}
    kind = data.get("kind")
    text = (data.get("text") or "").strip()
    if kind not in QUESTION_KINDS:
        errors["kind"] = "Wybierz rodzaj pytania."
    if not text:
        errors["text"] = REQUIRED
    elif len(text) > 500:
        errors["text"] = "Najwyżej 500 znaków."
    options = [o.strip() for o in data.get("options") or [] if o and o.strip()]
    low, high = data.get("min_value"), data.get("max_value")
    if kind in CHOICE_KINDS:
        if len(options) < 2:
            errors["options"] = "Podaj co najmniej dwie odpowiedzi do wyboru (każdą w osobnym wierszu)."
        elif len(options) > MAX_OPTIONS:
            errors["options"] = f"Najwyżej {MAX_OPTIONS} odpowiedzi do wyboru."
        elif len({o.casefold() for o in options}) != len(options):
            errors["options"] = "Odpowiedzi do wyboru powtarzają się."
        elif any(len(o) > 200 for o in options):
            errors["options"] = "Każda odpowiedź do wyboru może mieć najwyżej 200 znaków."
    elif kind == SCALE:
        if low not in (0, 1) or high is None or not (low < high <= 10):
            errors["max_value"] = "Skala zaczyna się od 0 lub 1 i kończy najwyżej na 10."
    elif kind == NUMBER:
        if any(v is not None and abs(v) > NUMBER_LIMIT for v in (low, high)):
            errors["max_value"] = "Granice liczby: najwyżej milion."
        elif low is not None and high is not None and low > high:
            errors["max_value"] = "Największa wartość nie może być mniejsza od najmniejszej."
    return errors


def normalise_question(data: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a valid question: trimmed text, options only for choices, bounds only where used."""
    kind = data["kind"]
    options = [o.strip() for o in data.get("options") or [] if o and o.strip()] if kind in CHOICE_KINDS else []
    keep_bounds = kind in (SCALE, NUMBER)
    return {"kind": kind, "text": data["text"].strip(), "required": bool(data.get("required")), "options": options,
            "min_value": data.get("min_value") if keep_bounds else None,
            "max_value": data.get("max_value") if keep_bounds else None}


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def answer_errors(question: dict[str, Any], value: Any) -> tuple[str | None, dict[str, Any]]:
    """(Polish error or None, the stored answer {choices, number, text}) of one answer to one question.

    `value` is what the respondent gave: an option index (single), a list of indexes (multiple), a number
    (scale, number; strings of digits are read), or text. An empty answer to an optional question stores
    nothing."""
    kind = question["kind"]
    if is_empty(value) or (isinstance(value, str) and not value.strip()):
        return ("Odpowiedz na to pytanie." if question["required"] else None), {}
    if kind in CHOICE_KINDS:
        raw = value if isinstance(value, list) else [value]
        try:
            picked = sorted({int(v) for v in raw})
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf) from a JSON body
            return "Wybierz odpowiedź z listy.", {}
        if any(not 0 <= i < len(question["options"]) for i in picked):
            return "Wybierz odpowiedź z listy.", {}
        if kind == SINGLE and len(picked) != 1:
            return "Wybierz jedną odpowiedź.", {}
        return None, {"choices": picked}
    if kind in (SCALE, NUMBER):
        try:
            number = float(str(value).replace(",", ".")) if not isinstance(value, (int, float)) else float(value)
        except (ValueError, OverflowError):
            return "Podaj liczbę.", {}
        if number != number or abs(number) > NUMBER_LIMIT:  # NaN or absurd
            return "Podaj liczbę.", {}
        low, high = question.get("min_value"), question.get("max_value")
        if kind == SCALE and not number.is_integer():
            return "Wybierz wartość na skali.", {}
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                return f"Podaj liczbę od {low} do {high}.", {}
            return ("Liczba jest za mała." if low is not None and number < low else "Liczba jest za duża."), {}
        return None, {"number": number}
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        return f"Najwyżej {MAX_TEXT} znaków.", {}
    return None, {"text": text}


def response_errors(questions: list[dict[str, Any]], answers: dict[str, Any], village: str | None,
                    survey_villages: list[str]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Every answer checked against its question, and the village against the survey's targeting: (errors keyed
    by question id or "village", stored answers keyed by question id). Answers to unknown questions are
    ignored."""
    errors: dict[str, str] = {}
    stored: dict[str, dict[str, Any]] = {}
    allowed = survey_villages or list(reference.villages())
    if village not in allowed:
        errors["village"] = "Wybierz swoją miejscowość z listy."
    for question in questions:
        error, answer = answer_errors(question, answers.get(question["id"]))
        if error:
            errors[question["id"]] = error
        elif answer:
            stored[question["id"]] = answer
    if not errors and not stored:
        errors["answers"] = "Odpowiedz na co najmniej jedno pytanie."
    return errors, stored


def contact_errors(data: dict[str, Any]) -> dict[str, str]:
    """Contact details for follow-up are optional; left, they need a way to reach the person and the consent."""
    name, phone, email = ((data.get(k) or "").strip() for k in ("name", "phone", "email"))
    if not (name or phone or email):
        return {}
    errors: dict[str, str] = {}
    if not (phone or email):
        errors["contact_phone"] = "Podaj telefon lub e-mail — albo zostaw dane kontaktowe puste."
    if email and ("@" not in email or len(email) > 200):
        errors["contact_email"] = "Podaj poprawny adres e-mail."
    if phone and (len(phone) > 40 or not any(ch.isdigit() for ch in phone)):
        errors["contact_phone"] = "Podaj poprawny numer telefonu."
    if len(name) > 200:
        errors["contact_name"] = "Najwyżej 200 znaków."
    if not data.get("consent"):
        errors["contact_consent"] = "Zaznacz zgodę na kontakt — bez niej nie zapiszemy danych kontaktowych."
    return errors


# --- results ------------------------------------------------------------------------------------------------
def tally(questions: list[dict[str, Any]], responses: list[dict[str, Any]]) -> dict[str, Any]:
    """Results per question, for the gmina and per village. `responses` are {village, answers: {question id:
    stored answer}}. Choices: counts per option; scale and number: count, mean, min, max and (scale) counts per
    value; open answers: the texts."""
    villages = sorted({r["village"] for r in responses})
    out: dict[str, Any] = {"responses": len(responses),
                           "by_village": {v: sum(1 for r in responses if r["village"] == v) for v in villages},
                           "questions": []}
    for q in questions:
        answered = [(r["village"], r["answers"][q["id"]]) for r in responses if q["id"] in r["answers"]]
        item: dict[str, Any] = {"id": q["id"], "text": q["text"], "kind": q["kind"], "answered": len(answered)}
        if q["kind"] in CHOICE_KINDS:
            labels = list(q["options"])
            item["labels"] = labels
            item["counts"] = [sum(1 for _, a in answered if i in a.get("choices", [])) for i in range(len(labels))]
            item["by_village"] = {v: [sum(1 for vv, a in answered if vv == v and i in a.get("choices", []))
                                      for i in range(len(labels))] for v in villages}
        elif q["kind"] in (SCALE, NUMBER):
            numbers = [a["number"] for _, a in answered if a.get("number") is not None]
            item.update(_stats(numbers))
            item["by_village"] = {v: _stats([a["number"] for vv, a in answered if vv == v]) for v in villages}
            if q["kind"] == SCALE and q.get("min_value") is not None and q.get("max_value") is not None:
                values = list(range(int(q["min_value"]), int(q["max_value"]) + 1))
                item["labels"] = [str(v) for v in values]
                item["counts"] = [sum(1 for n in numbers if n == v) for v in values]
        else:
            item["texts"] = [(v, a["text"]) for v, a in answered if a.get("text")]
        out["questions"].append(item)
    return out


def _stats(numbers: list[float]) -> dict[str, Any]:
    if not numbers:
        return {"count": 0, "mean": None, "min": None, "max": None}
    return {"count": len(numbers), "mean": sum(numbers) / len(numbers), "min": min(numbers), "max": max(numbers)}
