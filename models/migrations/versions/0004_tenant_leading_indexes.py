"""Tenant-leading indexes: every foreign-key index starts with tenant_id, as the others do.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_grid_id'))
        batch_op.create_index(batch_op.f('ix_buildings_tenant_id_grid_id'), ['tenant_id', 'grid_id'], unique=False)

    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grids_community_id'))
        batch_op.drop_index(batch_op.f('ix_grids_worker_id'))
        batch_op.create_index(batch_op.f('ix_grids_tenant_id_community_id'), ['tenant_id', 'community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grids_tenant_id_worker_id'), ['tenant_id', 'worker_id'], unique=False)

    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_family_id'))
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_user_id'))
        batch_op.create_index(batch_op.f('ix_refresh_tokens_tenant_id_family_id'), ['tenant_id', 'family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_tenant_id_user_id'), ['tenant_id', 'user_id'], unique=False)

    with op.batch_alter_table('resident_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_profiles_building_id'))
        batch_op.drop_index(batch_op.f('ix_resident_profiles_household_id'))
        batch_op.create_index(batch_op.f('ix_resident_profiles_tenant_id_building_id'), ['tenant_id', 'building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_profiles_tenant_id_household_id'), ['tenant_id', 'household_id'], unique=False)

    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grants_user_id'))
        batch_op.create_index(batch_op.f('ix_role_grants_tenant_id_user_id'), ['tenant_id', 'user_id'], unique=False)

    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_community_id'))
        batch_op.create_index(batch_op.f('ix_rooms_tenant_id_community_id'), ['tenant_id', 'community_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_tenant_id_community_id'))
        batch_op.create_index(batch_op.f('ix_rooms_community_id'), ['community_id'], unique=False)

    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grants_tenant_id_user_id'))
        batch_op.create_index(batch_op.f('ix_role_grants_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('resident_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_profiles_tenant_id_household_id'))
        batch_op.drop_index(batch_op.f('ix_resident_profiles_tenant_id_building_id'))
        batch_op.create_index(batch_op.f('ix_resident_profiles_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_profiles_building_id'), ['building_id'], unique=False)

    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_tenant_id_user_id'))
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_tenant_id_family_id'))
        batch_op.create_index(batch_op.f('ix_refresh_tokens_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_family_id'), ['family_id'], unique=False)

    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grids_tenant_id_worker_id'))
        batch_op.drop_index(batch_op.f('ix_grids_tenant_id_community_id'))
        batch_op.create_index(batch_op.f('ix_grids_worker_id'), ['worker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grids_community_id'), ['community_id'], unique=False)

    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_tenant_id_grid_id'))
        batch_op.create_index(batch_op.f('ix_buildings_grid_id'), ['grid_id'], unique=False)

