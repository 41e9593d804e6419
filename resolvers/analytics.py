"""Dashboards: what a street office learns from its complaints, its residents, its departments'
work orders, its rooms and appointments and its volunteers, for a community admin (their
community), a tenant admin (the street office, or one community of it).

Complaint figures come from the rollups (models.analytics), never from scanning the
complaints, except "overdue now", which turns with the clock: the items the sweep flagged
overdue for good are a rollup counter, and only those past a deadline since it last ran are
counted live (resolvers.complaints.count_overdue_in). A period is a day, a week (Monday to
Sunday) or a month in Asia/Shanghai, always shown beside the period before it. Figures of a
cohort (closure, on-time, handling time, reopen, satisfaction) are about the complaints
*submitted* in the period, as they stand now.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.analytics import (
    BUCKET_COLUMNS,
    HANDLING_BUCKETS,
    RATING_COLUMNS,
    RATINGS,
    ComplaintBuildingRollup,
    ComplaintCellRollup,
    ComplaintDayRollup,
    ComplaintGridDayRollup,
    ComplaintMonthRollup,
    WorkOrderDayRollup,
    WorkOrderMonthRollup,
    cell_centre,
    month_of,
    percentile_bound,
    shanghai_day,
    working_minutes_between,
)
from models.appointments import OPEN as APPOINTMENTS_OPEN
from models.appointments import Appointment, AppointmentStatus, AppointmentType
from models.auth import RefreshToken
from models.base import WholeMinutesBetween
from models.bookings import BookingStatus, Room, RoomBooking, RoomRules
from models.calendar import SHANGHAI
from models.complaints import Complaint, ComplaintCategory, ComplaintSource, ComplaintStatus
from models.errors import ErrorCode
from models.organisation import Building, Community, Department, Grid
from models.people import ResidentProfile, ResidentStatus, Role, User
from models.volunteers import Volunteer, VolunteerActivity, VolunteerSignup
from resolvers.complaints import count_overdue_in
from resolvers.deadlines import calendar_of
from resolvers.errors import fail, not_found
from resolvers.permissions import ADMINS, allowed_to, session_of, viewer_of
from resolvers.platform import platform_session
from tenants.context import RequestContext
from tenants.directory import TenantInfo
from tenants.sessions import bind_tenant

# Counters summed for a period's cohort (models.analytics.CohortCounters).
COHORT_COUNTERS = (
    "submitted",
    "closed",
    "rejected",
    "withdrawn",
    "acknowledged",
    "acknowledged_on_time",
    "resolved",
    "resolved_on_time",
    "reopened",
    "dispatched",
    "handling_minutes",
    *BUCKET_COLUMNS,
    "rated",
    "rating_sum",
    *RATING_COLUMNS,
)
TOP = 10
HEAT_CELLS = 500
TREND_PERIODS = 12


class Period(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Window:
    """[start, end) in Shanghai days."""

    start: date
    end: date


def window_of(period: Period, on: date) -> Window:
    if period is Period.DAY:
        return Window(on, on + timedelta(days=1))
    if period is Period.WEEK:
        start = on - timedelta(days=on.weekday())
        return Window(start, start + timedelta(days=7))
    start = on.replace(day=1)
    return Window(start, _next_month(start))


# The days a dashboard may be asked about: its windows (and the trend's twelve periods before
# them) stay well inside the calendar.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def current_window(ctx: RequestContext, period: Period, on: date | None) -> Window:
    """The period holding `on`, today if it is left out."""
    if on is not None and not FIRST_DAY <= on <= LAST_DAY:
        raise fail(ErrorCode.INVALID, "请选择 2000 年至 2099 年之间的日期。", "on")
    return window_of(period, on or shanghai_day(ctx.clock()))


def previous_of(period: Period, current: Window) -> Window:
    return window_of(period, current.start - timedelta(days=1))


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


# --- who sees which communities ------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The communities a dashboard counts: None for the whole street office."""

    community_ids: frozenset[uuid.UUID] | None

    def where(self, column: Any) -> ColumnElement[bool]:
        return true() if self.community_ids is None else column.in_(self.community_ids)


async def _scope(ctx: RequestContext, community_id: uuid.UUID | None) -> Scope:
    viewer = viewer_of(ctx)
    if community_id is not None:
        if await session_of(ctx).scalar(select(Community.id).where(Community.id == community_id)) is None:
            raise not_found("社区", "communityId")
        if not viewer.administers(community_id):
            raise fail(ErrorCode.OUT_OF_SCOPE, "只能查看您管理的社区。", "communityId")
        return Scope(frozenset({community_id}))
    if Role.TENANT_ADMIN in viewer.roles:
        return Scope(None)
    return Scope(frozenset(viewer.community_ids))


# --- rows the schema shows -----------------------------------------------------------------


def share(part: int, whole: int) -> float | None:
    """part / whole to four places, or None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Volume:
    """Complaints submitted in the period and in the one before, of one category, place or source."""

    key: Any
    name: str
    count: int
    previous_count: int

    @property
    def change(self) -> int:
        return self.count - self.previous_count


@dataclass(frozen=True)
class Cohort:
    """The period's complaints and what has become of them."""

    counters: dict[str, int]

    def __getitem__(self, name: str) -> int:
        return self.counters.get(name, 0)

    @property
    def submitted(self) -> int:
        return self["submitted"]

    @property
    def closure_rate(self) -> float | None:
        return share(self["closed"], self["submitted"])

    @property
    def on_time_acknowledge_rate(self) -> float | None:
        return share(self["acknowledged_on_time"], self["acknowledged"])

    @property
    def on_time_resolve_rate(self) -> float | None:
        return share(self["resolved_on_time"], self["resolved"])

    @property
    def reopen_rate(self) -> float | None:
        return share(self["reopened"], self["resolved"])

    @property
    def average_handling_hours(self) -> float | None:
        return round(self["handling_minutes"] / 60 / self["resolved"], 2) if self["resolved"] else None

    @property
    def p90_handling_hours(self) -> float | None:
        """At most this many working hours for 90% of those resolved (a histogram bucket's
        bound; None past the last bound)."""
        bound = percentile_bound((self[c] for c in BUCKET_COLUMNS), 0.9)
        return None if bound is None or bound == HANDLING_BUCKETS[-1] else bound

    @property
    def average_rating(self) -> float | None:
        return round(self["rating_sum"] / self["rated"], 2) if self["rated"] else None

    @property
    def ratings(self) -> list[tuple[int, int]]:
        return [(r, self[c]) for r, c in zip(RATINGS, RATING_COLUMNS, strict=True)]


