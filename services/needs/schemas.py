"""Needs service API: the bodies of its HTTP API.

The payloads of the events it publishes on `needs` are its published contract: contracts/needs.py.
"""
from __future__ import annotations

import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from contracts.needs import MODERATION, URGENCIES, requirement_code
from services.needs import clock, model
from wspolnota.schemas import category_field, village_field

REF = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}$",
                      error="Dozwolone są litery, cyfry oraz / . _ - (do 64 znaków).")
SOURCES = ("staff_form", "case_system", "phone")
SOURCE_PL = {"staff_form": "formularz pracownika", "case_system": "system dziedzinowy", "phone": "telefon"}
MODERATION_PL = {"review": "przegląd przez pracownika", "auto": "automatycznie"}
CHANNELS = ("phone", "sms", "email", "letter", "in_person")
CHANNEL_PL = {"phone": "telefon", "sms": "SMS", "email": "e-mail", "letter": "list", "in_person": "osobiście"}
LEGAL_BASES = ("art6_1_c", "art6_1_e", "art9_2_b", "art9_2_g", "consent")
LEGAL_BASIS_PL = {
    "art6_1_c": "art. 6 ust. 1 lit. c RODO — obowiązek prawny (ustawa o CUS)",
    "art6_1_e": "art. 6 ust. 1 lit. e RODO — zadanie w interesie publicznym",
    "art9_2_b": "art. 9 ust. 2 lit. b RODO — zabezpieczenie społeczne",
    "art9_2_g": "art. 9 ust. 2 lit. g RODO — ważny interes publiczny",
    "consent": "zgoda osoby (art. 6 ust. 1 lit. a RODO)",
}
PHONE = re.compile(r"^\+?[0-9 ()-]{9,20}$")
ONE_OF = "Wybierz jedną z dozwolonych wartości."


def _text(max_len: int, **kw) -> fields.String:  # type: ignore[no-untyped-def]
    return fields.String(validate=validate.Length(max=max_len, error=f"Najwyżej {max_len} znaków."), **kw)


def _required_text(max_len: int) -> fields.String:
    return fields.String(required=True, validate=validate.Length(
        min=1, max=max_len, error=f"Wymagane, najwyżej {max_len} znaków."))


# Gas and electrical installation work is a licensed tradesman's job: CUS never takes it on (docs/needs.md).
INSTALLATION_REFUSED = ("CUS nie zleca prac przy instalacjach gazowych ani elektrycznych — to zadanie dla fachowca "
                        "z uprawnieniami (gazownika, elektryka). Tej potrzeby nie można zgłosić wolontariuszom.")
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class SkillName(fields.String):
    """A skill as volunteers name theirs (2–50 characters, no commas); spaces collapsed."""

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        return " ".join(super()._deserialize(value, attr, data, **kwargs).split())


def skill_list(**kw) -> fields.List:  # type: ignore[no-untyped-def]
    skill = SkillName(validate=[
        validate.Length(min=2, max=50, error="Umiejętność: od 2 do 50 znaków."),
        validate.Regexp(r"^[^,;]*$", error="Jedna umiejętność na pozycję (bez przecinków i średników).")])
    return fields.List(skill, validate=validate.Length(max=20, error="Najwyżej 20 umiejętności."), **kw)


def relative_list(**kw) -> fields.List:  # type: ignore[no-untyped-def]
    volunteer_id = fields.String(validate=validate.Regexp(
        UUID, error="To nie jest identyfikator z rejestru wolontariuszy (np. 3f2b…-…): {input}."))
    return fields.List(volunteer_id, validate=validate.Length(max=20, error="Najwyżej 20 osób."), **kw)


NEED_TERMS_DOC = {
    "personal_care": "personal (hygiene) care: only a paid neighbour is matched",
    "installation_work": "gas or electrical installation work: always refused (422), CUS never takes it on",
    "skills": "skills the provider must have, named as in the volunteers register",
    "relatives": "volunteer ids of the resident's relatives: never matched to this need",
}


