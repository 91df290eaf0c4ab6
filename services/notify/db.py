"""Notify service tables.

- `notifications`: the ledger — one row per (cause event, recipient, channel), enforced by a unique
  constraint; the sender worker moves each row pending → sending → sent (or failed).
- `notification_dead_letters`: rows the sender gave up on; staff see them as an alert until resolved.
- `provider_responses`: one answer per signed offer link (single use, enforced by the primary key).
- `provider_step_backs`: a provider stepping back through that link, once per link and scope.
- `matches_seen`: the few facts about a match later events refer to by id.
- `needs_watched`: open needs, so the sender can report those without a provider after 48 h.
- `sink_messages`: what the embedded SMTP/SMS/webhook sink received ("Skrzynka testowa").
"""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import Database, UtcDateTime, transport_tables
from wspolnota.ratelimit import windows_table

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("cause_event_id", sa.String(36), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=True, index=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("recipient", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # The sender's part of the ledger (revision 0002).
    sa.Column("match_id", sa.String(36), nullable=True, index=True),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("payload", sa.Text, nullable=True),  # JSON body of a case-system webhook
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("claimed_at", UtcDateTime, nullable=True),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("segments", sa.Integer, nullable=True),  # SMS parts, for cost and length checks
    sa.Column("activity_id", sa.String(36), nullable=True, index=True),  # a community activity's messages (0005)
    sa.UniqueConstraint("cause_event_id", "recipient", "channel", name="uq_notification_once"),
    sa.Index("ix_notifications_due", "status", "next_attempt_at"),
)

dead_letters = sa.Table(
    "notification_dead_letters", metadata,
    sa.Column("notification_id", sa.String(36), sa.ForeignKey("notifications.id"), primary_key=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("recipient", sa.String(100), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("failed_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
)

provider_responses = sa.Table(
    "provider_responses", metadata,
    sa.Column("link_id", sa.String(36), primary_key=True),  # the offer notification the link came in
    sa.Column("match_id", sa.String(36), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("response", sa.String(10), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("responded_at", UtcDateTime, nullable=False),
    sa.Column("scope", sa.String(10), nullable=True),  # "series": the whole weekly series accepted (0005)
)

# A provider stepping back, through the same link, from the visit they accepted or from its whole series: one
# row per link and scope, so pressing twice publishes once.
provider_step_backs = sa.Table(
    "provider_step_backs", metadata,
    sa.Column("link_id", sa.String(36), primary_key=True),
    sa.Column("scope", sa.String(10), primary_key=True),  # visit | series
    sa.Column("match_id", sa.String(36), nullable=False),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("reason", sa.String(30), nullable=False),  # matching's STEP_BACK_REASONS code
    sa.Column("stepped_back_at", UtcDateTime, nullable=False),
)

# What notify knows of each match from the match events (no personal data): enough to word a
# reminder or a cancellation when a later event carries only the ids.
matches_seen = sa.Table(
    "matches_seen", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("category", sa.String(10), nullable=False),
    sa.Column("village", sa.String(50), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("deadline", UtcDateTime, nullable=True),  # of the current offer
    sa.Column("status", sa.String(20), nullable=False),
    # a helper place at a community activity (matching's Helper* events; need_id then holds the activity id)
    sa.Column("activity_id", sa.String(36), nullable=True),
    sa.Column("activity_kind", sa.String(20), nullable=True),
    sa.Column("window_end", UtcDateTime, nullable=True),
    # the need's weekly series (MatchOffered.series_id): the provider may accept the whole series (0005)
    sa.Column("series_id", sa.String(64), nullable=True),
    sa.Column("series_commitment", sa.String(36), nullable=True),  # a visit given by a series commitment
)

# Open needs notify watches for "no provider after 48 h"; the sender reports the ones still open.
needs_watched = sa.Table(
    "needs_watched", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("cause_event_id", sa.String(36), nullable=False),  # the NeedRegistered event
    sa.Column("category", sa.String(10), nullable=False),
    sa.Column("village", sa.String(50), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=True),
    sa.Column("registered_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # open | matched | closed | reported
    sa.Column("plan_ref", sa.String(100), nullable=True),  # IPUS plan, echoed to the case system (0003)
    sa.Index("ix_needs_watched_open", "status", "registered_at"),
    # the resident the need is for (a pseudonym) and the visit's length: residents' notices (0007)
    sa.Column("resident_ref", sa.String(64), nullable=True, index=True),
    sa.Column("duration_minutes", sa.Integer, nullable=True),
)

# Community activities notify tells participants about (the community topic, revision 0005): the facts its
# messages show and the cause id of the current reminder round (a new time opens a new round).
activities_seen = sa.Table(
    "activities_seen", metadata,
    sa.Column("activity_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(10), nullable=True),
    sa.Column("village", sa.String(50), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),  # scheduled | cancelled
    sa.Column("reminder_cause", sa.String(36), nullable=False),
)

# Who hears about an activity, by ledger recipient: "uczestnik:<registration id>" (a resident who consented to
# reminders) or "wolontariusz:<provider id>" (a helper). Ids only; addresses are fetched at send time.
activity_recipients = sa.Table(
    "activity_recipients", metadata,
    sa.Column("activity_id", sa.String(36), primary_key=True),
    sa.Column("recipient", sa.String(100), primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False),
)

# "Did it happen?" and "is it still needed?" (services/notify/follow_ups.py): one answer per check link (single
# use, enforced by the primary key: the check id the link names), and the link pages' request counter.
visit_check_answers = sa.Table(
    "visit_check_answers", metadata,
    sa.Column("check_id", sa.String(36), primary_key=True),
    sa.Column("match_id", sa.String(36), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("happened", sa.Boolean, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=True),
    sa.Column("answered_at", UtcDateTime, nullable=False),
)

need_check_answers = sa.Table(
    "need_check_answers", metadata,
    sa.Column("check_id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False, index=True),
    sa.Column("still_needed", sa.Boolean, nullable=False),
    sa.Column("answered_at", UtcDateTime, nullable=False),
)

link_rate_windows = windows_table(metadata, "link_rate_windows")
# Residents' notices (services/notify/resident_notices.py, revision 0008). Pseudonyms and codes only: the phone and
# the consent are asked of the needs service at send time.
# - residents_seen: how each resident wants to hear about their visits (ResidentNoticesChanged: sms | call | none);
# - resident_visits: what the resident was last told about a need's visit (arranged | looking | cancelled | done),
#   so a cancellation or a new time is told only to a resident who heard of the visit;
# - call_tasks: notices for residents without a mobile phone, which staff phone ("Do zadzwonienia"); the ledger row
#   (channel "call") is the once-only record, the task its progress.
residents_seen = sa.Table(
    "residents_seen", metadata,
    sa.Column("resident_ref", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

resident_visits = sa.Table(
    "resident_visits", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("resident_ref", sa.String(64), nullable=False, index=True),
    sa.Column("match_id", sa.String(36), nullable=True),
    sa.Column("volunteer_id", sa.String(36), nullable=True),
    sa.Column("visit_start", UtcDateTime, nullable=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

call_tasks = sa.Table(
    "call_tasks", metadata,
    sa.Column("id", sa.String(36), sa.ForeignKey("notifications.id"), primary_key=True),
    sa.Column("resident_ref", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=True),
    sa.Column("match_id", sa.String(36), nullable=True),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # open | done | unreachable | cancelled
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_attempt_at", UtcDateTime, nullable=True),
    sa.Column("last_by", sa.String(200), nullable=True),  # the staff account that marked it last
    sa.Column("note", sa.String(200), nullable=True),  # why it was cancelled
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_call_tasks_open", "status", "due_at"),
)

sink_messages = sa.Table(
    "sink_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("recipient", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("deliveries", sa.Integer, nullable=False),  # >1: a resend recognised as the same message
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("channel", "message_id", name="uq_sink_message"),
)


# A resident's feedback by SMS (services/notify/feedback.py, revision 0007): one request per completed match sent
# to a resident who consented to SMS. Only a keyed hash of the phone is kept (set when the SMS goes out), so a
# reply is matched to the latest open request of that phone; the score is published as FeedbackGiven.
feedback_requests = sa.Table(
    "feedback_requests", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=True),
    sa.Column("notification_id", sa.String(36), nullable=True),  # the ledger row of the request SMS
    sa.Column("phone_hash", sa.String(64), nullable=True),  # HMAC-SHA256 of the normalised phone, at send time
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("answered_at", UtcDateTime, nullable=True),
    sa.Column("score", sa.Integer, nullable=True),
    sa.Index("ix_feedback_requests_phone", "phone_hash", "sent_at"),
)

# Every inbound SMS the gateway posted (the phone as its hash, the code read from the text, never the text).
sms_replies = sa.Table(
    "sms_replies", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("phone_hash", sa.String(64), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("code", sa.Integer, nullable=True),  # 1-3, or none when the text was not a reply code
    sa.Column("outcome", sa.String(20), nullable=False),  # matched | no_code | no_request | answered_before
    sa.Column("match_id", sa.String(36), nullable=True),
)

inbound_rate_windows = windows_table(metadata, "inbound_rate_windows")  # key: SHA-256 of the caller's address


def make_db(url: str | None = None) -> Database:
    return Database("notify", url or config.database_url("notify"), metadata, outbox, processed)
