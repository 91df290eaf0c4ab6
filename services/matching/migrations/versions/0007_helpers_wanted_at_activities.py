"""helpers wanted at community activities

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 15:35:00
"""
from alembic import op
import sqlalchemy as sa
import wspolnota.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('helper_activities',
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('involves_children', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=3), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('village', sa.String(length=40), nullable=False),
    sa.Column('starts_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('ends_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('activity_id')
    )
    op.create_table('helper_offers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('volunteer_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('deadline', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('helper_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helper_offers_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_helper_offers_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('helper_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helper_offers_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_helper_offers_activity_id'))
    op.drop_table('helper_offers')
    op.drop_table('helper_activities')
