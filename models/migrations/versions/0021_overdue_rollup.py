"""Counting the complaints overdue now without reading every overdue item: the status rollups count the complaints the
sweep flagged overdue for good, and two partial indexes hold the open complaints that are not,
so that only those past a deadline since the sweep last ran are counted live
(models.complaints.UNSETTLED_OPEN). Creating an index does not rebuild complaints on SQLite, so
0015's search triggers stay.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "'accepted', 'dispatched', 'in_progress', 'reopened', 'submitted'"
UNSETTLED_OPEN = (
    f"status IN ({OPEN}) AND (overdue_at IS NULL OR (status <> 'submitted' AND resolve_due_at >= overdue_at))"
)
UNFLAGGED_UNACKNOWLEDGED = "status = 'submitted' AND overdue_at IS NULL"
# Read and written across every tenant, as the owner, whom row-level security binds too: bound,
# the update would find no row to count into.
BACKFILLED = ('complaints', 'complaint_status_rollups')
BACKFILL = f"""
UPDATE complaint_status_rollups SET overdue = (
    SELECT count(*) FROM complaints c
    WHERE c.tenant_id = complaint_status_rollups.tenant_id
      AND c.grid_id = complaint_status_rollups.grid_id
      AND c.status = complaint_status_rollups.status
      AND c.community_id = complaint_status_rollups.community_id
      AND c.category_id = complaint_status_rollups.category_id
      AND c.overdue_at IS NOT NULL
      AND (c.status = 'submitted' OR c.resolve_due_at < c.overdue_at)
)
WHERE status IN ({OPEN})
"""


def upgrade() -> None:
    op.add_column('complaint_status_rollups', sa.Column('overdue', sa.Integer(), server_default='0', nullable=False))
    for name, column, predicate in (
        ('ix_complaints_unsettled_deadlines', 'resolve_due_at', UNSETTLED_OPEN),
        ('ix_complaints_unflagged_acknowledge_deadlines', 'acknowledge_due_at', UNFLAGGED_UNACKNOWLEDGED),
    ):
        op.create_index(
            name,
            'complaints',
            ['tenant_id', column],
            unique=False,
            postgresql_where=sa.text(predicate),
            sqlite_where=sa.text(predicate),
        )
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        for table in BACKFILLED:
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
    op.execute(BACKFILL)
    if postgresql:
        for table in BACKFILLED:
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')


def downgrade() -> None:
    op.drop_index('ix_complaints_unflagged_acknowledge_deadlines', table_name='complaints')
    op.drop_index('ix_complaints_unsettled_deadlines', table_name='complaints')
    with op.batch_alter_table('complaint_status_rollups') as batch_op:
        batch_op.drop_column('overdue')
