"""the agreed visit time of each match, from matching's events (the resident's details show around it)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:40:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('need_matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_start', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('agreed_end', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('need_matches', schema=None) as batch_op:
        batch_op.drop_column('agreed_end')
        batch_op.drop_column('agreed_start')
