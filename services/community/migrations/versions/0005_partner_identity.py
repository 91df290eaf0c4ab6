"""partner organisations' public identity (name, kind, KRS) in known_providers; plan actions set by hand

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('known_providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('krs', sa.String(length=10), nullable=True))
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_by_hand', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Before this revision nothing moved an action by itself: any progress recorded so far was set by staff.
    plan_actions = sa.table('plan_actions', sa.column('status', sa.String), sa.column('percent_done', sa.Integer),
                            sa.column('progress_by_hand', sa.Boolean))
    op.execute(plan_actions.update().where(sa.or_(plan_actions.c.status != 'planned', plan_actions.c.percent_done > 0))
               .values(progress_by_hand=True))


def downgrade() -> None:
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.drop_column('progress_by_hand')
    with op.batch_alter_table('known_providers', schema=None) as batch_op:
        batch_op.drop_column('krs')
        batch_op.drop_column('kind')
        batch_op.drop_column('name')
