"""well-being call series: the series' terms, each call's outcome, escalations after two unanswered calls

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:10:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_series',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('resident_ref', sa.String(length=64), nullable=False),
        sa.Column('plan_ref', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.Text(), server_default='', nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('review_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('ended_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('ended_by', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_call_series_resident', 'call_series', ['resident_ref'], unique=False)
    op.create_table(
        'call_outcomes',
        sa.Column('match_id', sa.String(length=36), nullable=False),
        sa.Column('series_id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=True),
        sa.Column('category', sa.String(length=3), nullable=True),
        sa.Column('call_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('recorded_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('created_need_id', sa.String(length=36), nullable=True),
        sa.Column('concern_id', sa.String(length=36), nullable=True),
        sa.Column('escalation_id', sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint('match_id'),
    )
    op.create_index('ix_call_outcomes_series', 'call_outcomes', ['series_id', 'call_at'], unique=False)
    op.create_table(
        'call_escalations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('series_id', sa.String(length=36), nullable=False),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('resolved_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_call_escalations_series_id', 'call_escalations', ['series_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_escalations_series_id', table_name='call_escalations')
    op.drop_table('call_escalations')
    op.drop_index('ix_call_outcomes_series', table_name='call_outcomes')
    op.drop_table('call_outcomes')
    op.drop_index('ix_call_series_resident', table_name='call_series')
    op.drop_table('call_series')
