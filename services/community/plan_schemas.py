"""HTTP bodies of the plan, activities, self-help groups and partners API (Polish field errors)."""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from services.community import animation, plan
from services.community.plan_handlers import LOG_KINDS
from wspolnota.schemas import category_field, uuid_str, village_field

REQUIRED = "To pole jest wymagane."
MESSAGES: dict[str, Any] = {"required": REQUIRED, "null": REQUIRED}
ONE_OF = "Wybierz jedną z dozwolonych wartości."


def _m(**extra: str) -> dict[str, Any]:
    return {**MESSAGES, **extra}


def text(max_len: int, required: bool = False) -> fields.String:
    if required:
        return fields.String(required=True, error_messages=_m(invalid="Niepoprawny tekst."), validate=validate.Length(
            min=1, max=max_len, error=f"Wymagane, najwyżej {max_len} znaków."))
    return fields.String(load_default="", error_messages=_m(invalid="Niepoprawny tekst."),
                         validate=validate.Length(max=max_len, error=f"Najwyżej {max_len} znaków."))


def a_date(required: bool = False) -> fields.Date:
    kw: dict[str, Any] = {"required": True} if required else {"load_default": None, "allow_none": True}
    return fields.Date(error_messages=_m(invalid="Data w formacie RRRR-MM-DD."), **kw)


def moment(required: bool = True) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=required, error_messages=_m(
        invalid="Data i godzina z ich strefą, np. 2026-06-13T15:00:00+02:00.",
        invalid_awareness="Podaj strefę czasową, np. +02:00."))


def number(required: bool = True, **kw: Any) -> fields.Float:
    if not required:
        kw.setdefault("load_default", None)
        kw.setdefault("allow_none", True)
    return fields.Float(required=required, error_messages=_m(invalid="Niepoprawna liczba."), **kw)


def integer(required: bool = False, **kw: Any) -> fields.Integer:
    if not required:
        kw.setdefault("load_default", None)
        kw.setdefault("allow_none", True)
    return fields.Integer(required=required, error_messages=_m(invalid="Niepoprawna liczba całkowita."), **kw)


def an_id(required: bool = True) -> fields.String:
    kw: dict[str, Any] = {"required": True} if required else {"load_default": None, "allow_none": True}
    field = uuid_str(error_messages=_m(), **kw)
    field.validators[0].error = "Niepoprawny identyfikator."  # type: ignore[attr-defined]
    return field


def one_of(choices: tuple[str, ...], required: bool = True) -> fields.String:
    kw: dict[str, Any] = {"required": True} if required else {"load_default": choices[0]}
    return fields.String(validate=validate.OneOf(choices, error=ONE_OF), error_messages=_m(), **kw)


class Body(Schema):
    class Meta:
        unknown = EXCLUDE


# --- the plan ------------------------------------------------------------------------------------------------
class PlanCreate(Body):
    title = text(200, required=True)
    starts_on = a_date(required=True)
    ends_on = a_date(required=True)


class GoalCreate(Body):
    title = text(300, required=True)
    description = text(5000)
    diagnosis_ref = text(200)


class ActionCreate(Body):
    goal_id = an_id()
    title = text(300, required=True)
    description = text(5000)
    villages = fields.List(village_field(error_messages=_m()), load_default=list)
    target_group = text(200)
    responsible = text(200)
    starts_on = a_date()
    ends_on = a_date()
    partners = fields.List(an_id(), load_default=list)


class ActionProgress(Body):
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(plan.ACTION_STATUSES, error=ONE_OF))
    percent_done = integer(validate=validate.Range(0, 100, error="Od 0 do 100."))
    automatic = fields.Boolean(load_default=False, error_messages=_m(invalid="Tak albo nie."), metadata={
        "description": "hand the action back to its activities: status and % follow the activities held "
                       "(status and percent_done are then ignored)"})


class IndicatorCreate(Body):
    goal_id = an_id()
    title = text(300, required=True)
    unit = text(40)
    source = one_of(plan.SOURCES)
    baseline = number(validate=validate.Range(min=0, error="Nie może być ujemna."))
    target = number(validate=validate.Range(min=0, error="Nie może być ujemna."))


class IndicatorValue(Body):
    value = number(validate=validate.Range(min=0, error="Nie może być ujemna."))


class PlanSummary(Schema):
    id = fields.String()
    title = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    version = fields.Integer()
    status = fields.String()


class PlanOut(PlanSummary):
    progress = fields.Integer()
    goals = fields.List(fields.Dict())
    versions = fields.List(fields.Dict())


class Created(Schema):
    id = fields.String()


class CreatedMany(Schema):
    ids = fields.List(fields.String())


class Approved(Schema):
    version = fields.Integer()


