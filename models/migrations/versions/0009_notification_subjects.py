"""A notification names its subject generically (type and id), not only a complaint.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECT_TYPES = ('Complaint', 'RoomBooking', 'Appointment', 'Resident', 'Volunteer', 'VolunteerActivity')
KINDS = (
    'complaint_new', 'complaint_status', 'complaint_dispatched', 'complaint_returned', 'complaint_supervised',
    'complaint_confirmed', 'complaint_reopened', 'complaint_withdrawn', 'complaint_overdue',
    'booking_pending', 'booking_decided', 'booking_cancelled', 'booking_overdue',
    'appointment_new', 'appointment_assigned', 'appointment_status', 'appointment_cancelled', 'appointment_overdue',
    'resident_registered', 'volunteer_applied', 'volunteer_decided', 'volunteer_signed_up', 'volunteer_signup_cancelled',
    'volunteer_promoted', 'volunteer_activity_changed', 'volunteer_activity_cancelled', 'volunteer_activity_reminder',
)


def _every_tenant(statement: str) -> None:
    """Runs a data change over every tenant's rows: the table owner is bound by row-level
    security too (FORCE), so it is lifted for this one statement, inside the migration's
    transaction."""
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.execute('ALTER TABLE notifications NO FORCE ROW LEVEL SECURITY')
    op.execute(statement)
    if postgresql:
        op.execute('ALTER TABLE notifications FORCE ROW LEVEL SECURITY')


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_type', sa.Enum(*SUBJECT_TYPES, name='subjecttype', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('kind', existing_type=sa.String(length=32), type_=sa.Enum(*KINDS, name='notificationkind', native_enum=False, length=32), existing_nullable=False)
    _every_tenant("UPDATE notifications SET subject_type = 'Complaint', subject_id = complaint_id WHERE complaint_id IS NOT NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_complaint_id'), type_='foreignkey')
        batch_op.drop_column('complaint_id')
        batch_op.create_check_constraint(batch_op.f('ck_notifications_subject_whole'), '(subject_type IS NULL) = (subject_id IS NULL)')


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_subject_whole'), type_='check')
        batch_op.add_column(sa.Column('complaint_id', sa.Uuid(), nullable=True))
    # Only complaints had a column of their own; other subjects are forgotten on the way down.
    _every_tenant("UPDATE notifications SET complaint_id = subject_id WHERE subject_type = 'Complaint'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_notifications_complaint_id'), 'complaints', ['tenant_id', 'complaint_id'], ['tenant_id', 'id'], ondelete='CASCADE')
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject_type')
        batch_op.alter_column('kind', existing_type=sa.Enum(*KINDS, name='notificationkind', native_enum=False, length=32), type_=sa.String(length=32), existing_nullable=False)
