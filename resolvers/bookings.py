"""Rooms and room bookings: free slots, requests checked against the room's rules, approval,
cancellation and check-in, and never two bookings holding one slot.

Overlap is refused twice: a check before writing (for a clear answer naming the dates), and the
database itself (PostgreSQL's exclusion constraint, whose violation 23P01 becomes the same
BOOKING_CONFLICT; on SQLite the write transaction is taken up front, so requests queue).
Neither answer says who holds the slot.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    TIMESTAMP,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Interval,
    Select,
    Text,
    bindparam,
    case,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.exc import StaleDataError

from models.bookings import (
    HOLDING,
    LIFECYCLE,
    BookingAction,
    BookingParty,
    BookingStatus,
    Breach,
    Room,
    RoomBooking,
    RoomRules,
    Weekday,
    span_minutes,
    week_of,
)
from models.bookings import SPAN as OPENING_SPAN
from models.bookings import WEEKDAYS as WEEKDAYS_FROM_MONDAY
from models.calendar import SHANGHAI
from models.database import breaks_an_exclusion
from models.errors import ErrorCode
from models.notifications import NotificationKind, Subject, SubjectType
from models.people import Role, User
from resolvers.compiled import NOW, TENANT, Derivation, Record
from resolvers.deadlines import calendar_of
from resolvers.errors import DomainError, InputCheck, fail, not_found
from resolvers.loaders import batch_by_key, loader
from resolvers.notifications import admins_of, notify
from resolvers.pagination import Page, PageRequest, paginate
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of, written_in
from resolvers.steps import Steps
from tenants.context import RequestContext
from tenants.tokens import Viewer

# What residents and admins call each status: in messages and the schema's descriptions.
BOOKING_STATUS_NAMES = {
    BookingStatus.PENDING: "待审核",
    BookingStatus.APPROVED: "已通过",
    BookingStatus.REJECTED: "未通过",
    BookingStatus.CANCELLED: "已取消",
    BookingStatus.CHECKED_IN: "已签到",
    BookingStatus.NO_SHOW: "未到场",
    BookingStatus.COMPLETED: "已完成",
}
ACTION_NAMES = {
    BookingAction.APPROVE: "审核",
    BookingAction.REJECT: "审核",
    BookingAction.CANCEL: "取消",
    BookingAction.CHECK_IN: "签到",
    BookingAction.MARK_NO_SHOW: "记为未到场",
    BookingAction.COMPLETE: "记为已完成",
    BookingAction.FLAG_OVERDUE: "超时未审核",
}


@dataclass(frozen=True, slots=True)
class RoomRow:
    id: uuid.UUID
    community_id: uuid.UUID
    name: str
    capacity: int
    facilities: list[str]
    requires_approval: bool
    opening_hours: dict[str, list[str]]
    closed_dates: list[str]
    slot_minutes: int
    min_notice_hours: int
    max_days_ahead: int
    max_duration_minutes: int
    weekly_quota_hours: int


@dataclass(frozen=True, slots=True)
class BookingRow:
    id: uuid.UUID
    room_id: uuid.UUID
    resident_id: uuid.UUID
    series_id: uuid.UUID | None
    purpose: str
    attendees: int
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    answer_due_at: datetime | None
    reason: str | None
    decided_at: datetime | None
    created_at: datetime
    room_name: str
    community_id: uuid.UUID
    resident_name: str
    resident_phone: str


ROOM = Selection(
    RoomRow,
    select(
        Room.id,
        Room.community_id,
        Room.name,
        Room.capacity,
        Room.facilities,
        Room.requires_approval,
        Room.opening_hours,
        Room.closed_dates,
        Room.slot_minutes,
        Room.min_notice_hours,
        Room.max_days_ahead,
        Room.max_duration_minutes,
        Room.weekly_quota_hours,
    ),
)
BOOKING = Selection(
    BookingRow,
    select(
        RoomBooking.id,
        RoomBooking.room_id,
        RoomBooking.resident_id,
        RoomBooking.series_id,
        RoomBooking.purpose,
        RoomBooking.attendees,
        RoomBooking.starts_at,
        RoomBooking.ends_at,
        RoomBooking.status,
        RoomBooking.answer_due_at,
        RoomBooking.reason,
        RoomBooking.decided_at,
        RoomBooking.created_at,
        Room.name.label("room_name"),
        Room.community_id,
        User.name.label("resident_name"),
        User.phone.label("resident_phone"),
    )
    .join(Room, (Room.tenant_id == RoomBooking.tenant_id) & (Room.id == RoomBooking.room_id))
    .join(User, (User.tenant_id == RoomBooking.tenant_id) & (User.id == RoomBooking.resident_id)),
)

# A booking that holds its slot. PostgreSQL's exclusion constraint indexes these bookings only,
# by room; with the statuses bound, a prepared statement's generic plan walked the room's whole
# history by start time instead (3,300 bookings, 9 ms, at 1.2M complaints).
HOLDS_ITS_SLOT = written_in(RoomBooking.status, HOLDING)

MAX_OCCURRENCES = 26
MAX_RANGE_DAYS = 31
CHECK_IN_EARLY = timedelta(minutes=15)
ANSWER_WITHIN_HOURS = 8  # one working day


@dataclass(frozen=True)
class BookingFilter:
    statuses: tuple[BookingStatus, ...] = ()
    room_id: uuid.UUID | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


@dataclass(frozen=True)
class BookingRequest:
    room_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    purpose: str
    attendees: int
    repeat_weekly_until: date | None = None


# --- rooms -----------------------------------------------------------------------------------


@allowed_to(ANYONE)
async def list_rooms(ctx: RequestContext, community_id: uuid.UUID | None, page: PageRequest) -> Page[RoomRow]:
    rooms = ROOM if community_id is None else ROOM.where(Room.community_id == community_id)
    return await paginate(ctx, rooms, (Room.name, Room.id), page)


@allowed_to(ANYONE)
async def room(ctx: RequestContext, room_id: uuid.UUID) -> RoomRow | None:
    return await loader(ctx, Loaders.rooms).load(room_id)


@allowed_to(ANYONE)
async def free_slots(
    ctx: RequestContext, room_id: uuid.UUID, first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """The room's bookable slots from `first_day` to `last_day` (China Standard Time dates)."""
    _check_slot_window(first_day, last_day)
    found = await room(ctx, room_id)
    if found is None:
        raise not_found("活动室", "roomId")
    rules = RoomRules.of(found)
    now = ctx.clock().astimezone(UTC)  # as the slots are: compared without time-zone lookups
    earliest = now + timedelta(hours=rules.min_notice_hours)
    latest = now + timedelta(days=rules.max_days_ahead)
    # Only days that can hold a bookable slot are read: the moments bounding a window far in
    # the past or the future (year 1 or 9999) are not even representable.
    first_day = max(first_day, earliest.astimezone(SHANGHAI).date())
    last_day = min(last_day, latest.astimezone(SHANGHAI).date())
    if first_day > last_day:
        return []
    window_start = datetime.combine(first_day, datetime.min.time(), SHANGHAI)
    window_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), SHANGHAI)
    taken = [
        (row.starts_at.astimezone(UTC), row.ends_at.astimezone(UTC))
        for row in (
            await session_of(ctx).execute(
                select(RoomBooking.starts_at, RoomBooking.ends_at).where(
                    RoomBooking.room_id == room_id,
                    HOLDS_ITS_SLOT,
                    RoomBooking.starts_at < window_end,
                    RoomBooking.ends_at > window_start,
                )
            )
        ).all()
    ]
    days = (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))
    return [(s, e) for s, e in rules.free_slots(days, taken) if earliest <= s <= latest]


