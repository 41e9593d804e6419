"""Check-in (打卡签到): a grid worker's shifts, where each punch was made, and attendance by day.

A worker has at most one open shift: a partial unique index on (tenant_id, worker_id) where
`checked_out_at IS NULL` holds it in the database on both backends, so two check-ins sent at
the same moment yield one shift whatever the application checked first.

A punch outside the worker's grids is never refused (a worker called to a neighbouring grid
still works): it is kept and flagged with its distance from the nearest grid.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index
from models.calendar import SHANGHAI


class Shift(TenantOwned, Base):
    __tablename__ = "shifts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "worker_id"], ["users.tenant_id", "users.id"]),
        Index("ix_shifts_worker_day", "tenant_id", "worker_id", "work_date"),
        Index("ix_shifts_day", "tenant_id", "work_date"),
        Index(
            "uq_shifts_one_open",
            "tenant_id",
            "worker_id",
            unique=True,
            postgresql_where=text("checked_out_at IS NULL"),
            sqlite_where=text("checked_out_at IS NULL"),
        ),
        CheckConstraint("checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="out_after_in"),
    )

    worker_id: Mapped[uuid.UUID] = mapped_column()
    # The day in Shanghai the shift began on: attendance is by that day.
    work_date: Mapped[date] = mapped_column(Date)
    checked_in_at: Mapped[datetime] = mapped_column()
    checked_out_at: Mapped[datetime | None] = mapped_column()
    # Either punch made outside the worker's grids.
    outside: Mapped[bool] = mapped_column(Boolean, default=False)


class PunchKind(enum.StrEnum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"


class PunchPlace(enum.StrEnum):
    INSIDE = "inside"  # within a grid of the worker's, or within the tolerance of one
    OUTSIDE = "outside"
    UNKNOWN = "unknown"  # none of the worker's grids has a boundary yet


class Punch(TenantOwned, Base):
    """One check-in or check-out: when, where, how precise the phone said it was, and a photo."""

    __tablename__ = "attendance_punches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "shift_id", "kind"),
        ForeignKeyConstraint(["tenant_id", "shift_id"], ["shifts.tenant_id", "shifts.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "grid_id"], ["grids.tenant_id", "grids.id"]),
        CheckConstraint("accuracy_metres >= 0", name="accuracy_positive"),
    )

    shift_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[PunchKind] = mapped_column(enum_column(PunchKind))
    at: Mapped[datetime] = mapped_column()
    longitude: Mapped[float] = mapped_column(Float)
    latitude: Mapped[float] = mapped_column(Float)
    accuracy_metres: Mapped[float] = mapped_column(Float)
    place: Mapped[PunchPlace] = mapped_column(enum_column(PunchPlace))
    # The worker's grid the punch was in, or nearest to; its distance (0 inside).
    grid_id: Mapped[uuid.UUID | None] = mapped_column()
    distance_metres: Mapped[float | None] = mapped_column(Float)
    # The photo's file; named storage_key so `wanjia media sweep` knows it is in use.
    storage_key: Mapped[str | None] = mapped_column(String(200))


class MissedCheckIn(TenantOwned, Base):
    """A working day a worker had not checked in by the cut-off, as the sweep found it: the
    community's admins are told once per worker and day."""

    __tablename__ = "missed_check_ins"
    __table_args__ = (
        UniqueConstraint("tenant_id", "worker_id", "work_date"),
        ForeignKeyConstraint(["tenant_id", "worker_id"], ["users.tenant_id", "users.id"]),
        tenant_index("work_date"),
    )

    worker_id: Mapped[uuid.UUID] = mapped_column()
    work_date: Mapped[date] = mapped_column(Date)
    reported_at: Mapped[datetime] = mapped_column()


# --- attendance by day: pure rules ------------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    starts: time
    ends: time
    # A working day without a check-in by then is missing (and the admins are told).
    missing_after: time
    tolerance_metres: float

    def on(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, SHANGHAI)


class DayStatus(enum.StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_YET = "not_yet"  # a working day still before the cut-off, not checked in
    REST = "rest"  # a day off, not worked
    EXTRA = "extra"  # a day off, worked


def day_status(
    day: date, working: bool, first_check_in: datetime | None, hours: WorkingHours, now: datetime
) -> DayStatus:
    if not working:
        return DayStatus.EXTRA if first_check_in is not None else DayStatus.REST
    if first_check_in is None:
        return DayStatus.MISSING if now >= hours.on(day, hours.missing_after) else DayStatus.NOT_YET
    # To the minute, as the worker's phone shows it: 08:30:59 is still 08:30.
    on_time = first_check_in.astimezone(SHANGHAI).replace(second=0, microsecond=0) <= hours.on(day, hours.starts)
    return DayStatus.ON_TIME if on_time else DayStatus.LATE


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()
