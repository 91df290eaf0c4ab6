"""Matching service tables.

- Projection (rebuildable): open_needs, providers, offers, community_assets — written only by projection.apply
  from the needs, volunteers and community (assets) events; every applied event is kept verbatim in applied_events so the projection
  can be rebuilt from it (python -m services.matching.rebuild).
- Matching's own state: proposals (one row per need × provider match, with its explanation and cascade
  status), unmet_needs (why a need is still without a provider), moderation (per category), solver_state,
  audit_log (who approved, rejected, picked or changed a category's moderation, and when).
"""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import BigId, Database, UtcDateTime, transport_tables

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

open_needs = sa.Table(
    "open_needs", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("category", sa.String(3), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # open | cancelled | completed (from needs events)
    sa.Column("resident_ref", sa.String(64), nullable=True),
    sa.Column("requirements", sa.JSON, nullable=True),
    sa.Column("involves_minor", sa.Boolean, nullable=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("plan_ref", sa.String(64), nullable=True),
    sa.Column("series_id", sa.String(64), nullable=True),
    sa.Column("continuity", sa.Boolean, nullable=True),
    sa.Column("moderation", sa.String(10), nullable=True),
    sa.Column("urgency", sa.String(10), nullable=True),  # normal | high | urgent (urgent=True without it)
)

providers = sa.Table(
    "providers", metadata,
    sa.Column("volunteer_id", sa.String(36), primary_key=True),
    sa.Column("provider_type", sa.String(30), nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("home_village", sa.String(40), nullable=True),
    sa.Column("radius_km", sa.Float, nullable=True),
    sa.Column("languages", sa.JSON, nullable=True),
    sa.Column("skills", sa.JSON, nullable=True),
    sa.Column("capacity_hours_per_week", sa.Float, nullable=True),
    sa.Column("max_open_tasks", sa.Integer, nullable=True),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False),
    sa.Column("credentials", sa.JSON, nullable=False),  # [{kind, valid_from, valid_until}] ISO dates
    sa.Column("weekly_slots", sa.JSON, nullable=True),  # the profile's weekly availability, if any
    sa.Column("unavailable", sa.JSON, nullable=True),  # [{starts_on, ends_on}] absences, days only
    sa.Column("neighbour_conditions_met", sa.Boolean, nullable=True),  # art. 50 conditions (paid neighbours)
)

offers = sa.Table(
    "offers", metadata,
    sa.Column("offer_id", sa.String(36), primary_key=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("available_from", UtcDateTime, nullable=False),
    sa.Column("available_to", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # published | withdrawn
    sa.Column("weekly_slots", sa.JSON, nullable=True),
)

applied_events = sa.Table(
    "applied_events", metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("time", UtcDateTime, nullable=False),
    sa.Index("ix_applied_events_type_time", "type", "time"),  # the look-ahead and the reports read by type + time
)

proposals = sa.Table(
    "proposals", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("offer_id", sa.String(36), nullable=False),
    sa.Column("category", sa.String(3), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    # proposed → approved → offered → accepted → completed; or rejected, replaced, declined, expired, cancelled
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=True),
    sa.Column("score", sa.Integer, nullable=True),
    sa.Column("explanation", sa.JSON, nullable=True),
    sa.Column("reviewer", sa.String(100), nullable=True),
    sa.Column("decision_reason", sa.String(500), nullable=True),
    sa.Column("deadline", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=True),
    # set when the visit is confirmed (completed): the hours reported (or the planned duration), and when
    sa.Column("hours", sa.Float, nullable=True),
    sa.Column("completed_at", UtcDateTime, nullable=True),
    # the visit's time: planned by the solve (proposed), offered as is, agreed on acceptance; it reserves the
    # provider's time while the match is approved, offered or accepted (null on rows older than the field:
    # window_start .. + duration is what the provider was told then)
    sa.Column("agreed_start", UtcDateTime, nullable=True),
    sa.Column("agreed_end", UtcDateTime, nullable=True),
    # the series commitment that gave (or, for the accepted offer that made it, took) this visit (series.py):
    # its visits count as one open task
    sa.Column("series_commitment_id", sa.String(36), nullable=True),
)

# The idle-volunteer nudge (services/matching/nudges.py): when matching first saw the provider idle-eligible and
# when it last nudged them, so a volunteer is nudged at most once per MATCHING_NUDGE_IDLE_DAYS.
nudges = sa.Table(
    "nudges", metadata,
    sa.Column("volunteer_id", sa.String(36), primary_key=True),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_nudged_at", UtcDateTime, nullable=True),
)

# "Did it happen?" (services/matching/visit_checks.py): each accepted visit asked about once, and when.
visit_checks = sa.Table(
    "visit_checks", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("asked_at", UtcDateTime, nullable=False),
)

unmet_needs = sa.Table(
    "unmet_needs", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("missing_slots", sa.Integer, nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("funnel", sa.JSON, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
)

moderation = sa.Table(
    "moderation", metadata,
    sa.Column("category", sa.String(3), primary_key=True),
    sa.Column("mode", sa.String(10), nullable=False),  # review | auto
)

solver_state = sa.Table(
    "solver_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dirty", sa.Boolean, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("last_solved_at", UtcDateTime, nullable=True),
)

# Who decided what and when: approvals, rejections, staff picks and category moderation changes.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),  # the signed-in account or the API key's name
    sa.Column("action", sa.String(40), nullable=False),  # approve | reject | pick | moderation
    sa.Column("subject_id", sa.String(64), nullable=False, index=True),  # match id, or category code
    sa.Column("detail", sa.String(200), nullable=False),  # codes and ids only, never typed text
)

# Helpers wanted at community activities (community's HelpersWanted / ActivityCancelled) and the offers made
# for them (helpers.py): matching's own state, like proposals.
helper_activities = sa.Table(
    "helper_activities", metadata,
    sa.Column("activity_id", sa.String(36), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("involves_children", sa.Boolean, nullable=False),
    sa.Column("category", sa.String(3), nullable=True),
    sa.Column("kind", sa.String(20), nullable=True),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # open | cancelled
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

helper_offers = sa.Table(
    "helper_offers", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("activity_id", sa.String(36), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),  # offered → accepted | declined | expired | cancelled
    sa.Column("deadline", UtcDateTime, nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),  # a decline's fixed answer or a cancellation code
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# The community's assets register as the village map shows it (community's AssetRecorded / AssetRemoved): places
# with their name, equipment and transport to lend, local leaders only as rows without name, role or contact.
community_assets = sa.Table(
    "community_assets", metadata,
    sa.Column("asset_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # place | equipment | transport | leader
    sa.Column("subtype", sa.String(40), nullable=False, server_default=""),  # e.g. swietlica, remiza
    sa.Column("village", sa.String(40), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=True),  # a place's name only
    sa.Column("capacity", sa.Integer, nullable=True),
    sa.Column("accessible", sa.Boolean, nullable=False),
    sa.Column("lendable", sa.Boolean, nullable=False),
)

PROJECTION = (open_needs, providers, offers, community_assets)

# Series commitments (series.py): a provider who accepted a weekly series is given its later occurrences
# directly, each still through every gate at its time.
series_commitments = sa.Table(
    "series_commitments", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("series_id", sa.String(64), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False, index=True),
    sa.Column("plan_ref", sa.String(64), nullable=True),
    sa.Column("match_id", sa.String(36), nullable=False),  # the accepted offer that made it
    sa.Column("since", UtcDateTime, nullable=False),  # that occurrence's window start: later ones are covered
    sa.Column("until", UtcDateTime, nullable=True),  # the last occurrence's window end known when it was made
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime, nullable=True),
    sa.Column("ended_reason", sa.String(30), nullable=True),  # a COMMITMENT_END_REASONS code
)

# Occurrences a commitment let go to the normal cascade: a gate failed at their time, the provider stepped back
# from that visit, or someone else already held it. Decided once: the commitment does not take them again.
series_skips = sa.Table(
    "series_skips", metadata,
    sa.Column("commitment_id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("reason", sa.String(60), nullable=False),  # a rule's name, `stepped_back` or `covered`
    sa.Column("at", UtcDateTime, nullable=False),
)

# Step-backs (series.step_back): one row per match and scope, so the same step-back twice changes nothing.
step_backs = sa.Table(
    "step_backs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("match_id", sa.String(36), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("scope", sa.String(10), nullable=False),  # visit | series
    sa.Column("reason", sa.String(30), nullable=False),  # a STEP_BACK_REASONS code
    sa.Column("short_notice", sa.Boolean, nullable=False),
    sa.Column("visit_start", UtcDateTime, nullable=True),  # the first visit cancelled
    sa.Column("cancelled", sa.Integer, nullable=False),
    sa.Column("commitment_id", sa.String(36), nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),  # the signed-in account, or the provider's link
    sa.Column("at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("match_id", "scope", name="uq_step_back_once"),
)



# Feedback on visits (services/matching/feedback.py): FeedbackGiven from the volunteer (volunteers), a call staff
# logged (needs) and a resident's SMS reply (notify). Scores and codes only: any note stays where it was typed.
feedback = sa.Table(
    "feedback", metadata,
    sa.Column("feedback_id", sa.String(36), primary_key=True),
    sa.Column("match_id", sa.String(36), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=True),
    sa.Column("category", sa.String(3), nullable=True),
    sa.Column("source", sa.String(20), nullable=False),  # volunteer | resident_sms | resident_call
    sa.Column("score", sa.Integer, nullable=False),  # 1 good, 2 so-so, 3 bad / intervention needed
    sa.Column("given_at", UtcDateTime, nullable=False),  # the event's time
    sa.Column("seen_by", sa.String(100), nullable=True),  # the organiser who marked a score 3 as seen
    sa.Column("seen_at", UtcDateTime, nullable=True),
    sa.Index("ix_feedback_match", "match_id"),
    sa.Index("ix_feedback_unseen", "score", "seen_at"),
)

def make_db(url: str | None = None) -> Database:
    return Database("matching", url or config.database_url("matching"), metadata, outbox, processed)
