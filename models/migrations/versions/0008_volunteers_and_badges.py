"""Volunteers (志愿服务): registrations, teams, activities, sign-ups without overbooking or
overlap, an append-only points ledger and monthly totals; grid workers' badges.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_OWNED_TABLES = (
    'volunteers',
    'volunteer_teams',
    'volunteer_team_members',
    'volunteer_activities',
    'volunteer_activity_events',
    'volunteer_signups',
    'volunteer_points_ledger',
    'volunteer_monthly_totals',
    'worker_badges',
    'badge_registrations',
)

# One volunteer never holds two activities that overlap in time: the database refuses it,
# whatever the application checked before (SQLite serialises writers instead).
NO_OVERLAP = (
    "ALTER TABLE volunteer_signups ADD CONSTRAINT ex_volunteer_signups_no_overlap EXCLUDE USING gist "
    "(tenant_id WITH =, volunteer_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (status IN ('waitlisted', 'confirmed', 'checked_in', 'served'))"
)

# The points ledger is append-only, for the app's role and the owner alike. A delete cascading
# from a removed tenant (a trigger nested in the foreign key's own) is let through.
APPEND_ONLY_POSTGRESQL = (
    """CREATE FUNCTION volunteer_points_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'volunteer_points_ledger is append-only' USING ERRCODE = 'restrict_violation';
    END $$""",
    "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON volunteer_points_ledger "
    "FOR EACH ROW EXECUTE FUNCTION volunteer_points_ledger_append_only()",
)
APPEND_ONLY_SQLITE = tuple(
    f"CREATE TRIGGER volunteer_points_ledger_no_{verb.lower()} BEFORE {verb} ON volunteer_points_ledger "
    "BEGIN SELECT RAISE(ABORT, 'volunteer_points_ledger is append-only'); END"
    for verb in ("UPDATE", "DELETE")
)


def upgrade() -> None:
    op.create_table('volunteer_teams',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_volunteer_teams_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'created_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_volunteer_teams_created_by_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteer_teams_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteer_teams')),
    sa.UniqueConstraint('tenant_id', 'community_id', 'name', name=op.f('uq_volunteer_teams_community_id_name'))
    )
    op.create_table('volunteers',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('availability_note', sa.String(length=200), nullable=True),
    sa.Column('party_member_reporting', sa.Boolean(), nullable=False),
    sa.Column('work_unit', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='volunteerstatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total_minutes', sa.Integer(), nullable=False),
    sa.Column('points_balance', sa.Integer(), nullable=False),
    sa.Column('points_earned', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('points_balance >= 0', name=op.f('ck_volunteers_balance_not_negative')),
    sa.CheckConstraint('total_minutes >= 0', name=op.f('ck_volunteers_minutes_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_volunteers_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'decided_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_volunteers_decided_by_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'id'], ['users.tenant_id', 'users.id'], name=op.f('fk_volunteers_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteers_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteers'))
    )
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteers_tenant_id_community_id_status'), ['tenant_id', 'community_id', 'status'], unique=False)

    op.create_table('worker_badges',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_worker_badges_worker_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_worker_badges_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_worker_badges')),
    sa.UniqueConstraint('tenant_id', 'worker_id', name=op.f('uq_worker_badges_worker_id'))
    )
    op.create_table('volunteer_activities',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('organiser_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signup_deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('required_skills', sa.JSON(), nullable=False),
    sa.Column('points_per_hour', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('draft', 'published', 'completed', 'cancelled', name='activitystatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_volunteer_activities_capacity_positive')),
    sa.CheckConstraint('points_per_hour >= 0', name=op.f('ck_volunteer_activities_points_not_negative')),
    sa.CheckConstraint('signup_deadline <= starts_at', name=op.f('ck_volunteer_activities_deadline_before_start')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_volunteer_activities_ends_after_start')),
    sa.CheckConstraint('taken >= 0 AND taken <= capacity', name=op.f('ck_volunteer_activities_taken_within_capacity')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_volunteer_activities_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'organiser_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_volunteer_activities_organiser_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'team_id'], ['volunteer_teams.tenant_id', 'volunteer_teams.id'], name=op.f('fk_volunteer_activities_team_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteer_activities_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteer_activities'))
    )
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_activities_community', ['tenant_id', 'community_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_volunteer_activities_listing', ['tenant_id', 'status', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_activities_tenant_id_team_id'), ['tenant_id', 'team_id'], unique=False)

    op.create_table('volunteer_monthly_totals',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('volunteer_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_volunteer_monthly_totals_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'volunteer_id'], ['volunteers.tenant_id', 'volunteers.id'], name=op.f('fk_volunteer_monthly_totals_volunteer_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteer_monthly_totals_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteer_monthly_totals')),
    sa.UniqueConstraint('tenant_id', 'volunteer_id', 'month', name=op.f('uq_volunteer_monthly_totals_volunteer_id_month'))
    )
    with op.batch_alter_table('volunteer_monthly_totals', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_monthly_totals_by_minutes', ['tenant_id', 'community_id', 'month', 'minutes', 'volunteer_id'], unique=False)
        batch_op.create_index('ix_volunteer_monthly_totals_by_points', ['tenant_id', 'community_id', 'month', 'points', 'volunteer_id'], unique=False)

    op.create_table('volunteer_team_members',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('volunteer_id', sa.Uuid(), nullable=False),
    sa.Column('is_leader', sa.Boolean(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'team_id'], ['volunteer_teams.tenant_id', 'volunteer_teams.id'], name=op.f('fk_volunteer_team_members_team_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'volunteer_id'], ['volunteers.tenant_id', 'volunteers.id'], name=op.f('fk_volunteer_team_members_volunteer_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteer_team_members_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteer_team_members')),
    sa.UniqueConstraint('tenant_id', 'team_id', 'volunteer_id', name=op.f('uq_volunteer_team_members_team_id_volunteer_id'))
    )
    with op.batch_alter_table('volunteer_team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_team_members_tenant_id_volunteer_id'), ['tenant_id', 'volunteer_id'], unique=False)

    op.create_table('volunteer_activity_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('activity_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.Enum('create', 'update', 'publish', 'sign_up', 'cancel', 'complete', 'remind', name='activityaction', native_enum=False, length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sa.Enum('draft', 'published', 'completed', 'cancelled', name='activitystatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('draft', 'published', 'completed', 'cancelled', name='activitystatus', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'activity_id'], ['volunteer_activities.tenant_id', 'volunteer_activities.id'], name=op.f('fk_volunteer_activity_events_activity_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_volunteer_activity_events_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteer_activity_events_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteer_activity_events'))
    )
    with op.batch_alter_table('volunteer_activity_events', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_activity_events_activity', ['tenant_id', 'activity_id', 'id'], unique=False)

    op.create_table('volunteer_signups',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('activity_id', sa.Uuid(), nullable=False),
    sa.Column('volunteer_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('waitlisted', 'confirmed', 'checked_in', 'served', 'cancelled', 'absent', name='signupstatus', native_enum=False, length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('adjustment_reason', sa.String(length=200), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes IS NULL OR minutes >= 0', name=op.f('ck_volunteer_signups_minutes_not_negative')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_volunteer_signups_ends_after_start')),
    sa.ForeignKeyConstraint(['tenant_id', 'activity_id'], ['volunteer_activities.tenant_id', 'volunteer_activities.id'], name=op.f('fk_volunteer_signups_activity_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'volunteer_id'], ['volunteers.tenant_id', 'volunteers.id'], name=op.f('fk_volunteer_signups_volunteer_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteer_signups_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteer_signups')),
    sa.UniqueConstraint('tenant_id', 'activity_id', 'volunteer_id', name=op.f('uq_volunteer_signups_activity_id_volunteer_id'))
    )
    with op.batch_alter_table('volunteer_signups', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_signups_line', ['tenant_id', 'activity_id', 'status', 'queued_at', 'id'], unique=False)
        batch_op.create_index('ix_volunteer_signups_volunteer', ['tenant_id', 'volunteer_id', 'starts_at'], unique=False)

    op.create_table('volunteer_points_ledger',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('volunteer_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('earned', 'adjusted', 'redeemed', name='pointsentrykind', native_enum=False, length=32), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('signup_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_volunteer_points_ledger_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'signup_id'], ['volunteer_signups.tenant_id', 'volunteer_signups.id'], name=op.f('fk_volunteer_points_ledger_signup_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'volunteer_id'], ['volunteers.tenant_id', 'volunteers.id'], name=op.f('fk_volunteer_points_ledger_volunteer_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_volunteer_points_ledger_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_volunteer_points_ledger'))
    )
    with op.batch_alter_table('volunteer_points_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_points_ledger_volunteer', ['tenant_id', 'volunteer_id', 'id'], unique=False)

    op.create_table('badge_registrations',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'grid_id'], ['grids.tenant_id', 'grids.id'], name=op.f('fk_badge_registrations_grid_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'id'], ['resident_profiles.tenant_id', 'resident_profiles.id'], name=op.f('fk_badge_registrations_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_badge_registrations_worker_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_badge_registrations_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_badge_registrations'))
    )
    with op.batch_alter_table('badge_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_registrations_tenant_id_worker_id'), ['tenant_id', 'worker_id'], unique=False)


    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(NO_OVERLAP)
        for statement in APPEND_ONLY_POSTGRESQL:
            op.execute(statement)
    else:
        for statement in APPEND_ONLY_SQLITE:
            op.execute(statement)
    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    with op.batch_alter_table('badge_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_registrations_tenant_id_worker_id'))

    op.drop_table('badge_registrations')
    with op.batch_alter_table('volunteer_points_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_points_ledger_volunteer')

    op.drop_table('volunteer_points_ledger')
    with op.batch_alter_table('volunteer_signups', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_signups_volunteer')
        batch_op.drop_index('ix_volunteer_signups_line')

    op.drop_table('volunteer_signups')
    with op.batch_alter_table('volunteer_activity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_activity_events_activity')

    op.drop_table('volunteer_activity_events')
    with op.batch_alter_table('volunteer_team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_team_members_tenant_id_volunteer_id'))

    op.drop_table('volunteer_team_members')
    with op.batch_alter_table('volunteer_monthly_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_monthly_totals_by_points')
        batch_op.drop_index('ix_volunteer_monthly_totals_by_minutes')

    op.drop_table('volunteer_monthly_totals')
    with op.batch_alter_table('volunteer_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_activities_tenant_id_team_id'))
        batch_op.drop_index('ix_volunteer_activities_listing')
        batch_op.drop_index('ix_volunteer_activities_community')

    op.drop_table('volunteer_activities')
    op.drop_table('worker_badges')
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteers_tenant_id_community_id_status'))

    op.drop_table('volunteers')
    op.drop_table('volunteer_teams')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS volunteer_points_ledger_append_only()")
