"""Community service: the payloads of the events it publishes on `community`.

Ids, counts and codes only — never names, contact data or what a respondent wrote. Fields and meaning:
docs/events.md and docs/community.md.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from wspolnota.schemas import uuid_str, village_field

TOPIC = "community"


class VillageCount(Schema):
    village = village_field(required=True)
    responses = fields.Integer(required=True, validate=validate.Range(min=0))


class SurveyClosed(Schema):
    """The organiser closed a survey: how many answered, online and on paper, and in which villages."""

    survey_id = uuid_str(required=True)
    closed_at = fields.AwareDateTime(required=True)
    questions = fields.Integer(required=True, validate=validate.Range(min=0))
    responses = fields.Integer(required=True, validate=validate.Range(min=0))
    online = fields.Integer(required=True, validate=validate.Range(min=0))
    paper = fields.Integer(required=True, validate=validate.Range(min=0))
    by_village = fields.List(fields.Nested(VillageCount), load_default=list)


EVENTS: dict[str, type[Schema]] = {"SurveyClosed": SurveyClosed}
