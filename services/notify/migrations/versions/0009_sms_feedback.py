"""residents' feedback by SMS: requests (phone kept only as a hash) and inbound replies

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:20:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feedback_requests',
        sa.Column('match_id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=True),
        sa.Column('notification_id', sa.String(length=36), nullable=True),
        sa.Column('phone_hash', sa.String(length=64), nullable=True),
        sa.Column('requested_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('sent_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('answered_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('match_id'),
    )
    op.create_index('ix_feedback_requests_phone', 'feedback_requests', ['phone_hash', 'sent_at'], unique=False)
    op.create_table(
        'sms_replies',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('phone_hash', sa.String(length=64), nullable=False),
        sa.Column('received_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('code', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('match_id', sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'inbound_rate_windows',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start'),
    )


def downgrade() -> None:
    op.drop_table('inbound_rate_windows')
    op.drop_table('sms_replies')
    op.drop_index('ix_feedback_requests_phone', table_name='feedback_requests')
    op.drop_table('feedback_requests')