@dataclass(frozen=True)
class TrendPoint:
    start: date
    submitted: int
    closed: int


@dataclass(frozen=True)
class HeatCell:
    latitude: float
    longitude: float
    count: int


@dataclass(frozen=True)
class ComplaintDashboard:
    period: Period
    current: Window
    previous: Window
    cohort: Cohort
    previous_cohort: Cohort
    overdue_now: int
    by_category: list[Volume]
    by_community: list[Volume]
    by_grid: list[Volume]
    by_source: list[Volume]
    top_buildings: list[Volume]
    rising_categories: list[Volume]
    heat_map: list[HeatCell]
    trend: list[TrendPoint]
    # Buildings and map cells are counted by month: the months the period falls in.
    hotspot_months: Window


# --- complaints -----------------------------------------------------------------------------


@allowed_to(*ADMINS)
async def complaint_dashboard(
    ctx: RequestContext, period: Period, on: date | None, community_id: uuid.UUID | None
) -> ComplaintDashboard:
    return await _complaint_figures(ctx, await _scope(ctx, community_id), period, on)


async def _complaint_figures(ctx: RequestContext, scope: Scope, period: Period, on: date | None) -> ComplaintDashboard:
    now = ctx.clock()
    current = current_window(ctx, period, on)
    previous = previous_of(period, current)
    session = session_of(ctx)

    table, column = _cohort_table(period)
    is_current = column >= _key(period, current.start)
    in_both = and_(column >= _key(period, previous.start), column < _key(period, current.end))
    grouped = (
        select(
            is_current.label("current"),
            table.category_id,
            table.community_id,
            table.source,
            *(func.sum(getattr(table, name)).label(name) for name in COHORT_COUNTERS),
        )
        .where(in_both, scope.where(table.community_id))
        .group_by(is_current, table.category_id, table.community_id, table.source)
    )
    # Summed by position, not by name: a street office's month is thousands of rows of 27
    # counters, and summing them through dicts took a fifth of the request (bench/dashboards.py).
    sums = {True: [0] * len(COHORT_COUNTERS), False: [0] * len(COHORT_COUNTERS)}
    volumes: dict[str, dict[Any, list[int]]] = {"category": {}, "community": {}, "source": {}}
    for row in (await session.execute(grouped)).all():
        which = bool(row.current)
        sums[which] = [total + (value or 0) for total, value in zip(sums[which], row[4:], strict=True)]
        for dimension, key in (("category", row.category_id), ("community", row.community_id), ("source", row.source)):
            counts = volumes[dimension].setdefault(key, [0, 0])
            counts[0 if which else 1] += int(row.submitted or 0)
    cohorts = {
        which: dict(zip(COHORT_COUNTERS, (int(n) for n in counted), strict=True)) for which, counted in sums.items()
    }

    names = await _names(ctx, volumes["category"], volumes["community"])
    by_category = _volumes(volumes["category"], names)
    by_grid = await _grid_volumes(ctx, scope, current, previous)
    months = Window(month_of(current.start), _next_month(month_of(current.end - timedelta(days=1))))
    return ComplaintDashboard(
        period=period,
        current=current,
        previous=previous,
        cohort=Cohort(cohorts[True]),
        previous_cohort=Cohort(cohorts[False]),
        overdue_now=await _overdue_now(ctx, scope, now),
        by_category=by_category,
        by_community=_volumes(volumes["community"], names),
        by_grid=by_grid,
        by_source=_volumes(volumes["source"], {s: s.value for s in ComplaintSource}),
        top_buildings=await _top_buildings(ctx, scope, months),
        rising_categories=sorted((v for v in by_category if v.change > 0), key=lambda v: (-v.change, -v.count, v.name))[
            :5
        ],
        heat_map=await _heat_map(ctx, scope, months),
        trend=await _trend(ctx, scope, period, current),
        hotspot_months=months,
    )


def _cohort_table(period: Period) -> tuple[Any, Any]:
    if period is Period.MONTH:
        return ComplaintMonthRollup, ComplaintMonthRollup.month
    return ComplaintDayRollup, ComplaintDayRollup.day


def _key(period: Period, day: date) -> date:
    return month_of(day) if period is Period.MONTH else day


def _volumes(counts: dict[Any, list[int]], names: dict[Any, str]) -> list[Volume]:
    found = [Volume(key, names.get(key, ""), now, before) for key, (now, before) in counts.items()]
    return sorted(found, key=lambda v: (-v.count, -v.previous_count, v.name))


async def _names(ctx: RequestContext, *keyed: Iterable[uuid.UUID]) -> dict[Any, str]:
    session = session_of(ctx)
    ids = {key for keys in keyed for key in keys}
    names: dict[Any, str] = {}
    for model in (ComplaintCategory, Community):
        rows = await session.execute(select(model.id, model.name).where(model.id.in_(ids)))
        names.update({row.id: row.name for row in rows})
    return names


