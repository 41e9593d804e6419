"""Home visits (入户走访): a grid worker's call at a household, what they found, and when a
care-tagged household is due again."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import Date, Float, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow
from models.complaints import AttachmentKind


class VisitKind(enum.StrEnum):
    ROUTINE = "routine"
    CARE = "care"
    DISPUTE = "dispute"
    POLICY = "policy"


class HouseholdVisit(TenantOwned, Base):
    __tablename__ = "household_visits"
    __table_args__ = (
        tenant_index("household_id", "visited_at"),
        tenant_index("worker_id", "visited_at"),
        ForeignKeyConstraint(["tenant_id", "household_id"], ["households.tenant_id", "households.id"]),
        ForeignKeyConstraint(["tenant_id", "worker_id"], ["users.tenant_id", "users.id"]),
    )

    household_id: Mapped[uuid.UUID] = mapped_column()
    worker_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[VisitKind] = mapped_column(enum_column(VisitKind))
    visited_at: Mapped[datetime] = mapped_column()
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(String(1000), default="")
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class VisitFinding(TenantOwned, Base):
    """An issue found on a visit; filed as a complaint on the household's behalf, it links to it."""

    __tablename__ = "visit_findings"
    __table_args__ = (
        tenant_index("visit_id"),
        tenant_index("complaint_id"),
        ForeignKeyConstraint(["tenant_id", "visit_id"], ["household_visits.tenant_id", "household_visits.id"]),
        ForeignKeyConstraint(["tenant_id", "complaint_id"], ["complaints.tenant_id", "complaints.id"]),
    )

    visit_id: Mapped[uuid.UUID] = mapped_column()
    description: Mapped[str] = mapped_column(String(500))
    complaint_id: Mapped[uuid.UUID | None] = mapped_column()


class VisitPhoto(TenantOwned, Base):
    __tablename__ = "visit_photos"
    __table_args__ = (
        tenant_index("visit_id"),
        ForeignKeyConstraint(["tenant_id", "visit_id"], ["household_visits.tenant_id", "household_visits.id"]),
    )

    visit_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))


class CareReminder(TenantOwned, Base):
    """The sweep told a household's worker and admins that its care visit is overdue, at
    `reminded_at`: not again until another visit was due and missed."""

    __tablename__ = "care_visit_reminders"
    __table_args__ = (
        tenant_index("household_id", "reminded_at"),
        ForeignKeyConstraint(["tenant_id", "household_id"], ["households.tenant_id", "households.id"]),
    )

    household_id: Mapped[uuid.UUID] = mapped_column()
    reminded_at: Mapped[datetime] = mapped_column()


def visit_every_days(tags: Iterable[str], frequencies: Mapping[str, int | None]) -> int | None:
    """How often a household with these care tags is visited: its most demanding tag's
    frequency, or None when no tag asks for visits."""
    days = [frequencies[tag] for tag in tags if frequencies.get(tag)]
    return min(days) if days else None  # type: ignore[type-var]


def care_visit_due(last_visit: datetime | None, registered: datetime, every_days: int) -> datetime:
    """A household never visited is due `every_days` after it was tagged into care (its record)."""
    return (last_visit or registered) + timedelta(days=every_days)
