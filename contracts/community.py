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


# --- participants hear about an activity (reminders, notices of change, announcements) ---------------------
RESIDENT, HELPER = "resident", "helper"  # ParticipantAdded/Removed.role
PARTICIPANT_ROLES = (RESIDENT, HELPER)
UNREGISTERED, ERASED, HELPER_REMOVED = "unregistered", "erased", "helper_removed"  # ParticipantRemoved.reason
CHANGE_CODES = ("time", "village", "venue", "capacity", "title", "description", "helpers")  # ActivityChanged.changed
NOTICE_CHANGES = ("time", "village", "venue")  # the changes participants are told of


class ParticipantAdded(EventSchema):
    """A resident registered (registration id) or a helper joined (provider id). `reminders`: the resident gave
    an address and consented to reminders and notices about this activity (helpers: always true). Notify reads
    the address at send time from community's internal API (residents) or volunteers' (helpers)."""

    activity_id = uuid_str(required=True)
    participant_id = uuid_str(required=True)
    role = fields.String(required=True, validate=validate.OneOf(PARTICIPANT_ROLES))
    reminders = fields.Boolean(load_default=False)


class ParticipantRemoved(EventSchema):
    """The resident unregistered or was erased, or the helper left: nothing more is sent to them about it."""

    activity_id = uuid_str(required=True)
    participant_id = uuid_str(required=True)
    role = fields.String(required=True, validate=validate.OneOf(PARTICIPANT_ROLES))
    reason = fields.String(load_default=UNREGISTERED)


class ActivityChanged(EventSchema):
    """Staff edited a scheduled activity: what changed (codes) and its time and village now. A change of time or
    village is also published as ActivityScheduled (and HelpersWanted) again, so followers of those need not
    read this one."""

    activity_id = uuid_str(required=True)
    changed = fields.List(fields.String(validate=validate.OneOf(CHANGE_CODES)), required=True)
    village = village_field(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ACTIVITY_KINDS))


class AnnouncementPosted(EventSchema):
    """The organiser's short announcement to the activity's participants. `text` is the organiser's notice about
    the activity (at most 300 characters; community refuses one with a phone number or an e-mail address in it
    and the form says not to name anyone): it is not about a person, so it travels (docs/community.md)."""

    announcement_id = uuid_str(required=True)
    activity_id = uuid_str(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=300))

# --- the assets register: places, equipment and transport (never a local leader's name or contact) -----------
ASSET_KINDS = ("place", "equipment", "transport", "leader")
ASSET_REMOVED = "removed"  # taken off the register (for a leader: consent withdrawn, name and contact blanked)


class AssetRecorded(EventSchema):
    """An asset of the register, as it is now (a later event for the same asset_id replaces it). A place's name
    ("Świetlica w Kajetanowie") may travel; a local leader is published only as a count per village: `kind`
    "leader" with no name, no subtype, no capacity."""

    asset_id = uuid_str(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ASSET_KINDS))
    subtype = fields.String(load_default="", validate=validate.Length(max=40))  # e.g. swietlica, remiza
    village = village_field(required=True)
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))  # places only
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    accessible = fields.Boolean(load_default=False)  # step-free entrance and toilet
    lendable = fields.Boolean(load_default=False)


class AssetRemoved(EventSchema):
    asset_id = uuid_str(required=True)
    reason = fields.String(load_default=ASSET_REMOVED)


EVENTS: dict[str, type[Schema]] = {
    "SurveyClosed": SurveyClosed,
    "PlanApproved": PlanApproved,
    "ActivityScheduled": ActivityScheduled,
    "ActivityCancelled": ActivityCancelled,
    "HelpersWanted": HelpersWanted,
    "ParticipationRecorded": ParticipationRecorded,
    "ActivityHeld": ActivityHeld,
    "ParticipantAdded": ParticipantAdded,
    "ParticipantRemoved": ParticipantRemoved,
    "ActivityChanged": ActivityChanged,
    "AnnouncementPosted": AnnouncementPosted,
    "AssetRecorded": AssetRecorded,
    "AssetRemoved": AssetRemoved,
}
