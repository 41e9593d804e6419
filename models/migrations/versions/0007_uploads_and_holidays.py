"""Files uploaded ahead of their mutation (POST /uploads), and the platform's holiday table.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('official_calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('schedule_year', sa.Integer(), nullable=False),
    sa.Column('is_working_day', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_official_calendar_days'))
    )
    op.create_table('pending_uploads',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('uploader_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('image', 'video', name='attachmentkind', native_enum=False, length=32), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'uploader_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_pending_uploads_uploader_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pending_uploads_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_pending_uploads')),
    sa.UniqueConstraint('tenant_id', 'storage_key', name=op.f('uq_pending_uploads_storage_key'))
    )
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_uploads_tenant_id_created_at'), ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_uploads_tenant_id_uploader_id'), ['tenant_id', 'uploader_id'], unique=False)
    enable_tenant_isolation('pending_uploads')



def downgrade() -> None:
    disable_tenant_isolation('pending_uploads')
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_uploads_tenant_id_uploader_id'))
        batch_op.drop_index(batch_op.f('ix_pending_uploads_tenant_id_created_at'))

    op.drop_table('pending_uploads')
    op.drop_table('official_calendar_days')
