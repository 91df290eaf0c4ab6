"""helper places at community activities in matches_seen

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:30:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matches_seen', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('activity_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('window_end', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('matches_seen', schema=None) as batch_op:
        batch_op.drop_column('window_end')
        batch_op.drop_column('activity_kind')
        batch_op.drop_column('activity_id')
