"""residents' notices: the channel (sms | call | none), the consent's date and who recorded it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_channel', sa.String(length=10), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('notice_consent_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('notice_consent_by', sa.String(length=200), server_default='',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('notice_consent_by')
        batch_op.drop_column('notice_consent_date')
        batch_op.drop_column('notice_channel')
