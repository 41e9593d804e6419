"""The whole office's complaints by deadline, as one index range.

A tenant admin's list in deadline order without a status filter (a search for a common word)
was merged from one walk per status of (tenant, status, deadline): nine walks of a few hundred
rows each for a page of twenty at a million complaints, where one walk of the office by
deadline finds the same page.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_complaints_deadlines', 'complaints', ['tenant_id', 'resolve_due_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaints_deadlines', table_name='complaints')
