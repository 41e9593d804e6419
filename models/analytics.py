"""Rollups: what the dashboards count, kept beside the facts instead of counted from them.

A complaint *contributes* to a few rollup rows: its submission day's and month's rows (its
cohort: how many were submitted then in that community, category and source, and how many of
those are closed, were acknowledged or resolved on time, were reopened, how they were rated,
how long they took), its grid's row of that day, its current status's row, and its month's row
of the building and of the map cell it was reported at. `contributions(...)` is a pure function of the complaint as it is now, so
keeping the rollups right is always the same move: before a change take the complaint's
contributions, after it take them again, and add the difference (resolvers.rollups). A
rebuild is the sum of every complaint's contributions, which is also what the property test
compares the maintained rows with. Work orders (a complaint's dispatches to departments) are
counted the same way, from their own rows: `work_order_contributions(...)`.
"""

from __future__ import annotations

import math
import uuid
from collections import namedtuple
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Date, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column
from models.calendar import DAY_ENDS, DAY_STARTS, SHANGHAI, WorkingCalendar
from models.complaints import Complaint, ComplaintSource, ComplaintStatus, WorkOrder, overdue_for_good

# Upper bounds, in working hours, of the handling-time histogram's buckets; the last is open.
# p90 is answered as the bound of the bucket holding the 90th percentile ("90% within 16 h").
HANDLING_BUCKETS: tuple[float, ...] = (2, 4, 8, 16, 24, 40, 80, 160, math.inf)
BUCKET_COLUMNS = tuple(f"handled_within_{i}" for i in range(len(HANDLING_BUCKETS)))
RATINGS = range(1, 6)
RATING_COLUMNS = tuple(f"rated_{r}" for r in RATINGS)
# A heat map's cell: about 110 m north–south at these latitudes.
CELL_DEGREES = 0.001
# A department signs for a work order within one working day of its dispatch, as staff answer
# a booking request or contact an appointment's resident.
SIGN_FOR_WORKING_HOURS = 8


class CohortCounters:
    """What has become of the complaints submitted in one period and place."""

    submitted: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_on_time: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    # Working minutes from submission to the (latest) resolution, summed over `resolved`.
    handling_minutes: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_0: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_1: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_2: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_3: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_4: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_5: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_6: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_7: Mapped[int] = mapped_column(Integer, default=0)
    handled_within_8: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rated_1: Mapped[int] = mapped_column(Integer, default=0)
    rated_2: Mapped[int] = mapped_column(Integer, default=0)
    rated_3: Mapped[int] = mapped_column(Integer, default=0)
    rated_4: Mapped[int] = mapped_column(Integer, default=0)
    rated_5: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintDayRollup(CohortCounters, TenantOwned, Base):
    """The complaints submitted on one day (Asia/Shanghai) in one community, category and
    source: day and week dashboards."""

    __tablename__ = "complaint_day_rollups"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "day", "community_id", "category_id", "source", name="uq_complaint_day_rollups_key"
        ),
    )

    day: Mapped[date] = mapped_column(Date)
    community_id: Mapped[uuid.UUID] = mapped_column()
    category_id: Mapped[uuid.UUID] = mapped_column()
    source: Mapped[ComplaintSource] = mapped_column(enum_column(ComplaintSource))


class ComplaintMonthRollup(CohortCounters, TenantOwned, Base):
    """The same per month: month dashboards and year-long trends read a twelfth of the rows."""

    __tablename__ = "complaint_month_rollups"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "month", "community_id", "category_id", "source", name="uq_complaint_month_rollups_key"
        ),
    )

    month: Mapped[date] = mapped_column(Date)
    community_id: Mapped[uuid.UUID] = mapped_column()
    category_id: Mapped[uuid.UUID] = mapped_column()
    source: Mapped[ComplaintSource] = mapped_column(enum_column(ComplaintSource))


