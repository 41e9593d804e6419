"""Work orders (each dispatch of a complaint to a department) and their rollups for the
department dashboard, and an index for the appointments of a period.

The complaints that a department holds now get their work order from the complaint itself (its
id reused: a work order made later gets a fresh one); earlier dispatches, returned or resolved,
were not kept and are not counted. The rollups start empty: `wanjia rollups rebuild` fills them.
Nothing here alters the complaints table (on SQLite that would rebuild it and drop 0015's
search triggers).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('work_orders', 'work_order_day_rollups', 'work_order_month_rollups')
# Read across every tenant: the table owner is bound by row-level security too.
READ = ('complaints', 'complaint_events')
BACKFILL = """
INSERT INTO work_orders (tenant_id, id, complaint_id, department_id, community_id, dispatched_at, resolve_due_at, signed_at)
SELECT c.tenant_id, c.id, c.id, c.department_id, c.community_id,
       COALESCE((SELECT MAX(e.created_at) FROM complaint_events e
                 WHERE e.tenant_id = c.tenant_id AND e.complaint_id = c.id AND e.action = 'dispatch'), c.updated_at),
       c.resolve_due_at, c.department_accepted_at
FROM complaints c
WHERE c.status = 'dispatched' AND c.department_id IS NOT NULL
"""


def _counters() -> list[sa.Column[int]]:
    return [
        sa.Column(name, sa.Integer(), nullable=False)
        for name in ('received', 'signed', 'signed_on_time', 'returned', 'resolved', 'resolved_on_time')
    ]


def _rollup(name: str, period: str) -> None:
    op.create_table(name,
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column(period, sa.Date(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    *_counters(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{name}_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f(f'pk_{name}')),
    sa.UniqueConstraint('tenant_id', period, 'community_id', 'department_id', name=f'uq_{name}_key')
    )


def upgrade() -> None:
    op.create_table('work_orders',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_work_orders_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaints.tenant_id', 'complaints.id'], name=op.f('fk_work_orders_complaint_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['departments.tenant_id', 'departments.id'], name=op.f('fk_work_orders_department_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_work_orders_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_work_orders'))
    )
    op.create_index('ix_work_orders_complaint', 'work_orders', ['tenant_id', 'complaint_id'], unique=False)
    _rollup('work_order_day_rollups', 'day')
    _rollup('work_order_month_rollups', 'month')
    op.create_index('ix_appointments_created', 'appointments', ['tenant_id', 'created_at'], unique=False)
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        for table in READ:
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
    op.execute(BACKFILL)
    if postgresql:
        for table in READ:
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
    for table in TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_isolation(table)
    op.drop_index('ix_appointments_created', table_name='appointments')
    op.drop_table('work_order_month_rollups')
    op.drop_table('work_order_day_rollups')
    op.drop_index('ix_work_orders_complaint', table_name='work_orders')
    op.drop_table('work_orders')
