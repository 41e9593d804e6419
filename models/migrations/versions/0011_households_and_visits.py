"""Household registration (入户登记): members with ID numbers sealed at rest and a blind index,
care tags, the history of every change; home visits (入户走访) with findings and photos, care
reminders; the append-only audit log of whole phones and ID numbers shown.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED_TABLES = (
    'full_view_audit',
    'care_visit_reminders',
    'household_members',
    'household_visits',
    'household_history',
    'household_member_tags',
    'visit_findings',
    'visit_photos',
)

# The audit log is append-only, for the app's role and the owner alike. A delete cascading from
# a removed tenant (a trigger nested in the foreign key's own) is let through.
APPEND_ONLY_POSTGRESQL = (
    """CREATE FUNCTION full_view_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'full_view_audit is append-only' USING ERRCODE = 'restrict_violation';
    END $$""",
    "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON full_view_audit "
    "FOR EACH ROW EXECUTE FUNCTION full_view_audit_append_only()",
)
APPEND_ONLY_SQLITE = tuple(
    f"CREATE TRIGGER full_view_audit_no_{verb.lower()} BEFORE {verb} ON full_view_audit "
    "BEGIN SELECT RAISE(ABORT, 'full_view_audit is append-only'); END"
    for verb in ("UPDATE", "DELETE")
)


def upgrade() -> None:
    op.create_table('full_view_audit',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('viewer_id', sa.Uuid(), nullable=False),
    sa.Column('subject_kind', sa.Enum('Person', 'HouseholdMember', name='subjectkind', native_enum=False, length=32), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('field', sa.Enum('phone', 'id_number', name='auditedfield', native_enum=False, length=32), nullable=False),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'viewer_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_full_view_audit_viewer_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_full_view_audit_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_full_view_audit'))
    )
    with op.batch_alter_table('full_view_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_full_view_audit_tenant_id_subject_id_viewed_at'), ['tenant_id', 'subject_id', 'viewed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_full_view_audit_tenant_id_viewed_at'), ['tenant_id', 'viewed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_full_view_audit_tenant_id_viewer_id_viewed_at'), ['tenant_id', 'viewer_id', 'viewed_at'], unique=False)

    op.create_table('care_visit_reminders',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_care_visit_reminders_household_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_visit_reminders_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_visit_reminders'))
    )
    with op.batch_alter_table('care_visit_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_visit_reminders_tenant_id_household_id_reminded_at'), ['tenant_id', 'household_id', 'reminded_at'], unique=False)

    op.create_table('household_members',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('id_number_sealed', sa.LargeBinary(length=64), nullable=True),
    sa.Column('id_number_index', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('residence_status', sa.Enum('hukou', 'resident', 'floating', 'nominal', name='residencestatus', native_enum=False, length=32), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('moved_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_household_members_household_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_household_members_user_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_members_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_household_members'))
    )
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_members_tenant_id_household_id'), ['tenant_id', 'household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_members_tenant_id_id_number_index'), ['tenant_id', 'id_number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_members_tenant_id_user_id'), ['tenant_id', 'user_id'], unique=False)
        batch_op.create_index('uq_household_members_current_id_number', ['tenant_id', 'id_number_index'], unique=True, postgresql_where=sa.text('moved_out_at IS NULL'), sqlite_where=sa.text('moved_out_at IS NULL'))

    op.create_table('household_visits',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('routine', 'care', 'dispute', 'policy', name='visitkind', native_enum=False, length=32), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_household_visits_household_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_household_visits_worker_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_visits_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_household_visits'))
    )
    with op.batch_alter_table('household_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_visits_tenant_id_household_id_visited_at'), ['tenant_id', 'household_id', 'visited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_visits_tenant_id_worker_id_visited_at'), ['tenant_id', 'worker_id', 'visited_at'], unique=False)

    op.create_table('household_history',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('change', sa.Enum('created', 'member_added', 'member_updated', 'member_moved_out', 'resident_joined', name='householdchange', native_enum=False, length=32), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_household_history_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_household_history_household_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['household_members.tenant_id', 'household_members.id'], name=op.f('fk_household_history_member_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_history_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_household_history'))
    )
    with op.batch_alter_table('household_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_history_tenant_id_household_id_at'), ['tenant_id', 'household_id', 'at'], unique=False)

    op.create_table('household_member_tags',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('tag', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['household_members.tenant_id', 'household_members.id'], name=op.f('fk_household_member_tags_member_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_household_member_tags_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_household_member_tags')),
    sa.UniqueConstraint('tenant_id', 'member_id', 'tag', name=op.f('uq_household_member_tags_member_id_tag'))
    )
    with op.batch_alter_table('household_member_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_member_tags_tenant_id_tag'), ['tenant_id', 'tag'], unique=False)

    op.create_table('visit_findings',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaints.tenant_id', 'complaints.id'], name=op.f('fk_visit_findings_complaint_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'visit_id'], ['household_visits.tenant_id', 'household_visits.id'], name=op.f('fk_visit_findings_visit_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_visit_findings_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_visit_findings'))
    )
    with op.batch_alter_table('visit_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_findings_tenant_id_complaint_id'), ['tenant_id', 'complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_findings_tenant_id_visit_id'), ['tenant_id', 'visit_id'], unique=False)

    op.create_table('visit_photos',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('image', 'video', name='attachmentkind', native_enum=False, length=32), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'visit_id'], ['household_visits.tenant_id', 'household_visits.id'], name=op.f('fk_visit_photos_visit_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_visit_photos_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_visit_photos'))
    )
    with op.batch_alter_table('visit_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_photos_tenant_id_visit_id'), ['tenant_id', 'visit_id'], unique=False)

    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in APPEND_ONLY_POSTGRESQL if postgresql else APPEND_ONLY_SQLITE:
        op.execute(statement)
    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    with op.batch_alter_table('visit_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_photos_tenant_id_visit_id'))

    op.drop_table('visit_photos')
    with op.batch_alter_table('visit_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_findings_tenant_id_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_findings_tenant_id_complaint_id'))

    op.drop_table('visit_findings')
    with op.batch_alter_table('household_member_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_member_tags_tenant_id_tag'))

    op.drop_table('household_member_tags')
    with op.batch_alter_table('household_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_history_tenant_id_household_id_at'))

    op.drop_table('household_history')
    with op.batch_alter_table('household_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_visits_tenant_id_worker_id_visited_at'))
        batch_op.drop_index(batch_op.f('ix_household_visits_tenant_id_household_id_visited_at'))

    op.drop_table('household_visits')
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.drop_index('uq_household_members_current_id_number')
        batch_op.drop_index(batch_op.f('ix_household_members_tenant_id_user_id'))
        batch_op.drop_index(batch_op.f('ix_household_members_tenant_id_id_number_index'))
        batch_op.drop_index(batch_op.f('ix_household_members_tenant_id_household_id'))

    op.drop_table('household_members')
    with op.batch_alter_table('care_visit_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_visit_reminders_tenant_id_household_id_reminded_at'))

    op.drop_table('care_visit_reminders')
    with op.batch_alter_table('full_view_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_full_view_audit_tenant_id_viewer_id_viewed_at'))
        batch_op.drop_index(batch_op.f('ix_full_view_audit_tenant_id_viewed_at'))
        batch_op.drop_index(batch_op.f('ix_full_view_audit_tenant_id_subject_id_viewed_at'))

    op.drop_table('full_view_audit')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS full_view_audit_append_only()')
