"""Exports of the lists an admin sees (CSV, XLSX) and the monthly report (PDF), made by a job.

An export is asked for (`request_export`, `request_monthly_report`), queued as a row of
`exports`, and made by the job runner (server.exports), which claims it (`claim`), reads the
list page by page as the admin who asked (`next_chunk`: the list's own use case, so its filter,
scope and keyset pages are those of the GraphQL list) and writes each page out before reading
the next: a file of a million rows never sits in memory. The row is the audit record too.

Personal data is masked unless the admin asked for it whole, and then only where they may see
it whole in the API (resolvers.people.sees_full_contact). A whole export is recorded as such
once, on its row, rather than as one full-view entry per value.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import and_, or_, select, update

from models.attendance import local_day
from models.base import new_id
from models.calendar import SHANGHAI
from models.database import when_committed
from models.errors import ErrorCode
from models.exports import Export, ExportFormat, ExportStatus, ExportSubject, download_signature
from models.people import Role, User, mask_id_number, mask_phone
from resolvers import (
    appointments,
    attendance,
    audit,
    bookings,
    complaints,
    guides,
    households,
    inspections,
    leaders,
    organisation,
    people,
    visits,
    volunteers,
    workday,
)
from resolvers.auth import viewer_of_account
from resolvers.errors import fail
from resolvers.pagination import Page, PageRequest, Total, paginate, total_of
from resolvers.people import sees_full_contact
from resolvers.permissions import ADMINS, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection
from resolvers.volunteers import mask_name
from tenants.context import RequestContext
from tenants.tokens import Viewer

R = TypeVar("R")
Cell = str | int | float | None

# A running export not heard from for this long lost its process (a restart, a crash): the next
# poll starts it again from the first page.
LEASE = timedelta(minutes=5)
# How long a finished file can be fetched.
KEPT_FOR = timedelta(hours=24)

SUBJECT_NAMES = {
    ExportSubject.COMPLAINTS: "诉求",
    ExportSubject.BOOKINGS: "场地预约",
    ExportSubject.APPOINTMENTS: "预约办事",
    ExportSubject.VOLUNTEERS: "志愿者",
    ExportSubject.PEOPLE: "人口信息",
    ExportSubject.ATTENDANCE: "网格员考勤",
    ExportSubject.HAZARDS: "巡检隐患",
    ExportSubject.REGISTRATIONS: "待审核居民",
    ExportSubject.VISITS: "入户走访",
    ExportSubject.APPLICATIONS: "办事申请",
    ExportSubject.ROUNDS: "巡检记录",
    ExportSubject.LEADERS: "楼栋长",
    ExportSubject.STAFF: "部门工作人员",
    ExportSubject.ACTIVITIES: "志愿活动",
    ExportSubject.TALLY: "巡检统计",
    ExportSubject.HOUSEHOLDS: "住户",
    ExportSubject.CARE_DUE: "关爱走访到期",
    ExportSubject.COVERAGE: "走访覆盖",
    ExportSubject.FULL_VIEWS: "完整信息查看记录",
    ExportSubject.MONTHLY_REPORT: "月报",
}
MASKED = "已脱敏"
WHOLE = "含完整个人信息"


@dataclass(frozen=True)
class Shown:
    """How a person's data reaches the file: whole only if the export asked for it and the
    admin may see it whole, masked otherwise."""

    ctx: RequestContext
    whole: bool

    def _whole(self, person_id: uuid.UUID | None, community_id: uuid.UUID | None) -> bool:
        return self.whole and person_id is not None and sees_full_contact(self.ctx, person_id, community_id)

    def phone(self, person_id: uuid.UUID | None, phone: str | None, community_id: uuid.UUID | None = None) -> Cell:
        if phone is None:
            return None
        return phone if self._whole(person_id, community_id) else mask_phone(phone)

    def name(self, person_id: uuid.UUID | None, name: str | None, community_id: uuid.UUID | None) -> Cell:
        if name is None:
            return None
        return name if self._whole(person_id, community_id) else mask_name(name)

    def id_number(self, person_id: uuid.UUID, number: str | None, community_id: uuid.UUID | None) -> Cell:
        if number is None:
            return None
        return number if self._whole(person_id, community_id) else mask_id_number(number)

    # A household member's record is whole to those who manage it (resolvers.households); the
    # API's own answer is masked again unless the export is whole (masking is idempotent).
    def member_name(self, row: households.MemberRow) -> Cell:
        whole = self.whole and households.manages(self.ctx, row.community_id, row.worker_id)
        return row.name if whole else mask_name(row.name)

    def member_phone(self, row: households.MemberRow) -> Cell:
        phone = households.shown_member_phone(self.ctx, row)
        return phone if self.whole or phone is None else mask_phone(phone)

    def member_id_number(self, row: households.MemberRow) -> Cell:
        number = households.shown_member_id_number(self.ctx, row)
        return number if self.whole or number is None else mask_id_number(number)


def moment(value: datetime | None) -> Cell:
    """Times as people read them: China Standard Time, to the minute."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value is not None else None


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    value: Callable[[Shown, R], Cell]


@dataclass(frozen=True)
class Listing(Generic[R]):
    """A list that can be exported: its use case (whose filter type it takes) and its columns.
    `unrecorded`: filter fields (and their input names) that must not be kept in the record, an
    ID number, so an export may not filter by them."""

    filter_type: type
    rows: Callable[[RequestContext, Any, PageRequest], Awaitable[Page[R]]]
    columns: Sequence[Column[R]]
    unrecorded: tuple[tuple[str, str], ...] = ()
    # What the filter leaves to the moment ("today") fixed when the export is asked for, so the
    # job reads the same rows whenever it runs.
    settled: Callable[[RequestContext, Any], Any] = lambda _, query: query


