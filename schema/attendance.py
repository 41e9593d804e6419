"""Check-in (打卡签到): shifts, punches with where they were made, attendance by day and month."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from models.attendance import DayStatus, PunchKind, PunchPlace
from resolvers import attendance, organisation
from resolvers.uploads import IncomingFiles
from schema.common import (
    Info,
    ScopedNode,
    UserError,
    attempt,
    decode_id,
    mirror_enum,
    nodes_by_id,
    referenced,
    shanghai,
)
from schema.cost import cost
from schema.organisation import Grid
from schema.uploads import ATTACHMENT_IDS_DESCRIPTION, download_url, incoming_files

if TYPE_CHECKING:  # see mirror_enum
    DayStatusType = DayStatus
else:
    DayStatusType = mirror_enum(
        DayStatus, attendance.DAY_STATUS_NAMES, name="AttendanceStatus", description="How a worker's day went."
    )
if TYPE_CHECKING:  # see mirror_enum
    PunchPlaceType = PunchPlace
else:
    PunchPlaceType = mirror_enum(
        PunchPlace,
        attendance.PUNCH_PLACE_NAMES,
        name="PunchPlace",
        description="Where a check-in or check-out was made, against the boundaries of the worker's grids.",
    )


@strawberry.type(description="One check-in or check-out.")
class Punch:
    at: datetime
    longitude: float = strawberry.field(description="GCJ-02 longitude the phone reported.")
    latitude: float = strawberry.field(description="GCJ-02 latitude the phone reported.")
    accuracy_metres: float = strawberry.field(description="The phone's stated accuracy radius.")
    place: PunchPlaceType
    distance_metres: float | None = strawberry.field(
        description="Metres from the nearest of the worker's grids (0 inside it); null when none has a boundary."
    )
    grid_id: strawberry.Private[uuid.UUID | None]
    storage_key: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: attendance.PunchRow) -> Punch:
        return cls(
            at=shanghai(row.at),
            longitude=row.longitude,
            latitude=row.latitude,
            accuracy_metres=row.accuracy_metres,
            place=PunchPlaceType(row.place.value),
            distance_metres=row.distance_metres,
            grid_id=row.grid_id,
            storage_key=row.storage_key,
        )

    @strawberry.field(description="The worker's grid it was made in, or nearest to.")
    async def grid(self, info: Info) -> Grid | None:
        if self.grid_id is None:
            return None
        return Grid.from_row(referenced(await organisation.grid(info.context, self.grid_id)))

    @strawberry.field(description="The photo taken with it (a signed URL), if any.")
    def photo_url(self, info: Info) -> str | None:
        return download_url(info, self.storage_key) if self.storage_key else None


@strawberry.type(description="班次: a grid worker's time from check-in to check-out.")
class Shift(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    work_date: date = strawberry.field(description="The day (in China Standard Time) it began on.")
    checked_in_at: datetime
    checked_out_at: datetime | None = strawberry.field(description="Null while the shift is open.")
    outside: bool = strawberry.field(description="Its check-in or check-out was made outside the worker's grids.")

    @classmethod
    def from_row(cls, row: attendance.ShiftRow) -> Shift:
        return cls(
            id=row.id,
            work_date=row.work_date,
            checked_in_at=shanghai(row.checked_in_at),
            checked_out_at=shanghai(row.checked_out_at),
            outside=row.outside,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Shift | None]:
        return await nodes_by_id(node_ids, lambda i: attendance.shift(info.context, i), cls.from_row)

    @strawberry.field
    async def check_in(self, info: Info) -> Punch | None:
        found = (await attendance.punches(info.context, self.id)).get(PunchKind.CHECK_IN)
        return Punch.from_row(found) if found else None

    @strawberry.field
    async def check_out(self, info: Info) -> Punch | None:
        found = (await attendance.punches(info.context, self.id)).get(PunchKind.CHECK_OUT)
        return Punch.from_row(found) if found else None


@strawberry.type(description="A worker's attendance on one day.")
class AttendanceDay:
    date: date
    working_day: bool = strawberry.field(description="A working day of the Chinese calendar (and the office's).")
    status: DayStatusType
    outside: bool = strawberry.field(description="A punch that day was outside the worker's grids.")
    checked_in_at: datetime | None = strawberry.field(description="The day's first check-in.")
    checked_out_at: datetime | None = strawberry.field(description="The day's last check-out, once every shift closed.")
    minutes_worked: int = strawberry.field(description="Minutes of the day's closed shifts.")

    @classmethod
    def from_row(cls, row: attendance.AttendanceDay) -> AttendanceDay:
        return cls(
            date=row.day,
            working_day=row.working_day,
            status=DayStatusType(row.status.value),
            outside=row.outside,
            checked_in_at=shanghai(row.checked_in_at),
            checked_out_at=shanghai(row.checked_out_at),
            minutes_worked=row.minutes_worked,
        )


@strawberry.type(description="A worker's attendance over one month, up to today.")
class AttendanceMonth:
    month: date = strawberry.field(description="Its first day.")
    working_days: int = strawberry.field(description="Working days so far.")
    on_time: int
    late: int
    missing: int
    extra: int = strawberry.field(description="Days off worked.")
    outside: int = strawberry.field(description="Days with a punch outside the worker's grids.")
    days: list[AttendanceDay] = strawberry.field(
        description="Each day of the month up to today (at most 31).", metadata=cost(items=31)
    )

    @classmethod
    def from_row(cls, row: attendance.AttendanceMonth) -> AttendanceMonth:
        return cls(
            month=row.month,
            working_days=row.working_days,
            on_time=row.count(DayStatus.ON_TIME),
            late=row.count(DayStatus.LATE),
            missing=row.count(DayStatus.MISSING),
            extra=row.count(DayStatus.EXTRA),
            outside=row.outside_days,
            days=[AttendanceDay.from_row(d) for d in row.days],
        )


@strawberry.input(description="Where the phone is (GCJ-02, as wx.getLocation({type: 'gcj02'}) gives it) and a photo.")
class PunchInput:
    longitude: float
    latitude: float
    accuracy_metres: float = strawberry.field(
        description="The phone's stated accuracy radius (wx.getLocation's `accuracy`)."
    )
    photo: Upload | None = strawberry.field(default=None, description="A photo on site (GraphQL multipart).")
    photo_id: relay.GlobalID | None = strawberry.field(default=None, description=ATTACHMENT_IDS_DESCRIPTION)


@strawberry.type
class ShiftPayload:
    shift: Shift | None
    errors: list[UserError]


def _punch(input: PunchInput) -> tuple[attendance.Position, IncomingFiles]:
    files = incoming_files([input.photo] if input.photo else [], [input.photo_id] if input.photo_id else [], "photoId")
    return attendance.Position(input.longitude, input.latitude, input.accuracy_metres), files


async def _shift_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> ShiftPayload:
    outcome = await attempt(info, action)
    row = await attendance.shift(info.context, outcome.value) if outcome.value else None
    return ShiftPayload(shift=Shift.from_row(row) if row else None, errors=outcome.errors)


@strawberry.type
class Query:
    @strawberry.field(
        description="A grid worker's attendance in the month of `month` (any day of it; this month if not given): their own, or, for their community's admins and tenant admins, that of `workerId`.",
        metadata=cost(items=31),
    )
    async def attendance_month(
        self, info: Info, month: date | None = None, worker_id: relay.GlobalID | None = None
    ) -> AttendanceMonth:
        worker = decode_id(worker_id, "Person", "workerId") if worker_id else None
        return AttendanceMonth.from_row(await attendance.month_of(info.context, worker, month))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A grid worker checks in: accepted anywhere, flagged OUTSIDE with the distance when away from their grids (beyond the office's tolerance). One open shift at a time."
    )
    async def check_in(self, info: Info, input: PunchInput) -> ShiftPayload:
        position, files = _punch(input)
        return await _shift_payload(info, lambda: attendance.check_in(info.context, position, files))

    @strawberry.mutation(description="A grid worker checks out of their open shift, with where they are.")
    async def check_out(self, info: Info, input: PunchInput) -> ShiftPayload:
        position, files = _punch(input)
        return await _shift_payload(info, lambda: attendance.check_out(info.context, position, files))
