"""Matching service API: the bodies of its HTTP API.

The payloads of the events it publishes on `matches` are its published contract: contracts/matching.py.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from wspolnota.schemas import uuid_str


class ProposalOut(Schema):
    id = fields.String()
    need_id = fields.String()
    volunteer_id = fields.String()
    offer_id = fields.String()
    category = fields.String()
    village = fields.String()
    window_start = fields.AwareDateTime()
    status = fields.String()
    reason = fields.String()
    created_at = fields.AwareDateTime()
    score = fields.Integer(allow_none=True)
    urgent = fields.Boolean()
    deadline = fields.AwareDateTime(allow_none=True)
    reviewer = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    agreed_start = fields.AwareDateTime(allow_none=True)
    agreed_end = fields.AwareDateTime(allow_none=True)


class MatchDetailOut(ProposalOut):
    explanation = fields.Dict(allow_none=True)


# The reviewer of approve / reject / pick is the signed-in account: a body naming one (`reviewer`) is refused
# as an unknown field (422), so no typed name can stand in for the person who decided.
class ApproveIn(Schema):
    pass


class RejectIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500, error="Podaj powód (3–500 znaków)."))


class PickIn(Schema):
    volunteer_id = uuid_str(required=True)


class CompleteIn(Schema):
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=24, error="Podaj liczbę godzin od 0 do 24."))


class ModerationIn(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(["review", "auto"]))
