"""Room bookings (预约服务): community rooms booked without double booking.

A room's rules (opening hours, notice, horizon, duration, quota) are checked here as pure
functions of the room and the request; overlap is prevented by the database (an exclusion
constraint on PostgreSQL) or by a serialized write transaction (SQLite).
"""

from __future__ import annotations

import bisect
import enum
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow
from models.calendar import SHANGHAI
from models.lifecycle import Lifecycle, transition


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


# Monday first, as date.weekday() counts: the keys of a room's opening hours.
WEEKDAYS = tuple(Weekday)


class Room(TenantOwned, Base):
    __tablename__ = "rooms"
    __table_args__ = (
        tenant_index("community_id"),
        UniqueConstraint("tenant_id", "community_id", "name"),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    facilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    requires_approval: Mapped[bool] = mapped_column(default=True)
    # {"mon": ["09:00-12:00", "14:00-18:00"], ...}; a day not listed is closed.
    opening_hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    closed_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    min_notice_hours: Mapped[int] = mapped_column(Integer, default=2)
    max_days_ahead: Mapped[int] = mapped_column(Integer, default=14)
    max_duration_minutes: Mapped[int] = mapped_column(Integer, default=240)
    weekly_quota_hours: Mapped[int] = mapped_column(Integer, default=6)


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"
    COMPLETED = "completed"


# The states that hold a slot: the exclusion constraint covers exactly these.
HOLDING = (BookingStatus.PENDING, BookingStatus.APPROVED)


class BookingAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    CHECK_IN = "check_in"
    MARK_NO_SHOW = "mark_no_show"
    COMPLETE = "complete"
    FLAG_OVERDUE = "flag_overdue"


class BookingParty(enum.StrEnum):
    """What a caller is to one booking."""

    RESIDENT = "resident"  # the resident who booked
    ADMIN = "admin"  # community admin of the room's community, or a tenant admin
    SYSTEM = "system"  # the periodic sweep


_S = BookingStatus
_A = BookingAction
_P = BookingParty
LIFECYCLE: Lifecycle[BookingStatus, BookingAction, BookingParty] = Lifecycle(
    (
        transition(_A.APPROVE, {_S.PENDING}, _S.APPROVED, _P.ADMIN),
        transition(_A.REJECT, {_S.PENDING}, _S.REJECTED, _P.ADMIN),
        transition(_A.CANCEL, HOLDING, _S.CANCELLED, _P.RESIDENT, _P.ADMIN),
        transition(_A.CHECK_IN, {_S.APPROVED}, _S.CHECKED_IN, _P.RESIDENT, _P.ADMIN),
        transition(_A.MARK_NO_SHOW, {_S.APPROVED}, _S.NO_SHOW, _P.ADMIN),
        transition(_A.COMPLETE, {_S.CHECKED_IN}, _S.COMPLETED, _P.ADMIN),
        # A request unanswered past its deadline: flagged once, and the admins told.
        transition(_A.FLAG_OVERDUE, {_S.PENDING}, None, _P.SYSTEM),
    )
)


class RoomBooking(TenantOwned, Base):
    __tablename__ = "room_bookings"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "room_id"], ["rooms.tenant_id", "rooms.id"]),
        ForeignKeyConstraint(["tenant_id", "resident_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "decided_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("starts_at < ends_at", name="ends_after_start"),
        CheckConstraint("attendees > 0", name="attendees_positive"),
        Index("ix_room_bookings_room_time", "tenant_id", "room_id", "starts_at"),
        Index("ix_room_bookings_resident", "tenant_id", "resident_id", "starts_at"),
        Index("ix_room_bookings_series", "tenant_id", "series_id"),
    )

    room_id: Mapped[uuid.UUID] = mapped_column()
    resident_id: Mapped[uuid.UUID] = mapped_column()
    series_id: Mapped[uuid.UUID | None] = mapped_column()
    purpose: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus))
    answer_due_at: Mapped[datetime | None] = mapped_column()
    overdue_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column()
    # When an admin approved or rejected the request; a cancellation leaves it as it was.
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


# --- room rules ------------------------------------------------------------------------------


class Breach(enum.Enum):
    """A room rule that a request breaks."""

    ENDS_BEFORE_START = enum.auto()
    OVER_CAPACITY = enum.auto()
    OFF_SLOT = enum.auto()
    TOO_LONG = enum.auto()
    TOO_SOON = enum.auto()
    TOO_FAR_AHEAD = enum.auto()
    CLOSED_DAY = enum.auto()
    OUTSIDE_OPENING_HOURS = enum.auto()


