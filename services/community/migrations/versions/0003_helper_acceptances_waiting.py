"""helper acceptances waiting for the Kamilka gate

Revision ID: 0003_helper_acceptances_waiting
Revises: 0002b_plan_activities_groups
Create Date: 2026-12-07 15:40:00
"""
from alembic import op
import sqlalchemy as sa
import wspolnota.db


revision = '0003_helper_acceptances_waiting'
down_revision = '0002b_plan_activities_groups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('helper_acceptances_waiting',
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('received_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('activity_id', 'provider_id')
    )


def downgrade() -> None:
    op.drop_table('helper_acceptances_waiting')
