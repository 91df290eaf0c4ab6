"""visits: the volunteer's visits and offers from the matches topic, and what they said in their space

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 19:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visits',
        sa.Column('match_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('status_time', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=True),
        sa.Column('village', sa.String(length=40), nullable=True),
        sa.Column('starts_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('ends_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('series_id', sa.String(length=64), nullable=True),
        sa.Column('series_commitment_id', sa.String(length=36), nullable=True),
        sa.Column('deadline', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('answered', sa.String(length=20), nullable=True),
        sa.Column('stepped_back', sa.String(length=10), nullable=True),
        sa.Column('confirmed_minutes', sa.Integer(), nullable=True),
        sa.Column('confirmed', sa.String(length=12), nullable=True),
        sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('match_id'),
    )
    op.create_index('ix_visits_volunteer_start', 'visits', ['volunteer_id', 'starts_at'])


def downgrade() -> None:
    op.drop_index('ix_visits_volunteer_start', table_name='visits')
    op.drop_table('visits')
