"""One resident holds at most one term over one building at a time: PostgreSQL refuses an
overlapping term whatever the application checked before (two admins appointing at the same
moment); SQLite serialises writers instead.

Terms that already overlap (made by such a race before this constraint) would stop the
constraint from being added: of each overlapping set the first appointed stands, and the others
are dismissed, with the reason saying why.

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

DISMISS_OVERLAPPING = """
UPDATE building_leaders AS later
SET dismissed_at = now(), dismissal_reason = '与同一居民同一楼栋更早任命的任期重叠，升级时免去。'
WHERE later.dismissed_at IS NULL AND EXISTS (
    SELECT 1 FROM building_leaders AS earlier
    WHERE earlier.tenant_id = later.tenant_id AND earlier.user_id = later.user_id
      AND earlier.building_id = later.building_id AND earlier.dismissed_at IS NULL
      AND earlier.starts_on <= later.ends_on AND earlier.ends_on >= later.starts_on
      AND (earlier.appointed_at, earlier.id) < (later.appointed_at, later.id)
)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The migration's role is bound by the table's policy too (FORCE): lifted for this step only.
        op.execute("ALTER TABLE building_leaders NO FORCE ROW LEVEL SECURITY")
        op.execute(DISMISS_OVERLAPPING)
        op.execute("ALTER TABLE building_leaders FORCE ROW LEVEL SECURITY")
        # btree_gist is there since 0003 (room bookings).
        op.execute(
            "ALTER TABLE building_leaders ADD CONSTRAINT ex_building_leaders_one_term_at_a_time EXCLUDE USING gist "
            "(tenant_id WITH =, user_id WITH =, building_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&) "
            "WHERE (dismissed_at IS NULL)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE building_leaders DROP CONSTRAINT ex_building_leaders_one_term_at_a_time")
