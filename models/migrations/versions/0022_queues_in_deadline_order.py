"""The complaint queues end with the id: the deadline order is (resolve_due_at, id), and an index
ending at the deadline gives rows in that order only up to ties, so PostgreSQL read a lane's whole
range and sorted it to take a page (a grid worker's 1,900 submitted items at 10M, 4 ms a lane).
Ending with the id, a lane is read in its order and stops at the page.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUES = {
    'ix_complaints_grid_queue': ['tenant_id', 'grid_id', 'status', 'resolve_due_at'],
    'ix_complaints_community_queue': ['tenant_id', 'community_id', 'status', 'resolve_due_at'],
    'ix_complaints_department_queue': ['tenant_id', 'department_id', 'status', 'resolve_due_at'],
    'ix_complaints_handler_queue': ['tenant_id', 'handler_id', 'status', 'resolve_due_at'],
    'ix_complaints_open_deadlines': ['tenant_id', 'status', 'resolve_due_at'],
}


def _recreate(with_id: bool) -> None:
    for name, columns in QUEUES.items():
        op.drop_index(name, table_name='complaints')
        op.create_index(name, 'complaints', [*columns, 'id'] if with_id else columns, unique=False)


def upgrade() -> None:
    _recreate(with_id=True)


def downgrade() -> None:
    _recreate(with_id=False)