async def _complaints(
    ctx: RequestContext, query: complaints.Filter, page: PageRequest
) -> Page[complaints.ComplaintRow]:
    # Newest first: one index range whatever the filter, where the default order merges lanes.
    return await complaints.list_complaints(ctx, query, page, complaints.ComplaintOrder.NEWEST)


@dataclass(frozen=True)
class AttendanceFilter:
    """`communityWorkdays`' arguments: a community, and the day (today if left out); or, with
    `month` (any day of it), every day of that month up to `day`."""

    community_id: uuid.UUID | None = None
    day: date | None = None
    month: date | None = None


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    worker: workday.WorkerRow
    community_id: uuid.UUID
    attendance: attendance.AttendanceDay


async def _attendance(ctx: RequestContext, query: AttendanceFilter, page: PageRequest) -> Page[AttendanceRow]:
    """A community's grid workers, by name, as `communityWorkdays` pages them, each with the
    attendance of the day, or of each day of the month (one statement for the page's shifts:
    attendance.day_of batches)."""
    if query.community_id is None:
        raise fail(ErrorCode.INVALID, "请选择要导出考勤的社区。", "filter.communityId")
    day, workers = await workday.community_workdays(
        ctx, query.community_id, query.day, page, field="filter.communityId"
    )
    days = [day] if query.month is None else _days_of_month(query.month, until=day)
    asked = [(worker, each) for worker in workers.rows for each in days]
    found = await asyncio.gather(*(attendance.day_of(ctx, worker.id, each) for worker, each in asked))

    async def total() -> Total:
        of_workers = await workers.total()
        of_rows = total_of(of_workers.count * len(days))
        return Total(of_rows.count, of_rows.capped or of_workers.capped)

    return Page(
        rows=[AttendanceRow(w, query.community_id, d) for (w, _), d in zip(asked, found, strict=True)],
        cursors=workers.cursors,
        has_next_page=workers.has_next_page,
        has_previous_page=workers.has_previous_page,
        total=total,
    )


def _days_of_month(month: date, *, until: date) -> list[date]:
    first, last = attendance.month_span(month)
    if first > until:
        raise fail(ErrorCode.INVALID, "这个月还没有开始，没有考勤可以导出。", "filter.month")
    return [first + timedelta(days=n) for n in range((min(last, until) - first).days + 1)]


def _today(ctx: RequestContext, query: AttendanceFilter) -> AttendanceFilter:
    """The day fixed when asked, so that a job run later reads the same day (or month so far)."""
    return dataclasses.replace(query, day=query.day or local_day(ctx.clock()))


@dataclass(frozen=True)
class HazardFilter:
    """`openHazards`' arguments."""

    grid_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class HazardRow:
    finding: inspections.FindingRow
    grid_name: str | None


async def _hazards(ctx: RequestContext, query: HazardFilter, page: PageRequest) -> Page[HazardRow]:
    """`openHazards` as the admin sees it, each with its grid's name (one statement for the page's grids)."""
    found = await inspections.open_hazards(ctx, query.grid_id, query.community_id, page)
    grids = await asyncio.gather(*(organisation.grid(ctx, row.grid_id) for row in found.rows))
    return found.carrying(
        [HazardRow(row, grid.name if grid else None) for row, grid in zip(found.rows, grids, strict=True)]
    )


@dataclass(frozen=True)
class Unfiltered:
    """The filter of a list that takes none."""


async def _registrations(ctx: RequestContext, _: Unfiltered, page: PageRequest) -> Page[people.ResidentRow]:
    return await people.residents_awaiting_review(ctx, page)


@dataclass(frozen=True, slots=True)
class VisitedRow:
    visit: visits.VisitRow
    building_name: str | None
    room: str | None
    worker_name: str | None


async def _visits(ctx: RequestContext, query: visits.VisitFilter, page: PageRequest) -> Page[VisitedRow]:
    """`householdVisits`, each with the household's building and room and who called (one
    statement each for the page's households, buildings and workers)."""
    found = await visits.list_visits(ctx, query, page)
    homes = await asyncio.gather(*(households.household(ctx, row.household_id) for row in found.rows))
    buildings = await asyncio.gather(*(_building_of(ctx, home) for home in homes))
    workers = await asyncio.gather(*(people.person(ctx, row.worker_id) for row in found.rows))
    return found.carrying(
        [
            VisitedRow(
                row,
                building.name if building else None,
                home.room if home else None,
                worker.name if worker else None,
            )
            for row, home, building, worker in zip(found.rows, homes, buildings, workers, strict=True)
        ]
    )


@dataclass(frozen=True, slots=True)
class Placed(Generic[R]):
    """A row of a list with the names of its grid and of a grid worker."""

    item: R
    grid_name: str | None
    worker_name: str | None


async def _placed(
    ctx: RequestContext,
    rows: Sequence[R],
    grid_of: Callable[[R], uuid.UUID | None],
    worker_of: Callable[[R], uuid.UUID | None] | None = None,
) -> list[Placed[R]]:
    """Each row with its grid's name and its worker's: the one `worker_of` names (who walked a
    round), else the grid's worker now (one statement each for the page's grids and people)."""

    async def grid(grid_id: uuid.UUID | None) -> organisation.GridRow | None:
        return await organisation.grid(ctx, grid_id) if grid_id else None

    grids = await asyncio.gather(*(grid(grid_of(row)) for row in rows))
    workers = await _names_of_people(
        ctx,
        [
            worker_of(row) if worker_of else grid.worker_id if grid else None
            for row, grid in zip(rows, grids, strict=True)
        ],
    )
    return [
        Placed(row, grid.name if grid else None, worker) for row, grid, worker in zip(rows, grids, workers, strict=True)
    ]


async def _names_of_people(ctx: RequestContext, ids: Sequence[uuid.UUID | None]) -> list[str | None]:
    async def name(person_id: uuid.UUID | None) -> str | None:
        found = await people.person(ctx, person_id) if person_id else None
        return found.name if found else None

    return list(await asyncio.gather(*(name(i) for i in ids)))


