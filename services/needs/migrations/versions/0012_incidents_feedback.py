"""concerns get a kind, a deadline to act, an escalation and a closing outcome; residents' feedback calls

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:10:00
"""
import sqlalchemy as sa
from alembic import op

import wspolnota.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='concern', nullable=False))
        batch_op.add_column(sa.Column('due_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('closed_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True))
    op.create_index('ix_concerns_due', 'concerns', ['escalated_at', 'due_at'], unique=False)
    op.create_table(
        'resident_feedback',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('need_id', sa.String(length=36), nullable=False),
        sa.Column('match_id', sa.String(length=36), nullable=True),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('logged_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_resident_feedback_need', 'resident_feedback', ['need_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_resident_feedback_need', table_name='resident_feedback')
    op.drop_table('resident_feedback')
    op.drop_index('ix_concerns_due', table_name='concerns')
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        for name in ('closed_at', 'closed_by', 'outcome', 'escalated_at', 'due_at', 'kind'):
            batch_op.drop_column(name)
