"""Check-in (打卡签到): grid workers check in and out where they work; their attendance by day
and month, for themselves and for the admins of their communities; the sweep reports missing
check-ins to those admins.

Where a punch was made is judged against the boundaries of the worker's own grids, widened by
the office's tolerance (models.geometry measures in metres). A punch outside is accepted and
flagged with its distance: the admin decides what it means, the phone never refuses work.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Exists, exists, select
from sqlalchemy.exc import IntegrityError

from models.attendance import (
    DayStatus,
    MissedCheckIn,
    Punch,
    PunchKind,
    PunchPlace,
    Shift,
    WorkingHours,
    day_status,
    local_day,
)
from models.errors import ErrorCode
from models.geometry import GeoPoint, in_china, nearest, polygon_of
from models.notifications import NotificationKind
from models.organisation import Grid
from models.people import Role, RoleGrant, User
from resolvers.deadlines import calendar_of, tenant_settings
from resolvers.errors import InputCheck, fail, not_found
from resolvers.loaders import batch_by_key, groups_by_key, loader
from resolvers.notifications import admins_of, notify
from resolvers.permissions import ADMINS, allowed_to, session_of, viewer_of
from resolvers.rows import Selection
from resolvers.uploads import IncomingFiles, receive_photo
from tenants.context import RequestContext

DAY_STATUS_NAMES = {
    DayStatus.ON_TIME: "正常",
    DayStatus.LATE: "迟到",
    DayStatus.MISSING: "缺卡",
    DayStatus.NOT_YET: "未到签到截止时间",
    DayStatus.REST: "休息",
    DayStatus.EXTRA: "休息日出勤",
}
PUNCH_PLACE_NAMES = {
    PunchPlace.INSIDE: "网格内",
    PunchPlace.OUTSIDE: "网格外",
    PunchPlace.UNKNOWN: "网格未划定边界",
}
PUNCH_KIND_NAMES = {PunchKind.CHECK_IN: "签到", PunchKind.CHECK_OUT: "签退"}

# What a phone's location fix may claim; a larger radius is no position at all.
MAX_ACCURACY_METRES = 5_000


@dataclass(frozen=True)
class Position:
    longitude: float
    latitude: float
    accuracy_metres: float


@dataclass(frozen=True, slots=True)
class ShiftRow:
    id: uuid.UUID
    worker_id: uuid.UUID
    work_date: date
    checked_in_at: datetime
    checked_out_at: datetime | None
    outside: bool


@dataclass(frozen=True, slots=True)
class PunchRow:
    id: uuid.UUID
    shift_id: uuid.UUID
    kind: PunchKind
    at: datetime
    longitude: float
    latitude: float
    accuracy_metres: float
    place: PunchPlace
    grid_id: uuid.UUID | None
    distance_metres: float | None
    storage_key: str | None


SHIFT = Selection(
    ShiftRow,
    select(Shift.id, Shift.worker_id, Shift.work_date, Shift.checked_in_at, Shift.checked_out_at, Shift.outside),
)
PUNCH = Selection(
    PunchRow,
    select(
        Punch.id,
        Punch.shift_id,
        Punch.kind,
        Punch.at,
        Punch.longitude,
        Punch.latitude,
        Punch.accuracy_metres,
        Punch.place,
        Punch.grid_id,
        Punch.distance_metres,
        Punch.storage_key,
    ),
)


@dataclass(frozen=True, slots=True)
class AttendanceDay:
    day: date
    working_day: bool
    status: DayStatus
    outside: bool
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes_worked: int


@dataclass(frozen=True)
class AttendanceMonth:
    worker_id: uuid.UUID
    month: date  # its first day
    days: list[AttendanceDay]

    def count(self, status: DayStatus) -> int:
        return sum(1 for d in self.days if d.status is status)

    @property
    def working_days(self) -> int:
        return sum(1 for d in self.days if d.working_day)

    @property
    def outside_days(self) -> int:
        return sum(1 for d in self.days if d.outside)


def working_hours(ctx: RequestContext) -> WorkingHours:
    spec = tenant_settings(ctx).attendance
    return WorkingHours(spec.work_starts, spec.work_ends, spec.missing_after, spec.tolerance_metres)


# --- who sees whose attendance ----------------------------------------------------------------


def _serves_in(worker_id: uuid.UUID, community_ids: frozenset[uuid.UUID]) -> Exists:
    return exists().where(Grid.worker_id == worker_id, Grid.community_id.in_(community_ids))


async def may_see_worker(ctx: RequestContext, worker_id: uuid.UUID) -> bool:
    """The worker themself, a tenant admin, or an admin of a community where they serve a grid."""
    viewer = viewer_of(ctx)
    if viewer.user_id == worker_id:
        return True
    if Role.TENANT_ADMIN in viewer.roles:
        return bool(
            await session_of(ctx).scalar(
                select(exists().where(RoleGrant.user_id == worker_id, RoleGrant.role == Role.GRID_WORKER))
            )
        )
    if Role.COMMUNITY_ADMIN in viewer.roles:
        return bool(await session_of(ctx).scalar(select(_serves_in(worker_id, viewer.community_ids))))
    return False


# --- checking in and out ----------------------------------------------------------------------


def _checked(position: Position) -> GeoPoint:
    check = InputCheck()
    point = GeoPoint(position.longitude, position.latitude)
    check.require(in_china(point), "longitude", "位置不在有效范围内（应为 GCJ-02 经纬度）。")
    check.require(
        0 <= position.accuracy_metres <= MAX_ACCURACY_METRES,
        "accuracyMetres",
        f"定位精度应为 0–{MAX_ACCURACY_METRES} 米。",
    )
    check.done()
    return point


async def _placed(
    ctx: RequestContext, worker_id: uuid.UUID, point: GeoPoint
) -> tuple[PunchPlace, uuid.UUID | None, float | None]:
    """Inside one of the worker's grids (within the tolerance), or outside and how far from the
    nearest; unknown while none of their grids has a boundary. The phone's stated accuracy is
    kept but does not widen the fence: a poor fix would otherwise count as inside anywhere."""
    rows = (
        await session_of(ctx).execute(
            select(Grid.id, Grid.boundary).where(Grid.worker_id == worker_id, Grid.boundary.is_not(None))
        )
    ).all()
    found = nearest(point, [(row.id, polygon_of(row.boundary)) for row in rows])
    if found is None:
        return PunchPlace.UNKNOWN, None, None
    inside = found.distance_metres <= working_hours(ctx).tolerance_metres
    return (PunchPlace.INSIDE if inside else PunchPlace.OUTSIDE), found.key, round(found.distance_metres, 1)


async def _punch(
    ctx: RequestContext, shift: Shift, kind: PunchKind, point: GeoPoint, position: Position, photo: IncomingFiles
) -> None:
    place, grid_id, distance = await _placed(ctx, shift.worker_id, point)
    key = await receive_photo(ctx, photo, "photo", "photoId", "照片")
    session_of(ctx).add(
        Punch(
            shift_id=shift.id,
            kind=kind,
            at=ctx.clock(),
            longitude=point.longitude,
            latitude=point.latitude,
            accuracy_metres=position.accuracy_metres,
            place=place,
            grid_id=grid_id,
            distance_metres=distance,
            storage_key=key,
        )
    )
    shift.outside = shift.outside or place is PunchPlace.OUTSIDE


async def _open_shift(ctx: RequestContext, worker_id: uuid.UUID) -> Shift | None:
    return await session_of(ctx).scalar(
        select(Shift).where(Shift.worker_id == worker_id, Shift.checked_out_at.is_(None))
    )


@allowed_to(Role.GRID_WORKER)
async def check_in(ctx: RequestContext, position: Position, photo: IncomingFiles) -> uuid.UUID:
    session = session_of(ctx)
    worker_id = viewer_of(ctx).user_id
    point = _checked(position)
    if await _open_shift(ctx, worker_id) is not None:
        raise fail(ErrorCode.ALREADY_CHECKED_IN, "您已签到，请先签退再开始新的班次。")
    now = ctx.clock()
    shift = Shift(worker_id=worker_id, work_date=local_day(now), checked_in_at=now, outside=False)
    session.add(shift)
    try:
        # The partial unique index decides a race the check above cannot see (PostgreSQL; on
        # SQLite the write lock taken up front already serialised the two).
        await session.flush()
    except IntegrityError as error:
        raise fail(ErrorCode.ALREADY_CHECKED_IN, "您已签到，请先签退再开始新的班次。") from error
    await _punch(ctx, shift, PunchKind.CHECK_IN, point, position, photo)
    await session.flush()
    return shift.id


@allowed_to(Role.GRID_WORKER)
async def check_out(ctx: RequestContext, position: Position, photo: IncomingFiles) -> uuid.UUID:
    session = session_of(ctx)
    point = _checked(position)
    shift = await _open_shift(ctx, viewer_of(ctx).user_id)
    if shift is None:
        raise fail(ErrorCode.NOT_CHECKED_IN, "您还没有签到。")
    shift.checked_out_at = max(ctx.clock(), shift.checked_in_at)
    await _punch(ctx, shift, PunchKind.CHECK_OUT, point, position, photo)
    try:
        await session.flush()
    except IntegrityError as error:  # a second check-out of the same shift at the same moment
        raise fail(ErrorCode.NOT_CHECKED_IN, "该班次刚刚已签退。") from error
    return shift.id


# --- reading ----------------------------------------------------------------------------------


class Loaders:
    shifts = batch_by_key(SHIFT, Shift.id)
    punches_of_shifts = groups_by_key(PUNCH, Punch.shift_id)


async def shift(ctx: RequestContext, shift_id: uuid.UUID) -> ShiftRow | None:
    """A shift of the caller's, or of a worker they are an admin over."""
    if ctx.viewer is None:
        return None
    found: ShiftRow | None = await loader(ctx, Loaders.shifts).load(shift_id)
    if found is None or not await may_see_worker(ctx, found.worker_id):
        return None
    return found