@dataclass(frozen=True)
class RoomRules:
    opening_hours: dict[str, list[str]]
    closed_dates: frozenset[date]
    slot_minutes: int
    min_notice_hours: int
    max_days_ahead: int
    max_duration_minutes: int
    capacity: int

    @classmethod
    def of(cls, room: Any) -> RoomRules:
        """From a Room or a row of its columns."""
        return cls(
            opening_hours=room.opening_hours or {},
            closed_dates=frozenset(date.fromisoformat(d) for d in room.closed_dates or []),
            slot_minutes=room.slot_minutes,
            min_notice_hours=room.min_notice_hours,
            max_days_ahead=room.max_days_ahead,
            max_duration_minutes=room.max_duration_minutes,
            capacity=room.capacity,
        )

    def weekday_minutes(self, weekday: int) -> list[tuple[int, int]]:
        """Minutes after midnight at which the room opens and closes on a weekday (Monday 0),
        closed dates aside."""
        spans = (span_minutes(span) for span in self.opening_hours.get(WEEKDAYS[weekday], []))
        return [span for span in spans if span is not None]

    def opening_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.closed_dates:
            return []
        midnight = datetime.combine(day, time(0), SHANGHAI)
        return [
            (midnight + timedelta(minutes=opens), midnight + timedelta(minutes=closes))
            for opens, closes in self.weekday_minutes(day.weekday())
        ]

    def slot_grid(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's bookable slots: every `slot_minutes` by the clock (:00, :15, :30, …) that
        fits inside an opening span. Free slots are offered from it and requests must keep to
        it, so the two can never disagree; a part-slot at the edge of a span is not bookable."""
        step = timedelta(minutes=self.slot_minutes)
        midnight = datetime.combine(day, time(0), SHANGHAI)
        grid = []
        for opens, closes in self.opening_intervals(day):
            start = midnight + step * -(-(opens - midnight) // step)  # the first slot boundary not before opening
            while start + step <= closes:
                grid.append((start, start + step))
                start += step
        return grid

    def breaches(self, starts_at: datetime, ends_at: datetime, attendees: int, now: datetime) -> list[Breach]:
        """Every rule the request breaks."""
        if ends_at <= starts_at:
            return [Breach.ENDS_BEFORE_START]
        found: list[Breach] = []
        local_start, local_end = starts_at.astimezone(SHANGHAI), ends_at.astimezone(SHANGHAI)
        if attendees < 1 or attendees > self.capacity:
            found.append(Breach.OVER_CAPACITY)
        if ends_at - starts_at > timedelta(minutes=self.max_duration_minutes):
            found.append(Breach.TOO_LONG)
        if starts_at < now + timedelta(hours=self.min_notice_hours):
            found.append(Breach.TOO_SOON)
        if starts_at > now + timedelta(days=self.max_days_ahead):
            found.append(Breach.TOO_FAR_AHEAD)
        day = local_start.date()
        if day in self.closed_dates:
            found.append(Breach.CLOSED_DAY)
        elif not any(opens <= local_start and local_end <= closes for opens, closes in self.opening_intervals(day)):
            found.append(Breach.OUTSIDE_OPENING_HOURS)
        else:
            grid = self.slot_grid(day)
            if local_start not in {s for s, _ in grid} or local_end not in {e for _, e in grid}:
                found.append(Breach.OFF_SLOT)
        return found

    def free_slots(
        self, days: Iterable[date], taken: list[tuple[datetime, datetime]]
    ) -> list[tuple[datetime, datetime]]:
        """The days' slots that overlap no taken range, in UTC. The taken ranges are merged into
        disjoint ones in order, once, and each slot is looked up among them: a busy room's week
        holds hundreds of bookings, and comparing every slot with every booking was most of the
        request. Slots are compared in UTC, as the resolvers give the taken ranges: moments of
        two time zones are compared through their offsets, which (Asia/Shanghai's looked up each
        time) made the lookups a tenth of the request."""
        busy = _merged(taken)
        ends = [end for _, end in busy]
        free = []
        for local_start, local_stop in (slot for day in days for slot in self.slot_grid(day)):
            starts, stops = local_start.astimezone(UTC), local_stop.astimezone(UTC)
            first_after = bisect.bisect_right(ends, starts)  # the first busy range ending after the slot starts
            if first_after == len(busy) or stops <= busy[first_after][0]:
                free.append((starts, stops))
        return free


def _merged(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of the ranges as disjoint ranges, in order; ranges that touch become one."""
    merged: list[tuple[datetime, datetime]] = []
    for starts, ends in sorted(ranges):
        if merged and starts <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], ends))
        else:
            merged.append((starts, ends))
    return merged


# "09:00-12:00"; a span may close at 24:00, midnight at its end. ASCII digits, the whole text:
# PostgreSQL reads spans with the same expression (resolvers.bookings.free_slot_rows), its
# groups 1 and 3 the opening and closing times.
SPAN = re.compile(r"^(([01][0-9]|2[0-3]):[0-5][0-9])-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")


def span_minutes(span: str) -> tuple[int, int] | None:
    """Minutes after midnight at which a span opens and closes, or None if it is malformed or
    closes no later than it opens."""
    matched = SPAN.fullmatch(span)
    if matched is None:
        return None
    opens, closes = (int(t[:2]) * 60 + int(t[3:]) for t in (matched[1], matched[3]))
    return (opens, closes) if opens < closes else None


def week_of(moment: datetime) -> tuple[datetime, datetime]:
    """The Monday-to-Monday week (China Standard Time) containing `moment`."""
    local = moment.astimezone(SHANGHAI)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(0), SHANGHAI)
    return monday, monday + timedelta(days=7)
