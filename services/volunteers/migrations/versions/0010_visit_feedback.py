"""the volunteer's short feedback on a visit they confirmed (a code and an optional note kept here)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:30:00
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
        'visit_feedback',
        sa.Column('match_id', sa.String(length=36), nullable=False),
        sa.Column('feedback_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=True),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('match_id'),
    )


def downgrade() -> None:
    op.drop_table('visit_feedback')