async def _rounds(
    ctx: RequestContext, query: inspections.RoundFilter, page: PageRequest
) -> Page[Placed[inspections.RoundRow]]:
    """`inspectionRounds`, each with its grid's name and that of the worker who walked it."""
    found = await inspections.list_rounds(ctx, query, page)
    return found.carrying(await _placed(ctx, found.rows, lambda r: r.grid_id, lambda r: r.worker_id))


@dataclass(frozen=True)
class LeaderFilter:
    """`buildingLeaders`' arguments."""

    community_id: uuid.UUID | None = None
    building_id: uuid.UUID | None = None
    serving_only: bool = True


@dataclass(frozen=True, slots=True)
class LeaderRow:
    term: leaders.TermRow
    building_name: str | None


async def _leaders(ctx: RequestContext, query: LeaderFilter, page: PageRequest) -> Page[LeaderRow]:
    """`buildingLeaders`, each with its building's name (one statement for the page's buildings)."""
    found = await leaders.list_terms(
        ctx, page, community_id=query.community_id, building_id=query.building_id, serving_only=query.serving_only
    )
    buildings = await asyncio.gather(*(organisation.building(ctx, row.building_id) for row in found.rows))
    return found.carrying(
        [
            LeaderRow(row, building.name if building else None)
            for row, building in zip(found.rows, buildings, strict=True)
        ]
    )


@dataclass(frozen=True)
class StaffFilter:
    """`staffMembers`' argument."""

    department_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class StaffRow:
    member: people.StaffMemberRow
    department_name: str | None


async def _staff(ctx: RequestContext, query: StaffFilter, page: PageRequest) -> Page[StaffRow]:
    """`staffMembers`, each with their department's name (one statement for the page's departments)."""
    found = await people.list_staff(ctx, query.department_id, page)

    async def department(row: people.StaffMemberRow) -> organisation.DepartmentRow | None:
        return await organisation.department(ctx, row.department_id) if row.department_id else None

    departments = await asyncio.gather(*(department(row) for row in found.rows))
    return found.carrying(
        [StaffRow(row, d.name if d else None) for row, d in zip(found.rows, departments, strict=True)]
    )


@dataclass(frozen=True, slots=True)
class ActivityRow:
    activity: volunteers.ActivityRow
    community_name: str | None  # None: of the whole street office
    team_name: str | None


async def _activities(ctx: RequestContext, query: volunteers.ActivityFilter, page: PageRequest) -> Page[ActivityRow]:
    """`volunteerActivities`, each with its community's and team's names (one statement each for the page's)."""
    found = await volunteers.list_activities(ctx, query, page)

    async def names(row: volunteers.ActivityRow) -> tuple[str | None, str | None]:
        community = await organisation.community(ctx, row.community_id) if row.community_id else None
        team = await volunteers.team(ctx, row.team_id) if row.team_id else None
        return community.name if community else None, team.name if team else None

    named = await asyncio.gather(*(names(row) for row in found.rows))
    return found.carrying([ActivityRow(row, *each) for row, each in zip(found.rows, named, strict=True)])


@dataclass(frozen=True)
class GridPeriodFilter:
    """The arguments of a list per grid over a period [start, end), of one community or of all
    in the admin's scope: `inspectionTally` (the rounds started then) and `visitCoverage` (the
    visits made then)."""

    start: datetime
    end: datetime
    community_id: uuid.UUID | None = None


async def _tally(
    ctx: RequestContext, query: GridPeriodFilter, page: PageRequest
) -> Page[Placed[inspections.GridTallyRow]]:
    found = await inspections.tally_by_grid(ctx, query.community_id, query.start, query.end, page)
    return found.carrying(await _placed(ctx, found.rows, lambda r: r.grid_id))


@dataclass(frozen=True, slots=True)
class Home(Generic[R]):
    """A row about a household, with where the household is as people name it."""

    item: R
    building_name: str | None
    room: str | None
    grid_name: str | None
    worker_name: str | None


async def _homes(
    ctx: RequestContext, rows: Sequence[R], homes: Sequence[households.HouseholdRow | None]
) -> list[Home[R]]:
    """Each row with its household's building, room, grid and the grid's worker now (one
    statement each for the page's buildings, grids and people)."""
    buildings = await asyncio.gather(*(_building_of(ctx, home) for home in homes))
    placed = await _placed(ctx, homes, lambda home: home.grid_id if home else None)
    return [
        Home(row, building.name if building else None, home.room if home else None, at.grid_name, at.worker_name)
        for row, home, building, at in zip(rows, homes, buildings, placed, strict=True)
    ]


async def _households(
    ctx: RequestContext, query: households.PopulationFilter, page: PageRequest
) -> Page[Home[households.HouseholdRow]]:
    found = await households.list_households(ctx, query, page)
    return found.carrying(await _homes(ctx, found.rows, found.rows))


@dataclass(frozen=True)
class CareDueFilter:
    """`careVisitsDue`'s argument, and the moment it was asked at: "due within so many days"
    counts from then, so a job run later lists the same households."""

    within_days: int = 0
    asked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CareDue:
    due: visits.CareDueRow
    overdue: bool  # when asked


async def _care_due(ctx: RequestContext, query: CareDueFilter, page: PageRequest) -> Page[Home[CareDue]]:
    """`careVisitsDue`, each with where the household is."""
    asked_at = query.asked_at or ctx.clock()
    found = await visits.care_visits_due(ctx, page, query.within_days, asked_at=asked_at)
    homes = await asyncio.gather(*(households.household(ctx, row.household_id) for row in found.rows))
    due = [CareDue(row, row.due_at <= asked_at) for row in found.rows]
    return found.carrying(await _homes(ctx, due, homes))


def _asked_now(ctx: RequestContext, query: CareDueFilter) -> CareDueFilter:
    return dataclasses.replace(query, asked_at=query.asked_at or ctx.clock())