async def punches(ctx: RequestContext, shift_id: uuid.UUID) -> dict[PunchKind, PunchRow]:
    """Of a shift already scoped to the caller (the Shift type is reached only through it)."""
    rows: list[PunchRow] = await loader(ctx, Loaders.punches_of_shifts).load(shift_id)
    return {row.kind: row for row in rows}


async def _shift_rows(
    ctx: RequestContext, worker_ids: list[uuid.UUID], first: date, last: date
) -> dict[uuid.UUID, dict[date, list[ShiftRow]]]:
    rows = (
        await SHIFT.where(Shift.worker_id.in_(worker_ids), Shift.work_date >= first, Shift.work_date <= last)
        .order_by(Shift.checked_in_at)
        .all(session_of(ctx))
    )
    found: dict[uuid.UUID, dict[date, list[ShiftRow]]] = {w: defaultdict(list) for w in worker_ids}
    for row in rows:
        found[row.worker_id][row.work_date].append(row)
    return found


def _day(ctx: RequestContext, day: date, shifts: list[ShiftRow]) -> AttendanceDay:
    working = calendar_of(ctx).is_working_day(day)
    first_in = shifts[0].checked_in_at if shifts else None
    closed = [(s.checked_in_at, s.checked_out_at) for s in shifts if s.checked_out_at is not None]
    return AttendanceDay(
        day=day,
        working_day=working,
        status=day_status(day, working, first_in, working_hours(ctx), ctx.clock()),
        outside=any(s.outside for s in shifts),
        checked_in_at=first_in,
        # The day's end only once every shift of it has ended.
        checked_out_at=closed[-1][1] if closed and len(closed) == len(shifts) else None,
        minutes_worked=sum(int((out - in_).total_seconds() // 60) for in_, out in closed),
    )


async def _shifts_of_workers_on(ctx: RequestContext, keys: list[tuple[uuid.UUID, date]]) -> list[list[ShiftRow]]:
    """A DataLoader batch: many workers' shifts of a day in one statement (the admin's overview)."""
    days = {day for _, day in keys}
    found = await _shift_rows(ctx, sorted({w for w, _ in keys}), min(days), max(days))
    return [found[worker].get(day, []) for worker, day in keys]


async def _shifts_on(ctx: RequestContext, worker_id: uuid.UUID, day: date) -> list[ShiftRow]:
    shifts: list[ShiftRow] = await loader(ctx, _shifts_of_workers_on).load((worker_id, day))
    return shifts


# day_of and shift_of_day are for a worker the caller was shown through a scoped use case
# (myWorkday, communityWorkdays).


async def day_of(ctx: RequestContext, worker_id: uuid.UUID, day: date) -> AttendanceDay:
    return _day(ctx, day, await _shifts_on(ctx, worker_id, day))


async def shift_of_day(ctx: RequestContext, worker_id: uuid.UUID, day: date) -> ShiftRow | None:
    """The open one, else the last."""
    shifts = await _shifts_on(ctx, worker_id, day)
    candidates = [s for s in shifts if s.checked_out_at is None] or shifts
    return candidates[-1] if candidates else None


def month_span(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def month_of(ctx: RequestContext, worker_id: uuid.UUID | None, month: date | None) -> AttendanceMonth:
    """A worker's month, day by day up to today (later days are not yet anything)."""
    worker_id = worker_id or viewer_of(ctx).user_id
    month = month or local_day(ctx.clock())
    if not await may_see_worker(ctx, worker_id):
        raise not_found("网格员", "workerId")
    first, last = month_span(month)
    last = min(last, local_day(ctx.clock()))
    shifts = (await _shift_rows(ctx, [worker_id], first, last))[worker_id] if first <= last else {}
    days = [
        _day(ctx, first + timedelta(days=n), shifts.get(first + timedelta(days=n), []))
        for n in range((last - first).days + 1)
    ]
    return AttendanceMonth(worker_id, first, days)


# --- the sweep ----------------------------------------------------------------------------------


async def sweep(ctx: RequestContext) -> int:
    """On a working day past the cut-off, tells the community admins of each worker who has not
    checked in (once per worker and day: missed_check_ins remembers). Returns how many."""
    session = session_of(ctx)
    now = ctx.clock()
    today = local_day(now)
    hours = working_hours(ctx)
    if not calendar_of(ctx).is_working_day(today) or now < hours.on(today, hours.missing_after):
        return 0
    missing = (
        await session.execute(
            select(User.id, User.name).where(
                exists().where(Grid.worker_id == User.id),
                ~exists().where(Shift.worker_id == User.id, Shift.work_date == today),
                ~exists().where(MissedCheckIn.worker_id == User.id, MissedCheckIn.work_date == today),
            )
        )
    ).all()
    communities_of = defaultdict(set)
    for grid in (
        await session.execute(
            select(Grid.worker_id, Grid.community_id).where(Grid.worker_id.in_([r.id for r in missing]))
        )
    ).all():
        communities_of[grid.worker_id].add(grid.community_id)
    cutoff = hours.missing_after.strftime("%H:%M")
    for row in missing:
        session.add(MissedCheckIn(worker_id=row.id, work_date=today, reported_at=now))
        recipients: set[uuid.UUID] = set()
        for community_id in communities_of[row.id]:
            recipients.update(await admins_of(ctx, community_id))
        await notify(
            ctx,
            sorted(recipients),
            kind=NotificationKind.CHECK_IN_MISSING,
            title="网格员未签到",
            body=f"{row.name}（网格员）截至 {today.month}月{today.day}日 {cutoff} 尚未签到。",
        )
    await session.flush()
    return len(missing)
