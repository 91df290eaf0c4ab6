"""Matching service API: the bodies of its HTTP API.

The payloads of the events it publishes on `matches` are its published contract: contracts/matching.py.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.matching import STEP_BACK_REASONS, STEP_BACK_SCOPES
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
    # set when the visit belongs to the provider's series commitment: they may step back from the series too
    series_commitment_id = fields.String(allow_none=True)


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


class StepBackIn(Schema):
    """A provider steps back from an accepted visit or its whole series (staff on the phone, or the provider's
    own pages): who, how far, and why — a code, never typed text."""

    volunteer_id = uuid_str(required=True)
    scope = fields.String(required=True, validate=validate.OneOf(
        STEP_BACK_SCOPES, error="Zakres: „visit” (ta wizyta) albo „series” (cały cykl)."))
    reason = fields.String(required=True, validate=validate.OneOf(
        list(STEP_BACK_REASONS), error="Nieznany powód rezygnacji."))


class StepBackOut(Schema):
    id = fields.String()
    match_id = fields.String()
    need_id = fields.String()
    volunteer_id = fields.String()
    scope = fields.String()
    reason = fields.String()
    short_notice = fields.Boolean()
    visit_start = fields.AwareDateTime(allow_none=True)
    cancelled = fields.Integer()
    commitment_id = fields.String(allow_none=True)
    at = fields.AwareDateTime()
    repeated = fields.Boolean()
