"""Platform core: tenants, organisation, people, refresh tokens, categories, rooms.

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_OWNED_TABLES = (
    'communities',
    'departments',
    'users',
    'complaint_categories',
    'grids',
    'refresh_tokens',
    'role_grants',
    'rooms',
    'buildings',
    'households',
    'resident_profiles',
)


def upgrade() -> None:
    op.create_table('tenants',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', name='tenantstatus', native_enum=False, length=16), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenants_slug'))
    )
    op.create_table('communities',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_communities_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_communities')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_communities_code'))
    )
    op.create_table('departments',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_departments_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_departments')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_departments_code'))
    )
    op.create_table('users',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_users_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_users')),
    sa.UniqueConstraint('tenant_id', 'phone', name=op.f('uq_users_phone'))
    )
    op.create_table('complaint_categories',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('acknowledge_hours', sa.Integer(), nullable=False),
    sa.Column('resolve_days', sa.Integer(), nullable=False),
    sa.Column('default_department_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('acknowledge_hours > 0', name=op.f('ck_complaint_categories_acknowledge_positive')),
    sa.CheckConstraint('resolve_days > 0', name=op.f('ck_complaint_categories_resolve_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'default_department_id'], ['departments.tenant_id', 'departments.id'], name=op.f('fk_complaint_categories_default_department_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_categories_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_categories')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_complaint_categories_code'))
    )
    op.create_table('grids',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_grids_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_grids_worker_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_grids_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_grids')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_grids_code'))
    )
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grids_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grids_worker_id'), ['worker_id'], unique=False)

    op.create_table('refresh_tokens',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_refresh_tokens_user_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_refresh_tokens_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('tenant_id', 'token_hash', name=op.f('uq_refresh_tokens_token_hash'))
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('role_grants',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('resident', 'grid_worker', 'staff', 'community_admin', 'tenant_admin', 'platform_admin', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=True),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint("(role = 'community_admin') = (community_id IS NOT NULL)", name=op.f('ck_role_grants_community_scope')),
    sa.CheckConstraint("(role = 'staff') = (department_id IS NOT NULL)", name=op.f('ck_role_grants_department_scope')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_role_grants_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['departments.tenant_id', 'departments.id'], name=op.f('fk_role_grants_department_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_role_grants_user_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_role_grants_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_role_grants')),
    sa.UniqueConstraint('tenant_id', 'user_id', 'role', 'community_id', 'department_id', name=op.f('uq_role_grants_user_id_role_community_id_department_id'))
    )
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grants_user_id'), ['user_id'], unique=False)

    op.create_table('rooms',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('facilities', sa.JSON(), nullable=False),
    sa.Column('requires_approval', sa.Boolean(), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_rooms_capacity_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_rooms_community_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_rooms_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('tenant_id', 'community_id', 'name', name=op.f('uq_rooms_community_id_name'))
    )
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rooms_community_id'), ['community_id'], unique=False)

    op.create_table('buildings',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'grid_id'], ['grids.tenant_id', 'grids.id'], name=op.f('fk_buildings_grid_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_buildings_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_buildings')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_buildings_code'))
    )
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buildings_grid_id'), ['grid_id'], unique=False)

    op.create_table('households',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('building_id', sa.Uuid(), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'building_id'], ['buildings.tenant_id', 'buildings.id'], name=op.f('fk_households_building_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_households_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_households')),
    sa.UniqueConstraint('tenant_id', 'building_id', 'room', name=op.f('uq_households_building_id_room'))
    )
    op.create_table('resident_profiles',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('building_id', sa.Uuid(), nullable=False),
    sa.Column('room', sa.String(length=32), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', name='residentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('rejection_reason', sa.String(length=200), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'building_id'], ['buildings.tenant_id', 'buildings.id'], name=op.f('fk_resident_profiles_building_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'], name=op.f('fk_resident_profiles_household_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'id'], ['users.tenant_id', 'users.id'], name=op.f('fk_resident_profiles_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_resident_profiles_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_resident_profiles'))
    )
    with op.batch_alter_table('resident_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_profiles_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_profiles_household_id'), ['household_id'], unique=False)
    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    with op.batch_alter_table('resident_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_profiles_household_id'))
        batch_op.drop_index(batch_op.f('ix_resident_profiles_building_id'))

    op.drop_table('resident_profiles')
    op.drop_table('households')
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_grid_id'))

    op.drop_table('buildings')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_community_id'))

    op.drop_table('rooms')
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grants_user_id'))

    op.drop_table('role_grants')
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_family_id'))

    op.drop_table('refresh_tokens')
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grids_worker_id'))
        batch_op.drop_index(batch_op.f('ix_grids_community_id'))

    op.drop_table('grids')
    op.drop_table('complaint_categories')
    op.drop_table('users')
    op.drop_table('departments')
    op.drop_table('communities')
    op.drop_table('tenants')