def _check_slot_window(first_day: date, last_day: date) -> None:
    check = InputCheck()
    check.require(first_day <= last_day, "to", "结束日期不能早于开始日期。")
    check.require((last_day - first_day).days < MAX_RANGE_DAYS, "to", f"一次最多查询 {MAX_RANGE_DAYS} 天。")
    check.done()


# A room found by its id, for a compiled read (resolvers.compiled) of `node(id:)`.
ROOM_RECORD = Record(ROOM, Room.id, room)

# A compiled read's free-slot window (it is read at the request's NOW).
FIRST_DAY = bindparam("first_day", type_=Date())
LAST_DAY = bindparam("last_day", type_=Date())
ONE_MINUTE: ColumnElement[timedelta] = literal_column("interval '1 minute'", Interval())


def free_slot_parameters(first_day: date, last_day: date) -> dict[str, Any]:
    """What free_slot_rows reads for this request, once the window is checked as free_slots
    checks it (the same DomainError)."""
    _check_slot_window(first_day, last_day)
    return {FIRST_DAY.key: first_day, LAST_DAY.key: last_day}


def free_slot_rows(room_row: Any) -> Select[Any]:
    """free_slots in SQL, for a room's row: each day's RoomRules.slot_grid (every slot by the
    clock inside each well-formed opening span, in the spans' stored order, none on a closed
    date), less the slots a pending or approved booking overlaps, from the notice to the
    horizon. The window's bookings are found once, as the exclusion constraint states overlap
    (its GiST index finds them; the index by start time would walk the room's whole past), and
    merged into one multirange that each slot is looked up in.

    The same slots as the Python rule's on every day since 1991, the zone's last change of
    offset: on a day the clocks moved, a slot there ends by the elapsed time, the Python rule's
    by the clock (before it starts, where the clock went back). Stored hours that are not a
    list of spans open nothing, as the Python rule reads them."""
    day = (
        func.generate_series(
            FIRST_DAY.cast(TIMESTAMP()), LAST_DAY.cast(TIMESTAMP()), literal_column("interval '1 day'")
        )
        .table_valued("value", name="day", joins_implicitly=True)
        .render_derived()
    )
    weekdays: ColumnElement[Any] = postgresql.array(
        [literal_column(f"'{weekday.value}'") for weekday in WEEKDAYS_FROM_MONDAY]
    )
    weekday = weekdays[func.extract("isodow", day.c.value).cast(Integer)]
    hours = room_row.c.opening_hours.op("->", return_type=JSON)(weekday)
    span = (
        func.json_array_elements_text(case((func.json_typeof(hours) == literal_column("'array'"), hours)))
        .table_valued("value", with_ordinality="ordinality", name="span", joins_implicitly=True)
        .render_derived()
    )
    parsed = (
        func.regexp_match(span.c.value, literal_column(f"'{OPENING_SPAN.pattern}'"))
        .table_valued(column("groups", postgresql.ARRAY(Text)), name="parsed", joins_implicitly=True)
        .render_derived()
    )
    opens, closes = _minutes_after_midnight(parsed.c.groups[1]), _minutes_after_midnight(parsed.c.groups[3])
    step = room_row.c.slot_minutes
    first_slot = (opens + step - 1) // step * step  # the first on the clock's grid not before opening
    minute = (
        func.generate_series(first_slot, closes - step, step)
        .table_valued("value", name="minute", joins_implicitly=True)
        .render_derived()
    )
    starts = _in_shanghai(day.c.value + minute.c.value * ONE_MINUTE)
    ends = starts + step * ONE_MINUTE
    window = _period(_in_shanghai(FIRST_DAY.cast(TIMESTAMP())), _in_shanghai((LAST_DAY + 1).cast(TIMESTAMP())))
    booked = _period(RoomBooking.starts_at, RoomBooking.ends_at)
    taken = (
        select(func.coalesce(func.range_agg(booked), literal_column("'{}'::tstzmultirange")))
        .where(
            RoomBooking.tenant_id == TENANT,
            RoomBooking.room_id == room_row.c.id,
            HOLDS_ITS_SLOT,
            booked.op("&&")(window),
        )
        .correlate_except(RoomBooking)
        .scalar_subquery()
    )
    closed = room_row.c.closed_dates.cast(postgresql.JSONB())
    # In this order: a function in FROM reads the items before it.
    slots = select(
        starts.label("starts_at"),
        ends.label("ends_at"),
        func.row_number().over(order_by=(day.c.value, span.c.ordinality, minute.c.value)).label("position"),
    ).select_from(day, span, parsed, minute)
    return slots.where(
        ~func.coalesce(closed.has_key(func.to_char(day.c.value, literal_column("'YYYY-MM-DD'"))), false()),
        starts >= NOW + room_row.c.min_notice_hours * literal_column("interval '1 hour'"),
        # Days of 24 hours, as the resolvers count them (an interval's days follow the session's time zone).
        starts <= NOW + room_row.c.max_days_ahead * literal_column("interval '24 hours'"),
        ~taken.op("&&")(_period(starts, ends)),
    )


