"""Tables of the organising plan, activities, self-help groups and the partner network (docs/community.md).

They live on the community service's one `metadata` (services/community/db.py). Names and phone numbers of
residents who register for an activity or belong to a self-help group stay in these tables only.
"""
from __future__ import annotations

import sqlalchemy as sa

from services.community.meta import metadata
from wspolnota.db import BigId, UtcDateTime

# --- the plan ------------------------------------------------------------------------------------------------
plans = sa.Table(
    "plans", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # the version being edited or last approved
    sa.Column("status", sa.String(10), nullable=False),  # draft | approved
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Every approved version as it was approved: earlier versions stay readable after later changes.
plan_versions = sa.Table(
    "plan_versions", metadata,
    sa.Column("plan_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("approved_at", UtcDateTime, nullable=False),
    sa.Column("approved_by", sa.String(200), nullable=False),  # the signed-in director's account
    sa.Column("snapshot", sa.JSON, nullable=False),  # goals, actions, indicators as approved
)

plan_goals = sa.Table(
    "plan_goals", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("plan_id", sa.String(36), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("diagnosis_ref", sa.String(200), nullable=False, server_default=""),  # the finding it answers
    sa.Column("created_at", UtcDateTime, nullable=False),
)

plan_actions = sa.Table(
    "plan_actions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("plan_id", sa.String(36), nullable=False, index=True),
    sa.Column("goal_id", sa.String(36), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("villages", sa.JSON, nullable=False),  # village codes; empty: the whole gmina
    sa.Column("target_group", sa.String(200), nullable=False, server_default=""),
    sa.Column("responsible", sa.String(200), nullable=False, server_default=""),  # a staff member
    sa.Column("starts_on", sa.Date, nullable=True),
    sa.Column("ends_on", sa.Date, nullable=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("percent_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Staff set the status or % done by hand: held activities no longer move it (plan.progress_from_activities).
    sa.Column("progress_by_hand", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Which partner organisation works on which action (the organisation id is the volunteers service's).
action_partners = sa.Table(
    "action_partners", metadata,
    sa.Column("action_id", sa.String(36), primary_key=True),
    sa.Column("org_id", sa.String(36), primary_key=True),
    sa.Column("role", sa.String(300), nullable=False, server_default=""),
)

plan_indicators = sa.Table(
    "plan_indicators", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("plan_id", sa.String(36), nullable=False, index=True),
    sa.Column("goal_id", sa.String(36), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("unit", sa.String(40), nullable=False, server_default=""),
    sa.Column("source", sa.String(20), nullable=False),  # services/community/plan.py SOURCES
    sa.Column("baseline", sa.Float, nullable=False),
    sa.Column("target", sa.Float, nullable=False),
    sa.Column("manual_value", sa.Float, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# --- activities -------------------------------------------------------------------------------------------
activities = sa.Table(
    "activities", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("action_id", sa.String(36), nullable=True, index=True),  # the plan action it carries out
    sa.Column("series_id", sa.String(36), nullable=True, index=True),  # the meetings of one recurring series
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("venue", sa.String(300), nullable=False, server_default=""),
    sa.Column("venue_asset_id", sa.String(36), nullable=True),  # a place of the assets register
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=True),  # None: no limit
    sa.Column("status", sa.String(10), nullable=False),  # scheduled | held | cancelled
    sa.Column("helpers_wanted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("helpers_category", sa.String(3), nullable=True),
    sa.Column("involves_children", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("public_token", sa.String(64), nullable=False, unique=True),  # the public registration link
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_activities_starts", "starts_at"),
)

registrations = sa.Table(
    "activity_registrations", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("activity_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(40), nullable=False, server_default=""),
    sa.Column("source", sa.String(10), nullable=False),  # staff | public
    sa.Column("attended", sa.Boolean, nullable=True),  # None until attendance is recorded
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Reminders and notices about this activity (revision 0004): sent only with the resident's consent, to the
    # address given here; notify reads it at send time through the internal API (audited), never from the bus.
    sa.Column("email", sa.String(200), nullable=False, server_default=""),
    sa.Column("reminders_consent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("consented_at", UtcDateTime, nullable=True),
)

# The organiser's short announcements to an activity's participants ("zabierzcie fartuchy"): sent by notify to
# consenting registered residents and the helpers (AnnouncementPosted carries the text: docs/community.md).
announcements = sa.Table(
    "activity_announcements", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("activity_id", sa.String(36), nullable=False, index=True),
    sa.Column("text", sa.String(300), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),  # the signed-in account
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Helpers (volunteers, by their volunteers-service id) at an activity and the hours recorded for them.
activity_helpers = sa.Table(
    "activity_helpers", metadata,
    sa.Column("activity_id", sa.String(36), primary_key=True),
    sa.Column("provider_id", sa.String(36), primary_key=True),
    sa.Column("hours", sa.Float, nullable=True),  # None until attendance is recorded
    sa.Column("recorded_at", UtcDateTime, nullable=True),
)

# --- self-help groups -------------------------------------------------------------------------------------
groups = sa.Table(
    "self_help_groups", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("topic", sa.String(300), nullable=False, server_default=""),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("facilitator", sa.String(200), nullable=False),
    sa.Column("schedule", sa.String(200), nullable=False),  # e.g. "co drugi wtorek, 17:00"
    sa.Column("venue", sa.String(300), nullable=False, server_default=""),
    sa.Column("max_members", sa.Integer, nullable=True),
    sa.Column("action_id", sa.String(36), nullable=True, index=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

group_members = sa.Table(
    "group_members", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("group_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(40), nullable=False, server_default=""),
    sa.Column("joined_on", sa.Date, nullable=False),
    sa.Column("left_on", sa.Date, nullable=True),
)

group_meetings = sa.Table(
    "group_meetings", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("group_id", sa.String(36), nullable=False, index=True),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("present", sa.JSON, nullable=False),  # member ids
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# --- the partner network ----------------------------------------------------------------------------------
# A partner organisation is the volunteers service's provider record (name, kind, contacts), followed here as a row
# of `known_providers` (provider type, villages). This table keeps only what community work adds, keyed by its id.
partner_profiles = sa.Table(
    "partner_profiles", metadata,
    sa.Column("org_id", sa.String(36), primary_key=True),
    sa.Column("brings", sa.Text, nullable=False, server_default=""),  # what it brings to community work
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

agreements = sa.Table(
    "cooperation_agreements", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("org_id", sa.String(36), nullable=False, index=True),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=True),
    sa.Column("document_ref", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

cooperation_log = sa.Table(
    "cooperation_log", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.String(36), nullable=False, index=True),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # meeting | joint_action | other
    sa.Column("action_id", sa.String(36), nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Kamilka checks (ustawa Kamilka) of the providers, followed from the volunteers topic, one row per credential:
# only a helper with one in date may be added to an activity with children. Dates and ids only.
helper_clearances = sa.Table(
    "helper_clearances", metadata,
    sa.Column("volunteer_id", sa.String(36), primary_key=True),
    sa.Column("credential_key", sa.String(64), primary_key=True),  # credential id; older events: kind + dates
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=True),  # None: no end date
)

# Acceptances of helper offers (matching's HelperAccepted) the Kamilka gate could not take yet: the credential or
# the volunteer's registration may reach this service after the acceptance (another topic). Tried again after each
# of the provider's volunteer events; dropped when matching withdraws the acceptance (helpers.py).
helper_acceptances_waiting = sa.Table(
    "helper_acceptances_waiting", metadata,
    sa.Column("activity_id", sa.String(36), primary_key=True),
    sa.Column("provider_id", sa.String(36), primary_key=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
)
