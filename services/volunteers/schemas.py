"""Volunteers service API: the bodies of its HTTP API.

Validation messages are Polish: the staff forms show these same messages next to their fields.
The payloads of the events it publishes on `volunteers` are its published contract: contracts/volunteers.py.
"""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.volunteers import REQUIRED, WeeklySlot
from services.volunteers import model
from wspolnota.schemas import category_field, village_field

PROVIDER_TYPES = list(model.PROVIDER_TYPES)
ORGANISATION_KINDS = ["kgw", "osp", "parish", "school", "ngo", "business", "other"]
CHANNELS = ["email", "sms"]
EXCEPTION_REASONS = ["holiday", "sick", "other"]
KRS = r"^[0-9]{10}$"  # Krajowy Rejestr Sądowy: a registered organisation's number, always 10 digits
KRS_ERROR = "Numer KRS ma 10 cyfr."
KRS_ONLY_PARTNERS = "Numer KRS podaje się tylko dla organizacji partnerskiej."
QUIET_HOURS = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"


def _phone(value: str) -> None:
    digits = re.sub(r"[ \-]", "", value)
    if not re.fullmatch(r"(\+48)?[1-9][0-9]{8}|\+(?!48)[1-9][0-9]{7,14}", digits):
        raise ValidationError("Niepoprawny numer telefonu (9 cyfr, opcjonalnie z +48).")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[ \-]", "", value)
    return digits if digits.startswith("+") else "+48" + digits


# Field types with Polish messages.
class Str(fields.String):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawny tekst."}


class Email(fields.Email):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawny adres e-mail."}


class Day(fields.Date):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED,
                              "invalid": "Niepoprawna data (RRRR-MM-DD)."}


class Num(fields.Float):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawna liczba.",
                              "special": "Niepoprawna liczba."}


class Int(fields.Integer):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawna liczba całkowita."}


class Bool(fields.Boolean):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawna wartość (tak/nie)."}


class ListOf(fields.List):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED, "invalid": "Niepoprawna lista."}


class When(fields.AwareDateTime):
    default_error_messages = {"required": REQUIRED, "null": REQUIRED,
                              "invalid": "Niepoprawna data i godzina.", "awareness": "Podaj strefę czasową."}


def length(max_: int, min_: int = 0) -> validate.Length:
    if min_:
        return validate.Length(min=min_, max=max_, error=f"Długość od {min_} do {max_} znaków.")
    return validate.Length(max=max_, error=f"Najwyżej {max_} znaków.")


def one_of(choices: list[str]) -> validate.OneOf:
    return validate.OneOf(choices, error="Niedozwolona wartość: {input}.")


def at_most(n: int, what: str) -> validate.Length:
    return validate.Length(max=n, error=f"Najwyżej {n} {what}.")


class PolishSchema(Schema):
    error_messages = {"unknown": "Nieznane pole.", "type": "Niepoprawne dane."}


def validate_slots(slots: list[dict] | None, field_name: str = "weekly_slots") -> None:
    problems = model.slot_problems(slots or [])
    if problems:
        raise ValidationError({field_name: {i: [msg] for i, msg in problems.items()}})


class NeighbourConditionsIn(PolishSchema):
    adult = Bool(load_default=False)
    not_family = Bool(load_default=False)
    lives_nearby = Bool(load_default=False)
    fitness_declared = Bool(load_default=False)
    accepted_by_cus = Bool(load_default=False)


