"""need checks: "is it still needed?" asked of the requesting worker, one current check per need

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:00:00
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
        'need_checks',
        sa.Column('need_id', sa.String(length=36), nullable=False),
        sa.Column('check_id', sa.String(length=36), nullable=False),
        sa.Column('asked_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('answered_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('answer', sa.String(length=20), nullable=True),
        sa.Column('answered_by', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('need_id'),
        sa.UniqueConstraint('check_id'),
    )


def downgrade() -> None:
    op.drop_table('need_checks')
