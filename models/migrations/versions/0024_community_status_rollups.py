"""Complaint counts per community and status: what an admin's counters (complaintCounts) read.

They summed the status rollups, whose rows are per grid, category and status and grow with the
data: 1,764 rows for the benchmark's big office at 10,000 complaints, 9,911 at a million, each read twice
(by status, then the overdue by community), with the row-level-security check evaluated on every
one. These hold a few dozen rows an office at any size. Filled here from the status rollups,
which count the same complaints.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import new_id
from models.migrations.tenant_isolation import (
    disable_tenant_isolation,
    enable_tenant_isolation,
    read_across_tenants,
)

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'complaint_community_status_rollups'
STATUS_ROLLUPS = sa.table(
    'complaint_status_rollups',
    sa.column('tenant_id', sa.Uuid()),
    sa.column('community_id', sa.Uuid()),
    sa.column('status', sa.String()),
    sa.column('complaints', sa.Integer()),
    sa.column('overdue', sa.Integer()),
)
KEY = (STATUS_ROLLUPS.c.tenant_id, STATUS_ROLLUPS.c.community_id, STATUS_ROLLUPS.c.status)
SUMMED = sa.select(*KEY, sa.func.sum(STATUS_ROLLUPS.c.complaints), sa.func.sum(STATUS_ROLLUPS.c.overdue)).group_by(*KEY)


def upgrade() -> None:
    table = op.create_table(
        TABLE,
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('community_id', sa.Uuid(), nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'submitted',
                'accepted',
                'in_progress',
                'dispatched',
                'resolved',
                'closed',
                'rejected',
                'reopened',
                'withdrawn',
                name='complaintstatus',
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column('complaints', sa.Integer(), nullable=False),
        sa.Column('overdue', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{TABLE}_tenant_id'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f(f'pk_{TABLE}')),
        sa.UniqueConstraint('tenant_id', 'community_id', 'status', name=f'uq_{TABLE}_key'),
    )
    summed = read_across_tenants(SUMMED, 'complaint_status_rollups')
    if summed:
        op.bulk_insert(
            table,
            [
                {
                    'tenant_id': tenant_id,
                    'id': new_id(),
                    'community_id': community_id,
                    'status': status,
                    'complaints': complaints,
                    'overdue': overdue,
                }
                for tenant_id, community_id, status, complaints, overdue in summed
            ],
        )
    enable_tenant_isolation(TABLE)


def downgrade() -> None:
    disable_tenant_isolation(TABLE)
    op.drop_table(TABLE)
