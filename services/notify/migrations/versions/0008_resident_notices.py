"""residents' notices: the resident of each watched need, residents' channels, what each resident was told, and the
staff's call tasks

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 21:15:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('needs_watched', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resident_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('duration_minutes', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_needs_watched_resident_ref'), ['resident_ref'], unique=False)
    op.create_table(
        'residents_seen',
        sa.Column('resident_ref', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('resident_ref'),
    )
    op.create_table(
        'resident_visits',
        sa.Column('need_id', sa.String(length=36), nullable=False),
        sa.Column('resident_ref', sa.String(length=64), nullable=False),
        sa.Column('match_id', sa.String(length=36), nullable=True),
        sa.Column('volunteer_id', sa.String(length=36), nullable=True),
        sa.Column('visit_start', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('need_id'),
    )
    op.create_index(op.f('ix_resident_visits_resident_ref'), 'resident_visits', ['resident_ref'], unique=False)
    op.create_table(
        'call_tasks',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('resident_ref', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=50), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=True),
        sa.Column('match_id', sa.String(length=36), nullable=True),
        sa.Column('due_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_attempt_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.Column('last_by', sa.String(length=200), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['id'], ['notifications.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_call_tasks_open', 'call_tasks', ['status', 'due_at'], unique=False)
    op.create_index(op.f('ix_call_tasks_resident_ref'), 'call_tasks', ['resident_ref'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_call_tasks_resident_ref'), table_name='call_tasks')
    op.drop_index('ix_call_tasks_open', table_name='call_tasks')
    op.drop_table('call_tasks')
    op.drop_index(op.f('ix_resident_visits_resident_ref'), table_name='resident_visits')
    op.drop_table('resident_visits')
    op.drop_table('residents_seen')
    with op.batch_alter_table('needs_watched', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_needs_watched_resident_ref'))
        batch_op.drop_column('duration_minutes')
        batch_op.drop_column('resident_ref')
