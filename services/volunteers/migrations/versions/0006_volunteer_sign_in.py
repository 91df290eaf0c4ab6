"""volunteer sign-in: single-use sign-in links, their rate limits, session version, own pause, quiet hours

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 17:45:00.000000
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_by_self', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('quiet_hours', sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'sign_in_tokens',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('expires_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.Column('used_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_sign_in_tokens_volunteer_id'), 'sign_in_tokens', ['volunteer_id'], unique=False)
    op.create_table(
        'sign_in_rate_windows',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.BigInteger(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start'),
    )


def downgrade() -> None:
    op.drop_table('sign_in_rate_windows')
    op.drop_index(op.f('ix_sign_in_tokens_volunteer_id'), table_name='sign_in_tokens')
    op.drop_table('sign_in_tokens')
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_column('session_version')
        batch_op.drop_column('quiet_hours')
        batch_op.drop_column('paused_by_self')