class VolunteerCreate(PolishSchema):
    name = Str(required=True, validate=length(120, 2))
    email = Email(required=True, validate=length(200))
    phone = Str(required=True, validate=[length(20), _phone])
    provider_type = Str(load_default="volunteer", validate=one_of(PROVIDER_TYPES))
    villages = ListOf(village_field(), required=True,
                      validate=validate.Length(min=1, max=30, error="Wybierz od 1 do 30 miejscowości."))
    organisation_kind = Str(load_default=None, validate=one_of(ORGANISATION_KINDS))
    contact_person = Str(load_default=None, validate=length(120, 2))
    krs = Str(load_default=None, allow_none=True, validate=validate.Regexp(KRS, error=KRS_ERROR), metadata={
        "description": "partner organisations only: the number in the National Court Register (10 digits)"})
    preferred_channel = Str(load_default="email", validate=one_of(CHANNELS))
    home_village = village_field(load_default=None)
    radius_km = Num(load_default=0.0, validate=validate.Range(0, 50, error="Promień od 0 do 50 km."))
    skills = ListOf(Str(validate=length(50, 2)), load_default=list, validate=at_most(20, "umiejętności"))
    languages = ListOf(Str(validate=validate.Regexp(r"^[a-z]{2}$", error="Kod języka ISO 639-1, np. pl, uk.")),
                       load_default=lambda: ["pl"], validate=at_most(10, "języków"))
    own_car = Bool(load_default=False)
    weekly_slots = ListOf(fields.Nested(WeeklySlot), load_default=list, validate=at_most(28, "przedziałów"))
    capacity_hours_per_week = Num(load_default=None, validate=validate.Range(0, 60, error="Od 0 do 60 godzin."))
    max_open_tasks = Int(load_default=None, validate=validate.Range(1, 20, error="Od 1 do 20 zadań."))
    neighbour_conditions = fields.Nested(NeighbourConditionsIn, load_default=None)
    notes = Str(load_default=None, validate=length(2000))
    quiet_hours = Str(load_default=None, allow_none=True, validate=validate.Regexp(
        QUIET_HOURS, error="Godziny ciszy w postaci GG:MM-GG:MM, np. 21:00-07:00."),
        metadata={"description": "no SMS that is not urgent in this local time span, e.g. 21:00-07:00"})
    consent = Bool(load_default=False, metadata={"description": "the person consented to data processing"})
    verified = Bool(load_default=True, metadata={
        "description": "entered by staff who checked the person (default); self-registrations start unverified"})

    @validates_schema
    def _rules(self, data, partial=False, **_kw):  # type: ignore[no-untyped-def]
        validate_slots(data.get("weekly_slots"))
        if data.get("provider_type") == model.PARTNER_ORGANISATION and not partial:
            errors = {}
            if not data.get("contact_person"):
                errors["contact_person"] = ["Organizacja partnerska musi mieć osobę kontaktową."]
            if not data.get("organisation_kind"):
                errors["organisation_kind"] = ["Wybierz rodzaj organizacji."]
            if errors:
                raise ValidationError(errors)
        if data.get("krs") and data.get("provider_type", model.PARTNER_ORGANISATION) != model.PARTNER_ORGANISATION:
            raise ValidationError({"krs": [KRS_ONLY_PARTNERS]})


class VolunteerUpdate(VolunteerCreate):
    """Any subset of the profile; the provider type and verification have their own actions."""

    class Meta:
        exclude = ("verified", "consent")


class SelfRegistration(PolishSchema):
    """The public form: a person registers themselves; staff verify before they can be matched."""

    name = Str(required=True, validate=length(120, 2))
    email = Email(required=True, validate=length(200))
    phone = Str(required=True, validate=[length(20), _phone])
    villages = ListOf(village_field(), required=True,
                      validate=validate.Length(min=1, max=30, error="Wybierz co najmniej jedną miejscowość."))
    categories = ListOf(category_field(), load_default=list, validate=at_most(14, "kategorii"))
    languages = ListOf(Str(validate=validate.Regexp(r"^[a-z]{2}$", error="Kod języka ISO 639-1, np. pl, uk.")),
                       load_default=lambda: ["pl"], validate=at_most(10, "języków"))
    own_car = Bool(load_default=False)
    weekly_slots = ListOf(fields.Nested(WeeklySlot), load_default=list, validate=at_most(28, "przedziałów"))
    notes = Str(load_default=None, validate=length(2000))
    consent = Bool(required=True, validate=validate.Equal(True, error="Bez zgody nie możemy przyjąć zgłoszenia."))

    @validates_schema
    def _slots(self, data, **_kw):  # type: ignore[no-untyped-def]
        validate_slots(data.get("weekly_slots"))


