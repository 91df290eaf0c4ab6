"""visit checks: each accepted visit asked "did it happen?" once

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visit_checks',
        sa.Column('match_id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('asked_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('match_id'),
    )


def downgrade() -> None:
    op.drop_table('visit_checks')