async def _grid_volumes(ctx: RequestContext, scope: Scope, current: Window, previous: Window) -> list[Volume]:
    r = ComplaintGridDayRollup
    is_current = r.day >= current.start
    rows = await session_of(ctx).execute(
        select(
            r.grid_id,
            func.sum(case((is_current, r.submitted), else_=0)).label("now"),
            func.sum(case((is_current, 0), else_=r.submitted)).label("before"),
        )
        .where(r.day >= previous.start, r.day < current.end, scope.where(r.community_id))
        .group_by(r.grid_id)
    )
    counts = {row.grid_id: [int(row.now or 0), int(row.before or 0)] for row in rows}
    grid_names = await session_of(ctx).execute(select(Grid.id, Grid.name).where(Grid.id.in_(counts)))
    return _volumes(counts, {row.id: row.name for row in grid_names})


async def _top_buildings(ctx: RequestContext, scope: Scope, months: Window) -> list[Volume]:
    r = ComplaintBuildingRollup
    total = func.sum(r.complaints)
    rows = (
        await session_of(ctx).execute(
            select(r.building_id, total.label("count"), Building.name)
            .join(Building, Building.id == r.building_id)
            .where(r.month >= months.start, r.month < months.end, scope.where(r.community_id))
            .group_by(r.building_id, Building.name)
            .order_by(total.desc(), Building.name)
            .limit(TOP)
        )
    ).all()
    # Row.count is the label's value when a column is labelled so; SQLAlchemy's typing sees only tuple.count.
    return [Volume(row.building_id, row.name, int(row.count), 0) for row in rows]  # type: ignore[call-overload]


async def _heat_map(ctx: RequestContext, scope: Scope, months: Window) -> list[HeatCell]:
    r = ComplaintCellRollup
    rows = await session_of(ctx).execute(
        select(r.cell, func.sum(r.complaints).label("count"))
        .where(r.month >= months.start, r.month < months.end, scope.where(r.community_id))
        .group_by(r.cell)
    )
    # Row.count is the label's value (see _top_buildings); SQLAlchemy's typing sees only tuple.count.
    cells = [HeatCell(*cell_centre(row.cell), int(row.count)) for row in rows if row.count]  # type: ignore[call-overload,truthy-function]
    return sorted(cells, key=lambda c: (-c.count, c.latitude, c.longitude))[:HEAT_CELLS]


async def _trend(ctx: RequestContext, scope: Scope, period: Period, current: Window) -> list[TrendPoint]:
    """The last TREND_PERIODS periods up to the current one, oldest first."""
    starts = [current.start]
    while len(starts) < TREND_PERIODS:
        starts.insert(0, previous_of(period, Window(starts[0], starts[0])).start)
    table, column = _cohort_table(period)
    rows = await session_of(ctx).execute(
        select(
            column.label("key"), func.sum(table.submitted).label("submitted"), func.sum(table.closed).label("closed")
        )
        .where(column >= starts[0], column < current.end, scope.where(table.community_id))
        .group_by(column)
    )
    points = {start: [0, 0] for start in starts}
    for row in rows:
        start = window_of(period, row.key).start
        points[start][0] += int(row.submitted or 0)
        points[start][1] += int(row.closed or 0)
    return [TrendPoint(start, submitted, closed) for start, (submitted, closed) in points.items()]


async def _overdue_now(ctx: RequestContext, scope: Scope, now: datetime) -> int:
    return await count_overdue_in(session_of(ctx), scope.community_ids, now)


# --- residents (users) ----------------------------------------------------------------------


@dataclass(frozen=True)
class UserFigures:
    registered: int
    verified: int
    active: int
    requests: int


@dataclass(frozen=True)
class UserDashboard:
    period: Period
    current: Window
    previous: Window
    figures: UserFigures
    previous_figures: UserFigures
    residents: int
    verified_residents: int
    pending_now: int


@allowed_to(*ADMINS)
async def user_dashboard(
    ctx: RequestContext, period: Period, on: date | None, community_id: uuid.UUID | None
) -> UserDashboard:
    """Residents registered and verified in the period, residents active in it (signed in or
    kept their session), requests served (complaints, room bookings and appointments made),
    and the totals to date. Residents count where they live. A street office has tens of
    thousands of residents, not millions: each table is read once for both periods."""
    scope = await _scope(ctx, community_id)
    current = current_window(ctx, period, on)
    previous = previous_of(period, current)
    session = session_of(ctx)
    living_here = (
        true()
        if scope.community_ids is None
        else ResidentProfile.building_id.in_(
            select(Building.id).join(Grid, Grid.id == Building.grid_id).where(scope.where(Grid.community_id))
        )
    )
    now_start, now_end = _moments(current)
    before_start, _ = _moments(previous)

    def during(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    verified = ResidentProfile.status == ResidentStatus.VERIFIED
    people = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(verified),
                func.count().filter(ResidentProfile.status == ResidentStatus.PENDING),
                func.count().filter(during(ResidentProfile.registered_at, now_start, now_end)),
                func.count().filter(during(ResidentProfile.registered_at, before_start, now_start)),
                func.count().filter(verified, during(ResidentProfile.reviewed_at, now_start, now_end)),
                func.count().filter(verified, during(ResidentProfile.reviewed_at, before_start, now_start)),
            )
            .select_from(ResidentProfile)
            .where(living_here)
        )
    ).one()
    residents_here = select(ResidentProfile.id).where(living_here)
    active = (
        await session.execute(
            select(
                func.count(func.distinct(RefreshToken.user_id)).filter(RefreshToken.issued_at >= now_start),
                func.count(func.distinct(RefreshToken.user_id)).filter(RefreshToken.issued_at < now_start),
            )
            .select_from(RefreshToken)
            .where(
                during(RefreshToken.issued_at, before_start, now_end),
                RefreshToken.user_id.in_(residents_here),
            )
        )
    ).one()
    bookings = (
        await session.execute(
            select(
                func.count().filter(RoomBooking.created_at >= now_start),
                func.count().filter(RoomBooking.created_at < now_start),
            )
            .select_from(RoomBooking)
            .where(
                during(RoomBooking.created_at, before_start, now_end),
                true() if scope.community_ids is None else RoomBooking.resident_id.in_(residents_here),
            )
        )
    ).one()
    appointments = (
        await session.execute(
            select(
                func.count().filter(Appointment.created_at >= now_start),
                func.count().filter(Appointment.created_at < now_start),
            )
            .select_from(Appointment)
            .where(during(Appointment.created_at, before_start, now_end), scope.where(Appointment.community_id))
        )
    ).one()
    complaints = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(case((ComplaintDayRollup.day >= current.start, ComplaintDayRollup.submitted))), 0
                ),
                func.coalesce(
                    func.sum(case((ComplaintDayRollup.day < current.start, ComplaintDayRollup.submitted))), 0
                ),
            ).where(
                ComplaintDayRollup.day >= previous.start,
                ComplaintDayRollup.day < current.end,
                scope.where(ComplaintDayRollup.community_id),
            )
        )
    ).one()
    return UserDashboard(
        period=period,
        current=current,
        previous=previous,
        figures=UserFigures(
            registered=int(people[3]),
            verified=int(people[5]),
            active=int(active[0]),
            requests=int(complaints[0]) + int(bookings[0]) + int(appointments[0]),
        ),
        previous_figures=UserFigures(
            registered=int(people[4]),
            verified=int(people[6]),
            active=int(active[1]),
            requests=int(complaints[1]) + int(bookings[1]) + int(appointments[1]),
        ),
        residents=int(people[0]),
        verified_residents=int(people[1]),
        pending_now=int(people[2]),
    )


