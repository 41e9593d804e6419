"""Exports: the queue of export and report jobs, their progress, and the record of each export
(models.exports). A new table only: complaints are left as 0015 made them (its SQLite search
triggers would not survive a batch rebuild of that table).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('exports',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('subject', sa.Enum('complaints', 'bookings', 'appointments', 'volunteers', 'people', 'monthly_report', name='exportsubject', native_enum=False, length=32), nullable=False),
    sa.Column('format', sa.Enum('csv', 'xlsx', 'pdf', name='exportformat', native_enum=False, length=32), nullable=False),
    sa.Column('filter', sa.JSON(), nullable=False),
    sa.Column('whole_personal_data', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'ready', 'failed', 'expired', name='exportstatus', native_enum=False, length=32), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_total_capped', sa.Boolean(), nullable=False),
    sa.Column('failure', sa.String(length=200), nullable=True),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'requested_by'], ['users.tenant_id', 'users.id'], name=op.f('fk_exports_requested_by')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_exports_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_exports'))
    )
    op.create_index(op.f('ix_exports_tenant_id_requested_by_id'), 'exports', ['tenant_id', 'requested_by', 'id'], unique=False)
    op.create_index(op.f('ix_exports_tenant_id_status_id'), 'exports', ['tenant_id', 'status', 'id'], unique=False)
    enable_tenant_isolation('exports')


def downgrade() -> None:
    disable_tenant_isolation('exports')
    op.drop_table('exports')
