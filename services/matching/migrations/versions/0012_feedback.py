"""feedback on visits (FeedbackGiven from volunteers, needs and notify): scores, never the notes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:40:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feedback',
        sa.Column('feedback_id', sa.String(length=36), nullable=False),
        sa.Column('match_id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=True),
        sa.Column('category', sa.String(length=3), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('given_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('seen_by', sa.String(length=100), nullable=True),
        sa.Column('seen_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('feedback_id'),
    )
    op.create_index('ix_feedback_match', 'feedback', ['match_id'], unique=False)
    op.create_index('ix_feedback_unseen', 'feedback', ['score', 'seen_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_feedback_unseen', table_name='feedback')
    op.drop_index('ix_feedback_match', table_name='feedback')
    op.drop_table('feedback')