def _moments(window: Window) -> tuple[datetime, datetime]:
    return (
        datetime.combine(window.start, datetime.min.time(), SHANGHAI),
        datetime.combine(window.end, datetime.min.time(), SHANGHAI),
    )


# --- the platform: street offices side by side, no row of any ---------------------------------


@dataclass(frozen=True)
class ServiceFigures:
    """A period's rooms and appointments as counts that add up across street offices: no hour
    of a weekday, no appointment type (each street office has its own), no approval hours
    (each counts working hours by its own calendar)."""

    rooms: int = 0
    open_minutes: int = 0
    booked_minutes: int = 0
    bookings: int = 0
    answered: int = 0
    answered_on_time: int = 0
    no_shows: int = 0
    showed_up: int = 0
    appointments: int = 0
    appointments_completed: int = 0
    appointments_cancelled: int = 0
    appointments_open: int = 0

    def __add__(self, other: ServiceFigures) -> ServiceFigures:
        return ServiceFigures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def utilisation_rate(self) -> float | None:
        return share(self.booked_minutes, self.open_minutes)

    @property
    def answered_on_time_rate(self) -> float | None:
        return share(self.answered_on_time, self.answered)

    @property
    def no_show_rate(self) -> float | None:
        return share(self.no_shows, self.no_shows + self.showed_up)


@dataclass(frozen=True)
class OfficeFigures:
    slug: str
    name: str
    cohort: Cohort
    previous_cohort: Cohort
    overdue_now: int
    residents: int
    work_orders: WorkOrderFigures
    services: ServiceFigures
    previous_services: ServiceFigures
    volunteers: VolunteerFigures
    previous_volunteers: VolunteerFigures


@dataclass(frozen=True)
class PlatformDashboard:
    period: Period
    current: Window
    previous: Window
    offices: list[OfficeFigures]
    cohort: Cohort
    previous_cohort: Cohort
    overdue_now: int
    residents: int
    work_orders: WorkOrderFigures
    services: ServiceFigures
    previous_services: ServiceFigures
    volunteers: VolunteerFigures
    previous_volunteers: VolunteerFigures


def _platform_admin(ctx: RequestContext) -> None:
    if ctx.viewer is None:
        raise fail(ErrorCode.UNAUTHENTICATED, "请先登录。")
    if ctx.tenant is not None or Role.PLATFORM_ADMIN not in ctx.viewer.roles:
        raise fail(ErrorCode.FORBIDDEN, "只有平台管理员可以查看各街道的汇总。")


async def platform_dashboard(ctx: RequestContext, period: Period, on: date | None) -> PlatformDashboard:
    """Each active street office's complaint figures and residents, summed from its rollups in
    its own row-level-security context, its rooms, appointments and volunteers counted there
    too, and the platform's totals: counts only, never a row. Each street office costs the same
    few statements whatever it holds."""
    _platform_admin(ctx)
    current = current_window(ctx, period, on)
    previous = previous_of(period, current)
    table, column = _cohort_table(period)
    is_current = column >= _key(period, current.start)
    grouped = (
        select(is_current.label("current"), *(func.sum(getattr(table, name)).label(name) for name in COHORT_COUNTERS))
        .where(column >= _key(period, previous.start), column < _key(period, current.end))
        .group_by(is_current)
    )
    orders_table, orders_column = _work_order_table(period)
    orders = select(*(func.sum(getattr(orders_table, name)).label(name) for name in WORK_ORDER_COUNTERS)).where(
        orders_column >= _key(period, current.start), orders_column < _key(period, current.end)
    )
    async with platform_session(ctx, writes=False) as session:
        offices = [
            await _office_figures(ctx, session, office, grouped, orders, current, previous)
            for office in await _offices(ctx)
        ]
    return PlatformDashboard(
        period=period,
        current=current,
        previous=previous,
        offices=offices,
        cohort=Cohort(dict(sum((Counter(o.cohort.counters) for o in offices), Counter()))),
        previous_cohort=Cohort(dict(sum((Counter(o.previous_cohort.counters) for o in offices), Counter()))),
        overdue_now=sum(o.overdue_now for o in offices),
        residents=sum(o.residents for o in offices),
        work_orders=WorkOrderFigures(dict(sum((Counter(o.work_orders.counters) for o in offices), Counter()))),
        services=sum((o.services for o in offices), ServiceFigures()),
        previous_services=sum((o.previous_services for o in offices), ServiceFigures()),
        volunteers=sum((o.volunteers for o in offices), VolunteerFigures()),
        previous_volunteers=sum((o.previous_volunteers for o in offices), VolunteerFigures()),
    )