class ComplaintGridDayRollup(TenantOwned, Base):
    """Per grid and submission day: volume by grid, the hottest grids, and what each grid's
    worker has resolved of them."""

    __tablename__ = "complaint_grid_day_rollups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "day", "community_id", "grid_id", name="uq_complaint_grid_day_rollups_key"),
    )

    day: Mapped[date] = mapped_column(Date)
    community_id: Mapped[uuid.UUID] = mapped_column()
    grid_id: Mapped[uuid.UUID] = mapped_column()
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintStatusRollup(TenantOwned, Base):
    """How many complaints are in each status now, per grid, category and department."""

    __tablename__ = "complaint_status_rollups"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "community_id", "grid_id", "category_id", "status", name="uq_complaint_status_rollups_key"
        ),
    )

    community_id: Mapped[uuid.UUID] = mapped_column()
    grid_id: Mapped[uuid.UUID] = mapped_column()
    category_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus))
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    # Of those, flagged overdue for good (models.complaints.overdue_for_good).
    overdue: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ComplaintCommunityStatusRollup(TenantOwned, Base):
    """The same per community and status alone: the counters an admin's badge reads. A few
    dozen rows an office whatever its size, where the grid and category rows grow with the data
    (1,764 for the benchmark's big office at 10,000 complaints, 9,911 at a million)."""

    __tablename__ = "complaint_community_status_rollups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "community_id", "status", name="uq_complaint_community_status_rollups_key"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus))
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintBuildingRollup(TenantOwned, Base):
    """Complaints submitted in a month about one building: the hotspots (顽疾)."""

    __tablename__ = "complaint_building_rollups"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "month", "community_id", "grid_id", "building_id", name="uq_complaint_building_rollups_key"
        ),
    )

    month: Mapped[date] = mapped_column(Date)
    community_id: Mapped[uuid.UUID] = mapped_column()
    grid_id: Mapped[uuid.UUID] = mapped_column()
    building_id: Mapped[uuid.UUID] = mapped_column()
    complaints: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintCellRollup(TenantOwned, Base):
    """Complaints submitted in a month with coordinates inside one map cell."""

    __tablename__ = "complaint_cell_rollups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "month", "community_id", "cell", name="uq_complaint_cell_rollups_key"),
    )

    month: Mapped[date] = mapped_column(Date)
    community_id: Mapped[uuid.UUID] = mapped_column()
    # "latitude_index:longitude_index" in CELL_DEGREES steps: one key for SQLite and PostgreSQL.
    cell: Mapped[str] = mapped_column(String(32))
    complaints: Mapped[int] = mapped_column(Integer, default=0)


class WorkOrderCounters:
    """What has become of the work orders dispatched in one period to one department from one
    community."""

    received: Mapped[int] = mapped_column(Integer, default=0)
    signed: Mapped[int] = mapped_column(Integer, default=0)
    signed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)


class WorkOrderDayRollup(WorkOrderCounters, TenantOwned, Base):
    """Work orders dispatched on one day (Asia/Shanghai): day and week department dashboards."""

    __tablename__ = "work_order_day_rollups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "day", "community_id", "department_id", name="uq_work_order_day_rollups_key"),
    )

    day: Mapped[date] = mapped_column(Date)
    community_id: Mapped[uuid.UUID] = mapped_column()
    department_id: Mapped[uuid.UUID] = mapped_column()


class WorkOrderMonthRollup(WorkOrderCounters, TenantOwned, Base):
    """The same per month."""

    __tablename__ = "work_order_month_rollups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "month", "community_id", "department_id", name="uq_work_order_month_rollups_key"),
    )

    month: Mapped[date] = mapped_column(Date)
    community_id: Mapped[uuid.UUID] = mapped_column()
    department_id: Mapped[uuid.UUID] = mapped_column()


ROLLUPS: tuple[type[Base], ...] = (
    ComplaintDayRollup,
    ComplaintMonthRollup,
    ComplaintGridDayRollup,
    ComplaintStatusRollup,
    ComplaintCommunityStatusRollup,
    ComplaintBuildingRollup,
    ComplaintCellRollup,
    WorkOrderDayRollup,
    WorkOrderMonthRollup,
)


class Contribution(NamedTuple):
    """What one complaint adds to one rollup row: the row's key and its counters. A named tuple:
    a rebuild makes seven for each complaint, and one is made in a third of a frozen dataclass's
    time."""

    table: type[Base]
    key: tuple[tuple[str, object], ...]
    counts: Mapping[str, int]