async def _coverage(
    ctx: RequestContext, query: GridPeriodFilter, page: PageRequest
) -> Page[Placed[visits.CoverageRow]]:
    found = await visits.coverage(ctx, query.community_id, query.start, query.end, page)
    return found.carrying(await _placed(ctx, found.rows, lambda r: r.grid_id))


def _rate(row: visits.CoverageRow) -> Cell:
    """visited / households as `visitCoverage`'s rate, in per cent."""
    return round(row.visited / row.households * 100, 2) if row.households else 0.0


async def _building_of(ctx: RequestContext, home: households.HouseholdRow | None) -> organisation.BuildingRow | None:
    return await organisation.building(ctx, home.building_id) if home else None


def yes_no(value: bool) -> Cell:
    return "是" if value else "否"


C = complaints.ComplaintRow
B = bookings.BookingRow
A = appointments.AppointmentRow
V = volunteers.VolunteerRow
M = households.MemberRow
W = AttendanceRow
H = HazardRow
Reg = people.ResidentRow
Vis = VisitedRow
App = guides.ApplicationRow
Wal = Placed[inspections.RoundRow]
Lea = LeaderRow
Sta = StaffRow
Act = ActivityRow
Tal = Placed[inspections.GridTallyRow]
Hou = Home[households.HouseholdRow]
Due = Home[CareDue]
Cov = Placed[visits.CoverageRow]
Aud = audit.FullViewRow

