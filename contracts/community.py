"""Community service: the payloads of the events it publishes on `community`, and the codes they carry.

Ids, counts, codes and times only — never names, contact data or what a respondent wrote: names and phone numbers
of residents who register for activities or belong to self-help groups stay in the community service. Fields and
meaning: docs/events.md and docs/community.md.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from wspolnota.schemas import category_field, uuid_str, village_field

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


# --- the organising plan and local animation ----------------------------------------------------------------
ACTIVITY_KINDS = ("meeting", "workshop", "event", "series")
ACTIVITY_KIND_LABELS = {"meeting": "spotkanie", "workshop": "warsztat", "event": "wydarzenie integracyjne",
                        "series": "cykl zajęć"}  # what staff and volunteers read
CANCELLED_BY_STAFF = "cancelled_by_staff"  # the reason staff type stays in the community service


class EventSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a newer producer's extra fields do not break an older consumer


class PlanApproved(EventSchema):
    plan_id = uuid_str(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    goals = fields.Integer(required=True)
    actions = fields.Integer(required=True)
    indicators = fields.Integer(required=True)


class ActivityScheduled(EventSchema):
    activity_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    village = village_field(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    capacity = fields.Integer(load_default=None, allow_none=True)  # None: no limit
    action_id = uuid_str(load_default=None, allow_none=True)
    series_id = uuid_str(load_default=None, allow_none=True)


class ActivityCancelled(EventSchema):
    activity_id = uuid_str(required=True)
    reason = fields.String(load_default=CANCELLED_BY_STAFF)


class HelpersWanted(EventSchema):
    """Volunteers wanted at an activity: offered to matching volunteers with the usual legal gates (an activity
    with children needs Kamilka-cleared helpers). A later event for the same activity replaces the count."""

    activity_id = uuid_str(required=True)
    count = fields.Integer(required=True, validate=validate.Range(min=0))
    involves_children = fields.Boolean(required=True)
    category = category_field(load_default=None, allow_none=True)
    village = village_field(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ACTIVITY_KINDS))  # for the offer's text


class ParticipationRecorded(EventSchema):
    """A provider's hours at one activity, from the attendance record. A later event for the same
    (activity_id, provider_id) is a correction and replaces the earlier hours."""

    activity_id = uuid_str(required=True)
    provider_id = uuid_str(required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=0))
    held_on = fields.Date(required=True)  # the Warsaw calendar day the activity took place
    kind = fields.String(load_default=None, allow_none=True,  # the activity's kind; absent on older events
                         validate=validate.OneOf(ACTIVITY_KINDS))


class ActivityHeld(EventSchema):
    activity_id = uuid_str(required=True)
    participants = fields.Integer(required=True)
    helpers = fields.Integer(required=True)
    action_id = uuid_str(load_default=None, allow_none=True)


EVENTS: dict[str, type[Schema]] = {
    "SurveyClosed": SurveyClosed,
    "PlanApproved": PlanApproved,
    "ActivityScheduled": ActivityScheduled,
    "ActivityCancelled": ActivityCancelled,
    "HelpersWanted": HelpersWanted,
    "ParticipationRecorded": ParticipationRecorded,
    "ActivityHeld": ActivityHeld,
}
