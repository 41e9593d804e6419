"""Bookings: room rules, room bookings without overlap, appointment types, appointments.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_OWNED_TABLES = (
    'appointment_types',
    'room_bookings',
    'appointments',
    'appointment_events',
)

# Two bookings of one room that hold their slot (pending or approved) may not overlap: the
# database refuses it, whatever the application checked before.
NO_OVERLAP = (
    "ALTER TABLE room_bookings ADD CONSTRAINT ex_room_bookings_no_overlap EXCLUDE USING gist "
    "(tenant_id WITH =, room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (status IN ('pending', 'approved'))"
)


def upgrade() -> None:
    op.create_table('appointment_types',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('room_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['departments.tenant_id', 'departments.id'], name=op.f('fk_appointment_types_department_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'room_id'], ['rooms.tenant_id', 'rooms.id'], name=op.f('fk_appointment_types_room_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_appointment_types_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_appointment_types')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_appointment_types_code'))
    )
    op.create_table('room_bookings',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('room_id', sa.Uuid(), nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('series_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'cancelled', 'checked_in', 'no_show', 'completed', name='bookingstatus', native_enum=False, length=32), nullable=False),
    sa.Column('answer_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('attendees > 0', name=op.f('ck_room_bookings_attendees_positive')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_room_bookings_ends_after_start')),
    sa.ForeignKeyConstraint(['tenant_id', 'decided_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_room_bookings_decided_by_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'resident_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_room_bookings_resident_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'room_id'], ['rooms.tenant_id', 'rooms.id'], name=op.f('fk_room_bookings_room_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_room_bookings_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_room_bookings'))
    )
    op.create_index('ix_room_bookings_resident', 'room_bookings', ['tenant_id', 'resident_id', 'starts_at'], unique=False)
    op.create_index('ix_room_bookings_room_time', 'room_bookings', ['tenant_id', 'room_id', 'starts_at'], unique=False)
    op.create_index('ix_room_bookings_series', 'room_bookings', ['tenant_id', 'series_id'], unique=False)

    op.create_table('appointments',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('type_id', sa.Uuid(), nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('preferred_times', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'assigned', 'contacted', 'scheduled', 'completed', 'cancelled', name='appointmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('assignee_id', sa.Uuid(), nullable=True),
    sa.Column('contact_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contact_method', sa.String(length=16), nullable=True),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=1000), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'assignee_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_appointments_assignee_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_appointments_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'resident_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_appointments_resident_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'type_id'], ['appointment_types.tenant_id', 'appointment_types.id'], name=op.f('fk_appointments_type_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_appointments_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_appointments'))
    )
    op.create_index('ix_appointments_assignee', 'appointments', ['tenant_id', 'assignee_id', 'status'], unique=False)
    op.create_index('ix_appointments_queue', 'appointments', ['tenant_id', 'status', 'contact_due_at'], unique=False)
    op.create_index('ix_appointments_resident', 'appointments', ['tenant_id', 'resident_id', 'id'], unique=False)

    op.create_table('appointment_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sa.Enum('submitted', 'assigned', 'contacted', 'scheduled', 'completed', 'cancelled', name='appointmentstatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('submitted', 'assigned', 'contacted', 'scheduled', 'completed', 'cancelled', name='appointmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_appointment_events_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'appointment_id'], ['appointments.tenant_id', 'appointments.id'], name=op.f('fk_appointment_events_appointment_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_appointment_events_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_appointment_events'))
    )
    op.create_index('ix_appointment_events_appointment', 'appointment_events', ['tenant_id', 'appointment_id', 'id'], unique=False)

    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('closed_dates', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('slot_minutes', sa.Integer(), nullable=False, server_default='30'))
        batch_op.add_column(sa.Column('min_notice_hours', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('max_days_ahead', sa.Integer(), nullable=False, server_default='14'))
        batch_op.add_column(sa.Column('max_duration_minutes', sa.Integer(), nullable=False, server_default='240'))
        batch_op.add_column(sa.Column('weekly_quota_hours', sa.Integer(), nullable=False, server_default='6'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(NO_OVERLAP)
    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('weekly_quota_hours')
        batch_op.drop_column('max_duration_minutes')
        batch_op.drop_column('max_days_ahead')
        batch_op.drop_column('min_notice_hours')
        batch_op.drop_column('slot_minutes')
        batch_op.drop_column('closed_dates')
        batch_op.drop_column('opening_hours')

    op.drop_index('ix_appointment_events_appointment', table_name='appointment_events')

    op.drop_table('appointment_events')
    op.drop_index('ix_appointments_resident', table_name='appointments')
    op.drop_index('ix_appointments_queue', table_name='appointments')
    op.drop_index('ix_appointments_assignee', table_name='appointments')

    op.drop_table('appointments')
    op.drop_index('ix_room_bookings_series', table_name='room_bookings')
    op.drop_index('ix_room_bookings_room_time', table_name='room_bookings')
    op.drop_index('ix_room_bookings_resident', table_name='room_bookings')

    op.drop_table('room_bookings')
    op.drop_table('appointment_types')
