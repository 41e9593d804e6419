"""Rollups of complaints for the dashboards, the reopen and dispatch counts they read, and the
platform's own admins (a global table, like `tenants`).

The rollups start empty: `wanjia rollups rebuild` fills them from the complaints after the upgrade.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUP_TABLES = (
    'complaint_building_rollups',
    'complaint_cell_rollups',
    'complaint_day_rollups',
    'complaint_grid_day_rollups',
    'complaint_month_rollups',
    'complaint_status_rollups',
)


def upgrade() -> None:
    op.create_table('complaint_building_rollups',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('building_id', sa.Uuid(), nullable=False),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_building_rollups_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_building_rollups')),
    sa.UniqueConstraint('tenant_id', 'month', 'community_id', 'grid_id', 'building_id', name='uq_complaint_building_rollups_key')
    )
    op.create_table('complaint_cell_rollups',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('cell', sa.String(length=32), nullable=False),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_cell_rollups_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_cell_rollups')),
    sa.UniqueConstraint('tenant_id', 'month', 'community_id', 'cell', name='uq_complaint_cell_rollups_key')
    )
    op.create_table('complaint_day_rollups',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.Enum('app', 'phone', 'visit', 'inspection', name='complaintsource', native_enum=False, length=32), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Integer(), nullable=False),
    sa.Column('acknowledged', sa.Integer(), nullable=False),
    sa.Column('acknowledged_on_time', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('resolved_on_time', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('dispatched', sa.Integer(), nullable=False),
    sa.Column('handling_minutes', sa.Integer(), nullable=False),
    sa.Column('handled_within_0', sa.Integer(), nullable=False),
    sa.Column('handled_within_1', sa.Integer(), nullable=False),
    sa.Column('handled_within_2', sa.Integer(), nullable=False),
    sa.Column('handled_within_3', sa.Integer(), nullable=False),
    sa.Column('handled_within_4', sa.Integer(), nullable=False),
    sa.Column('handled_within_5', sa.Integer(), nullable=False),
    sa.Column('handled_within_6', sa.Integer(), nullable=False),
    sa.Column('handled_within_7', sa.Integer(), nullable=False),
    sa.Column('handled_within_8', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rated_1', sa.Integer(), nullable=False),
    sa.Column('rated_2', sa.Integer(), nullable=False),
    sa.Column('rated_3', sa.Integer(), nullable=False),
    sa.Column('rated_4', sa.Integer(), nullable=False),
    sa.Column('rated_5', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_day_rollups_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_day_rollups')),
    sa.UniqueConstraint('tenant_id', 'day', 'community_id', 'category_id', 'source', name='uq_complaint_day_rollups_key')
    )
    op.create_table('complaint_grid_day_rollups',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_grid_day_rollups_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_grid_day_rollups')),
    sa.UniqueConstraint('tenant_id', 'day', 'community_id', 'grid_id', name='uq_complaint_grid_day_rollups_key')
    )
    op.create_table('complaint_month_rollups',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.Enum('app', 'phone', 'visit', 'inspection', name='complaintsource', native_enum=False, length=32), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Integer(), nullable=False),
    sa.Column('acknowledged', sa.Integer(), nullable=False),
    sa.Column('acknowledged_on_time', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('resolved_on_time', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('dispatched', sa.Integer(), nullable=False),
    sa.Column('handling_minutes', sa.Integer(), nullable=False),
    sa.Column('handled_within_0', sa.Integer(), nullable=False),
    sa.Column('handled_within_1', sa.Integer(), nullable=False),
    sa.Column('handled_within_2', sa.Integer(), nullable=False),
    sa.Column('handled_within_3', sa.Integer(), nullable=False),
    sa.Column('handled_within_4', sa.Integer(), nullable=False),
    sa.Column('handled_within_5', sa.Integer(), nullable=False),
    sa.Column('handled_within_6', sa.Integer(), nullable=False),
    sa.Column('handled_within_7', sa.Integer(), nullable=False),
    sa.Column('handled_within_8', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rated_1', sa.Integer(), nullable=False),
    sa.Column('rated_2', sa.Integer(), nullable=False),
    sa.Column('rated_3', sa.Integer(), nullable=False),
    sa.Column('rated_4', sa.Integer(), nullable=False),
    sa.Column('rated_5', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_month_rollups_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_month_rollups')),
    sa.UniqueConstraint('tenant_id', 'month', 'community_id', 'category_id', 'source', name='uq_complaint_month_rollups_key')
    )
    op.create_table('complaint_status_rollups',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'accepted', 'in_progress', 'dispatched', 'resolved', 'closed', 'rejected', 'reopened', 'withdrawn', name='complaintstatus', native_enum=False, length=32), nullable=False),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_status_rollups_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_status_rollups')),
    sa.UniqueConstraint('tenant_id', 'community_id', 'grid_id', 'category_id', 'status', name='uq_complaint_status_rollups_key')
    )
    op.create_table('platform_admins',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('session_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_admins')),
    sa.UniqueConstraint('phone', name=op.f('uq_platform_admins_phone'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('dispatch_count', sa.Integer(), server_default='0', nullable=False))
    for table in ROLLUP_TABLES:
        enable_tenant_isolation(table)



def downgrade() -> None:
    for table in ROLLUP_TABLES:
        disable_tenant_isolation(table)
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('dispatch_count')
        batch_op.drop_column('reopen_count')

    op.drop_table('platform_admins')
    op.drop_table('complaint_status_rollups')
    op.drop_table('complaint_month_rollups')
    op.drop_table('complaint_grid_day_rollups')
    op.drop_table('complaint_day_rollups')
    op.drop_table('complaint_cell_rollups')
    op.drop_table('complaint_building_rollups')
