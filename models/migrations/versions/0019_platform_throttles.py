"""The platform's own throttles: platform admins signing in are locked out like everyone else,
counted in a global table (they belong to no street office, so a tenant's table cannot hold
their counts).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('platform_throttles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('window_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_throttles')),
    sa.UniqueConstraint('key', name=op.f('uq_platform_throttles_key'))
    )


def downgrade() -> None:
    op.drop_table('platform_throttles')