class NeedFields(Schema):
    """What a need is, apart from when it happens (shared by one-off and recurring bodies)."""

    resident_ref = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "pseudonymous resident id (no names here)"})
    category = category_field(required=True)
    village = village_field(required=True)
    description = _text(2000, load_default="")
    duration_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=15, max=12 * 60))
    urgent = fields.Boolean(load_default=False, metadata={"description": "legacy flag: true means urgency=urgent"})
    urgency = fields.String(load_default=None, validate=validate.OneOf(URGENCIES, error=ONE_OF),
                            metadata={"description": "normal | high | urgent (urgent: starts within 24 h)"})
    slots = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10))
    involves_minor = fields.Boolean(load_default=False)
    requirements = fields.List(requirement_code, load_default=list,
                               metadata={"description": "explicit requirements, added to the category's"})
    waived_requirements = fields.List(requirement_code, load_default=list,
                                      metadata={"description": "category requirements staff drop; never legal ones"})
    continuity = fields.Boolean(load_default=None, metadata={"description": "prefer the same provider"})
    moderation = fields.String(load_default="review", validate=validate.OneOf(MODERATION, error=ONE_OF))
    source = fields.String(load_default="case_system", validate=validate.OneOf(SOURCES, error=ONE_OF))
    plan_ref = fields.String(load_default=None, allow_none=True, validate=REF,
                             metadata={"description": "IPUS reference (support package)"})
    language = fields.String(load_default="pl", validate=validate.Regexp(r"^[a-z]{2}$"))
    personal_care = fields.Boolean(load_default=False, metadata={"description": NEED_TERMS_DOC["personal_care"]})
    installation_work = fields.Boolean(load_default=False, validate=validate.Equal(False, error=INSTALLATION_REFUSED),
                                       metadata={"description": NEED_TERMS_DOC["installation_work"]})
    skills = skill_list(load_default=list, metadata={"description": NEED_TERMS_DOC["skills"]})
    relatives = relative_list(load_default=list, metadata={"description": NEED_TERMS_DOC["relatives"]})

    @validates_schema
    def _requirements(self, data, **_kw):  # type: ignore[no-untyped-def]
        if data.get("category") in model.reference.categories():
            minor = model.involves_minor(data["category"], data.get("involves_minor", False))
            try:
                model.resolve_requirements(data["category"], minor, data.get("requirements", []),
                                           data.get("waived_requirements", []))
            except model.RequirementError as err:
                raise ValidationError(err.message, "waived_requirements") from err


class NeedCreate(NeedFields):
    """A one-off need: one time window."""

    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)

    @validates_schema
    def _window(self, data, **_kw):  # type: ignore[no-untyped-def]
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and data.get("duration_minutes"):
            urgency = data.get("urgency") or ("urgent" if data.get("urgent") else "normal")
            try:
                model.check_window(start, end, data["duration_minutes"], urgency, clock.now())
            except model.WindowError as err:
                raise ValidationError(err.message, err.field) from err


class Recurrence(Schema):
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=0, max=6)), required=True,
                           validate=validate.Length(min=1, max=7, error="Wybierz od 1 do 7 dni."),
                           metadata={"description": "0 = Monday … 6 = Sunday"})
    time_from = fields.Time(required=True, format="%H:%M", metadata={"description": "local time, HH:MM"})
    time_to = fields.Time(required=True, format="%H:%M")
    starts_on = fields.Date(required=True)
    until = fields.Date(required=True)


class RecurringNeedCreate(NeedFields):
    """A weekly pattern inside a support package; expanded into one need per occurrence."""

    plan_ref = fields.String(required=True, validate=REF)
    recurrence = fields.Nested(Recurrence, required=True)