async def _offices(ctx: RequestContext) -> list[TenantInfo]:
    return sorted(await ctx.services.directory.all(), key=lambda office: office.slug)


async def _office_figures(
    ctx: RequestContext,
    session: AsyncSession,
    office: TenantInfo,
    grouped: Select[Any],
    orders: Select[Any],
    current: Window,
    previous: Window,
) -> OfficeFigures:
    """One street office's figures, read in its own row-level-security context: its complaints,
    rooms, appointments and volunteers beside the period before, and its departments' work
    orders of the period."""
    await bind_tenant(session, office.id)
    cohorts: dict[bool, dict[str, int]] = {True: {}, False: {}}
    for row in (await session.execute(grouped)).all():
        cohorts[bool(row.current)] = {name: int(getattr(row, name) or 0) for name in COHORT_COUNTERS}
    overdue = await count_overdue_in(session, None, ctx.clock())
    residents = await session.scalar(select(func.count()).select_from(ResidentProfile))
    counted = (await session.execute(orders)).one()
    services = await _office_services(session, current, previous)
    volunteers = await _volunteer_figures(session, Scope(None), current, previous)
    return OfficeFigures(
        office.slug,
        office.name,
        Cohort(cohorts[True]),
        Cohort(cohorts[False]),
        overdue,
        int(residents or 0),
        WorkOrderFigures({name: int(getattr(counted, name) or 0) for name in WORK_ORDER_COUNTERS}),
        services[True],
        services[False],
        volunteers[True],
        volunteers[False],
    )


async def _office_services(session: AsyncSession, current: Window, previous: Window) -> dict[bool, ServiceFigures]:
    """The street office's rooms and appointments in the current period (True) and the one
    before (False), counted as the service dashboard counts them: three reads, whatever the
    rooms, bookings and appointments, each counted by the database (a big street office's
    bookings of two months are thousands: read into Python, they were most of this dashboard's
    time)."""
    now_start, now_end = _moments(current)
    before_start, _ = _moments(previous)
    rooms = (await session.execute(select(*ROOM_RULES))).all()
    figures = {
        which: dict.fromkeys((f.name for f in fields(ServiceFigures)), 0) | {"rooms": len(rooms)}
        for which in (True, False)
    }
    for which, window in ((True, current), (False, previous)):
        figures[which]["open_minutes"] = sum(_open_minutes(rooms, window).values())
    is_current_booking = RoomBooking.starts_at >= now_start
    answered = and_(RoomBooking.answer_due_at.is_not(None), RoomBooking.decided_at.is_not(None))
    minutes = WholeMinutesBetween(RoomBooking.starts_at, RoomBooking.ends_at)
    for booked in await session.execute(
        select(
            is_current_booking.label("current"),
            func.count().label("bookings"),
            func.coalesce(func.sum(minutes).filter(RoomBooking.status.in_(BOOKED)), 0).label("booked_minutes"),
            func.count().filter(RoomBooking.status == BookingStatus.NO_SHOW).label("no_shows"),
            func.count().filter(RoomBooking.status.in_(SHOWED_UP)).label("showed_up"),
            func.count().filter(answered).label("answered"),
            func.count()
            .filter(answered, RoomBooking.decided_at <= RoomBooking.answer_due_at)
            .label("answered_on_time"),
        )
        .where(
            RoomBooking.room_id.in_([room.id for room in rooms]),
            RoomBooking.starts_at >= before_start,
            RoomBooking.starts_at < now_end,
        )
        .group_by(is_current_booking)
    ):
        counts = figures[bool(booked.current)]
        for name in ("bookings", "booked_minutes", "no_shows", "showed_up", "answered", "answered_on_time"):
            counts[name] += int(getattr(booked, name))
    is_current = Appointment.created_at >= now_start
    for row in await session.execute(
        select(is_current.label("current"), Appointment.status, func.count().label("appointments"))
        .where(Appointment.created_at >= before_start, Appointment.created_at < now_end)
        .group_by(is_current, Appointment.status)
    ):
        counts, status, n = figures[bool(row.current)], AppointmentStatus(row.status), int(row.appointments)
        counts["appointments"] += n
        counts["appointments_completed"] += n if status is AppointmentStatus.COMPLETED else 0
        counts["appointments_cancelled"] += n if status is AppointmentStatus.CANCELLED else 0
        counts["appointments_open"] += n if status in APPOINTMENTS_OPEN else 0
    return {which: ServiceFigures(**counts) for which, counts in figures.items()}


# --- grid workers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GridWorkerFigures:
    grid_id: uuid.UUID
    grid_name: str
    worker_name: str | None
    submitted: int
    resolved: int
    closed: int
    registrations_verified: int


@allowed_to(*ADMINS)
async def grid_worker_dashboard(
    ctx: RequestContext, period: Period, on: date | None, community_id: uuid.UUID | None
) -> tuple[Window, list[GridWorkerFigures]]:
    """Per grid (and so per grid worker): the complaints submitted there in the period and how
    many of them are resolved and closed now (rollups), and the residents the worker verified
    in the period. Home visits and check-ins are not counted here yet."""
    scope = await _scope(ctx, community_id)
    current = current_window(ctx, period, on)
    session = session_of(ctx)
    r = ComplaintGridDayRollup
    handled = {
        row.grid_id: row
        for row in await session.execute(
            select(
                r.grid_id,
                func.sum(r.submitted).label("submitted"),
                func.sum(r.resolved).label("resolved"),
                func.sum(r.closed).label("closed"),
            )
            .where(r.day >= current.start, r.day < current.end, scope.where(r.community_id))
            .group_by(r.grid_id)
        )
    }
    start, end = _moments(current)
    verified = dict(
        (
            await session.execute(
                select(Building.grid_id, func.count())
                .select_from(ResidentProfile)
                .join(Building, Building.id == ResidentProfile.building_id)
                .where(
                    ResidentProfile.status == ResidentStatus.VERIFIED,
                    ResidentProfile.reviewed_at >= start,
                    ResidentProfile.reviewed_at < end,
                )
                .group_by(Building.grid_id)
            )
        ).all()
    )
    grids = (
        await session.execute(
            select(Grid.id, Grid.name, User.name.label("worker_name"))
            .outerjoin(User, User.id == Grid.worker_id)
            .where(scope.where(Grid.community_id))
            .order_by(Grid.code)
        )
    ).all()
    figures = []
    for grid in grids:
        counted = handled.get(grid.id)
        figures.append(
            GridWorkerFigures(
                grid_id=grid.id,
                grid_name=grid.name,
                worker_name=grid.worker_name,
                submitted=int(counted.submitted or 0) if counted else 0,
                resolved=int(counted.resolved or 0) if counted else 0,
                closed=int(counted.closed or 0) if counted else 0,
                registrations_verified=int(verified.get(grid.id, 0)),
            )
        )
    return current, figures


