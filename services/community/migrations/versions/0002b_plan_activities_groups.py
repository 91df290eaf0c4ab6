"""the organising plan, activities, self-help groups and the partner network

Revision ID: 0002b_plan_activities_groups
Revises: 0001
Create Date: 2026-12-07 14:30:00
"""
from alembic import op
import sqlalchemy as sa
import wspolnota.db


revision = '0002b_plan_activities_groups'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_partners',
    sa.Column('action_id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=300), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('action_id', 'org_id')
    )
    op.create_table('activities',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('action_id', sa.String(length=36), nullable=True),
    sa.Column('series_id', sa.String(length=36), nullable=True),
    sa.Column('village', sa.String(length=40), nullable=False),
    sa.Column('venue', sa.String(length=300), server_default='', nullable=False),
    sa.Column('venue_asset_id', sa.String(length=36), nullable=True),
    sa.Column('starts_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('ends_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('helpers_wanted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('helpers_category', sa.String(length=3), nullable=True),
    sa.Column('involves_children', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('public_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_token')
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_series_id'), ['series_id'], unique=False)
        batch_op.create_index('ix_activities_starts', ['starts_at'], unique=False)

    op.create_table('activity_helpers',
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('recorded_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('activity_id', 'provider_id')
    )
    op.create_table('activity_registrations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('activity_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), server_default='', nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activity_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_registrations_activity_id'), ['activity_id'], unique=False)

    op.create_table('cooperation_agreements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('document_ref', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cooperation_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cooperation_agreements_org_id'), ['org_id'], unique=False)

    op.create_table('cooperation_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('action_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cooperation_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cooperation_log_org_id'), ['org_id'], unique=False)

    op.create_table('group_meetings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('present', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_meetings_group_id'), ['group_id'], unique=False)

    op.create_table('group_members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), server_default='', nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_members_group_id'), ['group_id'], unique=False)

    op.create_table('helper_clearances',
    sa.Column('volunteer_id', sa.String(length=36), nullable=False),
    sa.Column('credential_key', sa.String(length=64), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('volunteer_id', 'credential_key')
    )
    op.create_table('partner_profiles',
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('brings', sa.Text(), server_default='', nullable=False),
    sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('org_id')
    )
    op.create_table('plan_actions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('goal_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('villages', sa.JSON(), nullable=False),
    sa.Column('target_group', sa.String(length=200), server_default='', nullable=False),
    sa.Column('responsible', sa.String(length=200), server_default='', nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('percent_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_actions_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_actions_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_goals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('diagnosis_ref', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_goals_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_indicators',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('goal_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=40), server_default='', nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('manual_value', sa.Float(), nullable=True),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_indicators_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_indicators_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_versions',
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('approved_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('plan_id', 'version')
    )
    op.create_table('plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('self_help_groups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=300), server_default='', nullable=False),
    sa.Column('village', sa.String(length=40), nullable=False),
    sa.Column('facilitator', sa.String(length=200), nullable=False),
    sa.Column('schedule', sa.String(length=200), nullable=False),
    sa.Column('venue', sa.String(length=300), server_default='', nullable=False),
    sa.Column('max_members', sa.Integer(), nullable=True),
    sa.Column('action_id', sa.String(length=36), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', wspolnota.db.UtcDateTimeType(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('self_help_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_help_groups_action_id'), ['action_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('self_help_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_help_groups_action_id'))

    op.drop_table('self_help_groups')
    op.drop_table('plans')
    op.drop_table('plan_versions')
    with op.batch_alter_table('plan_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_indicators_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_indicators_goal_id'))

    op.drop_table('plan_indicators')
    with op.batch_alter_table('plan_goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_goals_plan_id'))

    op.drop_table('plan_goals')
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_actions_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_actions_goal_id'))

    op.drop_table('plan_actions')
    op.drop_table('partner_profiles')
    op.drop_table('helper_clearances')
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_members_group_id'))

    op.drop_table('group_members')
    with op.batch_alter_table('group_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_meetings_group_id'))

    op.drop_table('group_meetings')
    with op.batch_alter_table('cooperation_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cooperation_log_org_id'))

    op.drop_table('cooperation_log')
    with op.batch_alter_table('cooperation_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cooperation_agreements_org_id'))

    op.drop_table('cooperation_agreements')
    with op.batch_alter_table('activity_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_registrations_activity_id'))

    op.drop_table('activity_registrations')
    op.drop_table('activity_helpers')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_starts')
        batch_op.drop_index(batch_op.f('ix_activities_series_id'))
        batch_op.drop_index(batch_op.f('ix_activities_action_id'))

    op.drop_table('activities')
    op.drop_table('action_partners')