class NeedUpdate(Schema):
    """Fields staff may change while the need is still open; requirements are resolved again.
    Anything else (status, resident, plan) is an unknown field: 422, not silently ignored."""

    description = _text(2000)
    village = village_field()
    category = category_field()
    window_start = fields.AwareDateTime()
    window_end = fields.AwareDateTime()
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=15, max=12 * 60))
    urgency = fields.String(validate=validate.OneOf(URGENCIES, error=ONE_OF))
    slots = fields.Integer(strict=True, validate=validate.Range(min=1, max=10))
    involves_minor = fields.Boolean()
    requirements = fields.List(requirement_code)
    waived_requirements = fields.List(requirement_code)
    continuity = fields.Boolean()
    moderation = fields.String(validate=validate.OneOf(MODERATION, error=ONE_OF))
    personal_care = fields.Boolean(metadata={"description": NEED_TERMS_DOC["personal_care"]})
    installation_work = fields.Boolean(validate=validate.Equal(False, error=INSTALLATION_REFUSED),
                                       metadata={"description": NEED_TERMS_DOC["installation_work"]})
    skills = skill_list(metadata={"description": NEED_TERMS_DOC["skills"]})
    relatives = relative_list(metadata={"description": NEED_TERMS_DOC["relatives"]})


class StatusChange(Schema):
    status = fields.String(required=True, validate=validate.OneOf(model.STATUSES, error="Nieznany status."))
    reason = _text(500, load_default="")


class CancelBody(Schema):
    reason = _text(500, load_default="")


class NeedOut(Schema):
    id = fields.String()
    resident_ref = fields.String()
    category = fields.String()
    village = fields.String()
    description = fields.String()
    window_start = fields.AwareDateTime()
    window_end = fields.AwareDateTime()
    duration_minutes = fields.Integer()
    urgent = fields.Boolean()
    urgency = fields.String()
    slots = fields.Integer()
    status = fields.String()
    requirements = fields.Method("_requirements")
    involves_minor = fields.Boolean()
    language = fields.String()
    continuity = fields.Boolean()
    moderation = fields.String()
    personal_care = fields.Boolean()
    skills = fields.Function(lambda row: list(row["skills"] or []) if "skills" in row else [])
    relatives = fields.Function(lambda row: list(row["relatives"] or []) if "relatives" in row else [])
    source = fields.String()
    plan_ref = fields.String(allow_none=True)
    series_id = fields.String(allow_none=True)
    cancel_reason = fields.String()
    visits_delivered = fields.Integer()
    hours_delivered = fields.Float()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _requirements(self, row):  # type: ignore[no-untyped-def]
        value = row["requirements"] if "requirements" in row else ""
        return [c for c in (value or "").split(",") if c]


class NeedListItem(NeedOut):
    """A need in a list: without the description (data minimisation; item reads are audited)."""

    class Meta:
        exclude = ("description",)


class SeriesOut(Schema):
    series_id = fields.String()
    plan_ref = fields.String()
    needs = fields.List(fields.Nested(NeedOut))


class ExpiredOut(Schema):
    expired = fields.List(fields.String())


class TimelineEntry(Schema):
    at = fields.AwareDateTime()
    kind = fields.String()
    actor = fields.String()
    status_after = fields.String()
    detail = fields.String()


class NeedQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    village = fields.String()
    category = fields.String()
    status = fields.String()
    urgency = fields.String()
    plan_ref = fields.String()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))


