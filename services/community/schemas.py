"""Bodies of the community service's JSON API. Field errors come back as 422 with Polish messages; the
rules that need more than one field are model.py's, raised as `Invalid` (the same 422 shape)."""
from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from services.community import model
from wspolnota.schemas import village_field

MESSAGES = {"required": "To pole jest wymagane.", "null": "To pole nie może być puste.",
            "invalid": "Nieprawidłowa wartość."}


def pl(field: type[fields.Field], *args: Any, **kw: Any) -> Any:
    """A field with Polish error messages."""
    return field(*args, error_messages={**MESSAGES, **kw.pop("error_messages", {})}, **kw)


class PolishSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "Nieznane pole.", "type": "Nieprawidłowe dane."}


# --- assets ---------------------------------------------------------------------------------------------------
class AssetIn(PolishSchema):
    kind = pl(fields.String, required=True, validate=validate.OneOf(model.ASSET_KINDS, error="Nieznany rodzaj."))
    subtype = pl(fields.String, load_default="")
    village = village_field(required=True, error_messages=MESSAGES)
    name = pl(fields.String, required=True, validate=validate.Length(max=200, error="Najwyżej 200 znaków."))
    description = pl(fields.String, load_default="", validate=validate.Length(max=5000))
    capacity = pl(fields.Integer, load_default=None, allow_none=True)
    accessible = pl(fields.Boolean, load_default=False)
    accessibility_note = pl(fields.String, load_default="", validate=validate.Length(max=500))
    lendable = pl(fields.Boolean, load_default=False)
    contact = pl(fields.String, load_default="", validate=validate.Length(max=300))
    consent_date = pl(fields.Date, load_default=None, allow_none=True)


class AssetPatch(AssetIn):
    """The fields to change (the others stay)."""


class AssetOut(Schema):
    id = fields.String()
    kind = fields.String()
    subtype = fields.String()
    village = fields.String()
    name = fields.String()
    description = fields.String()
    capacity = fields.Integer(allow_none=True)
    accessible = fields.Boolean()
    accessibility_note = fields.String()
    lendable = fields.Boolean()
    contact = fields.String()
    consent_date = fields.Date(allow_none=True)


class AssetQuery(PolishSchema):
    village = village_field(load_default=None)
    kind = pl(fields.String, load_default=None, validate=validate.OneOf(model.ASSET_KINDS, error="Nieznany rodzaj."))


# --- surveys --------------------------------------------------------------------------------------------------
class SurveyIn(PolishSchema):
    title = pl(fields.String, required=True)
    intro = pl(fields.String, load_default="", validate=validate.Length(max=5000))
    villages = pl(fields.List, village_field(error_messages=MESSAGES), load_default=list)
    one_answer_per_token = pl(fields.Boolean, load_default=False)


class QuestionIn(PolishSchema):
    kind = pl(fields.String, required=True, validate=validate.OneOf(model.QUESTION_KINDS,
                                                                     error="Nieznany rodzaj pytania."))
    text = pl(fields.String, required=True)
    required = pl(fields.Boolean, load_default=False)
    options = pl(fields.List, fields.String(), load_default=list)
    min_value = pl(fields.Integer, load_default=None, allow_none=True)
    max_value = pl(fields.Integer, load_default=None, allow_none=True)


class QuestionOut(Schema):
    id = fields.String()
    position = fields.Integer()
    kind = fields.String()
    text = fields.String()
    required = fields.Boolean()
    options = fields.List(fields.String())
    min_value = fields.Integer(allow_none=True)
    max_value = fields.Integer(allow_none=True)


class SurveyOut(Schema):
    id = fields.String()
    title = fields.String()
    intro = fields.String()
    status = fields.String()
    villages = fields.List(fields.String())
    one_answer_per_token = fields.Boolean()
    public_key = fields.String()
    published_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    questions = fields.List(fields.Nested(QuestionOut))


class SurveySummary(Schema):
    id = fields.String()
    title = fields.String()
    status = fields.String()
    villages = fields.List(fields.String())
    published_at = fields.DateTime(allow_none=True)
    responses = fields.Integer()


class PaperResponseIn(PolishSchema):
    """A paper questionnaire entered by staff: the village and answers keyed by question id (an option index
    from 0, a list of them, a number or text)."""

    village = pl(fields.String, required=True)
    answers = pl(fields.Dict, keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    submission_key = pl(fields.String, load_default=None, allow_none=True, validate=validate.Length(max=64))


class ResponseOut(Schema):
    id = fields.String()
    survey_id = fields.String()
    village = fields.String()
    channel = fields.String()


class ResultsQuery(PolishSchema):
    village = village_field(load_default=None)


class ResultsOut(Schema):
    responses = fields.Integer()
    by_village = fields.Dict(keys=fields.String(), values=fields.Integer())
    questions = fields.List(fields.Dict())


# --- diagnosis ------------------------------------------------------------------------------------------------
class DiagnosisIn(PolishSchema):
    scope = pl(fields.String, required=True)
    title = pl(fields.String, required=True)
    conclusions = pl(fields.String, load_default="")


class DiagnosisSummary(Schema):
    id = fields.String()
    scope = fields.String()
    version = fields.Integer()
    title = fields.String()
    author = fields.String()
    created_at = fields.DateTime()


class DiagnosisOut(DiagnosisSummary):
    conclusions = fields.String()
    snapshot = fields.Dict()