# --- the monthly report ---------------------------------------------------------------------


@dataclass(frozen=True)
class LateItem:
    title: str
    category: str
    grid: str
    status: ComplaintStatus
    resolve_due_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class MonthlyReport:
    office: str
    month: date
    dashboard: ComplaintDashboard
    # Complaints submitted per week (its Monday) and category name, the weeks the month touches.
    weekly: dict[date, dict[str, int]]
    late: list[LateItem]
    late_total: int


LATE_LISTED = 200


async def monthly_report(ctx: RequestContext, month: date) -> MonthlyReport:
    """The street office's month: the month's dashboard, its weeks by category, and the items
    whose resolve deadline fell in the month and passed unmet (resolved late or still open).
    For `wanjia report monthly` (as the system) and a tenant admin's queued report."""
    if ctx.viewer is not None and Role.TENANT_ADMIN not in ctx.viewer.roles:
        raise fail(ErrorCode.FORBIDDEN, "只有街道管理员可以生成月报。")
    session = session_of(ctx)
    first = month.replace(day=1)
    dashboard = await _complaint_figures(ctx, Scope(None), Period.MONTH, first)
    r = ComplaintDayRollup
    names = dict((await session.execute(select(ComplaintCategory.id, ComplaintCategory.name))).all())
    weekly: dict[date, dict[str, int]] = {}
    day = first
    while day < _next_month(first):
        weekly.setdefault(window_of(Period.WEEK, day).start, {})
        day += timedelta(days=1)
    rows = await session.execute(
        select(r.day, r.category_id, func.sum(r.submitted).label("submitted"))
        .where(r.day >= first, r.day < _next_month(first))
        .group_by(r.day, r.category_id)
    )
    for row in rows:
        week = weekly[window_of(Period.WEEK, row.day).start]
        name = names.get(row.category_id, "")
        week[name] = week.get(name, 0) + int(row.submitted or 0)
    start, end = _moments(Window(first, _next_month(first)))
    missed = and_(
        Complaint.resolve_due_at >= start,
        Complaint.resolve_due_at < end,
        Complaint.resolve_due_at < ctx.clock(),
        Complaint.status.notin_([ComplaintStatus.REJECTED, ComplaintStatus.WITHDRAWN]),
        or_(Complaint.resolved_at.is_(None), Complaint.resolved_at > Complaint.resolve_due_at),
    )
    late_total = int(await session.scalar(select(func.count()).where(missed)) or 0)
    late = [
        LateItem(row.title, names.get(row.category_id, ""), row.grid, row.status, row.resolve_due_at, row.resolved_at)
        for row in await session.execute(
            select(
                Complaint.title,
                Complaint.category_id,
                Grid.name.label("grid"),
                Complaint.status,
                Complaint.resolve_due_at,
                Complaint.resolved_at,
            )
            .join(Grid, Grid.id == Complaint.grid_id)
            .where(missed)
            .order_by(Complaint.resolve_due_at, Complaint.id)
            .limit(LATE_LISTED)
        )
    ]
    assert ctx.tenant is not None
    return MonthlyReport(ctx.tenant.name, first, dashboard, weekly, late, late_total)


# --- departments: work orders ---------------------------------------------------------------

WORK_ORDER_COUNTERS = ("received", "signed", "signed_on_time", "returned", "resolved", "resolved_on_time")


@dataclass(frozen=True)
class WorkOrderFigures:
    """The work orders dispatched in a period and what has become of them since."""

    counters: dict[str, int]

    def __getitem__(self, name: str) -> int:
        return self.counters.get(name, 0)

    @property
    def signed_on_time_rate(self) -> float | None:
        return share(self["signed_on_time"], self["received"])

    @property
    def return_rate(self) -> float | None:
        return share(self["returned"], self["received"])

    @property
    def on_time_resolve_rate(self) -> float | None:
        return share(self["resolved_on_time"], self["resolved"])


@dataclass(frozen=True)
class DepartmentFigures:
    department_id: uuid.UUID
    name: str
    figures: WorkOrderFigures
    previous_figures: WorkOrderFigures


@dataclass(frozen=True)
class DepartmentDashboard:
    period: Period
    current: Window
    previous: Window
    figures: WorkOrderFigures
    previous_figures: WorkOrderFigures
    departments: list[DepartmentFigures]


