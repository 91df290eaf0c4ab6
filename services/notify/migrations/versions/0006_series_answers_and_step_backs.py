"""series answers and step-backs through the provider's link

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 18:00:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matches_seen', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('series_commitment', sa.String(length=36), nullable=True))
    with op.batch_alter_table('provider_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=10), nullable=True))
    op.create_table('provider_step_backs',
    sa.Column('link_id', sa.String(length=36), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('match_id', sa.String(length=36), nullable=False),
    sa.Column('volunteer_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('stepped_back_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('link_id', 'scope')
    )


def downgrade() -> None:
    op.drop_table('provider_step_backs')
    with op.batch_alter_table('provider_responses', schema=None) as batch_op:
        batch_op.drop_column('scope')
    with op.batch_alter_table('matches_seen', schema=None) as batch_op:
        batch_op.drop_column('series_commitment')
        batch_op.drop_column('series_id')