LISTINGS: dict[ExportSubject, Listing[Any]] = {
    ExportSubject.COMPLAINTS: Listing[C](
        complaints.Filter,
        _complaints,
        (
            Column[C]("标题", lambda _, r: r.title),
            Column[C]("类别", lambda _, r: r.category_name),
            Column[C]("状态", lambda _, r: complaints.STATUS_NAMES[r.status]),
            Column[C]("来源", lambda _, r: complaints.SOURCE_NAMES[r.source]),
            Column[C]("网格", lambda _, r: r.grid_name),
            Column[C]("地址", lambda _, r: r.address),
            Column[C]("反映人", lambda s, r: s.name(r.resident_id, r.resident_name, r.community_id)),
            Column[C]("反映人电话", lambda s, r: s.phone(r.resident_id, r.resident_phone, r.community_id)),
            Column[C]("提交时间", lambda _, r: moment(r.submitted_at)),
            Column[C]("受理期限", lambda _, r: moment(r.acknowledge_due_at)),
            Column[C]("办结期限", lambda _, r: moment(r.resolve_due_at)),
            Column[C]("办结时间", lambda _, r: moment(r.resolved_at)),
            Column[C]("处理人", lambda _, r: r.handler_name),
            Column[C]("处理人电话", lambda s, r: s.phone(r.handler_id, r.handler_phone)),
            Column[C]("办理结果", lambda _, r: r.resolution),
            Column[C]("评分", lambda _, r: r.rating),
        ),
    ),
    ExportSubject.BOOKINGS: Listing[B](
        bookings.BookingFilter,
        bookings.list_bookings,
        (
            Column[B]("场地", lambda _, r: r.room_name),
            Column[B]("用途", lambda _, r: r.purpose),
            Column[B]("人数", lambda _, r: r.attendees),
            Column[B]("开始时间", lambda _, r: moment(r.starts_at)),
            Column[B]("结束时间", lambda _, r: moment(r.ends_at)),
            Column[B]("状态", lambda _, r: bookings.BOOKING_STATUS_NAMES[r.status]),
            Column[B]("预约人", lambda s, r: s.name(r.resident_id, r.resident_name, r.community_id)),
            Column[B]("预约人电话", lambda s, r: s.phone(r.resident_id, r.resident_phone, r.community_id)),
            Column[B]("申请时间", lambda _, r: moment(r.created_at)),
            Column[B]("审核时间", lambda _, r: moment(r.decided_at)),
            Column[B]("审核意见", lambda _, r: r.reason),
        ),
    ),
    ExportSubject.APPOINTMENTS: Listing[A](
        appointments.AppointmentFilter,
        appointments.list_appointments,
        (
            Column[A]("事项", lambda _, r: r.type_name),
            Column[A]("说明", lambda _, r: r.description),
            Column[A]("状态", lambda _, r: appointments.APPOINTMENT_STATUS_NAMES[r.status]),
            Column[A]("申请人", lambda s, r: s.name(r.resident_id, r.resident_name, r.community_id)),
            Column[A]("申请人电话", lambda s, r: s.phone(r.resident_id, r.resident_phone, r.community_id)),
            Column[A]("经办人", lambda _, r: r.assignee_name),
            Column[A]("经办人电话", lambda s, r: s.phone(r.assignee_id, r.assignee_phone)),
            Column[A]("提交时间", lambda _, r: moment(r.created_at)),
            Column[A]("联系时间", lambda _, r: moment(r.contacted_at)),
            Column[A]("约定时间", lambda _, r: moment(r.scheduled_at)),
            Column[A]("办理结果", lambda _, r: r.outcome),
        ),
    ),
    ExportSubject.VOLUNTEERS: Listing[V](
        volunteers.VolunteerFilter,
        volunteers.list_volunteers,
        (
            Column[V]("姓名", lambda s, r: s.name(r.id, r.name, r.community_id)),
            Column[V]("电话", lambda s, r: s.phone(r.id, r.phone, r.community_id)),
            Column[V]("状态", lambda _, r: volunteers.VOLUNTEER_STATUS_NAMES[r.status]),
            Column[V]("特长", lambda _, r: "、".join(r.skills)),
            Column[V]("在职党员报到", lambda _, r: "是" if r.party_member_reporting else "否"),
            Column[V]("工作单位", lambda _, r: r.work_unit),
            Column[V]("服务时长（小时）", lambda _, r: round(r.total_minutes / 60, 1)),
            Column[V]("积分余额", lambda _, r: r.points_balance),
            Column[V]("申请时间", lambda _, r: moment(r.applied_at)),
        ),
    ),
    ExportSubject.PEOPLE: Listing[M](
        households.PopulationFilter,
        households.list_people,
        (
            Column[M]("姓名", lambda s, r: s.member_name(r)),
            Column[M]("与户主关系", lambda _, r: r.relation),
            Column[M]("身份证号", lambda s, r: s.member_id_number(r)),
            Column[M]("电话", lambda s, r: s.member_phone(r)),
            # The year only: with a name and an address, a whole birthday identifies a person.
            Column[M]("出生年份", lambda _, r: r.birth_date.year if r.birth_date else None),
            Column[M]("居住类型", lambda _, r: households.RESIDENCE_STATUS_NAMES[r.residence_status]),
            Column[M]("迁入时间", lambda _, r: moment(r.moved_in_at)),
            Column[M]("迁出时间", lambda _, r: moment(r.moved_out_at)),
        ),
        unrecorded=(("id_number", "filter.idNumber"),),
    ),
    ExportSubject.ATTENDANCE: Listing[W](
        AttendanceFilter,
        _attendance,
        (
            Column[W]("日期", lambda _, r: r.attendance.day.isoformat()),
            # A worker's name as the other lists show staff (处理人, 经办人); their phone masked.
            Column[W]("网格员", lambda _, r: r.worker.name),
            Column[W]("电话", lambda s, r: s.phone(r.worker.id, r.worker.phone, r.community_id)),
            Column[W]("工作日", lambda _, r: yes_no(r.attendance.working_day)),
            Column[W]("出勤", lambda _, r: attendance.DAY_STATUS_NAMES[r.attendance.status]),
            Column[W]("签到时间", lambda _, r: moment(r.attendance.checked_in_at)),
            Column[W]("签退时间", lambda _, r: moment(r.attendance.checked_out_at)),
            Column[W]("工作时长（小时）", lambda _, r: round(r.attendance.minutes_worked / 60, 1)),
            Column[W]("网格外打卡", lambda _, r: yes_no(r.attendance.outside)),
        ),
        settled=_today,
    ),
    ExportSubject.HAZARDS: Listing[H](
        HazardFilter,
        _hazards,
        (
            Column[H]("发现时间", lambda _, r: moment(r.finding.recorded_at)),
            Column[H]("网格", lambda _, r: r.grid_name),
            Column[H]("检查项", lambda _, r: r.finding.item_label),
            Column[H]("情况", lambda _, r: r.finding.note),
            Column[H](
                "诉求状态",
                lambda _, r: (
                    complaints.STATUS_NAMES[r.finding.complaint_status] if r.finding.complaint_status else None
                ),
            ),
            Column[H]("经度", lambda _, r: r.finding.longitude),
            Column[H]("纬度", lambda _, r: r.finding.latitude),
        ),
    ),
    ExportSubject.REGISTRATIONS: Listing[Reg](
        Unfiltered,
        _registrations,
        (
            Column[Reg]("姓名", lambda s, r: s.name(r.id, r.name, r.community_id)),
            Column[Reg]("电话", lambda s, r: s.phone(r.id, r.phone, r.community_id)),
            Column[Reg]("身份证号", lambda s, r: s.id_number(r.id, r.id_number, r.community_id)),
            Column[Reg]("网格", lambda _, r: r.grid_name),
            Column[Reg]("楼栋", lambda _, r: r.building_name),
            Column[Reg]("房号", lambda _, r: r.room),
            Column[Reg]("注册时间", lambda _, r: moment(r.registered_at)),
        ),
    ),
    ExportSubject.VISITS: Listing[Vis](
        visits.VisitFilter,
        _visits,
        (
            Column[Vis]("走访时间", lambda _, r: moment(r.visit.visited_at)),
            Column[Vis]("类型", lambda _, r: visits.KIND_NAMES[r.visit.kind]),
            Column[Vis]("楼栋", lambda _, r: r.building_name),
            Column[Vis]("房号", lambda _, r: r.room),
            Column[Vis]("网格员", lambda _, r: r.worker_name),
            Column[Vis]("走访记录", lambda _, r: r.visit.notes),
            Column[Vis]("约定回访", lambda _, r: r.visit.follow_up_on.isoformat() if r.visit.follow_up_on else None),
            Column[Vis]("经度", lambda _, r: r.visit.longitude),
            Column[Vis]("纬度", lambda _, r: r.visit.latitude),
        ),
    ),
    ExportSubject.APPLICATIONS: Listing[App](
        guides.ApplicationFilter,
        guides.list_applications,
        (
            Column[App]("事项", lambda _, r: r.guide_title),
            Column[App]("申请人", lambda s, r: s.name(r.applicant_id, r.applicant_name, r.community_id)),
            Column[App]("申请人电话", lambda s, r: s.phone(r.applicant_id, r.applicant_phone, r.community_id)),
            Column[App]("用途", lambda _, r: r.purpose),
            Column[App]("状态", lambda _, r: guides.APPLICATION_STATUS_NAMES[r.status]),
            Column[App]("审核环节", lambda _, r: guides.LEVEL_NAMES[r.level]),
            Column[App]("提交时间", lambda _, r: moment(r.submitted_at)),
            Column[App]("办理时限", lambda _, r: moment(r.due_at)),
            Column[App]("办结时间", lambda _, r: moment(r.decided_at)),
            Column[App]("说明", lambda _, r: r.reason),
        ),
    ),
    ExportSubject.ROUNDS: Listing[Wal](
        inspections.RoundFilter,
        _rounds,
        (
            Column[Wal]("开始时间", lambda _, r: moment(r.item.started_at)),
            Column[Wal]("结束时间", lambda _, r: moment(r.item.ended_at)),
            Column[Wal]("网格", lambda _, r: r.grid_name),
            Column[Wal]("网格员", lambda _, r: r.worker_name),
            Column[Wal]("检查表", lambda _, r: r.item.checklist_name),
            Column[Wal]("状态", lambda _, r: inspections.STATUS_NAMES[r.item.status]),
            Column[Wal]("已查项", lambda _, r: f"{r.item.items_recorded}/{r.item.items_total}"),
            Column[Wal]("发现问题", lambda _, r: r.item.problems),
            Column[Wal]("已办结", lambda _, r: r.item.problems_settled),
        ),
    ),
    ExportSubject.LEADERS: Listing[Lea](
        LeaderFilter,
        _leaders,
        (
            Column[Lea]("楼栋", lambda _, r: r.building_name),
            Column[Lea]("姓名", lambda s, r: s.name(r.term.user_id, r.term.name, r.term.community_id)),
            Column[Lea]("电话", lambda s, r: s.phone(r.term.user_id, r.term.phone, r.term.community_id)),
            Column[Lea]("任期开始", lambda _, r: r.term.starts_on.isoformat()),
            Column[Lea]("任期结束", lambda _, r: r.term.ends_on.isoformat()),
            Column[Lea]("在任", lambda s, r: yes_no(leaders.is_serving(r.term, s.ctx.clock()))),
            Column[Lea]("任命时间", lambda _, r: moment(r.term.appointed_at)),
            Column[Lea]("免职时间", lambda _, r: moment(r.term.dismissed_at)),
            Column[Lea]("免职原因", lambda _, r: r.term.dismissal_reason),
        ),
    ),
    ExportSubject.STAFF: Listing[Sta](
        StaffFilter,
        _staff,
        (
            # Staff by name, as the other lists show them (处理人, 经办人); the API shows no phone.
            Column[Sta]("姓名", lambda _, r: r.member.name),
            Column[Sta]("部门", lambda _, r: r.department_name),
        ),
    ),
    ExportSubject.ACTIVITIES: Listing[Act](
        volunteers.ActivityFilter,
        _activities,
        (
            Column[Act]("活动", lambda _, r: r.activity.title),
            Column[Act]("社区", lambda _, r: r.community_name or "全街道"),
            Column[Act]("志愿队伍", lambda _, r: r.team_name),
            Column[Act]("地点", lambda _, r: r.activity.place),
            Column[Act]("开始时间", lambda _, r: moment(r.activity.starts_at)),
            Column[Act]("结束时间", lambda _, r: moment(r.activity.ends_at)),
            Column[Act]("报名截止", lambda _, r: moment(r.activity.signup_deadline)),
            Column[Act]("招募人数", lambda _, r: r.activity.capacity),
            Column[Act]("已报名", lambda _, r: r.activity.taken),
            Column[Act]("所需特长", lambda _, r: "、".join(r.activity.required_skills or ())),
            Column[Act]("每小时积分", lambda _, r: r.activity.points_per_hour),
            Column[Act]("状态", lambda _, r: volunteers.ACTIVITY_STATUS_NAMES[r.activity.status]),
            Column[Act]("取消原因", lambda _, r: r.activity.reason),
            Column[Act]("发布时间", lambda _, r: moment(r.activity.published_at)),
            Column[Act]("完成时间", lambda _, r: moment(r.activity.completed_at)),
        ),
    ),
    ExportSubject.TALLY: Listing[Tal](
        GridPeriodFilter,
        _tally,
        (
            Column[Tal]("网格", lambda _, r: r.grid_name),
            Column[Tal]("网格员", lambda _, r: r.worker_name),
            Column[Tal]("巡检次数", lambda _, r: r.item.rounds),
            Column[Tal]("已完成", lambda _, r: r.item.rounds_finished),
            Column[Tal]("发现问题", lambda _, r: r.item.problems),
            Column[Tal]("未办结隐患", lambda _, r: r.item.hazards_open),
        ),
    ),
    ExportSubject.HOUSEHOLDS: Listing[Hou](
        households.PopulationFilter,
        _households,
        (
            Column[Hou]("楼栋", lambda _, r: r.building_name),
            Column[Hou]("房号", lambda _, r: r.room),
            Column[Hou]("网格", lambda _, r: r.grid_name),
            Column[Hou]("网格员", lambda _, r: r.worker_name),
        ),
        unrecorded=(("id_number", "filter.idNumber"),),
    ),
    ExportSubject.CARE_DUE: Listing[Due](
        CareDueFilter,
        _care_due,
        (
            Column[Due]("楼栋", lambda _, r: r.building_name),
            Column[Due]("房号", lambda _, r: r.room),
            Column[Due]("网格", lambda _, r: r.grid_name),
            Column[Due]("网格员", lambda _, r: r.worker_name),
            Column[Due]("走访周期（天）", lambda _, r: r.item.due.every_days),
            Column[Due]("上次走访", lambda _, r: moment(r.item.due.last_visited_at)),
            Column[Due]("应访时间", lambda _, r: moment(r.item.due.due_at)),
            Column[Due]("已超期", lambda _, r: yes_no(r.item.overdue)),
        ),
        settled=_asked_now,
    ),
    ExportSubject.COVERAGE: Listing[Cov](
        GridPeriodFilter,
        _coverage,
        (
            Column[Cov]("网格", lambda _, r: r.grid_name),
            Column[Cov]("网格员", lambda _, r: r.worker_name),
            Column[Cov]("住户数", lambda _, r: r.item.households),
            Column[Cov]("已走访", lambda _, r: r.item.visited),
            Column[Cov]("走访率（%）", lambda _, r: _rate(r.item)),
            Column[Cov]("关爱户", lambda _, r: r.item.care_households),
            Column[Cov]("超期未访", lambda _, r: r.item.overdue),
        ),
    ),
    ExportSubject.FULL_VIEWS: Listing[Aud](
        audit.FullViewFilter,
        audit.list_full_views,
        (
            # What `fullViewAudit` shows, and no more: whose value it was is a global id there.
            Column[Aud]("查看人", lambda _, r: r.viewer_name),
            Column[Aud]("查看时间", lambda _, r: moment(r.viewed_at)),
            Column[Aud]("查看内容", lambda _, r: audit.FIELD_NAMES[r.field]),
            Column[Aud]("对象类型", lambda _, r: audit.SUBJECT_KIND_NAMES[r.subject_kind]),
        ),
    ),
}