# --- activities ---------------------------------------------------------------------------------------------
class ActivityCreate(Body):
    kind = one_of(animation.KINDS)
    title = text(200, required=True)
    description = text(5000)
    village = village_field(required=True, error_messages=_m())
    venue = text(300)
    venue_asset_id = an_id(required=False)
    starts_at = moment()
    ends_at = moment()
    capacity = integer(validate=validate.Range(min=1, error="Co najmniej 1 (puste pole: bez limitu)."))
    helpers_wanted = fields.Integer(load_default=0, validate=validate.Range(0, 50, error="Od 0 do 50."),
                                    error_messages=_m(invalid="Niepoprawna liczba całkowita."))
    helpers_category = category_field(load_default=None, allow_none=True, error_messages=_m())
    involves_children = fields.Boolean(load_default=False, error_messages=_m(invalid="Tak albo nie."))
    action_id = an_id(required=False)
    every_days = integer(validate=validate.Range(1, 31, error="Od 1 do 31 dni."))
    count = integer(validate=validate.Range(1, animation.MAX_OCCURRENCES,
                                            error=f"Od 1 do {animation.MAX_OCCURRENCES} spotkań."))

    @validates_schema
    def _series(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == animation.SERIES and not data.get("count"):
            raise ValidationError("Podaj liczbę spotkań cyklu.", "count")


class RegistrationCreate(Body):
    name = text(200, required=True)
    phone = fields.String(load_default="", validate=validate.Regexp(
        r"^$|^\+?[0-9 ()-]{9,20}$", error="Numer telefonu: 9–20 cyfr (dozwolone spacje, +, nawiasy, myślniki)."),
        error_messages=_m())
    email = fields.String(load_default="", validate=validate.Regexp(
        r"^$|^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$", error="Niepoprawny adres e-mail."), error_messages=_m())
    consent = fields.Boolean(load_default=False, error_messages=_m(invalid="Tak albo nie."), metadata={
        "description": "Zgadzam się na przypomnienia SMS/e-mail o tych zajęciach (without it nothing is sent)"})


class ActivityUpdate(Body):
    """Only the fields given change; `capacity: null` removes the limit."""

    title = fields.String(validate=validate.Length(min=1, max=200, error="Wymagane, najwyżej 200 znaków."),
                          error_messages=_m(invalid="Niepoprawny tekst."))
    description = fields.String(validate=validate.Length(max=5000, error="Najwyżej 5000 znaków."),
                                error_messages=_m(invalid="Niepoprawny tekst."))
    village = village_field(error_messages=_m())
    venue = fields.String(validate=validate.Length(max=300, error="Najwyżej 300 znaków."),
                          error_messages=_m(invalid="Niepoprawny tekst."))
    starts_at = moment(required=False)
    ends_at = moment(required=False)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, error="Co najmniej 1 (puste pole: bez "
                                                                                    "limitu)."),
                              error_messages=_m(invalid="Niepoprawna liczba całkowita."))
    helpers_wanted = fields.Integer(validate=validate.Range(0, 50, error="Od 0 do 50."),
                                    error_messages=_m(invalid="Niepoprawna liczba całkowita."))


class AnnouncementCreate(Body):
    text = text(300, required=True)


class Changed(Schema):
    id = fields.String()
    changed = fields.List(fields.String())


class Attendance(Body):
    present = fields.List(fields.String(), load_default=list)
    helpers = fields.Dict(keys=fields.String(validate=validate.Regexp(
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", error="Niepoprawny identyfikator.")),
        values=fields.Float(error_messages=_m(invalid="Niepoprawna liczba.")), load_default=dict)


class HelperAdd(Body):
    provider_id = an_id()


class ActivityOut(Schema):
    id = fields.String()
    kind = fields.String()
    title = fields.String()
    village = fields.String()
    venue = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    capacity = fields.Integer(allow_none=True)
    status = fields.String()
    action_id = fields.String(allow_none=True)
    series_id = fields.String(allow_none=True)
    helpers_wanted = fields.Integer()
    involves_children = fields.Boolean()
    free_places = fields.Integer(allow_none=True)
    helpers_missing = fields.Integer()
    public_token = fields.String()


class PlanProgressOut(PlanSummary):
    progress = fields.Integer()
    actions = fields.Integer()


class UpcomingActivityOut(ActivityOut):
    class Meta:
        exclude = ("public_token",)


class OverviewOut(Schema):
    plans = fields.List(fields.Nested(PlanProgressOut))
    upcoming = fields.List(fields.Nested(UpcomingActivityOut))
    helpers_missing = fields.Integer()


class AttendanceOut(Schema):
    participants = fields.Integer()
    helpers = fields.Integer()


# --- self-help groups ---------------------------------------------------------------------------------------
class GroupCreate(Body):
    name = text(200, required=True)
    topic = text(300)
    village = village_field(required=True, error_messages=_m())
    facilitator = text(200, required=True)
    schedule = text(200, required=True)
    venue = text(300)
    max_members = integer(validate=validate.Range(min=2, error="Co najmniej 2 osoby."))
    action_id = an_id(required=False)


class MemberCreate(RegistrationCreate):
    joined_on = a_date(required=True)


class MeetingCreate(Body):
    held_on = a_date(required=True)
    present = fields.List(fields.String(), load_default=list)
    note = text(2000)


# --- partners -----------------------------------------------------------------------------------------------
class PartnerQuery(Body):
    kind = fields.String(load_default=None, validate=validate.OneOf(
        ("kgw", "osp", "parish", "school", "ngo", "business", "other"), error=ONE_OF))


class PartnerProfile(Body):
    brings = text(2000)


class AgreementCreate(Body):
    scope = text(2000, required=True)
    starts_on = a_date(required=True)
    ends_on = a_date()
    document_ref = text(200)


class LogEntry(Body):
    on = a_date(required=True)
    kind = one_of(LOG_KINDS)
    note = text(2000)
    action_id = an_id(required=False)


class PartnerLink(Body):
    org_id = an_id()
    role = text(300)
