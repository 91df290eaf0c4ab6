"""idle volunteer nudges: when a provider was first seen and last nudged

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:00:00
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
        'nudges',
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('first_seen_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('last_nudged_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('volunteer_id'),
    )


def downgrade() -> None:
    op.drop_table('nudges')
