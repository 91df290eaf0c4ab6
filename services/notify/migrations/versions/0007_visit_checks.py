"""follow-up checks: answers to "did it happen?" and "is it still needed?" links, the link pages' rate windows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visit_check_answers',
        sa.Column('check_id', sa.String(length=36), nullable=False),
        sa.Column('match_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('happened', sa.Boolean(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=True),
        sa.Column('answered_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('check_id'),
    )
    op.create_index(op.f('ix_visit_check_answers_match_id'), 'visit_check_answers', ['match_id'], unique=False)
    op.create_table(
        'need_check_answers',
        sa.Column('check_id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=False),
        sa.Column('still_needed', sa.Boolean(), nullable=False),
        sa.Column('answered_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('check_id'),
    )
    op.create_index(op.f('ix_need_check_answers_need_id'), 'need_check_answers', ['need_id'], unique=False)
    op.create_table(
        'link_rate_windows',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start'),
    )


def downgrade() -> None:
    op.drop_table('link_rate_windows')
    op.drop_index(op.f('ix_need_check_answers_need_id'), table_name='need_check_answers')
    op.drop_table('need_check_answers')
    op.drop_index(op.f('ix_visit_check_answers_match_id'), table_name='visit_check_answers')
    op.drop_table('visit_check_answers')