@allowed_to(*ADMINS)
async def department_dashboard(
    ctx: RequestContext, period: Period, on: date | None, community_id: uuid.UUID | None
) -> DepartmentDashboard:
    """Each department's work orders dispatched in the period (and the period before) from the
    caller's communities: received, signed for within a working day, returned, resolved by the
    deadline. From the work-order rollups (models.analytics), one grouped read for both periods;
    the departments themselves are a street office's few dozen rows."""
    scope = await _scope(ctx, community_id)
    current = current_window(ctx, period, on)
    previous = previous_of(period, current)
    table, column = _work_order_table(period)
    is_current = column >= _key(period, current.start)
    session = session_of(ctx)
    rows = await session.execute(
        select(
            is_current.label("current"),
            table.department_id,
            *(func.sum(getattr(table, name)).label(name) for name in WORK_ORDER_COUNTERS),
        )
        .where(
            column >= _key(period, previous.start),
            column < _key(period, current.end),
            scope.where(table.community_id),
        )
        .group_by(is_current, table.department_id)
    )
    counted: dict[tuple[uuid.UUID, bool], dict[str, int]] = {
        (row.department_id, bool(row.current)): {name: int(getattr(row, name) or 0) for name in WORK_ORDER_COUNTERS}
        for row in rows
    }
    departments = [
        DepartmentFigures(
            department.id,
            department.name,
            WorkOrderFigures(counted.get((department.id, True), {})),
            WorkOrderFigures(counted.get((department.id, False), {})),
        )
        for department in await session.execute(select(Department.id, Department.name).order_by(Department.code))
    ]

    def total(which: bool) -> WorkOrderFigures:
        summed: Counter[str] = Counter()
        for (_, current_period), counters in counted.items():
            if current_period is which:
                summed.update(counters)
        return WorkOrderFigures(dict(summed))

    return DepartmentDashboard(period, current, previous, total(True), total(False), departments)


def _work_order_table(period: Period) -> tuple[Any, Any]:
    if period is Period.MONTH:
        return WorkOrderMonthRollup, WorkOrderMonthRollup.month
    return WorkOrderDayRollup, WorkOrderDayRollup.day


# --- rooms and appointments -----------------------------------------------------------------

