"""Notifications: persisted for each recipient, so nothing is lost while a client is offline;
streamed live to those connected."""

from __future__ import annotations

import enum
import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, utcnow
from models.database import UPSERT_INSERT


class NotificationKind(enum.StrEnum):
    """Why someone is told: a client picks an icon or a sound by it. A domain that notifies
    adds its kinds here."""

    COMPLAINT_NEW = "complaint_new"
    COMPLAINT_STATUS = "complaint_status"
    COMPLAINT_DISPATCHED = "complaint_dispatched"
    COMPLAINT_RETURNED = "complaint_returned"
    COMPLAINT_SUPERVISED = "complaint_supervised"
    COMPLAINT_CONFIRMED = "complaint_confirmed"
    COMPLAINT_REOPENED = "complaint_reopened"
    COMPLAINT_WITHDRAWN = "complaint_withdrawn"
    COMPLAINT_OVERDUE = "complaint_overdue"
    BOOKING_PENDING = "booking_pending"
    BOOKING_DECIDED = "booking_decided"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_OVERDUE = "booking_overdue"
    APPOINTMENT_NEW = "appointment_new"
    APPOINTMENT_ASSIGNED = "appointment_assigned"
    APPOINTMENT_STATUS = "appointment_status"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_OVERDUE = "appointment_overdue"
    RESIDENT_REGISTERED = "resident_registered"
    VOLUNTEER_APPLIED = "volunteer_applied"
    VOLUNTEER_DECIDED = "volunteer_decided"
    VOLUNTEER_SIGNED_UP = "volunteer_signed_up"
    VOLUNTEER_SIGNUP_CANCELLED = "volunteer_signup_cancelled"
    VOLUNTEER_PROMOTED = "volunteer_promoted"
    VOLUNTEER_ACTIVITY_CHANGED = "volunteer_activity_changed"
    VOLUNTEER_ACTIVITY_CANCELLED = "volunteer_activity_cancelled"
    VOLUNTEER_ACTIVITY_REMINDER = "volunteer_activity_reminder"
    SERVICE_APPLICATION_NEW = "service_application_new"
    SERVICE_APPLICATION_STATUS = "service_application_status"
    SERVICE_APPLICATION_OVERDUE = "service_application_overdue"
    CHECK_IN_MISSING = "check_in_missing"
    CARE_VISIT_OVERDUE = "care_visit_overdue"
    BUILDING_LEADER_APPOINTED = "building_leader_appointed"
    BUILDING_LEADER_DISMISSED = "building_leader_dismissed"
    NOTICE_POSTED = "notice_posted"


class SubjectType(enum.StrEnum):
    """What a notification can be about, named as the API names that type (a `Node`): the
    schema resolves a subject through `node()`, with the same visibility rules, so a domain
    whose items are notified about adds its type here and nothing else."""

    COMPLAINT = "Complaint"
    ROOM_BOOKING = "RoomBooking"
    APPOINTMENT = "Appointment"
    RESIDENT = "Resident"
    VOLUNTEER = "Volunteer"
    VOLUNTEER_ACTIVITY = "VolunteerActivity"
    SERVICE_APPLICATION = "ServiceApplication"
    HOUSEHOLD = "Household"
    BUILDING_LEADER = "BuildingLeader"
    NOTICE = "Notice"


@dataclass(frozen=True)
class Subject:
    type: SubjectType
    id: uuid.UUID


class Notification(TenantOwned, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "recipient_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        # No foreign key for the subject: it may be a row of any domain's table. A subject gone
        # (or no longer the recipient's to see) answers null, as node() does.
        CheckConstraint("(subject_type IS NULL) = (subject_id IS NULL)", name="subject_whole"),
        # A recipient's page, newest first, is one range of either index whatever their share of
        # the office's notifications; the unread one also counts what they have not read.
        Index("ix_notifications_recipient", "tenant_id", "recipient_id", "id"),
        Index(
            "ix_notifications_unread",
            "tenant_id",
            "recipient_id",
            "id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )

    recipient_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(String(500))
    subject_type: Mapped[SubjectType | None] = mapped_column(enum_column(SubjectType))
    subject_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class UnreadNotifications(TenantOwned, Base):
    """How many notifications a user has not read: their badge, read as one row. Counting their
    unread notifications instead grows with what they leave unread (1,786 for the benchmark's
    grid worker at 1.2 million complaints). Kept by the unit of work that notifies or
    marks read (tenants.context), in one statement at its end."""

    __tablename__ = "unread_notifications"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "user_id", name="uq_unread_notifications_user"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    unread: Mapped[int] = mapped_column(Integer, default=0)


@functools.cache
def adding_unread(dialect: str) -> Any:
    """Adds to users' unread counts, making the rows that are not there yet: executed with one
    parameter set (tenant_id, id, user_id, unread) per user, each user at most once."""
    statement = UPSERT_INSERT[dialect](UnreadNotifications)
    return statement.on_conflict_do_update(
        index_elements=["tenant_id", "user_id"],
        set_={"unread": UnreadNotifications.unread + statement.excluded.unread},
    )
