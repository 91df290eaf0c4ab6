"""engagement messages: the volunteer may switch off thank-you messages and nudges

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volunteers') as batch:
        batch.add_column(sa.Column('engagement_messages', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('volunteers') as batch:
        batch.drop_column('engagement_messages')