def shanghai_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def cell_of(latitude: float, longitude: float) -> str:
    return f"{math.floor(latitude / CELL_DEGREES)}:{math.floor(longitude / CELL_DEGREES)}"


def cell_centre(cell: str) -> tuple[float, float]:
    lat_index, lon_index = (int(part) for part in cell.split(":"))
    return round((lat_index + 0.5) * CELL_DEGREES, 6), round((lon_index + 0.5) * CELL_DEGREES, 6)


class RememberedCalendar(WorkingCalendar):
    """A calendar that asks once per day: chinese_calendar checks each date against its whole
    table's range, which a rebuild's millions of days would otherwise pay each time. It counts
    the working days between two days from running totals, without walking the days between."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        super().__init__(calendar.official, calendar.overrides)
        self._known: dict[date, bool] = {}
        self._first_counted: int | None = None  # the ordinal of the day the running totals start at
        self._running: list[int] = []  # _running[i]: working days in the i days from _first_counted

    def is_working_day(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = super().is_working_day(day)
        return known

    def working_days_between(self, first: date, last: date) -> int:
        if last <= first:
            return 0
        after, before = first.toordinal() + 1, last.toordinal()
        if self._first_counted is None or after < self._first_counted:
            # Counted again from there: a recount walks forward in time, so seldom and not far.
            self._first_counted, self._running = after, [0]
        running = self._running
        while self._first_counted + len(running) <= before:
            day = date.fromordinal(self._first_counted + len(running) - 1)
            running.append(running[-1] + self.is_working_day(day))
        return running[before - self._first_counted] - running[after - self._first_counted]


WORKING_DAY = datetime.combine(date.min, DAY_ENDS) - datetime.combine(date.min, DAY_STARTS)


def working_minutes_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    """Working time (the working hours of working days, as the deadlines count them) from start to end."""
    if end <= start:
        return 0
    # On Shanghai's wall clock: its offset never changes within working hours. Only the first and
    # last day can be partly worked; every working day between counts whole.
    begin = start.astimezone(SHANGHAI).replace(tzinfo=None)
    finish = end.astimezone(SHANGHAI).replace(tzinfo=None)
    first, last = begin.date(), finish.date()
    total = WORKING_DAY * calendar.working_days_between(first, last)
    for day in {first, last}:
        if calendar.is_working_day(day):
            opens = max(datetime.combine(day, DAY_STARTS), begin)
            closes = min(datetime.combine(day, DAY_ENDS), finish)
            if closes > opens:
                total += closes - opens
    return int(total.total_seconds() // 60)


def bucket_of(minutes: int) -> int:
    hours = minutes / 60
    return next(i for i, bound in enumerate(HANDLING_BUCKETS) if hours <= bound)


def percentile_bound(buckets: Iterable[int], fraction: float) -> float | None:
    """The upper bound (working hours) of the bucket that holds the `fraction` percentile."""
    counts = list(buckets)
    total = sum(counts)
    if total == 0:
        return None
    needed = math.ceil(total * fraction)
    running = 0
    for bound, count in zip(HANDLING_BUCKETS, counts, strict=True):
        running += count
        if running >= needed:
            return bound
    return HANDLING_BUCKETS[-1]


# What contributions() reads of a complaint: a rebuild selects only these.
CONTRIBUTING_COLUMNS = (
    "submitted_at",
    "status",
    "source",
    "community_id",
    "grid_id",
    "category_id",
    "building_id",
    "latitude",
    "longitude",
    "acknowledged_at",
    "acknowledge_due_at",
    "resolved_at",
    "resolve_due_at",
    "overdue_at",
    "reopen_count",
    "dispatch_count",
    "rating",
)


def contributions(item: Complaint | Any, calendar: WorkingCalendar) -> list[Contribution]:
    """Every rollup row this complaint counts in, as it is now, and what it adds to each."""
    day = shanghai_day(item.submitted_at)
    counts: dict[str, int] = {"submitted": 1}
    status = ComplaintStatus(item.status)
    source = ComplaintSource(item.source)
    for name, member in (
        ("closed", ComplaintStatus.CLOSED),
        ("rejected", ComplaintStatus.REJECTED),
        ("withdrawn", ComplaintStatus.WITHDRAWN),
    ):
        counts[name] = int(status is member)
    if item.acknowledged_at is not None:
        counts["acknowledged"] = 1
        counts["acknowledged_on_time"] = int(item.acknowledged_at <= item.acknowledge_due_at)
    if item.resolved_at is not None:
        minutes = working_minutes_between(calendar, item.submitted_at, item.resolved_at)
        counts["resolved"] = 1
        counts["resolved_on_time"] = int(item.resolved_at <= item.resolve_due_at)
        counts["handling_minutes"] = minutes
        counts[BUCKET_COLUMNS[bucket_of(minutes)]] = 1
    counts["reopened"] = int((item.reopen_count or 0) > 0)
    counts["dispatched"] = int((item.dispatch_count or 0) > 0)
    if item.rating is not None:
        counts["rated"] = 1
        counts["rating_sum"] = item.rating
        counts[RATING_COLUMNS[item.rating - 1]] = 1
    in_status = {"complaints": 1, "overdue": int(overdue_for_good(item))}
    found = [
        Contribution(
            ComplaintDayRollup,
            (("day", day), ("community_id", item.community_id), ("category_id", item.category_id), ("source", source)),
            counts,
        ),
        Contribution(
            ComplaintMonthRollup,
            (
                ("month", month_of(day)),
                ("community_id", item.community_id),
                ("category_id", item.category_id),
                ("source", source),
            ),
            counts,
        ),
        Contribution(
            ComplaintGridDayRollup,
            (("day", day), ("community_id", item.community_id), ("grid_id", item.grid_id)),
            {name: counts.get(name, 0) for name in ("submitted", "resolved", "closed")},
        ),
        Contribution(
            ComplaintStatusRollup,
            (
                ("community_id", item.community_id),
                ("grid_id", item.grid_id),
                ("category_id", item.category_id),
                ("status", status),
            ),
            in_status,
        ),
        Contribution(
            ComplaintCommunityStatusRollup, (("community_id", item.community_id), ("status", status)), in_status
        ),
    ]
    if item.building_id is not None:
        found.append(
            Contribution(
                ComplaintBuildingRollup,
                (
                    ("month", month_of(day)),
                    ("community_id", item.community_id),
                    ("grid_id", item.grid_id),
                    ("building_id", item.building_id),
                ),
                {"complaints": 1},
            )
        )
    if item.latitude is not None and item.longitude is not None:
        found.append(
            Contribution(
                ComplaintCellRollup,
                (
                    ("month", month_of(day)),
                    ("community_id", item.community_id),
                    ("cell", cell_of(item.latitude, item.longitude)),
                ),
                {"complaints": 1},
            )
        )
    return found


# What work_order_contributions() reads of a work order.
WORK_ORDER_COLUMNS = (
    "dispatched_at",
    "community_id",
    "department_id",
    "signed_at",
    "returned_at",
    "resolved_at",
    "resolve_due_at",
)


def work_order_contributions(item: WorkOrder | Any, calendar: WorkingCalendar) -> list[Contribution]:
    """The rollup rows a work order counts in, as it is now: its dispatch day's and month's."""
    day = shanghai_day(item.dispatched_at)
    counts = {"received": 1, "returned": int(item.returned_at is not None)}
    if item.signed_at is not None:
        counts["signed"] = 1
        due = calendar.working_hours_after(item.dispatched_at, SIGN_FOR_WORKING_HOURS)
        counts["signed_on_time"] = int(item.signed_at <= due)
    if item.resolved_at is not None:
        counts["resolved"] = 1
        counts["resolved_on_time"] = int(item.resolved_at <= item.resolve_due_at)
    place = (("community_id", item.community_id), ("department_id", item.department_id))
    return [
        Contribution(WorkOrderDayRollup, (("day", day), *place), counts),
        Contribution(WorkOrderMonthRollup, (("month", month_of(day)), *place), counts),
    ]


Totals = dict[tuple[type[Base], tuple[tuple[str, object], ...]], dict[str, int]]


def add_up(into: Totals, found: Iterable[Contribution], sign: int = 1) -> Totals:
    """Adds (or with sign=-1 takes away) contributions, dropping counters that come to zero."""
    for c in found:
        key = (c.table, c.key)
        row = into.setdefault(key, {})
        for name, value in c.counts.items():
            # Most counters of most complaints are 0 (not closed, not reopened, ...): nothing to add.
            if value:
                total = row.get(name, 0) + sign * value
                if total:
                    row[name] = total
                else:
                    del row[name]
        if not row:
            del into[key]
    return into


# --- recounting from the complaints -------------------------------------------------------------

# Rows written per INSERT by a rebuild: well under SQLite's 32,766 bound parameters.
REBUILD_BATCH = 500


async def recount(session: AsyncSession, calendar: WorkingCalendar) -> Totals:
    """Every rollup row as the complaints and work orders now are: the sum of their contributions."""
    totals: Totals = {}
    calendar = RememberedCalendar(calendar)
    for facts, columns, contributing in (
        (Complaint, CONTRIBUTING_COLUMNS, contributions),
        (WorkOrder, WORK_ORDER_COLUMNS, work_order_contributions),
    ):
        # Rows of the columns the contributions read, not ORM objects: a million of them in seconds.
        # A batch at a time: each step of a stream crosses from the greenlet and back. Each row as
        # a named tuple, whose fields read ten times faster than a Row's.
        read = select(*(getattr(facts, name) for name in columns)).execution_options(yield_per=5000)
        named: Any = namedtuple(facts.__name__, columns)  # type: ignore[misc]
        async for batch in (await session.stream(read)).partitions():
            for row in batch:
                add_up(totals, contributing(named._make(row), calendar))
    return totals


async def stored(session: AsyncSession) -> Totals:
    """The rollup rows as stored (counters at zero left out), comparable with `recount`."""
    totals: Totals = {}
    for table in ROLLUPS:
        columns = table.__table__.c
        keys = _key_columns(table)
        counters = [c.name for c in columns if c.name not in keys and c.name not in ("tenant_id", "id")]
        for row in (await session.execute(select(table))).scalars():
            counts = {name: getattr(row, name) for name in counters if getattr(row, name)}
            if counts:
                totals[(table, tuple((name, getattr(row, name)) for name in keys))] = counts
    return totals


async def rebuild(session: AsyncSession, tenant_id: uuid.UUID, calendar: WorkingCalendar) -> int:
    """Replaces the tenant's rollups with a recount; answers how many rows it wrote."""
    return await replace(session, tenant_id, await recount(session, calendar))


