"""hours ledger: a provider's hours per visit and per community activity

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'hours_ledger',
        sa.Column('provider_id', sa.String(length=36), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('source_id', sa.String(length=36), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('on_date', sa.Date(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event_time', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('recorded_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('provider_id', 'source', 'source_id'),
    )
    op.create_index('ix_hours_ledger_provider_day', 'hours_ledger', ['provider_id', 'on_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_hours_ledger_provider_day', table_name='hours_ledger')
    op.drop_table('hours_ledger')