# --- filters kept as JSON ---------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | datetime | date):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def filter_json(query: Any) -> dict[str, Any]:
    """The fields of a list's filter that narrow it, as JSON: the job reads the list with it,
    and the record shows it."""
    return {f.name: _json(getattr(query, f.name)) for f in fields(query) if getattr(query, f.name) != f.default}


def _python(hint: Any, value: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is tuple:
        return tuple(_python(typing.get_args(hint)[0], v) for v in value)
    if hint is uuid.UUID:
        return uuid.UUID(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    return value


def filter_of(filter_type: type, data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(filter_type)
    return filter_type(**{name: _python(hints[name], value) for name, value in data.items()})


# --- asking for exports, and seeing them ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRow:
    id: uuid.UUID
    requested_by: uuid.UUID
    requester_name: str
    subject: ExportSubject
    format: ExportFormat
    filter: dict[str, Any]
    whole_personal_data: bool
    status: ExportStatus
    rows_done: int
    rows_total: int | None
    rows_total_capped: bool
    failure: str | None
    requested_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None


EXPORT = Selection(
    ExportRow,
    select(
        Export.id,
        Export.requested_by,
        User.name.label("requester_name"),
        Export.subject,
        Export.format,
        Export.filter,
        Export.whole_personal_data,
        Export.status,
        Export.rows_done,
        Export.rows_total,
        Export.rows_total_capped,
        Export.failure,
        Export.requested_at,
        Export.finished_at,
        Export.expires_at,
    ).join(User, (User.tenant_id == Export.tenant_id) & (User.id == Export.requested_by)),
)


def _visible(viewer: Viewer) -> Any:
    """A tenant admin sees every export of the office (the record); a community admin their own."""
    return visible_rows(viewer, {Role.COMMUNITY_ADMIN: lambda v: Export.requested_by == v.user_id})


@allowed_to(*ADMINS)
async def request_export(
    ctx: RequestContext, subject: ExportSubject, file_format: ExportFormat, query: Any, whole: bool
) -> uuid.UUID:
    """Queues an export of one of the caller's lists. The first page is read now, as the list
    reads it: a filter the list refuses is refused here, and the count gives the job's total."""
    listing = LISTINGS.get(subject)
    if listing is None:
        raise fail(ErrorCode.INVALID, "该内容不能导出为表格。", "list")
    if file_format not in (ExportFormat.CSV, ExportFormat.XLSX):
        raise fail(ErrorCode.INVALID, "表格只能导出为 CSV 或 XLSX。", "format")
    if not isinstance(query, listing.filter_type):
        raise fail(ErrorCode.INVALID, "筛选条件与所导出的列表不符。", "filter")
    for attribute, field in listing.unrecorded:
        if getattr(query, attribute) is not None:
            raise fail(ErrorCode.INVALID, "导出记录不保存身份证号：导出时不能按身份证号筛选。", field)
    query = listing.settled(ctx, query)
    total = await (await listing.rows(ctx, query, PageRequest(first=1))).total()
    return _queue(
        ctx,
        subject,
        file_format,
        filter_json(query),
        whole=whole,
        rows_total=total.count,
        capped=total.capped,
    )


@allowed_to(Role.TENANT_ADMIN)
async def request_monthly_report(ctx: RequestContext, month: date) -> uuid.UUID:
    this_month = ctx.clock().astimezone(SHANGHAI).date().replace(day=1)
    if month.replace(day=1) > this_month:
        raise fail(ErrorCode.INVALID, "月报只能生成本月及以前的月份。", "month")
    return _queue(
        ctx,
        ExportSubject.MONTHLY_REPORT,
        ExportFormat.PDF,
        {"month": month.replace(day=1).isoformat()},
        whole=False,
        rows_total=None,
        capped=False,
    )


def _queue(
    ctx: RequestContext,
    subject: ExportSubject,
    file_format: ExportFormat,
    query: dict[str, Any],
    *,
    whole: bool,
    rows_total: int | None,
    capped: bool,
) -> uuid.UUID:
    export = Export(
        id=new_id(),
        requested_by=viewer_of(ctx).user_id,
        subject=subject,
        format=file_format,
        filter=query,
        whole_personal_data=whole,
        status=ExportStatus.QUEUED,
        rows_done=0,
        rows_total=rows_total,
        rows_total_capped=capped,
        requested_at=ctx.clock(),
    )
    session = session_of(ctx)
    session.add(export)
    when_committed(session.sync_session, ctx.services.exports_queued.set)
    return export.id


@allowed_to(*ADMINS)
async def list_exports(ctx: RequestContext, page: PageRequest) -> Page[ExportRow]:
    """Newest first."""
    return await paginate(ctx, EXPORT.where(_visible(viewer_of(ctx))), (Export.id,), page, descending=True)


@allowed_to(*ADMINS)
async def export(ctx: RequestContext, export_id: uuid.UUID) -> ExportRow | None:
    return await EXPORT.where(Export.id == export_id, _visible(viewer_of(ctx))).one_or_none(session_of(ctx))


def download_path(ctx: RequestContext, row: ExportRow) -> str | None:
    """The signed link of a finished file, for the admin who asked for it only, until it expires."""
    viewer = ctx.viewer
    if viewer is None or viewer.user_id != row.requested_by or ctx.tenant is None:
        return None
    if row.status is not ExportStatus.READY or row.expires_at is None or row.expires_at <= ctx.clock():
        return None
    expires = int(row.expires_at.timestamp())
    signature = download_signature(ctx.settings.secret_key or "", ctx.tenant.id, row.id, expires)
    return f"/exports/{ctx.tenant.id}/{row.id}?{urlencode({'expires': expires, 'signature': signature})}"


def file_name(row: ExportRow | Job) -> str:
    """Says what the file holds and, for a list, whether its personal data is masked."""
    subject = SUBJECT_NAMES[row.subject]
    if row.subject is ExportSubject.MONTHLY_REPORT:
        return f"{subject}-{row.filter['month'][:7]}.pdf"
    masked = WHOLE if row.whole_personal_data else MASKED
    return f"{subject}-{masked}-{row.requested_at.astimezone(SHANGHAI):%Y%m%d-%H%M}.{row.format.value}"


# --- the job (server.exports runs these) ------------------------------------------------------


@dataclass(frozen=True)
class Job:
    id: uuid.UUID
    viewer: Viewer
    subject: ExportSubject
    format: ExportFormat
    filter: dict[str, Any]
    whole_personal_data: bool
    requested_at: datetime
    storage_key: str

    @property
    def title(self) -> str:
        """The sheet's name: what it holds and whether it is masked (XLSX allows 31 characters)."""
        return f"{SUBJECT_NAMES[self.subject]}（{WHOLE if self.whole_personal_data else MASKED}）"

    @property
    def headers(self) -> list[str]:
        return [column.header for column in LISTINGS[self.subject].columns]

    @property
    def month(self) -> date:
        return date.fromisoformat(self.filter["month"])


async def claim(ctx: RequestContext) -> Job | None:
    """As the system: the oldest queued export (or one whose process died), now running. The
    update names the state it saw, so of two processes claiming at once one wins."""
    session = session_of(ctx)
    assert ctx.tenant is not None
    now = ctx.clock()
    waiting = or_(
        Export.status == ExportStatus.QUEUED,
        and_(Export.status == ExportStatus.RUNNING, Export.heartbeat_at < now - LEASE),
    )
    for row in (await session.execute(select(Export).where(waiting).order_by(Export.id).limit(10))).scalars():
        key = f"{ctx.tenant.id}/exports/{row.id}.{row.format.value}"
        claimed = await session.execute(
            update(Export)
            .where(
                Export.id == row.id,
                Export.status == row.status,
                Export.heartbeat_at.is_(None) if row.heartbeat_at is None else Export.heartbeat_at == row.heartbeat_at,
            )
            .values(status=ExportStatus.RUNNING, heartbeat_at=now, rows_done=0, storage_key=key)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return Job(
                id=row.id,
                viewer=await viewer_of_account(ctx, row.requested_by),
                subject=row.subject,
                format=row.format,
                filter=dict(row.filter),
                whole_personal_data=row.whole_personal_data,
                requested_at=row.requested_at,
                storage_key=key,
            )
    return None


@dataclass(frozen=True)
class Chunk:
    cells: list[list[Cell]]
    after: str | None  # where the next page starts; None after the last


async def next_chunk(ctx: RequestContext, job: Job, after: str | None, size: int) -> Chunk:
    """As the admin who asked: the next page of their list, as cells, and the progress noted."""
    listing = LISTINGS[job.subject]
    query = filter_of(listing.filter_type, job.filter)
    page = await listing.rows(ctx, query, PageRequest(first=size, after=after))
    shown = Shown(ctx, job.whole_personal_data)
    cells = [[column.value(shown, row) for column in listing.columns] for row in page.rows]
    await session_of(ctx).execute(
        update(Export)
        .where(Export.id == job.id)
        .values(rows_done=Export.rows_done + len(cells), heartbeat_at=ctx.clock())
        .execution_options(synchronize_session=False)
    )
    return Chunk(cells, page.cursors[-1] if page.has_next_page and page.cursors else None)


async def finish(ctx: RequestContext, job: Job) -> None:
    now = ctx.clock()
    await _set(ctx, job.id, status=ExportStatus.READY, finished_at=now, expires_at=now + KEPT_FOR)


async def give_up(ctx: RequestContext, job: Job, reason: str) -> None:
    await _set(ctx, job.id, status=ExportStatus.FAILED, failure=reason[:200], finished_at=ctx.clock(), storage_key=None)


async def _set(ctx: RequestContext, export_id: uuid.UUID, **values: Any) -> None:
    await session_of(ctx).execute(
        update(Export).where(Export.id == export_id).values(**values).execution_options(synchronize_session=False)
    )


async def expire(ctx: RequestContext) -> list[str]:
    """As the system: the files past their time, to delete once this commits; their rows stay."""
    session = session_of(ctx)
    gone = (Export.status == ExportStatus.READY) & (Export.expires_at <= ctx.clock())
    keys = [key for key in (await session.scalars(select(Export.storage_key).where(gone))).all() if key]
    await session.execute(
        update(Export)
        .where(gone)
        .values(status=ExportStatus.EXPIRED, storage_key=None)
        .execution_options(synchronize_session=False)
    )
    return keys


@dataclass(frozen=True)
class Download:
    storage_key: str
    file_name: str
    format: ExportFormat
    expires_at: datetime


async def downloadable(ctx: RequestContext, export_id: uuid.UUID) -> Download | None:
    """As the system, for a link whose signature checked out: the file, if it is still there."""
    found = (
        await session_of(ctx).execute(
            EXPORT.stmt.add_columns(Export.storage_key).where(
                Export.id == export_id, Export.status == ExportStatus.READY, Export.expires_at > ctx.clock()
            )
        )
    ).one_or_none()
    if found is None or found.storage_key is None or found.expires_at is None:
        return None
    return Download(found.storage_key, file_name(EXPORT.typed(found)), found.format, found.expires_at)
