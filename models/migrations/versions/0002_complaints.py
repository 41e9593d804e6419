"""Complaints: lifecycle, timeline, attachments, notifications.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_OWNED_TABLES = (
    'complaints',
    'complaint_events',
    'notifications',
    'attachments',
)


def upgrade() -> None:
    op.create_table('complaints',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=True),
    sa.Column('filed_by_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.Enum('app', 'phone', 'visit', 'inspection', name='complaintsource', native_enum=False, length=32), nullable=False),
    sa.Column('category_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=50), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('building_id', sa.Uuid(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('handler_id', sa.Uuid(), nullable=True),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('department_accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('submitted', 'accepted', 'in_progress', 'dispatched', 'resolved', 'closed', 'rejected', 'reopened', 'withdrawn', name='complaintstatus', native_enum=False, length=32), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('acknowledge_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('feedback', sa.String(length=500), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_complaints_rating_range')),
    sa.ForeignKeyConstraint(['tenant_id', 'building_id'], ['buildings.tenant_id', 'buildings.id'], name=op.f('fk_complaints_building_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['complaint_categories.tenant_id', 'complaint_categories.id'], name=op.f('fk_complaints_category_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_complaints_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['departments.tenant_id', 'departments.id'], name=op.f('fk_complaints_department_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'filed_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_complaints_filed_by_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'grid_id'], ['grids.tenant_id', 'grids.id'], name=op.f('fk_complaints_grid_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'handler_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_complaints_handler_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'resident_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_complaints_resident_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaints_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaints'))
    )
    op.create_index('ix_complaints_community_queue', 'complaints', ['tenant_id', 'community_id', 'status', 'resolve_due_at'], unique=False)
    op.create_index('ix_complaints_department_queue', 'complaints', ['tenant_id', 'department_id', 'status', 'resolve_due_at'], unique=False)
    op.create_index('ix_complaints_grid_queue', 'complaints', ['tenant_id', 'grid_id', 'status', 'resolve_due_at'], unique=False)
    op.create_index('ix_complaints_open_deadlines', 'complaints', ['tenant_id', 'status', 'resolve_due_at'], unique=False)
    op.create_index('ix_complaints_resident', 'complaints', ['tenant_id', 'resident_id', 'id'], unique=False)
    op.create_table('complaint_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.Enum('submit', 'accept', 'start_work', 'resolve', 'reject', 'dispatch', 'department_accept', 'return_to_grid', 'reassign', 'supervise', 'confirm', 'reopen', 'withdraw', 'mark_overdue', 'auto_close', name='action', native_enum=False, length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sa.Enum('submitted', 'accepted', 'in_progress', 'dispatched', 'resolved', 'closed', 'rejected', 'reopened', 'withdrawn', name='complaintstatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('submitted', 'accepted', 'in_progress', 'dispatched', 'resolved', 'closed', 'rejected', 'reopened', 'withdrawn', name='complaintstatus', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_complaint_events_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaints.tenant_id', 'complaints.id'], name=op.f('fk_complaint_events_complaint_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_complaint_events_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaint_events'))
    )
    op.create_index('ix_complaint_events_complaint', 'complaint_events', ['tenant_id', 'complaint_id', 'id'], unique=False)
    op.create_table('notifications',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recipient_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaints.tenant_id', 'complaints.id'], name=op.f('fk_notifications_complaint_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'recipient_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_notifications_recipient_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notifications_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notifications'))
    )
    op.create_index('ix_notifications_inbox', 'notifications', ['tenant_id', 'recipient_id', 'read_at', 'id'], unique=False)
    op.create_table('attachments',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.Enum('image', 'video', name='attachmentkind', native_enum=False, length=32), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaints.tenant_id', 'complaints.id'], name=op.f('fk_attachments_complaint_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'event_id'], ['complaint_events.tenant_id', 'complaint_events.id'], name=op.f('fk_attachments_event_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'uploaded_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_attachments_uploaded_by_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_attachments_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('tenant_id', 'storage_key', name=op.f('uq_attachments_storage_key'))
    )
    op.create_index('ix_attachments_complaint', 'attachments', ['tenant_id', 'complaint_id'], unique=False)
    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    op.drop_index('ix_attachments_complaint', table_name='attachments')
    op.drop_table('attachments')
    op.drop_index('ix_notifications_inbox', table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('ix_complaint_events_complaint', table_name='complaint_events')
    op.drop_table('complaint_events')
    op.drop_index('ix_complaints_resident', table_name='complaints')
    op.drop_index('ix_complaints_open_deadlines', table_name='complaints')
    op.drop_index('ix_complaints_grid_queue', table_name='complaints')
    op.drop_index('ix_complaints_department_queue', table_name='complaints')
    op.drop_index('ix_complaints_community_queue', table_name='complaints')
    op.drop_table('complaints')
