"""A recipient's notifications, newest first, as one index range.

The inbox index ran (tenant, recipient, read_at, id): in id order only among the read or the
unread. A page of all of them was read by walking the office's notifications newest first and
keeping the recipient's (1,803 rows passed over for a grid worker's page at 1.2 million
complaints), or, planned generically, by sorting all of a recipient's (132,654 for the busiest).
An index ending with the id gives each page as one range, and a partial one of the unread the
unread-only pages and the unread count.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREAD = 'read_at IS NULL'


def upgrade() -> None:
    op.drop_index('ix_notifications_inbox', table_name='notifications')
    op.create_index('ix_notifications_recipient', 'notifications', ['tenant_id', 'recipient_id', 'id'], unique=False)
    op.create_index(
        'ix_notifications_unread',
        'notifications',
        ['tenant_id', 'recipient_id', 'id'],
        unique=False,
        postgresql_where=sa.text(UNREAD),
        sqlite_where=sa.text(UNREAD),
    )


def downgrade() -> None:
    op.drop_index('ix_notifications_unread', table_name='notifications')
    op.drop_index('ix_notifications_recipient', table_name='notifications')
    op.create_index(
        'ix_notifications_inbox', 'notifications', ['tenant_id', 'recipient_id', 'read_at', 'id'], unique=False
    )
