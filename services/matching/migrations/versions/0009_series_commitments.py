"""series commitments, occurrences let go, step-backs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import wspolnota.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_commitment_id', sa.String(length=36), nullable=True))
    op.create_table('series_commitments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('series_id', sa.String(length=64), nullable=False),
    sa.Column('volunteer_id', sa.String(length=36), nullable=False),
    sa.Column('plan_ref', sa.String(length=64), nullable=True),
    sa.Column('match_id', sa.String(length=36), nullable=False),
    sa.Column('since', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('until', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('ended_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=30), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('series_commitments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_commitments_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_commitments_volunteer_id'), ['volunteer_id'], unique=False)
    op.create_table('series_skips',
    sa.Column('commitment_id', sa.String(length=36), nullable=False),
    sa.Column('need_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('commitment_id', 'need_id')
    )
    op.create_table('step_backs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('match_id', sa.String(length=36), nullable=False),
    sa.Column('need_id', sa.String(length=36), nullable=False),
    sa.Column('volunteer_id', sa.String(length=36), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('short_notice', sa.Boolean(), nullable=False),
    sa.Column('visit_start', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.String(length=36), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('match_id', 'scope', name='uq_step_back_once')
    )


def downgrade() -> None:
    op.drop_table('step_backs')
    op.drop_table('series_skips')
    with op.batch_alter_table('series_commitments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_commitments_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_series_commitments_series_id'))
    op.drop_table('series_commitments')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('series_commitment_id')