def _in_shanghai(local: ColumnElement[datetime]) -> ColumnElement[datetime]:
    """The moment a China Standard Time clock reading (a timestamp without time zone) names."""
    return func.timezone(literal_column(f"'{SHANGHAI.key}'"), local, type_=DateTime(timezone=True))


def _minutes_after_midnight(clock: ColumnElement[str]) -> ColumnElement[int]:
    """Of "HH:MM"."""
    return func.substr(clock, 1, 2).cast(Integer) * 60 + func.substr(clock, 4, 2).cast(Integer)


def _period(
    starts: ColumnElement[datetime] | InstrumentedAttribute[datetime],
    ends: ColumnElement[datetime] | InstrumentedAttribute[datetime],
) -> ColumnElement[Any]:
    return func.tstzrange(starts, ends, literal_column("'[)'"))


# Planned for each request's window, the statement cost 1.4 ms, of which 0.5 ms planning the same
# plan again; planned once, 0.9 ms (at 1.2M complaints).
FREE_SLOTS = Derivation(free_slot_rows, free_slots, planned_once=True)


# --- who sees which bookings -----------------------------------------------------------------


def _in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Room.community_id.in_(v.community_ids),
            Role.RESIDENT: lambda v: RoomBooking.resident_id == v.user_id,
        },
    )


