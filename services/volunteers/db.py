"""Volunteers service tables. Contact and personal data live only here, never on the bus."""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import BigId, Database, UtcDateTime, transport_tables
from wspolnota.ratelimit import windows_table

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

# One row per provider: a volunteer, a paid neighbour, a partner organisation (name = organisation,
# contact_person = who to call) or a member of staff.
volunteers = sa.Table(
    "volunteers", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("provider_type", sa.String(30), nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("organisation_kind", sa.String(20), nullable=True),
    sa.Column("krs", sa.String(10), nullable=True),  # partner organisations only: the KRS number (10 digits)
    sa.Column("contact_person", sa.String(120), nullable=True),
    sa.Column("preferred_channel", sa.String(10), nullable=True),
    sa.Column("home_village", sa.String(40), nullable=True),
    sa.Column("radius_km", sa.Float, nullable=True),
    sa.Column("skills", sa.JSON, nullable=True),
    sa.Column("languages", sa.JSON, nullable=True),
    sa.Column("own_car", sa.Boolean, nullable=True),
    sa.Column("weekly_slots", sa.JSON, nullable=True),
    sa.Column("capacity_hours_per_week", sa.Float, nullable=True),
    sa.Column("max_open_tasks", sa.Integer, nullable=True),
    sa.Column("neighbour_conditions", sa.JSON, nullable=True),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("source", sa.String(10), nullable=True),  # staff | api | self
    sa.Column("consent_at", UtcDateTime, nullable=True),
    sa.Column("consent_version", sa.String(20), nullable=True),
    sa.Column("email_confirmed_at", UtcDateTime, nullable=True),
    sa.Column("verified_at", UtcDateTime, nullable=True),
    sa.Column("verified_by", sa.String(120), nullable=True),
    sa.Column("paused", sa.Boolean, nullable=True),
    sa.Column("erased_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=True),
    # The volunteer's own space (docs/volunteers.md, "The volunteer's side"): a pause they chose themselves (only
    # that one they may end), quiet hours for SMS ("21:00-07:00") and the version every sign-in session carries
    # ("sign out everywhere" raises it).
    sa.Column("paused_by_self", sa.Boolean, nullable=True),
    sa.Column("quiet_hours", sa.String(11), nullable=True),
    sa.Column("session_version", sa.Integer, nullable=False, server_default="0"),
    # thank-you messages after visits and the gentle nudge when idle (services/volunteers/engagement.py): on unless
    # the volunteer switched them off in their space; notify reads it with the contact at send time
    sa.Column("engagement_messages", sa.Boolean, nullable=False, server_default=sa.true()),
)

offers = sa.Table(
    "offers", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), sa.ForeignKey("volunteers.id"), nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("available_from", UtcDateTime, nullable=False),
    sa.Column("available_to", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("weekly_slots", sa.JSON, nullable=True),
    sa.Column("standing", sa.Boolean, nullable=True),  # a partner organisation's standing offer
    sa.Column("withdrawn_at", UtcDateTime, nullable=True),
)

credentials = sa.Table(
    "credentials", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), sa.ForeignKey("volunteers.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("recorded_by", sa.String(120), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("expiry_published_at", UtcDateTime, nullable=True),
    # Revoked by staff (with their reason, which never leaves this service) or by a later adverse Kamilka result.
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("revoked_by", sa.String(120), nullable=True),
    sa.Column("revoke_reason", sa.Text, nullable=True),
)

availability_exceptions = sa.Table(
    "availability_exceptions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), sa.ForeignKey("volunteers.id"), nullable=False, index=True),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),  # holiday | sick | other
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Who read whose personal data, when and why (internal contact API, staff profile pages).
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("volunteer_id", sa.String(36), nullable=True, index=True),
    sa.Column("detail", sa.String(200), nullable=False),
)

# One row per accepted form/API submission token: a double submit finds its token taken.
submissions = sa.Table(
    "submissions", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("form", sa.String(30), nullable=False),
    sa.Column("volunteer_id", sa.String(36), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# E-mail confirmations: sent through SMTP; the link is kept only when sending failed, for a retry.
confirmation_mails = sa.Table(
    "confirmation_mails", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("volunteer_id", sa.String(36), sa.ForeignKey("volunteers.id"), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("link", sa.Text, nullable=True),
    sa.Column("error", sa.String(300), nullable=True),
)

# Matches this volunteer was proposed for (their load and history, from `matches`).
assignments = sa.Table(
    "assignments", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Hours a provider gave: one row per provider and source (a visit: the match; a community activity: the
# activity), from MatchCompleted and ParticipationRecorded. A later event for the same row replaces the hours.
hours_ledger = sa.Table(
    "hours_ledger", metadata,
    sa.Column("provider_id", sa.String(36), primary_key=True),
    sa.Column("source", sa.String(10), primary_key=True),  # visit | activity
    sa.Column("source_id", sa.String(36), primary_key=True),
    sa.Column("hours", sa.Float, nullable=False),
    sa.Column("on_date", sa.Date, nullable=False),  # the Warsaw calendar day the hours were given
    sa.Column("event_id", sa.String(36), nullable=False),  # the event the hours came from
    sa.Column("event_time", UtcDateTime, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    # the scope of the work: a visit's category code (ZAK…), an activity's kind (meeting…); None from older events
    sa.Column("category", sa.String(20), nullable=True),
    sa.Index("ix_hours_ledger_provider_day", "provider_id", "on_date"),
)


# Sign-in links: one row per link asked for. The link carries the id and its HMAC (contracts/volunteers.py); the
# row makes it single-use and short-lived.
sign_in_tokens = sa.Table(
    "sign_in_tokens", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), sa.ForeignKey("volunteers.id"), nullable=False, index=True),
    sa.Column("channel", sa.String(10), nullable=False),  # email | sms
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
)

# Fixed-window counters of sign-in requests, per hashed address and per hashed source, shared by every worker.
sign_in_rate_windows = windows_table(metadata, "sign_in_rate_windows")

# The volunteer's visits and offers as matching reports them on `matches` (ids and codes only, no names): one row
# per match, its latest status by event time (services/volunteers/visits.py), and what the volunteer said in their
# own space (answered, stepped back, confirmed) so the page shows it before matching's reply arrives.
visits = sa.Table(
    "visits", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # offered | accepted | declined | expired | cancelled | completed
    sa.Column("status_time", UtcDateTime, nullable=False),  # the event time of the status kept
    sa.Column("category", sa.String(20), nullable=True),
    sa.Column("village", sa.String(40), nullable=True),
    sa.Column("starts_at", UtcDateTime, nullable=True),  # agreed_start, else the window's start
    sa.Column("ends_at", UtcDateTime, nullable=True),  # agreed_end; None: not known
    sa.Column("series_id", sa.String(64), nullable=True),
    sa.Column("series_commitment_id", sa.String(36), nullable=True),
    sa.Column("deadline", UtcDateTime, nullable=True),  # of an open offer
    sa.Column("reason", sa.String(40), nullable=True),  # a cancellation's or step-back's code
    sa.Column("answered", sa.String(20), nullable=True),  # in the space: accept | accept_series | decline
    sa.Column("stepped_back", sa.String(10), nullable=True),  # in the space: visit | series
    sa.Column("confirmed_minutes", sa.Integer, nullable=True),
    sa.Column("confirmed", sa.String(12), nullable=True),  # in the space: happened | not_happened
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_visits_volunteer_start", "volunteer_id", "starts_at"),
)


# The volunteer's short feedback on a visit they confirmed in their space (services/volunteers/visit_feedback.py):
# one per match; the note stays here, the bus carries FeedbackGiven {source: "volunteer", score}.
visit_feedback = sa.Table(
    "visit_feedback", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("feedback_id", sa.String(36), nullable=False),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=True),
    sa.Column("code", sa.String(20), nullable=False),  # good | difficulties | intervention
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)


def make_db(url: str | None = None) -> Database:
    return Database("volunteers", url or config.database_url("volunteers"), metadata, outbox, processed)