# A booking that was granted its slot, used or not; pending, rejected and cancelled ones were not.
BOOKED = (BookingStatus.APPROVED, BookingStatus.CHECKED_IN, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
SHOWED_UP = (BookingStatus.CHECKED_IN, BookingStatus.COMPLETED)
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class UtilisationCell:
    """One hour of one weekday (Monday 0) over the period's days: minutes the rooms were open
    and minutes of them booked."""

    weekday: int
    hour: int
    open_minutes: int
    booked_minutes: int

    @property
    def rate(self) -> float | None:
        return share(self.booked_minutes, self.open_minutes)


@dataclass(frozen=True)
class AppointmentTypeFigures:
    type_id: uuid.UUID
    name: str
    requested: int
    completed: int
    cancelled: int
    open: int


@dataclass(frozen=True)
class ServiceDashboard:
    period: Period
    current: Window
    rooms: int
    open_minutes: int
    booked_minutes: int
    utilisation: list[UtilisationCell]
    bookings: int
    answered: int
    answered_on_time: int
    average_answer_hours: float | None
    p90_answer_hours: float | None
    no_shows: int
    showed_up: int
    appointment_types: list[AppointmentTypeFigures]

    @property
    def utilisation_rate(self) -> float | None:
        return share(self.booked_minutes, self.open_minutes)

    @property
    def no_show_rate(self) -> float | None:
        return share(self.no_shows, self.no_shows + self.showed_up)


@allowed_to(*ADMINS)
async def service_dashboard(
    ctx: RequestContext, period: Period, on: date | None, community_id: uuid.UUID | None
) -> ServiceDashboard:
    """Rooms and appointments in the period. Read from the facts, not from rollups, because
    they are small by nature and read through indexed ranges: a community has a handful of
    rooms, and a room's bookings in a period cannot overlap (at most its opening hours over its
    shortest slot), read by `ix_room_bookings_room_time`; appointments are each an hour of a
    staff member's time, read by `ix_appointments_created`.

    Bookings counted are those that start in the period: their booked minutes per hour of each
    weekday against the rooms' opening minutes (the rooms' rules as they are now), how long
    approvals took (working hours from request to answer, for rooms that need approval), and
    no-shows. Appointments are those requested in the period, by type and by how they ended."""
    scope = await _scope(ctx, community_id)
    current = current_window(ctx, period, on)
    start, end = _moments(current)
    session = session_of(ctx)
    rooms = (await session.execute(select(*ROOM_RULES).where(scope.where(Room.community_id)))).all()
    open_minutes = _open_minutes(rooms, current)
    bookings = (
        await session.execute(
            select(
                RoomBooking.starts_at,
                RoomBooking.ends_at,
                RoomBooking.status,
                RoomBooking.created_at,
                RoomBooking.answer_due_at,
                RoomBooking.decided_at,
            ).where(
                RoomBooking.room_id.in_([room.id for room in rooms]),
                RoomBooking.starts_at >= start,
                RoomBooking.starts_at < end,
            )
        )
    ).all()
    booked_minutes: Counter[tuple[int, int]] = Counter()
    calendar = calendar_of(ctx)
    answer_minutes = []
    answered_on_time = 0
    for booking in bookings:
        if booking.status in BOOKED:
            local = booking.starts_at.astimezone(SHANGHAI)
            minutes = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
            _spread(booked_minutes, local.weekday() * DAY_MINUTES + local.hour * 60 + local.minute, minutes)
        if booking.answer_due_at is not None and booking.decided_at is not None:
            answer_minutes.append(working_minutes_between(calendar, booking.created_at, booking.decided_at))
            answered_on_time += booking.decided_at <= booking.answer_due_at
    cells = [
        UtilisationCell(weekday, hour, minutes, booked_minutes[(weekday, hour)])
        for (weekday, hour), minutes in sorted(open_minutes.items())
    ]
    return ServiceDashboard(
        period=period,
        current=current,
        rooms=len(rooms),
        open_minutes=sum(open_minutes.values()),
        booked_minutes=sum(booked_minutes.values()),
        utilisation=cells,
        bookings=len(bookings),
        answered=len(answer_minutes),
        answered_on_time=answered_on_time,
        average_answer_hours=round(sum(answer_minutes) / 60 / len(answer_minutes), 2) if answer_minutes else None,
        p90_answer_hours=round(_nearest_rank(answer_minutes, 0.9) / 60, 2) if answer_minutes else None,
        no_shows=sum(b.status is BookingStatus.NO_SHOW for b in bookings),
        showed_up=sum(b.status in SHOWED_UP for b in bookings),
        appointment_types=await _appointment_types(ctx, scope, start, end),
    )


ROOM_RULES = (
    Room.id,
    Room.opening_hours,
    Room.closed_dates,
    Room.slot_minutes,
    Room.min_notice_hours,
    Room.max_days_ahead,
    Room.max_duration_minutes,
    Room.capacity,
)


def _open_minutes(rooms: Sequence[Any], window: Window) -> Counter[tuple[int, int]]:
    """The minutes the rooms (rows of ROOM_RULES) are open in the window, by weekday and hour."""
    open_minutes: Counter[tuple[int, int]] = Counter()
    days = [window.start + timedelta(days=n) for n in range((window.end - window.start).days)]
    for room in rooms:
        rules = RoomRules.of(room)
        # A room opens the same hours every week: each weekday's spans once, times its open days.
        open_days = Counter(day.weekday() for day in days if day not in rules.closed_dates)
        for weekday, times in open_days.items():
            for opens, closes in rules.weekday_minutes(weekday):
                _spread(open_minutes, weekday * DAY_MINUTES + opens, closes - opens, times)
    return open_minutes


def _spread(into: Counter[tuple[int, int]], start: int, minutes: int, times: int = 1) -> None:
    """Adds `minutes` from `start` (minutes after Monday 00:00, Shanghai time), `times` over, to
    the (weekday, hour) cells they fall in. Whole minutes, not datetimes: a month of a street
    office's bookings is hundreds of spans."""
    while minutes > 0:
        taken = min(60 - start % 60, minutes)
        into[(start // DAY_MINUTES % 7, start // 60 % 24)] += taken * times
        start += taken
        minutes -= taken


def _nearest_rank(values: list[int], fraction: float) -> int:
    """The smallest value that at least `fraction` of the values do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


async def _appointment_types(
    ctx: RequestContext, scope: Scope, start: datetime, end: datetime
) -> list[AppointmentTypeFigures]:
    session = session_of(ctx)
    counted: dict[uuid.UUID, Counter[AppointmentStatus]] = {}
    for row in await session.execute(
        select(Appointment.type_id, Appointment.status, func.count().label("appointments"))
        .where(Appointment.created_at >= start, Appointment.created_at < end, scope.where(Appointment.community_id))
        .group_by(Appointment.type_id, Appointment.status)
    ):
        counted.setdefault(row.type_id, Counter())[AppointmentStatus(row.status)] += int(row.appointments)
    types = await session.execute(select(AppointmentType.id, AppointmentType.name).order_by(AppointmentType.code))
    figures = []
    for kind in types:
        statuses = counted.get(kind.id, Counter())
        figures.append(
            AppointmentTypeFigures(
                type_id=kind.id,
                name=kind.name,
                requested=sum(statuses.values()),
                completed=statuses[AppointmentStatus.COMPLETED],
                cancelled=statuses[AppointmentStatus.CANCELLED],
                open=sum(n for status, n in statuses.items() if status in APPOINTMENTS_OPEN),
            )
        )
    return figures


# --- volunteers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerFigures:
    served_minutes: int = 0
    active_volunteers: int = 0
    activities: int = 0

    def __add__(self, other: VolunteerFigures) -> VolunteerFigures:
        """Two street offices' figures together: a volunteer is one street office's, so active
        volunteers add up."""
        return VolunteerFigures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class VolunteerDashboard:
    period: Period
    current: Window
    previous: Window
    figures: VolunteerFigures
    previous_figures: VolunteerFigures


@allowed_to(*ADMINS)
async def volunteer_dashboard(
    ctx: RequestContext, period: Period, on: date | None, community_id: uuid.UUID | None
) -> VolunteerDashboard:
    """Hours served in the period (and the period before) by the volunteers of the caller's
    communities, how many of them served, and in how many activities. Hours count in the period
    their activity starts in, as the monthly rankings count them (models.volunteers.service_month).
    Read from the sign-ups of the period's activities: activities are a street office's few
    events a week, each with at most its capacity of sign-ups, found by their start."""
    scope = await _scope(ctx, community_id)
    current = current_window(ctx, period, on)
    previous = previous_of(period, current)
    found = await _volunteer_figures(session_of(ctx), scope, current, previous)
    return VolunteerDashboard(period, current, previous, found[True], found[False])


async def _volunteer_figures(
    session: AsyncSession, scope: Scope, current: Window, previous: Window
) -> dict[bool, VolunteerFigures]:
    """The volunteer figures of the current period (True) and the one before (False): one read."""
    now_start, now_end = _moments(current)
    before_start, _ = _moments(previous)
    is_current = VolunteerActivity.starts_at >= now_start
    served = VolunteerSignup.minutes > 0
    rows = await session.execute(
        select(
            is_current.label("current"),
            func.coalesce(func.sum(VolunteerSignup.minutes), 0).label("minutes"),
            func.count(func.distinct(VolunteerSignup.volunteer_id)).filter(served).label("volunteers"),
            func.count(func.distinct(VolunteerSignup.activity_id)).filter(served).label("activities"),
        )
        .select_from(VolunteerSignup)
        .join(VolunteerActivity, VolunteerActivity.id == VolunteerSignup.activity_id)
        .join(Volunteer, Volunteer.id == VolunteerSignup.volunteer_id)
        .where(
            VolunteerActivity.starts_at >= before_start,
            VolunteerActivity.starts_at < now_end,
            scope.where(Volunteer.community_id),
        )
        .group_by(is_current)
    )
    found = {True: VolunteerFigures(), False: VolunteerFigures()}
    for row in rows:
        found[bool(row.current)] = VolunteerFigures(int(row.minutes), int(row.volunteers), int(row.activities))
    return found
