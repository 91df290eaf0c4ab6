"""concerns about residents (text kept here, ids on the bus) and the resident's assigned social worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 18:45:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('social_worker_email', sa.String(length=200), server_default='',
                                      nullable=False))
    op.create_table(
        'concerns',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=True),
        sa.Column('match_id', sa.String(length=36), nullable=True),
        sa.Column('resident_ref', sa.String(length=64), nullable=True),
        sa.Column('reported_by', sa.String(length=200), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
        sa.Column('acknowledged_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_concerns_open', 'concerns', ['acknowledged_at', 'created_at'], unique=False)
    op.create_index('ix_concerns_resident', 'concerns', ['resident_ref'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_concerns_resident', table_name='concerns')
    op.drop_index('ix_concerns_open', table_name='concerns')
    op.drop_table('concerns')
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('social_worker_email')