class ResidentCreate(Schema):
    ref = fields.String(load_default=None, allow_none=True, validate=REF,
                        metadata={"description": "pseudonym; generated when omitted"})
    name = _required_text(200)
    address = _required_text(300)
    village = village_field(required=True)
    phone = fields.String(load_default="", validate=validate.Length(max=20))
    email = fields.Email(load_default="", validate=validate.Length(max=200), error_messages={
        "invalid": "Nieprawidłowy adres e-mail."})
    preferred_channel = fields.String(required=True, validate=validate.OneOf(CHANNELS, error=ONE_OF))
    notes = _text(2000, load_default="")
    legal_basis = fields.String(required=True, validate=validate.OneOf(LEGAL_BASES, error=ONE_OF))
    consent_date = fields.Date(load_default=None, allow_none=True)
    # how the resident hears about their visits (services/needs/resident_notices.py checks the combination)
    notice_channel = fields.String(load_default=None, validate=validate.OneOf(("sms", "call", "none"), error=ONE_OF),
                                   metadata={"description": "sms | call (staff call: no mobile phone) | none"})
    notice_consent_date = fields.Date(load_default=None, allow_none=True,
                                      metadata={"description": "when the resident consented to notices"})

    @pre_load
    def _blank_is_absent(self, data, **_kw):  # type: ignore[no-untyped-def]
        if isinstance(data, dict) and data.get("email") == "":
            data = {k: v for k, v in data.items() if k != "email"}
        return data

    @validates_schema
    def _contact(self, data, partial=False, **_kw):  # type: ignore[no-untyped-def]
        errors: dict[str, str] = {}
        phone = data.get("phone")
        if phone and not PHONE.match(phone):
            errors["phone"] = "Numer telefonu: 9–20 cyfr, może zaczynać się od +."
        channel = data.get("preferred_channel")
        if channel in ("phone", "sms") and not phone and not partial:
            errors["phone"] = "Podaj telefon, skoro to preferowany kanał kontaktu."
        if channel == "email" and not data.get("email") and not partial:
            errors["email"] = "Podaj e-mail, skoro to preferowany kanał kontaktu."
        if data.get("legal_basis") == "consent":
            consent = data.get("consent_date")
            if consent is None:
                errors["consent_date"] = "Przy zgodzie podaj datę jej wyrażenia."
            elif consent > clock.today():
                errors["consent_date"] = "Data zgody nie może być w przyszłości."
        if errors:
            raise ValidationError(errors)


class ResidentUpdate(ResidentCreate):
    """Any subset of a resident's fields (loaded with partial=True)."""


class ResidentOut(Schema):
    id = fields.String()
    ref = fields.String()
    name = fields.String()
    address = fields.String()
    village = fields.String()
    phone = fields.String()
    email = fields.String()
    preferred_channel = fields.String()
    notes = fields.String()
    legal_basis = fields.String()
    consent_date = fields.Date(allow_none=True)
    notice_channel = fields.String()
    notice_consent_date = fields.Date(allow_none=True)
    notice_consent_by = fields.String()
    created_at = fields.AwareDateTime()
    erased_at = fields.AwareDateTime(allow_none=True)


class EraseBody(Schema):
    """RODO art. 17: why the data is erased (e.g. the number of the resident's request; no personal data)."""

    reason = _required_text(500)


class ResidentErasedOut(Schema):
    id = fields.String()
    ref = fields.String()
    village = fields.String()
    erased_at = fields.AwareDateTime()
    cancelled_needs = fields.List(fields.String(), metadata={"description": "needs cancelled by the erasure"})


class ResidentSummary(Schema):
    """A resident as lists show them: no personal data."""

    id = fields.String()
    ref = fields.String()
    village = fields.String()


class PackageCreate(Schema):
    plan_ref = fields.String(required=True, validate=REF)
    resident_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))
    village = village_field(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    note = _text(2000, load_default="")

    @validates_schema
    def _period(self, data, **_kw):  # type: ignore[no-untyped-def]
        if data.get("start_date") and data.get("end_date"):
            try:
                model.check_plan_period(data["start_date"], data["end_date"])
            except model.WindowError as err:
                raise ValidationError(err.message, err.field) from err
            if data["end_date"] < clock.today():
                raise ValidationError("Plan już się zakończył.", "end_date")


class PackageOut(Schema):
    plan_ref = fields.String()
    resident_ref = fields.String()
    village = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    status = fields.String()
    note = fields.String()
    close_reason = fields.String()
    needs_total = fields.Integer()
    needs_open = fields.Integer()
    visits_delivered = fields.Integer()
    hours_delivered = fields.Float()


class ReferenceOut(Schema):
    categories = fields.List(fields.Dict())
    villages = fields.List(fields.Dict())
    requirements = fields.Dict()
