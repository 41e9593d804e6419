"""Grid work: grid boundaries and building points (GCJ-02), grid workers' shifts and punches
with one open shift per worker, missed check-ins reported, inspection checklists, rounds and
findings linked to the complaints they became.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED_TABLES = (
    'shifts',
    'attendance_punches',
    'missed_check_ins',
    'inspection_checklists',
    'inspection_checklist_items',
    'inspection_rounds',
    'inspection_findings',
)


def upgrade() -> None:
    op.create_table('inspection_checklists',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_checklists_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_inspection_checklists')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_inspection_checklists_code'))
    )
    op.create_table('missed_check_ins',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_missed_check_ins_worker_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_missed_check_ins_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_missed_check_ins')),
    sa.UniqueConstraint('tenant_id', 'worker_id', 'work_date', name=op.f('uq_missed_check_ins_worker_id_work_date'))
    )
    with op.batch_alter_table('missed_check_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missed_check_ins_tenant_id_work_date'), ['tenant_id', 'work_date'], unique=False)

    op.create_table('shifts',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outside', sa.Boolean(), nullable=False),
    sa.CheckConstraint('checked_out_at IS NULL OR checked_out_at >= checked_in_at', name=op.f('ck_shifts_out_after_in')),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_shifts_worker_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_shifts_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_shifts'))
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('ix_shifts_day', ['tenant_id', 'work_date'], unique=False)
        batch_op.create_index('ix_shifts_worker_day', ['tenant_id', 'worker_id', 'work_date'], unique=False)
        batch_op.create_index('uq_shifts_one_open', ['tenant_id', 'worker_id'], unique=True, postgresql_where=sa.text('checked_out_at IS NULL'), sqlite_where=sa.text('checked_out_at IS NULL'))

    op.create_table('attendance_punches',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('shift_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('check_in', 'check_out', name='punchkind', native_enum=False, length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('accuracy_metres', sa.Float(), nullable=False),
    sa.Column('place', sa.Enum('inside', 'outside', 'unknown', name='punchplace', native_enum=False, length=32), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=True),
    sa.Column('distance_metres', sa.Float(), nullable=True),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.CheckConstraint('accuracy_metres >= 0', name=op.f('ck_attendance_punches_accuracy_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'grid_id'], ['grids.tenant_id', 'grids.id'], name=op.f('fk_attendance_punches_grid_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'shift_id'], ['shifts.tenant_id', 'shifts.id'], name=op.f('fk_attendance_punches_shift_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_attendance_punches_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_attendance_punches')),
    sa.UniqueConstraint('tenant_id', 'shift_id', 'kind', name=op.f('uq_attendance_punches_shift_id_kind'))
    )
    op.create_table('inspection_checklist_items',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('checklist_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['complaint_categories.tenant_id', 'complaint_categories.id'], name=op.f('fk_inspection_checklist_items_category_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'checklist_id'], ['inspection_checklists.tenant_id', 'inspection_checklists.id'], name=op.f('fk_inspection_checklist_items_checklist_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_checklist_items_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_inspection_checklist_items')),
    sa.UniqueConstraint('tenant_id', 'checklist_id', 'code', name=op.f('uq_inspection_checklist_items_checklist_id_code'))
    )
    op.create_table('inspection_rounds',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('checklist_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('in_progress', 'finished', 'abandoned', name='roundstatus', native_enum=False, length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'checklist_id'], ['inspection_checklists.tenant_id', 'inspection_checklists.id'], name=op.f('fk_inspection_rounds_checklist_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_inspection_rounds_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'grid_id'], ['grids.tenant_id', 'grids.id'], name=op.f('fk_inspection_rounds_grid_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'worker_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_inspection_rounds_worker_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_rounds_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_inspection_rounds'))
    )
    with op.batch_alter_table('inspection_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_rounds_community', ['tenant_id', 'community_id', 'started_at'], unique=False)
        batch_op.create_index('ix_inspection_rounds_grid', ['tenant_id', 'grid_id', 'started_at'], unique=False)
        batch_op.create_index('ix_inspection_rounds_worker', ['tenant_id', 'worker_id', 'started_at'], unique=False)

    op.create_table('inspection_findings',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('round_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('outcome', sa.Enum('fine', 'problem', name='findingoutcome', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('complaint_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaints.tenant_id', 'complaints.id'], name=op.f('fk_inspection_findings_complaint_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'item_id'], ['inspection_checklist_items.tenant_id', 'inspection_checklist_items.id'], name=op.f('fk_inspection_findings_item_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'round_id'], ['inspection_rounds.tenant_id', 'inspection_rounds.id'], name=op.f('fk_inspection_findings_round_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_findings_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_inspection_findings')),
    sa.UniqueConstraint('tenant_id', 'complaint_id', name=op.f('uq_inspection_findings_complaint_id')),
    sa.UniqueConstraint('tenant_id', 'round_id', 'item_id', name=op.f('uq_inspection_findings_round_id_item_id'))
    )
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_findings_tenant_id_outcome_complaint_id'), ['tenant_id', 'outcome', 'complaint_id'], unique=False)

    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))

    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.add_column(sa.Column('boundary', sa.JSON(), nullable=True))

    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_column('boundary')

    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_column('latitude')
        batch_op.drop_column('longitude')

    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_findings_tenant_id_outcome_complaint_id'))

    op.drop_table('inspection_findings')
    with op.batch_alter_table('inspection_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_rounds_worker')
        batch_op.drop_index('ix_inspection_rounds_grid')
        batch_op.drop_index('ix_inspection_rounds_community')

    op.drop_table('inspection_rounds')
    op.drop_table('inspection_checklist_items')
    op.drop_table('attendance_punches')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('uq_shifts_one_open', postgresql_where=sa.text('checked_out_at IS NULL'), sqlite_where=sa.text('checked_out_at IS NULL'))
        batch_op.drop_index('ix_shifts_worker_day')
        batch_op.drop_index('ix_shifts_day')

    op.drop_table('shifts')
    with op.batch_alter_table('missed_check_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missed_check_ins_tenant_id_work_date'))

    op.drop_table('missed_check_ins')
    op.drop_table('inspection_checklists')
