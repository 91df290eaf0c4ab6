"""Needs service tables and its database (with outbox and processed_events).

Personal data of residents lives only in `residents`; everything else refers to them by the
pseudonymous `ref`, which is also all the bus ever sees.
"""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota import config
from wspolnota.db import BigId, Database, UtcDateTime, transport_tables
from wspolnota.idempotency import keys_table
from wspolnota.ratelimit import windows_table

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)

residents = sa.Table(
    "residents", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ref", sa.String(64), nullable=False, unique=True),  # pseudonymous id used everywhere else
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(300), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("phone", sa.String(40), nullable=False, server_default=""),
    sa.Column("email", sa.String(200), nullable=False, server_default=""),
    sa.Column("preferred_channel", sa.String(20), nullable=False),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("legal_basis", sa.String(40), nullable=False),
    sa.Column("consent_date", sa.Date, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # RODO art. 17 (revision 0004): personal fields blanked; ref, village and legal basis stay for statistics
    sa.Column("erased_at", UtcDateTime, nullable=True),
    sa.Column("erasure_reason", sa.String(500), nullable=False, server_default=""),
    # the resident's assigned social worker (a staff e-mail address): where a concern about them goes first
    sa.Column("social_worker_email", sa.String(200), nullable=False, server_default=""),
    # how the resident hears about their visits (revision 0007, services/needs/resident_notices.py): sms | call |
    # none, with the date of their consent and the staff account that recorded it
    sa.Column("notice_channel", sa.String(10), nullable=False, server_default="none"),
    sa.Column("notice_consent_date", sa.Date, nullable=True),
    sa.Column("notice_consent_by", sa.String(200), nullable=False, server_default=""),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # read | create | update | erase
    sa.Column("subject", sa.String(20), nullable=False),  # resident | need
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("fields", sa.String(500), nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),  # the page or endpoint that showed the data
    sa.Index("ix_audit_subject", "subject", "subject_id"),
)

support_packages = sa.Table(
    "support_packages", metadata,
    sa.Column("plan_ref", sa.String(64), primary_key=True),
    sa.Column("resident_ref", sa.String(64), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # open | closed
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    sa.Column("close_reason", sa.String(500), nullable=False, server_default=""),
)

series = sa.Table(
    "need_series", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("plan_ref", sa.String(64), nullable=True),
    sa.Column("weekdays", sa.String(20), nullable=False),  # "0,2,4"
    sa.Column("time_from", sa.String(5), nullable=False),
    sa.Column("time_to", sa.String(5), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# "Is it still needed?" (services/needs/need_checks.py): the need's current check — asked when, answered how.
need_checks = sa.Table(
    "need_checks", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("check_id", sa.String(36), nullable=False, unique=True),
    sa.Column("asked_at", UtcDateTime, nullable=False),
    sa.Column("answered_at", UtcDateTime, nullable=True),
    sa.Column("answer", sa.String(20), nullable=True),  # still_needed | no_longer_needed
    sa.Column("answered_by", sa.String(200), nullable=True),
)

needs = sa.Table(
    "needs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("resident_ref", sa.String(64), nullable=False),
    sa.Column("category", sa.String(3), nullable=False),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("urgency", sa.String(10), nullable=False, server_default="normal"),
    sa.Column("requirements", sa.String(300), nullable=False, server_default=""),  # resolved codes, "a,b"
    sa.Column("explicit_requirements", sa.String(300), nullable=False, server_default=""),
    sa.Column("waived_requirements", sa.String(300), nullable=False, server_default=""),
    sa.Column("involves_minor", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("language", sa.String(2), nullable=False, server_default="pl"),
    sa.Column("continuity", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("moderation", sa.String(10), nullable=False, server_default="review"),
    sa.Column("source", sa.String(20), nullable=False, server_default="staff_form"),
    sa.Column("plan_ref", sa.String(64), nullable=True),
    sa.Column("series_id", sa.String(36), nullable=True),
    sa.Column("cancel_reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("hours_delivered", sa.Float, nullable=False, server_default="0"),
    sa.Column("visits_delivered", sa.Integer, nullable=False, server_default="0"),
    # what the need asks of its provider beyond credentials (revision 0005; docs/needs.md)
    sa.Column("personal_care", sa.Boolean, nullable=False, server_default=sa.false()),  # paid neighbours only
    sa.Column("skills", sa.JSON, nullable=True),  # skills the provider must have, as volunteers name them
    sa.Column("relatives", sa.JSON, nullable=True),  # volunteer ids of the resident's relatives: never matched
    sa.Index("ix_needs_status", "status"),
    sa.Index("ix_needs_plan", "plan_ref"),
    sa.Index("ix_needs_series", "series_id"),
    sa.Index("ix_needs_created", "created_at"),
)

# Matches of a need as the matching service reports them (ids only, no personal data).
need_matches = sa.Table(
    "need_matches", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(36), nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("was_accepted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("hours", sa.Float, nullable=False, server_default="0"),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # the visit's agreed time inside the need's window, from matching's events that carry it (None: not known)
    sa.Column("agreed_start", UtcDateTime, nullable=True),
    sa.Column("agreed_end", UtcDateTime, nullable=True),
)

# The need's history shown on its page: every change and every match event, in order.
timeline = sa.Table(
    "need_timeline", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("need_id", sa.String(36), nullable=False, index=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),  # event type or staff action
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("status_after", sa.String(20), nullable=False),
    sa.Column("detail", sa.String(1000), nullable=False, server_default=""),
)

# A form or API submission key seen once: a second submit of the same form stores nothing.
submissions = sa.Table(
    "submissions", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)


# --- case-system integration (docs/case-system.md) -------------------------------------------------------
# A case system's API client: only the SHA-256 of its token is kept; `key_prefix` finds the row.
api_clients = sa.Table(
    "api_clients", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("key_prefix", sa.String(16), nullable=False, index=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(200), nullable=False),  # "needs:write,needs:read"
    sa.Column("rate_limit_per_minute", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
)

# The first successful answer to (client, Idempotency-Key), replayed for the same request again.
idempotency_keys = keys_table(metadata)  # wspolnota/idempotency.py

# Requests per client per fixed window (one row per client and window), shared by all gunicorn workers.
api_rate_windows = windows_table(metadata, "api_rate_windows", key_column="client_id", key_length=36)

# Needs that came from the case system (API or CSV): who sent them and under which id of theirs.
case_system_needs = sa.Table(
    "case_system_needs", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("origin", sa.String(100), nullable=False),  # API client name, or "csv:<staff login>"
    sa.Column("external_id", sa.String(64), nullable=True, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)


# A concern about a resident's well-being or safety (services/needs/concerns.py): the typed text stays here, the
# bus carries only ids. `id` is the reporter's own (the form's), so a retried report stores nothing twice.
concerns = sa.Table(
    "concerns", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=True),
    sa.Column("match_id", sa.String(36), nullable=True),
    sa.Column("resident_ref", sa.String(64), nullable=True),  # none: a general concern, for the organiser
    sa.Column("reported_by", sa.String(200), nullable=False),  # "wolontariusz:<id>" or the staff account
    sa.Column("channel", sa.String(20), nullable=False),  # volunteer_space | phone | staff
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("acknowledged_by", sa.String(200), nullable=True),
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    sa.Column("kind", sa.String(20), nullable=False, server_default="concern"),  # concern | incident | safeguarding
    sa.Column("due_at", UtcDateTime, nullable=True),  # acknowledge by then (none: reported before deadlines)
    sa.Column("escalated_at", UtcDateTime, nullable=True),  # told the director once, past due_at unacknowledged
    sa.Column("outcome", sa.Text, nullable=True),  # the closing note: the action taken (audited like the text)
    sa.Column("closed_by", sa.String(200), nullable=True),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    sa.Index("ix_concerns_open", "acknowledged_at", "created_at"),
    sa.Index("ix_concerns_resident", "resident_ref"),
    sa.Index("ix_concerns_due", "escalated_at", "due_at"),
)


# A resident's short feedback on a visit, logged by staff after a call (services/needs/feedback.py): the note stays
# here; the bus carries FeedbackGiven {match_id, need_id, source: "resident_call", score}.
resident_feedback = sa.Table(
    "resident_feedback", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("match_id", sa.String(36), nullable=True),
    sa.Column("score", sa.Integer, nullable=False),  # 1 dobrze, 2 średnio, 3 źle
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("logged_by", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_resident_feedback_need", "need_id"),
)

# Well-being call series ("telefon życzliwości", services/needs/calls.py): a weekly series of category TEL (its
# needs carry the series id) with what the calls are for, who set it up, its review date; the outcome of each call;
# two unanswered calls in a row are an escalation for staff. Outcome rows hold codes only: the text of a worry is a
# concern (concerns), what is needed the new need's description.
call_series = sa.Table(
    "call_series", metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # the need_series id
    sa.Column("resident_ref", sa.String(64), nullable=False),
    sa.Column("plan_ref", sa.String(64), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False, server_default=""),  # staff only, never published
    sa.Column("owner", sa.String(200), nullable=False),  # who set it up: the requester of needs it creates
    sa.Column("review_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # active | ended
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime, nullable=True),
    sa.Column("ended_by", sa.String(200), nullable=True),
    sa.Index("ix_call_series_resident", "resident_ref"),
)

call_outcomes = sa.Table(
    "call_outcomes", metadata,
    sa.Column("match_id", sa.String(36), primary_key=True),  # one outcome per call (match)
    sa.Column("series_id", sa.String(36), nullable=False),
    sa.Column("need_id", sa.String(36), nullable=False),
    sa.Column("volunteer_id", sa.String(36), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # contracts.needs.CALL_OUTCOMES
    sa.Column("minutes", sa.Integer, nullable=True),
    sa.Column("category", sa.String(3), nullable=True),  # needs_something: the category of the need created
    sa.Column("call_at", UtcDateTime, nullable=False),  # the call's planned start: the order of outcomes
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("created_need_id", sa.String(36), nullable=True),
    sa.Column("concern_id", sa.String(36), nullable=True),
    sa.Column("escalation_id", sa.String(36), nullable=True),  # no_answer in an escalated run
    sa.Index("ix_call_outcomes_series", "series_id", "call_at"),
)

call_escalations = sa.Table(
    "call_escalations", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("series_id", sa.String(36), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("resolved_by", sa.String(200), nullable=True),
)


# A request for help from a resident or their family / neighbour (services/needs/requests.py): the public form or
# staff taking a phone call. Personal data stays here (erased after NEEDS_REQUEST_RETENTION_DAYS once closed); the
# bus carries ids and codes. `submission_key` is the form's token: a double submit stores one request.
resident_requests = sa.Table(
    "resident_requests", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("submission_key", sa.String(64), nullable=False, unique=True),
    sa.Column("channel", sa.String(10), nullable=False),  # online | phone
    sa.Column("taken_by", sa.String(200), nullable=False, server_default=""),  # the staff account (phone)
    sa.Column("for_whom", sa.String(10), nullable=False),  # self | family | neighbour
    sa.Column("requester_name", sa.String(200), nullable=False),
    sa.Column("person_name", sa.String(200), nullable=False, server_default=""),  # who needs help (on behalf)
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("address", sa.String(300), nullable=False, server_default=""),
    sa.Column("help_kinds", sa.String(200), nullable=False),  # plain-word codes, "shopping,transport"
    sa.Column("details", sa.Text, nullable=False, server_default=""),
    sa.Column("urgency", sa.String(10), nullable=False),  # today | week | later
    sa.Column("phone", sa.String(40), nullable=False, server_default=""),
    sa.Column("email", sa.String(200), nullable=False, server_default=""),
    sa.Column("reply_channel", sa.String(10), nullable=False),  # sms | email: where the requester hears back
    sa.Column("consent_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # new | triage | converted | closed
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("triage_by", sa.String(200), nullable=True),
    sa.Column("triage_at", UtcDateTime, nullable=True),
    sa.Column("need_id", sa.String(36), nullable=True),
    sa.Column("resident_ref", sa.String(64), nullable=True),
    sa.Column("close_reason", sa.String(30), nullable=True),  # a REQUEST_CLOSE_REASONS code
    sa.Column("close_note", sa.Text, nullable=False, server_default=""),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("decided_at", UtcDateTime, nullable=True),
    sa.Column("erased_at", UtcDateTime, nullable=True),
    sa.Index("ix_resident_requests_status", "status", "created_at"),
)

# Public request form posts per hashed client address per hour (wspolnota/ratelimit.py).
request_rate_windows = windows_table(metadata, "request_rate_windows")

def make_db(url: str | None = None) -> Database:
    return Database("needs", url or config.database_url("needs"), metadata, outbox, processed)
