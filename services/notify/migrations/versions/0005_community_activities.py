"""community activities: participants, reminders, notices and announcements

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:50:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activities_seen',
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=True),
    sa.Column('village', sa.String(length=50), nullable=False),
    sa.Column('starts_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('ends_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reminder_cause', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('activity_id')
    )
    op.create_table('activity_recipients',
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('activity_id', 'recipient')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_activity_id'), ['activity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_activity_id'))
        batch_op.drop_column('activity_id')
    op.drop_table('activity_recipients')
    op.drop_table('activities_seen')