async def clear(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Deletes every rollup row of the tenant."""
    for table in ROLLUPS:
        # Not looked for in the session: it would read back the id of every row deleted.
        await session.execute(
            delete(table).where(table.tenant_id == tenant_id).execution_options(synchronize_session=False)  # type: ignore[attr-defined]
        )


async def replace(session: AsyncSession, tenant_id: uuid.UUID, totals: Totals) -> int:
    """Replaces the tenant's rollups with `totals`; answers how many rows it wrote."""
    await clear(session, tenant_id)
    by_table: dict[type[Base], list[dict[str, Any]]] = {}
    for (table, key), counts in totals.items():
        by_table.setdefault(table, []).append({"tenant_id": tenant_id, **dict(key), **counts})
    for table, rows in by_table.items():
        # Each batch lists every counter, so rows of one statement share one column set.
        counters = {name for row in rows for name in row}
        for start in range(0, len(rows), REBUILD_BATCH):
            batch = [{name: row.get(name, 0) for name in counters} for row in rows[start : start + REBUILD_BATCH]]
            await session.execute(table.__table__.insert(), batch)  # type: ignore[attr-defined]
    return len(totals)


def _key_columns(table: type[Base]) -> list[str]:
    constraint = next(c for c in table.__table__.constraints if c.name == f"uq_{table.__tablename__}_key")  # type: ignore[attr-defined]
    return [c.name for c in constraint.columns if c.name != "tenant_id"]