class Credential(PolishSchema):
    kind = Str(required=True, validate=one_of(list(model.CREDENTIAL_KINDS)))
    valid_from = Day(load_default=None)
    valid_until = Day(load_default=None)
    written = Bool(load_default=False, metadata={"description": "agreement only: signed in writing"})
    # Kamilka check only.
    register_checked_on = Day(load_default=None)
    register_result = Str(load_default=None, validate=one_of(list(model.KAMILKA_RESULTS)))
    krk_seen_on = Day(load_default=None)
    krk_entry = Bool(load_default=False, metadata={
        "description": "Kamilka check: the KRK information shows an entry (an adverse result, like `listed`)"})
    countries_last_20_years = ListOf(Str(validate=validate.Regexp(r"^[A-Z]{2}$", error="Kod kraju, np. PL, DE.")),
                                     load_default=lambda: ["PL"], validate=at_most(20, "krajów"))
    foreign_record_seen_on = Day(load_default=None)

    @validates_schema
    def _dates(self, data, **_kw):  # type: ignore[no-untyped-def]
        # Dates after today are the use case's to refuse (handlers.record_credential): it knows the service's clock.
        if data["kind"] == model.KAMILKA_CHECK:
            errors = {name: [REQUIRED] for name in ("register_checked_on", "register_result", "krk_seen_on")
                      if not data.get(name)}
            if any(c != "PL" for c in data.get("countries_last_20_years") or []) \
                    and not data.get("foreign_record_seen_on"):
                errors["foreign_record_seen_on"] = ["Osoba mieszkała za granicą: podaj datę okazania "
                                                    "informacji z rejestru karnego tego kraju."]
            if errors:
                raise ValidationError(errors)
            return
        if data.get("valid_from") is None:
            raise ValidationError({"valid_from": [REQUIRED]})
        until = data.get("valid_until")
        if until is not None and until < data["valid_from"]:
            raise ValidationError({"valid_until": ["Data ważności nie może być wcześniejsza niż data wydania."]})
        if data["kind"] in (model.NNW_INSURANCE, model.OWN_CAR) and until is None:
            raise ValidationError({"valid_until": ["Podaj datę końca ubezpieczenia."]})
        if data["kind"] == model.AGREEMENT:
            problem = model.agreement_problem(data["valid_from"], until, data["written"])
            if problem:
                raise ValidationError({"written": [problem]})


class CredentialOut(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    kind = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True)
    recorded_by = fields.String()
    details = fields.Dict()
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    revoke_reason = fields.String(allow_none=True)


class CredentialRevoke(PolishSchema):
    """Staff revoke a credential; the reason stays in this service (the bus gets the code revoked_by_staff)."""

    reason = Str(required=True, validate=length(500, 3))


class AvailabilityException(PolishSchema):
    starts_on = Day(required=True)
    ends_on = Day(required=True)
    reason = Str(load_default="other", validate=one_of(EXCEPTION_REASONS))

    @validates_schema
    def _order(self, data, **_kw):  # type: ignore[no-untyped-def]
        if data["ends_on"] < data["starts_on"]:
            raise ValidationError({"ends_on": ["Koniec nie może być przed początkiem."]})


class Verification(PolishSchema):
    """No fields: the verifier is the signed-in account (a typed `verified_by` is refused as an unknown field)."""


class VolunteerOut(Schema):
    """Profile without contact data; contact details are read only through the audited internal API."""

    id = fields.String()
    provider_type = fields.String()
    villages = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    home_village = fields.String(allow_none=True)
    radius_km = fields.Float(allow_none=True)
    skills = fields.List(fields.String())
    languages = fields.List(fields.String())
    own_car = fields.Boolean(allow_none=True)
    weekly_slots = fields.List(fields.Dict())
    capacity_hours_per_week = fields.Float(allow_none=True)
    max_open_tasks = fields.Integer(allow_none=True)
    organisation_kind = fields.String(allow_none=True)
    krs = fields.String(allow_none=True)
    verified = fields.Boolean()
    paused = fields.Boolean()
    erased = fields.Boolean()
    email_confirmed = fields.Boolean()
    quiet_hours = fields.String(allow_none=True)
    eligible_categories = fields.List(fields.String())


class OfferCreate(PolishSchema):
    categories = ListOf(category_field(), required=True,
                        validate=validate.Length(min=1, max=14, error="Wybierz od 1 do 14 kategorii."))
    villages = ListOf(village_field(), load_default=None,
                      validate=validate.Length(min=1, max=30, error="Wybierz od 1 do 30 miejscowości."))
    available_from = When(required=True)
    available_to = When(required=True)
    weekly_slots = ListOf(fields.Nested(WeeklySlot), load_default=list, validate=at_most(28, "przedziałów"))
    standing = Bool(load_default=False, metadata={"description": "a partner organisation's standing offer"})

    @validates_schema
    def _window(self, data, **_kw):  # type: ignore[no-untyped-def]
        start, end = data.get("available_from"), data.get("available_to")
        if start and end and end <= start:
            raise ValidationError("Koniec dostępności musi być po jej początku.", "available_to")
        validate_slots(data.get("weekly_slots"))


class OfferOut(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    categories = fields.List(fields.String())
    villages = fields.List(fields.String())
    available_from = fields.AwareDateTime()
    available_to = fields.AwareDateTime()
    weekly_slots = fields.List(fields.Dict(), allow_none=True)
    standing = fields.Boolean(allow_none=True)
    status = fields.String()


class ContactOut(Schema):
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    preferred_channel = fields.String()
    quiet_hours = fields.String(allow_none=True)  # the volunteer's own quiet hours for SMS ("21:00-07:00"), or null
    engagement_messages = fields.Boolean()  # false: no thank-you messages and no nudges (the volunteer's choice)
