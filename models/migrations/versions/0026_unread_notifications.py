"""Each user's unread notifications as one counted row (models.notifications.UnreadNotifications):
counting them on each request grew with what the user left unread (1,786 for the benchmark's
grid worker at 1.2 million complaints). Filled here from the notifications.

Revision ID: 0026
Revises: 0025
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

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'unread_notifications'
NOTIFICATIONS = sa.table(
    'notifications',
    sa.column('tenant_id', sa.Uuid()),
    sa.column('recipient_id', sa.Uuid()),
    sa.column('read_at', sa.DateTime(timezone=True)),
)
UNREAD = (
    sa.select(NOTIFICATIONS.c.tenant_id, NOTIFICATIONS.c.recipient_id, sa.func.count())
    .where(NOTIFICATIONS.c.read_at.is_(None))
    .group_by(NOTIFICATIONS.c.tenant_id, NOTIFICATIONS.c.recipient_id)
)


def upgrade() -> None:
    table = op.create_table(
        TABLE,
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('unread', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{TABLE}_tenant_id'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['tenant_id', 'user_id'],
            ['users.tenant_id', 'users.id'],
            name=op.f(f'fk_{TABLE}_user_id'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f(f'pk_{TABLE}')),
        sa.UniqueConstraint('tenant_id', 'user_id', name='uq_unread_notifications_user'),
    )
    unread = read_across_tenants(UNREAD, 'notifications')
    if unread:
        op.bulk_insert(
            table,
            [
                {'tenant_id': tenant_id, 'id': new_id(), 'user_id': user_id, 'unread': count}
                for tenant_id, user_id, count in unread
            ],
        )
    enable_tenant_isolation(TABLE)


def downgrade() -> None:
    disable_tenant_isolation(TABLE)
    op.drop_table(TABLE)
