"""hours scope: the kind of help each ledger row is (a visit's category, an activity's kind)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 18:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('hours_ledger') as batch:
        batch.add_column(sa.Column('category', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('hours_ledger') as batch:
        batch.drop_column('category')
