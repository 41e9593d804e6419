"""One resident holds at most one term over one building at a time: PostgreSQL refuses an
overlapping term whatever the application checked before (two admins appointing at the same
moment); SQLite serialises writers instead.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # btree_gist is there since 0003 (room bookings).
        op.execute(
            "ALTER TABLE building_leaders ADD CONSTRAINT ex_building_leaders_one_term_at_a_time EXCLUDE USING gist "
            "(tenant_id WITH =, user_id WITH =, building_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&) "
            "WHERE (dismissed_at IS NULL)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE building_leaders DROP CONSTRAINT ex_building_leaders_one_term_at_a_time")
