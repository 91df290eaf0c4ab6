"""Community service tables and its database (with outbox and processed_events).

Surveys are answered anonymously: a response carries a village and the answers, nothing else. Contact details a
respondent leaves for follow-up live only in `survey_contacts` (with the consent recorded) and can be erased.
Local leaders in the assets register are named with their consent. None of it ever reaches the bus.
"""
from __future__ import annotations

import sqlalchemy as sa

from services.community import db_plan  # noqa: F401 - the plan, activity, group and partner tables join metadata
from services.community.meta import metadata, outbox, processed
from wspolnota import config
from wspolnota.db import BigId, Database, UtcDateTime
from wspolnota.ratelimit import windows_table

# --- diagnosis: questionnaires ------------------------------------------------------------------------------
surveys = sa.Table(
    "surveys", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("intro", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False),  # draft | published | closed
    sa.Column("villages", sa.JSON, nullable=False),  # village codes it is meant for; [] = the whole gmina
    sa.Column("one_answer_per_token", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("public_key", sa.String(32), nullable=False, unique=True),  # the public link's random part
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("published_at", UtcDateTime, nullable=True),
    sa.Column("closed_at", UtcDateTime, nullable=True),
)

survey_questions = sa.Table(
    "survey_questions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("survey_id", sa.String(36), sa.ForeignKey("surveys.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # single | multiple | scale | number | text
    sa.Column("text", sa.String(500), nullable=False),
    sa.Column("required", sa.Boolean, nullable=False),
    sa.Column("options", sa.JSON, nullable=False),  # choice labels (single, multiple); [] otherwise
    sa.Column("min_value", sa.Integer, nullable=True),  # scale and number bounds
    sa.Column("max_value", sa.Integer, nullable=True),
)

# One-answer tokens: only the SHA-256 of a token is kept; `used_at` is set by the answer that spent it.
survey_tokens = sa.Table(
    "survey_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("survey_id", sa.String(36), sa.ForeignKey("surveys.id"), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
)

survey_responses = sa.Table(
    "survey_responses", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("survey_id", sa.String(36), sa.ForeignKey("surveys.id"), nullable=False, index=True),
    sa.Column("village", sa.String(40), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),  # online | paper
    sa.Column("entered_by", sa.String(200), nullable=False, server_default=""),  # staff login for paper
    sa.Column("submission_key", sa.String(64), nullable=True, unique=True),  # a form submitted twice stores once
    sa.Column("created_at", UtcDateTime, nullable=False),
)

survey_answers = sa.Table(
    "survey_answers", metadata,
    sa.Column("response_id", sa.String(36), sa.ForeignKey("survey_responses.id"), primary_key=True),
    sa.Column("question_id", sa.String(36), sa.ForeignKey("survey_questions.id"), primary_key=True),
    sa.Column("choices", sa.JSON, nullable=True),  # option indexes (single, multiple)
    sa.Column("number", sa.Float, nullable=True),  # scale, number
    sa.Column("text", sa.Text, nullable=True),  # open answer
    sa.Index("ix_survey_answers_question", "question_id"),
)

# Contact details a respondent chose to leave for follow-up: here only, with consent, erasable.
survey_contacts = sa.Table(
    "survey_contacts", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("survey_id", sa.String(36), sa.ForeignKey("surveys.id"), nullable=False, index=True),
    sa.Column("response_id", sa.String(36), sa.ForeignKey("survey_responses.id"), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("phone", sa.String(40), nullable=False, server_default=""),
    sa.Column("email", sa.String(200), nullable=False, server_default=""),
    sa.Column("consent_text", sa.String(500), nullable=False),
    sa.Column("consent_at", UtcDateTime, nullable=False),
    sa.Column("erased_at", UtcDateTime, nullable=True),
)

# Public answers per client and fixed window (one row per key and window), shared by all gunicorn workers.
public_rate_windows = windows_table(metadata, "public_rate_windows")  # key: SHA-256 of the client and the page

# --- diagnosis: the community's assets (its potential) -------------------------------------------------------
assets = sa.Table(
    "community_assets", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # place | leader | equipment | transport
    sa.Column("village", sa.String(40), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("subtype", sa.String(40), nullable=False, server_default=""),  # e.g. swietlica, soltys
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("capacity", sa.Integer, nullable=True),  # places: people; transport: seats
    sa.Column("accessible", sa.Boolean, nullable=False, server_default=sa.false()),  # step-free, toilet
    sa.Column("accessibility_note", sa.String(500), nullable=False, server_default=""),
    sa.Column("lendable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("contact", sa.String(300), nullable=False, server_default=""),  # leaders: with consent only
    sa.Column("consent_date", sa.Date, nullable=True),  # a leader's consent to be listed
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# --- diagnosis: the report, versioned per scope (the gmina or one village) ----------------------------------
diagnoses = sa.Table(
    "diagnoses", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("scope", sa.String(40), nullable=False),  # "gmina" or a village code
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("conclusions", sa.Text, nullable=False, server_default=""),
    sa.Column("snapshot", sa.JSON, nullable=False),  # survey results, assets, needs vs providers, frozen
    sa.Column("author", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("scope", "version", name="uq_diagnosis_version"),
)

# --- what other services tell us (by events; ids, villages and counts only) --------------------------------
known_needs = sa.Table(
    "known_needs", metadata,
    sa.Column("need_id", sa.String(36), primary_key=True),
    sa.Column("village", sa.String(40), nullable=False, index=True),
    sa.Column("category", sa.String(3), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # open | completed | cancelled
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

known_providers = sa.Table(
    "known_providers", metadata,
    sa.Column("volunteer_id", sa.String(36), primary_key=True),
    sa.Column("provider_type", sa.String(30), nullable=False),
    sa.Column("villages", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Partner organisations only: the organisation's public identity (a legal entity, not a person), as the
    # volunteers register publishes it. Empty for every other provider: a person's name never reaches this service.
    sa.Column("name", sa.String(120), nullable=True),
    sa.Column("kind", sa.String(20), nullable=True),
    sa.Column("krs", sa.String(10), nullable=True),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # read | create | update | erase
    sa.Column("subject", sa.String(30), nullable=False),  # survey_contact | leader
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Index("ix_community_audit_subject", "subject", "subject_id"),
)


def make_db(url: str | None = None) -> Database:
    return Database("community", url or config.database_url("community"), metadata, outbox, processed)

