"""Matching service contract: payloads of the events it publishes on `matches`.

Event names and fields agreed between services: docs/events.md. Working rules: CONTRIBUTING.md.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from wspolnota.schemas import category_field, uuid_str, village_field

TOPIC = "matches"


class MatchProposed(Schema):
    match_id = uuid_str(required=True)
    need_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    offer_id = uuid_str(required=True)
    category = category_field(required=True)
    village = village_field(required=True)
    window_start = fields.AwareDateTime(required=True)
    urgent = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=500))


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


EVENTS = {"MatchProposed": MatchProposed}
