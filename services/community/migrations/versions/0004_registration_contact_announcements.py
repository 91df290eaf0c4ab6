"""registration contact and consent for reminders; activity announcements

Revision ID: 0004
Revises: 0003_helper_acceptances_waiting
Create Date: 2026-12-07 17:50:00
"""
from alembic import op
import sqlalchemy as sa
import wspolnota.db


revision = '0004'
down_revision = '0003_helper_acceptances_waiting'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activity_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('reminders_consent', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('consented_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True))
    op.create_table('activity_announcements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activity_announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_announcements_activity_id'), ['activity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activity_announcements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_announcements_activity_id'))
    op.drop_table('activity_announcements')
    with op.batch_alter_table('activity_registrations', schema=None) as batch_op:
        batch_op.drop_column('consented_at')
        batch_op.drop_column('reminders_consent')
        batch_op.drop_column('email')
