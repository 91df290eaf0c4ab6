"""requests for help from residents and their families (public form, phone intake, triage queue)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 21:10:00
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
        'resident_requests',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('submission_key', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('taken_by', sa.String(length=200), server_default='', nullable=False),
        sa.Column('for_whom', sa.String(length=10), nullable=False),
        sa.Column('requester_name', sa.String(length=200), nullable=False),
        sa.Column('person_name', sa.String(length=200), server_default='', nullable=False),
        sa.Column('village', sa.String(length=40), nullable=False),
        sa.Column('address', sa.String(length=300), server_default='', nullable=False),
        sa.Column('help_kinds', sa.String(length=200), nullable=False),
        sa.Column('details', sa.Text(), server_default='', nullable=False),
        sa.Column('urgency', sa.String(length=10), nullable=False),
        sa.Column('phone', sa.String(length=40), server_default='', nullable=False),
        sa.Column('email', sa.String(length=200), server_default='', nullable=False),
        sa.Column('reply_channel', sa.String(length=10), nullable=False),
        sa.Column('consent_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('triage_by', sa.String(length=200), nullable=True),
        sa.Column('triage_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('need_id', sa.String(length=36), nullable=True),
        sa.Column('resident_ref', sa.String(length=64), nullable=True),
        sa.Column('close_reason', sa.String(length=30), nullable=True),
        sa.Column('close_note', sa.Text(), server_default='', nullable=False),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('decided_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('erased_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_key'),
    )
    op.create_index('ix_resident_requests_status', 'resident_requests', ['status', 'created_at'], unique=False)
    op.create_table(
        'request_rate_windows',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start'),
    )


def downgrade() -> None:
    op.drop_table('request_rate_windows')
    op.drop_index('ix_resident_requests_status', table_name='resident_requests')
    op.drop_table('resident_requests')