def people_shown(viewer: Viewer, now: datetime) -> Select[Any]:
    """Who booked the bookings in the caller's scope: shown to them (people.visible_person)."""
    room = (Room.tenant_id == RoomBooking.tenant_id) & (Room.id == RoomBooking.room_id)
    return select(RoomBooking.resident_id).join(Room, room).where(_in_scope(viewer))


async def _bookings(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[BookingRow | None]:
    found = {
        row.id: row
        for row in await BOOKING.where(one_of(ctx, RoomBooking.id, ids), _in_scope(viewer)).all(session_of(ctx))
    }
    return [found.get(i) for i in ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    rooms = batch_by_key(ROOM, Room.id)
    bookings = _bookings  # per viewer


@allowed_to(Role.RESIDENT, *ADMINS)
async def booking(ctx: RequestContext, booking_id: uuid.UUID) -> BookingRow | None:
    viewer = viewer_of(ctx)
    return await loader(ctx, Loaders.bookings, viewer).load(booking_id)


@allowed_to(Role.RESIDENT, *ADMINS)
async def list_bookings(ctx: RequestContext, query: BookingFilter, page: PageRequest) -> Page[BookingRow]:
    """A resident's own bookings; for admins, their community's (a room's calendar with
    `room_id` and a time range, the approval queue with status PENDING)."""
    mine = BOOKING.where(_in_scope(viewer_of(ctx)))
    if query.statuses:
        mine = mine.where(RoomBooking.status.in_(query.statuses))
    if query.room_id is not None:
        mine = mine.where(RoomBooking.room_id == query.room_id)
    if query.starts_from is not None:
        mine = mine.where(RoomBooking.starts_at >= query.starts_from)
    if query.starts_before is not None:
        mine = mine.where(RoomBooking.starts_at < query.starts_before)
    return await paginate(ctx, mine, (RoomBooking.starts_at, RoomBooking.id), page)


# --- requesting ------------------------------------------------------------------------------


def _occurrences(request: BookingRequest, check: InputCheck) -> list[tuple[datetime, datetime]]:
    first = [(request.starts_at, request.ends_at)]
    if request.repeat_weekly_until is None:
        return first
    local_day = request.starts_at.astimezone(SHANGHAI).date()
    if not check.require(
        request.repeat_weekly_until >= local_day, "repeatWeeklyUntil", "重复截止日期不能早于首次日期。"
    ):
        return first
    weeks = (request.repeat_weekly_until - local_day).days // 7 + 1
    if not check.require(weeks <= MAX_OCCURRENCES, "repeatWeeklyUntil", f"每周重复的预约最多 {MAX_OCCURRENCES} 次。"):
        return first
    return [(request.starts_at + timedelta(weeks=k), request.ends_at + timedelta(weeks=k)) for k in range(weeks)]


BREACHES = {
    # breach: (field, code, message with the room's rules and the day filled in)
    Breach.ENDS_BEFORE_START: ("endsAt", ErrorCode.INVALID, "结束时间须晚于开始时间。"),
    Breach.OVER_CAPACITY: ("attendees", ErrorCode.OVER_CAPACITY, "该活动室最多容纳 {rules.capacity} 人。"),
    Breach.OFF_SLOT: ("startsAt", ErrorCode.NOT_ON_SLOT, "请按 {rules.slot_minutes} 分钟的时段预约。"),
    Breach.TOO_LONG: ("endsAt", ErrorCode.TOO_LONG, "单次预约不能超过 {hours} 小时。"),
    Breach.TOO_SOON: ("startsAt", ErrorCode.TOO_SOON, "请至少提前 {rules.min_notice_hours} 小时预约。"),
    Breach.TOO_FAR_AHEAD: ("startsAt", ErrorCode.TOO_FAR_AHEAD, "最多只能预约 {rules.max_days_ahead} 天内的时段。"),
    Breach.CLOSED_DAY: ("startsAt", ErrorCode.CLOSED, "{day} 活动室不开放。"),
    Breach.OUTSIDE_OPENING_HOURS: ("startsAt", ErrorCode.OUTSIDE_OPENING_HOURS, "所选时段不在开放时间内。"),
}


def _breach_issue(breach: Breach, rules: RoomRules, starts: datetime) -> tuple[str, ErrorCode, str]:
    field_name, code, message = BREACHES[breach]
    return field_name, code, message.format(rules=rules, hours=rules.max_duration_minutes // 60, day=_day(starts))


def _day(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).date().isoformat()


async def _quota_problems(
    ctx: RequestContext, room_row: RoomRow, resident_id: uuid.UUID, slots: list[tuple[datetime, datetime]]
) -> list[str]:
    """The weeks (by Monday) in which these slots would take the resident over the room's quota."""
    held: dict[datetime, timedelta] = defaultdict(timedelta)
    for starts, ends in slots:
        held[week_of(starts)[0]] += ends - starts
    first_monday, last_monday = min(held), max(held)
    already = (
        await session_of(ctx).execute(
            select(RoomBooking.starts_at, RoomBooking.ends_at).where(
                RoomBooking.room_id == room_row.id,
                RoomBooking.resident_id == resident_id,
                HOLDS_ITS_SLOT,
                RoomBooking.starts_at >= first_monday,
                RoomBooking.starts_at < last_monday + timedelta(days=7),
            )
        )
    ).all()
    for booked in already:
        monday = week_of(booked.starts_at)[0]
        if monday in held:
            held[monday] += booked.ends_at - booked.starts_at
    quota = timedelta(hours=room_row.weekly_quota_hours)
    return [monday.date().isoformat() for monday, total in sorted(held.items()) if total > quota]


async def _clashes(ctx: RequestContext, room_id: uuid.UUID, slots: list[tuple[datetime, datetime]]) -> list[str]:
    overlapping = or_(*[(RoomBooking.starts_at < ends) & (RoomBooking.ends_at > starts) for starts, ends in slots])
    taken = (
        await session_of(ctx).execute(
            select(RoomBooking.starts_at, RoomBooking.ends_at).where(
                RoomBooking.room_id == room_id, HOLDS_ITS_SLOT, overlapping
            )
        )
    ).all()
    return sorted({_day(s) for s, e in slots if any(t.starts_at < e and s < t.ends_at for t in taken)})


def _conflict(days: list[str]) -> DomainError:
    return fail(
        ErrorCode.BOOKING_CONFLICT,
        f"以下日期的所选时段已被预约：{'、'.join(days)}。" if days else "所选时段已被预约。",
        "startsAt",
    )


@allowed_to(Role.RESIDENT)
async def request_booking(ctx: RequestContext, request: BookingRequest) -> uuid.UUID:
    """Books a room for one slot, or every week until a date (accepted or refused as a whole).
    Returns the (first) booking's id."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    now = ctx.clock()
    check = InputCheck()
    purpose = check.text(request.purpose, "purpose", "用途", max_length=200)
    room_row = await room(ctx, request.room_id)
    if room_row is None:
        raise not_found("活动室", "roomId")
    slots = _occurrences(request, check)
    check.done()
    rules = RoomRules.of(room_row)
    for starts, ends in slots:
        for breach in rules.breaches(starts, ends, request.attendees, now):
            field_name, code, message = _breach_issue(breach, rules, starts)
            prefix = f"{_day(starts)}：" if len(slots) > 1 else ""
            check.require(False, field_name, prefix + message, code)
    check.done()
    over_quota = await _quota_problems(ctx, room_row, viewer.user_id, slots)
    if over_quota:
        raise fail(
            ErrorCode.QUOTA_EXCEEDED,
            f"超过每周 {room_row.weekly_quota_hours} 小时的预约额度（自 {'、'.join(over_quota)} 起的一周）。",
            "endsAt",
        )
    clashes = await _clashes(ctx, request.room_id, slots)
    if clashes:
        raise _conflict(clashes if len(slots) > 1 else [])

    pending = room_row.requires_approval
    series_id = uuid.uuid4() if len(slots) > 1 else None
    rows = [
        RoomBooking(
            room_id=request.room_id,
            resident_id=viewer.user_id,
            series_id=series_id,
            purpose=purpose,
            attendees=request.attendees,
            starts_at=starts,
            ends_at=ends,
            status=BookingStatus.PENDING if pending else BookingStatus.APPROVED,
            answer_due_at=calendar_of(ctx).working_hours_after(now, ANSWER_WITHIN_HOURS) if pending else None,
            created_at=now,
        )
        for starts, ends in slots
    ]
    session.add_all(rows)
    try:
        await session.flush()
    except IntegrityError as error:
        if breaks_an_exclusion(error):
            raise _conflict([]) from error
        raise
    if pending:
        await notify(
            ctx,
            await admins_of(ctx, room_row.community_id),
            kind=NotificationKind.BOOKING_PENDING,
            title="活动室预约待审核",
            body=f"{room_row.name}：{_day(rows[0].starts_at)} 起 {len(rows)} 次，{purpose}",
            subject=Subject(SubjectType.ROOM_BOOKING, rows[0].id),
        )
    return rows[0].id


# --- deciding and using ----------------------------------------------------------------------


def parties(viewer: Viewer, resident_id: uuid.UUID, community_id: uuid.UUID) -> set[BookingParty]:
    """What the caller is to a booking of `resident_id` in a room of `community_id`."""
    found: set[BookingParty] = set()
    if Role.RESIDENT in viewer.roles and resident_id == viewer.user_id:
        found.add(BookingParty.RESIDENT)
    if viewer.administers(community_id):
        found.add(BookingParty.ADMIN)
    return found


@dataclass
class _Step:
    booking: RoomBooking
    room_name: str
    parties: set[BookingParty]


async def _find(ctx: RequestContext, booking_id: uuid.UUID) -> _Step:
    """The booking to write to, if the caller may see it (else NOT_FOUND, whatever the step)."""
    stmt = (
        select(RoomBooking, Room.name, Room.community_id)
        .join(Room, (Room.tenant_id == RoomBooking.tenant_id) & (Room.id == RoomBooking.room_id))
        .where(RoomBooking.id == booking_id, _in_scope(viewer_of(ctx)))
    )
    found = (await session_of(ctx).execute(stmt)).one_or_none()
    if found is None:
        raise not_found("预约", "bookingId")
    row, room_name, community_id = found
    return _Step(row, room_name, parties(viewer_of(ctx), row.resident_id, community_id))


def _move(ctx: RequestContext, step: _Step, action: BookingAction) -> RoomBooking:
    """Takes `action` if STEPS let this caller take it now (written by `_save`)."""
    step.booking.status = STEPS.next_state(ctx, action, step.booking, step.parties)
    return step.booking


# --- each step's own rule beyond the lifecycle (read by the mutations and by viewer_can) ------


def _not_started(
    ctx: RequestContext, booking: RoomBooking | BookingRow, parties: frozenset[BookingParty]
) -> DomainError | None:
    """A resident cancels before the start; an admin at any time."""
    if BookingParty.ADMIN not in parties and booking.starts_at <= ctx.clock():
        return fail(ErrorCode.TOO_LATE, "预约已开始，不能再取消。", "bookingId")
    return None


def _check_in_open(ctx: RequestContext, booking: RoomBooking | BookingRow, _: object) -> DomainError | None:
    if not booking.starts_at - CHECK_IN_EARLY <= ctx.clock() <= booking.ends_at:
        return fail(ErrorCode.NOT_NOW, "只能在预约开始前 15 分钟至结束前签到。", "bookingId")
    return None


def _past_check_in(ctx: RequestContext, booking: RoomBooking | BookingRow, _: object) -> DomainError | None:
    if ctx.clock() < booking.starts_at + CHECK_IN_EARLY:
        return fail(ErrorCode.NOT_NOW, "预约开始 15 分钟后仍未签到，才能记为未到场。", "bookingId")
    return None


STEPS = Steps(
    LIFECYCLE,
    thing="预约",
    states=BOOKING_STATUS_NAMES,
    actions=ACTION_NAMES,
    field="bookingId",
    guards={
        BookingAction.CANCEL: _not_started,
        BookingAction.CHECK_IN: _check_in_open,
        BookingAction.MARK_NO_SHOW: _past_check_in,
    },
)


def viewer_can(ctx: RequestContext, row: BookingRow) -> frozenset[BookingAction]:
    """The steps the caller may take on this booking now (no query: the row has what it takes)."""
    if ctx.viewer is None:
        return frozenset()
    return STEPS.available(ctx, row, parties(ctx.viewer, row.resident_id, row.community_id))


async def _save(ctx: RequestContext) -> None:
    try:
        await session_of(ctx).flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该预约刚刚被他人处理，请刷新后重试。", "bookingId") from error


@allowed_to(*ADMINS)
async def decide(ctx: RequestContext, booking_id: uuid.UUID, *, approve: bool, reason: str | None) -> uuid.UUID:
    """Approves or rejects a pending request; for a weekly series, every pending date of it."""
    check = InputCheck()
    if not approve:
        reason = check.text(reason or "", "reason", "不通过的理由", max_length=200)
    check.done()
    action = BookingAction.APPROVE if approve else BookingAction.REJECT
    step = await _find(ctx, booking_id)
    row = _move(ctx, step, action)
    together = [row]
    if row.series_id is not None:
        siblings = await session_of(ctx).scalars(
            select(RoomBooking).where(
                RoomBooking.series_id == row.series_id,
                RoomBooking.id != row.id,
                RoomBooking.status.in_(LIFECYCLE.sources(action, BookingParty.ADMIN)),
            )
        )
        together += [_move(ctx, _Step(each, step.room_name, step.parties), action) for each in siblings]
    now = ctx.clock()
    for each in together:
        each.reason = None if approve else reason
        each.decided_by_id = viewer_of(ctx).user_id
        each.decided_at = now
    await _save(ctx)
    verdict = "已通过" if approve else f"未通过：{reason}"
    await notify(
        ctx,
        [row.resident_id],
        kind=NotificationKind.BOOKING_DECIDED,
        title="活动室预约结果",
        body=f"您预约的{step.room_name}（{_day(row.starts_at)}）{verdict}",
        subject=Subject(SubjectType.ROOM_BOOKING, row.id),
    )
    return row.id


@allowed_to(Role.RESIDENT, *ADMINS)
async def cancel(ctx: RequestContext, booking_id: uuid.UUID, reason: str | None) -> uuid.UUID:
    """A resident cancels their own booking before it starts; an admin cancels any, with a reason."""
    step = await _find(ctx, booking_id)
    mine = step.booking.resident_id == viewer_of(ctx).user_id
    check = InputCheck()
    if not mine:
        reason = check.text(reason or "", "reason", "取消理由", max_length=200)
    check.done()
    row = _move(ctx, step, BookingAction.CANCEL)
    row.reason = reason
    await _save(ctx)
    if not mine:
        await notify(
            ctx,
            [row.resident_id],
            kind=NotificationKind.BOOKING_CANCELLED,
            title="活动室预约被取消",
            body=f"您预约的{step.room_name}（{_day(row.starts_at)}）已取消：{reason}",
            subject=Subject(SubjectType.ROOM_BOOKING, row.id),
        )
    return row.id


@allowed_to(Role.RESIDENT, *ADMINS)
async def check_in(ctx: RequestContext, booking_id: uuid.UUID) -> uuid.UUID:
    row = _move(ctx, await _find(ctx, booking_id), BookingAction.CHECK_IN)
    await _save(ctx)
    return row.id


@allowed_to(*ADMINS)
async def mark_no_show(ctx: RequestContext, booking_id: uuid.UUID) -> uuid.UUID:
    row = _move(ctx, await _find(ctx, booking_id), BookingAction.MARK_NO_SHOW)
    await _save(ctx)
    return row.id


@allowed_to(*ADMINS)
async def complete(ctx: RequestContext, booking_id: uuid.UUID) -> uuid.UUID:
    row = _move(ctx, await _find(ctx, booking_id), BookingAction.COMPLETE)
    await _save(ctx)
    return row.id


async def sweep(ctx: RequestContext) -> int:
    """Pending requests not answered within one working day: the admins are told, once."""
    session = session_of(ctx)
    now = ctx.clock()
    late = (
        await session.scalars(
            select(RoomBooking).where(
                RoomBooking.status.in_(LIFECYCLE.sources(BookingAction.FLAG_OVERDUE, BookingParty.SYSTEM)),
                RoomBooking.answer_due_at < now,
                RoomBooking.overdue_at.is_(None),
            )
        )
    ).all()
    for row in late:
        row.status = LIFECYCLE.next_state(BookingAction.FLAG_OVERDUE, row.status, {BookingParty.SYSTEM})
        row.overdue_at = now
        booked = await room(ctx, row.room_id)
        assert booked is not None  # a booking's room: the foreign key keeps it
        community_id = booked.community_id
        await notify(
            ctx,
            await admins_of(ctx, community_id),
            kind=NotificationKind.BOOKING_OVERDUE,
            title="活动室预约超时未审核",
            body=f"{_day(row.starts_at)} 的预约已超过一个工作日未答复。",
            subject=Subject(SubjectType.ROOM_BOOKING, row.id),
        )
    await session.flush()
    return len(late)


MAX_OPENING_SPANS = 28  # four a day


@dataclass(frozen=True)
class RoomSettings:
    name: str
    capacity: int
    facilities: list[str]
    requires_approval: bool
    opening_hours: list[tuple[Weekday, str, str]]  # (weekday, opens, closes), "HH:MM"
    closed_dates: list[date]
    slot_minutes: int
    min_notice_hours: int
    max_days_ahead: int
    max_duration_minutes: int
    weekly_quota_hours: int


def _opening_hours(check: InputCheck, spans: list[tuple[Weekday, str, str]]) -> dict[str, list[str]]:
    """The spans as a room stores them, {"mon": ["09:00-12:00"]}, each checked."""
    check.require(len(spans) <= MAX_OPENING_SPANS, "openingHours", f"开放时段最多 {MAX_OPENING_SPANS} 个。")
    hours: dict[str, list[str]] = {}
    for index, (day, opens, closes) in enumerate(spans):
        span = f"{opens}-{closes}"
        well_formed = span_minutes(span) is not None
        check.require(
            well_formed, f"openingHours.{index}", f"开放时段“{span}”应为 09:00 至 12:00 这样的时间，且结束晚于开始。"
        )
        hours.setdefault(day.value, []).append(span)
    return {day: sorted(day_spans) for day, day_spans in hours.items()}


@allowed_to(*ADMINS)
async def update_room(ctx: RequestContext, room_id: uuid.UUID, settings: RoomSettings) -> uuid.UUID:
    """An admin of the room's community (or the tenant admin) edits its rules. Bookings already
    made are kept; the new rules apply to requests from now on."""
    found = await room(ctx, room_id)
    if found is None or not viewer_of(ctx).administers(found.community_id):
        raise not_found("活动室", "roomId")
    check = InputCheck()
    name = check.text(settings.name, "name", "名称", max_length=100)
    check.require(1 <= settings.capacity <= 1000, "capacity", "容纳人数应为 1–1000。")
    check.require(all(0 < len(f.strip()) <= 50 for f in settings.facilities), "facilities", "每项设施 1–50 个字符。")
    opening_hours = _opening_hours(check, settings.opening_hours)
    check.require(settings.slot_minutes in (15, 30, 60), "slotMinutes", "时段长度应为 15、30 或 60 分钟。")
    check.require(0 <= settings.min_notice_hours <= 336, "minNoticeHours", "提前预约时间应为 0–336 小时。")
    check.require(1 <= settings.max_days_ahead <= 180, "maxDaysAhead", "可预约天数应为 1–180 天。")
    check.require(15 <= settings.max_duration_minutes <= 1440, "maxDurationMinutes", "单次时长应为 15–1440 分钟。")
    check.require(1 <= settings.weekly_quota_hours <= 168, "weeklyQuotaHours", "每周额度应为 1–168 小时。")
    check.done()
    row = await session_of(ctx).get(Room, (ctx.tenant_id, room_id))
    assert row is not None
    row.name = name
    row.capacity = settings.capacity
    row.facilities = [f.strip() for f in settings.facilities]
    row.requires_approval = settings.requires_approval
    row.opening_hours = opening_hours
    row.closed_dates = sorted(d.isoformat() for d in set(settings.closed_dates))
    row.slot_minutes = settings.slot_minutes
    row.min_notice_hours = settings.min_notice_hours
    row.max_days_ahead = settings.max_days_ahead
    row.max_duration_minutes = settings.max_duration_minutes
    row.weekly_quota_hours = settings.weekly_quota_hours
    try:
        await session_of(ctx).flush()
    except IntegrityError as error:
        raise fail(ErrorCode.NAME_TAKEN, "本社区已有同名活动室。", "name") from error
    return row.id
