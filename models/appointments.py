"""Service appointments (预约服务): people's mediation, legal aid, notary, judge workstation,
petition reception, psychological counselling. Triaged to a staff member (分拣), who contacts
the resident within one working day, agrees a time and records the outcome."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, utcnow
from models.lifecycle import Lifecycle, transition


class AppointmentType(TenantOwned, Base):
    """人民调解, 法律援助, 公证服务, …: each handled by a department or in a function room."""

    __tablename__ = "appointment_types"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"]),
        ForeignKeyConstraint(["tenant_id", "room_id"], ["rooms.tenant_id", "rooms.id"]),
    )

    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    department_id: Mapped[uuid.UUID | None] = mapped_column()
    room_id: Mapped[uuid.UUID | None] = mapped_column()


class AppointmentStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ContactMethod(enum.StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    SMS = "sms"
    WECHAT = "wechat"


class AppointmentAction(enum.StrEnum):
    SUBMIT = "submit"
    ASSIGN = "assign"
    CONTACT = "contact"
    SCHEDULE = "schedule"
    COMPLETE = "complete"
    CANCEL = "cancel"
    MARK_OVERDUE = "mark_overdue"


class AppointmentParty(enum.StrEnum):
    """What a caller is to one appointment."""

    RESIDENT = "resident"  # the resident who asked
    ASSIGNEE = "assignee"  # the staff member it is assigned to
    ADMIN = "admin"  # community admin of its community, or a tenant admin
    SYSTEM = "system"  # the periodic sweep


_S = AppointmentStatus
_A = AppointmentAction
_P = AppointmentParty
OPEN = frozenset({_S.SUBMITTED, _S.ASSIGNED, _S.CONTACTED, _S.SCHEDULED})
LIFECYCLE: Lifecycle[AppointmentStatus, AppointmentAction, AppointmentParty] = Lifecycle(
    (
        # Triage again (another staff member) until the resident has been contacted.
        transition(_A.ASSIGN, {_S.SUBMITTED, _S.ASSIGNED}, _S.ASSIGNED, _P.ADMIN),
        transition(_A.CONTACT, {_S.ASSIGNED}, _S.CONTACTED, _P.ASSIGNEE),
        transition(_A.SCHEDULE, {_S.CONTACTED, _S.SCHEDULED}, _S.SCHEDULED, _P.ASSIGNEE),
        transition(_A.COMPLETE, {_S.SCHEDULED}, _S.COMPLETED, _P.ASSIGNEE),
        transition(_A.CANCEL, OPEN, _S.CANCELLED, _P.RESIDENT, _P.ASSIGNEE, _P.ADMIN),
        # Not contacted within one working day: flagged once, and supervised.
        transition(_A.MARK_OVERDUE, {_S.ASSIGNED}, None, _P.SYSTEM),
    )
)


class Appointment(TenantOwned, Base):
    """A resident's request for a service. Its description and notes are confidential: only
    the resident, the assigned staff member and admins read them."""

    __tablename__ = "appointments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "type_id"], ["appointment_types.tenant_id", "appointment_types.id"]),
        ForeignKeyConstraint(["tenant_id", "resident_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "assignee_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        Index("ix_appointments_queue", "tenant_id", "status", "contact_due_at"),
        Index("ix_appointments_assignee", "tenant_id", "assignee_id", "status"),
        Index("ix_appointments_resident", "tenant_id", "resident_id", "id"),
        # The appointments of a period (the dashboards).
        Index("ix_appointments_created", "tenant_id", "created_at"),
    )

    type_id: Mapped[uuid.UUID] = mapped_column()
    resident_id: Mapped[uuid.UUID] = mapped_column()
    community_id: Mapped[uuid.UUID] = mapped_column()
    description: Mapped[str] = mapped_column(String(500))
    preferred_times: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus), default=AppointmentStatus.SUBMITTED
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column()
    contact_due_at: Mapped[datetime | None] = mapped_column()
    contacted_at: Mapped[datetime | None] = mapped_column()
    contact_method: Mapped[ContactMethod | None] = mapped_column(enum_column(ContactMethod, length=16))
    scheduled_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(1000))
    overdue_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class AppointmentEvent(TenantOwned, Base):
    __tablename__ = "appointment_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "appointment_id"], ["appointments.tenant_id", "appointments.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
        Index("ix_appointment_events_appointment", "tenant_id", "appointment_id", "id"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[AppointmentAction] = mapped_column(enum_column(AppointmentAction))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    from_status: Mapped[AppointmentStatus | None] = mapped_column(enum_column(AppointmentStatus))
    to_status: Mapped[AppointmentStatus] = mapped_column(enum_column(AppointmentStatus))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
