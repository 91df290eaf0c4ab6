"""Notify service: the payloads of the events it publishes on `notifications`.

Fields and meaning: docs/events.md.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.needs import FeedbackGiven
from wspolnota.schemas import uuid_str

TOPIC = "notifications"
CHANNELS = ["panel", "email", "sms", "webhook", "call"]  # call: a resident's notice staff phone
RESPONSES = ["accept", "decline"]
SCOPES = ["visit", "series"]  # an acceptance of one visit, or of the whole weekly series it belongs to
# Why a provider says no: the fixed Polish answers of an offer (notify's link page and the volunteer's own pages);
# the text travels as ProviderResponded/VisitAnswered `reason`, so the organiser reads one vocabulary.
DECLINE_REASONS = {
    "busy": "Nie mam wtedy czasu",
    "distance": "To dla mnie za daleko",
    "health": "Względy zdrowotne",
    "not_for_me": "To zadanie nie jest dla mnie",
    "other": "Inny powód",
}


class NotificationRecorded(Schema):
    notification_id = uuid_str(required=True)
    cause_event_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.Length(min=1, max=50))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    recipient_role = fields.String(required=True, validate=validate.Length(min=1, max=50))


class ProviderResponded(Schema):
    """A provider answered an offer through a signed link (key match_id); matching turns it into
    MatchAccepted / MatchDeclined. `reason` is one of the fixed Polish reasons of the response page,
    never free text, so no personal data reaches the bus."""

    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    response = fields.String(required=True, validate=validate.OneOf(RESPONSES))
    reason = fields.String(load_default="", validate=validate.Length(max=200))
    # set when the offer was a helper place at a community activity (matching's HelperOffered)
    activity_id = uuid_str(allow_none=True)  # absent on a need's offer
    # "series": the provider accepts every later occurrence of the need's weekly series too (absent: this visit)
    scope = fields.String(validate=validate.OneOf(SCOPES))


class ProviderSteppedBack(Schema):
    """A provider stepped back, through their signed link, from a visit they had accepted (`visit`) or from
    the whole series (`series`); matching cancels and re-offers. `reason` is a code of matching's
    STEP_BACK_REASONS, never free text."""

    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    reason = fields.String(required=True, validate=validate.Length(max=30))


VISIT_MINUTES = (5, 600)  # what a "did it happen?" answer may give as the visit's length


class VisitOutcomeGiven(Schema):
    """A provider answered "did it happen?" through their signed link (key match_id); matching handles it as the
    volunteer's own VisitConfirmed: completed with hours = minutes / 60, or cancelled (`did_not_happen`)."""

    match_id = uuid_str(required=True)
    volunteer_id = uuid_str(required=True)
    happened = fields.Boolean(required=True)
    minutes = fields.Integer(load_default=None, allow_none=True,
                             validate=validate.Range(min=VISIT_MINUTES[0], max=VISIT_MINUTES[1]))


class NeedCheckAnswered(Schema):
    """The requesting worker answered "is it still needed?" through their signed link (key need_id); the needs
    service keeps the need (next check later) or cancels it with the reason `no_longer_needed`."""

    need_id = uuid_str(required=True)
    check_id = uuid_str(required=True)
    still_needed = fields.Boolean(required=True)


EVENTS: dict[str, type[Schema]] = {"NotificationRecorded": NotificationRecorded, "ProviderResponded": ProviderResponded,
                                   "ProviderSteppedBack": ProviderSteppedBack,
                                   "VisitOutcomeGiven": VisitOutcomeGiven, "NeedCheckAnswered": NeedCheckAnswered,
                                   "FeedbackGiven": FeedbackGiven}  # source "resident_sms" (contracts/needs.py)
