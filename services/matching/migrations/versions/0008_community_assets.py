"""community assets on the village map

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 17:55:00

Empty at first: community's AssetRecorded events fill it (for assets recorded before the events existed, run
`python -m services.community.assets republish` once against the community database).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('community_assets',
    sa.Column('asset_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subtype', sa.String(length=40), server_default='', nullable=False),
    sa.Column('village', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('accessible', sa.Boolean(), nullable=False),
    sa.Column('lendable', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('asset_id')
    )
    with op.batch_alter_table('community_assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_assets_village'), ['village'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('community_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_assets_village'))
    op.drop_table('community_assets')
