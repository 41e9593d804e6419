"""Exports of admins' lists (CSV, XLSX) and the monthly report (PDF), made by a job and
fetched from a signed link (resolvers.exports, server.exports)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry import relay

from models.errors import ErrorCode
from models.exports import ExportFormat, ExportStatus, ExportSubject
from resolvers import exports
from resolvers.errors import DomainError, Issue
from schema.appointments import AppointmentFilter, appointment_filter
from schema.audit import FullViewAuditFilter, full_view_filter
from schema.bookings import RoomBookingFilter, booking_filter
from schema.common import (
    Connection,
    Info,
    ScopedNode,
    UserError,
    attempt,
    connection,
    decode_id,
    mirror_enum,
    nodes_by_id,
    page_request,
    shanghai,
)
from schema.complaints import ComplaintFilter, complaint_filter
from schema.guides import ServiceApplicationFilter, application_filter
from schema.households import PopulationFilter, population_filter
from schema.inspections import InspectionRoundFilter, round_filter
from schema.uploads import origin
from schema.visits import VisitFilter, visit_filter
from schema.volunteers import VolunteerActivityFilter, VolunteerFilter, activity_filter, volunteer_filter

P = TypeVar("P")

if TYPE_CHECKING:  # see mirror_enum
    ExportSubjectType = ExportSubject
    ExportFormatType = ExportFormat
    ExportStatusType = ExportStatus
else:
    ExportSubjectType = mirror_enum(
        ExportSubject,
        {
            ExportSubject.COMPLAINTS: "诉求（`complaints` 列表，同样的筛选条件）",
            ExportSubject.BOOKINGS: "场地预约（`roomBookings`）",
            ExportSubject.APPOINTMENTS: "预约办事（`appointments`）",
            ExportSubject.VOLUNTEERS: "志愿者（`volunteers`）",
            ExportSubject.PEOPLE: "人口信息（`people`：住户成员，不能按身份证号筛选）",
            ExportSubject.ATTENDANCE: "网格员考勤（`communityWorkdays`：一个社区的网格员某一天或某个月每天的签到签退）",
            ExportSubject.HAZARDS: "巡检隐患（`openHazards`：巡检发现、诉求尚未办结的问题）",
            ExportSubject.REGISTRATIONS: "待审核居民（`residentsAwaitingReview`，不需筛选条件）",
            ExportSubject.VISITS: "入户走访（`householdVisits`，同样的筛选条件）",
            ExportSubject.APPLICATIONS: "办事申请（`serviceApplications`，同样的筛选条件）",
            ExportSubject.ROUNDS: "巡检记录（`inspectionRounds`，同样的筛选条件）",
            ExportSubject.LEADERS: "楼栋长（`buildingLeaders`）",
            ExportSubject.STAFF: "部门工作人员（`staffMembers`）",
            ExportSubject.ACTIVITIES: "志愿活动（`volunteerActivities`，同样的筛选条件）",
            ExportSubject.TALLY: "巡检统计（`inspectionTally`：各网格一段时间内的巡检次数和发现的问题）",
            ExportSubject.HOUSEHOLDS: "住户（`households`，同样的筛选条件，不能按身份证号筛选）",
            ExportSubject.CARE_DUE: "关爱走访到期（`careVisitsDue`：天数从申请导出时算起）",
            ExportSubject.COVERAGE: "走访覆盖（`visitCoverage`：各网格一段时间内的入户走访覆盖情况）",
            ExportSubject.FULL_VIEWS: "完整信息查看记录（`fullViewAudit`，同样的筛选条件，仅街道管理员）",
            ExportSubject.MONTHLY_REPORT: "街道月报（PDF，由 `requestMonthlyReport` 生成）",
        },
        name="ExportSubject",
        description="What an export holds: one of the lists admins see, or the monthly report.",
    )
    ExportFormatType = mirror_enum(
        ExportFormat,
        {
            ExportFormat.CSV: "CSV（UTF-8，带 BOM，Excel 可直接打开）",
            ExportFormat.XLSX: "Excel 工作簿",
            ExportFormat.PDF: "PDF（月报）",
        },
        name="ExportFormat",
        description="The kind of file: a list as CSV or XLSX, the report as PDF.",
    )
    ExportStatusType = mirror_enum(
        ExportStatus,
        {
            ExportStatus.QUEUED: "排队中",
            ExportStatus.RUNNING: "生成中",
            ExportStatus.READY: "可下载",
            ExportStatus.FAILED: "失败",
            ExportStatus.EXPIRED: "已过期（文件已删除）",
        },
        name="ExportStatus",
        description="Where an export's job is: QUEUED → RUNNING → READY (then EXPIRED) or FAILED.",
    )


@strawberry.type(
    description="A file made for an admin by a job: its progress, then a signed download link. Also the record of the export: who asked for which list with which filter, whether personal data was whole, how many rows."
)
class Export(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    subject: ExportSubjectType
    format: ExportFormatType
    status: ExportStatusType
    filter: str = strawberry.field(description="The list's filter (or the report's month) as JSON.")
    whole_personal_data: bool = strawberry.field(
        description="Names, phones and ID numbers whole (where the admin may see them whole); false: masked, and the file name says 已脱敏."
    )
    rows_done: int = strawberry.field(description="Rows written so far.")
    rows_total: int | None = strawberry.field(
        description="Rows the list held when asked for, counted like `totalCount` (capped); null for a report."
    )
    rows_total_is_capped: bool
    failure: str | None = strawberry.field(description="Why it failed, in Chinese.")
    requested_by_name: str
    requested_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None = strawberry.field(description="The file can be fetched until then.")
    file_name: str
    row: strawberry.Private[exports.ExportRow]

    @classmethod
    def from_row(cls, row: exports.ExportRow) -> Export:
        return cls(
            id=row.id,
            subject=ExportSubjectType(row.subject),
            format=ExportFormatType(row.format),
            status=ExportStatusType(row.status),
            filter=json.dumps(row.filter, ensure_ascii=False, sort_keys=True),
            whole_personal_data=row.whole_personal_data,
            rows_done=row.rows_done,
            rows_total=row.rows_total,
            rows_total_is_capped=row.rows_total_capped,
            failure=row.failure,
            requested_by_name=row.requester_name,
            requested_at=shanghai(row.requested_at),
            finished_at=shanghai(row.finished_at),
            expires_at=shanghai(row.expires_at),
            file_name=exports.file_name(row),
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Export | None]:
        return await nodes_by_id(node_ids, lambda i: exports.export(info.context, i), cls.from_row)

    @strawberry.field(
        description="When READY: a link to the file, signed and good until `expiresAt`, that needs no token. Only for the admin who asked."
    )
    def download_url(self, info: Info) -> str | None:
        path = exports.download_path(info.context, self.row)
        return origin(info) + path if path else None


# The filter has a field called `date`, which in its class body would hide the type.
Day = date


@strawberry.input(
    description="The arguments of `communityWorkdays`: which community, which day; or, for a month's sheet, which month."
)
class CommunityWorkdaysFilter:
    community_id: relay.GlobalID
    date: Day | None = strawberry.field(default=None, description="Today (when asked for) if left out.")
    month: Day | None = strawberry.field(
        default=None,
        description="Any day of a month: every day of that month up to today (when asked for), one row per worker and day. Not with `date`.",
    )


@strawberry.input(
    description="The arguments of `openHazards`: a grid, or a community, or neither (all in the admin's scope)."
)
class OpenHazardsFilter:
    grid_id: relay.GlobalID | None = None
    community_id: relay.GlobalID | None = None


def _hazards_filter(given: OpenHazardsFilter | None) -> exports.HazardFilter:
    if given is None:
        return exports.HazardFilter()
    return exports.HazardFilter(
        decode_id(given.grid_id, "Grid", "filter.gridId") if given.grid_id else None,
        decode_id(given.community_id, "Community", "filter.communityId") if given.community_id else None,
    )


@strawberry.input(description="The arguments of `buildingLeaders`.")
class BuildingLeadersFilter:
    community_id: relay.GlobalID | None = None
    building_id: relay.GlobalID | None = None
    serving_only: bool = strawberry.field(default=True, description="Only those serving today, as the list.")


def _leaders_filter(given: BuildingLeadersFilter | None) -> exports.LeaderFilter:
    if given is None:
        return exports.LeaderFilter()
    return exports.LeaderFilter(
        decode_id(given.community_id, "Community", "filter.communityId") if given.community_id else None,
        decode_id(given.building_id, "Building", "filter.buildingId") if given.building_id else None,
        given.serving_only,
    )


@strawberry.input(description="The argument of `staffMembers`.")
class StaffMembersFilter:
    department_id: relay.GlobalID | None = None


def _staff_filter(given: StaffMembersFilter | None) -> exports.StaffFilter:
    if given is None or given.department_id is None:
        return exports.StaffFilter()
    return exports.StaffFilter(decode_id(given.department_id, "Department", "filter.departmentId"))


@strawberry.input(
    description="The arguments of `inspectionTally`: the rounds started from `startedFrom` until `startedTo`, of one community or of all in the admin's scope."
)
class InspectionTallyFilter:
    started_from: datetime
    started_to: datetime
    community_id: relay.GlobalID | None = None


def _period_given(given: P | None, asking: str, start_field: str) -> P:
    """A per-grid list's period is required: without it, the field to give is named."""
    if given is None:
        raise DomainError(Issue(ErrorCode.INVALID, f"请给出要统计的{asking}起止时间。", start_field))
    return given


def _tally_filter(given: InspectionTallyFilter | None) -> exports.GridPeriodFilter:
    tally = _period_given(given, "巡检", "filter.startedFrom")
    community = decode_id(tally.community_id, "Community", "filter.communityId") if tally.community_id else None
    return exports.GridPeriodFilter(tally.started_from, tally.started_to, community)


@strawberry.input(description="The argument of `careVisitsDue`.")
class CareVisitsDueFilter:
    within_days: int = strawberry.field(
        default=0, description="Due within so many days of when the export is asked for (0: overdue then)."
    )


def _care_due_filter(given: CareVisitsDueFilter | None) -> exports.CareDueFilter:
    return exports.CareDueFilter(given.within_days if given else 0)


@strawberry.input(
    description="The arguments of `visitCoverage`: the visits in [since, before), of one community or of all in the admin's scope."
)
class VisitCoverageFilter:
    since: datetime
    before: datetime
    community_id: relay.GlobalID | None = None


def _coverage_filter(given: VisitCoverageFilter | None) -> exports.GridPeriodFilter:
    coverage = _period_given(given, "走访", "filter.since")
    community = decode_id(coverage.community_id, "Community", "filter.communityId") if coverage.community_id else None
    return exports.GridPeriodFilter(coverage.since, coverage.before, community)


def _workdays_filter(given: CommunityWorkdaysFilter | None) -> exports.AttendanceFilter:
    """Left out, no community: refused by the list, which names the field."""
    if given is None:
        return exports.AttendanceFilter()
    if given.month is not None and given.date is not None:
        raise DomainError(Issue(ErrorCode.INVALID, "按日或按月二选一：给了月份就不要再给日期。", "filter.month"))
    community = decode_id(given.community_id, "Community", "filter.communityId")
    return exports.AttendanceFilter(community, given.date, given.month)


@strawberry.input(
    description="Which list, as which file. Give the filter of that list only (the same the list's query takes)."
)
class RequestExportInput:
    list: ExportSubjectType
    format: ExportFormatType
    whole_personal_data: bool = strawberry.field(
        default=False,
        description="Names, phones and ID numbers whole where the admin may see them whole; masked by default.",
    )
    complaints: ComplaintFilter | None = None
    room_bookings: RoomBookingFilter | None = None
    appointments: AppointmentFilter | None = None
    volunteers: VolunteerFilter | None = None
    people: PopulationFilter | None = None
    community_workdays: CommunityWorkdaysFilter | None = None
    open_hazards: OpenHazardsFilter | None = None
    household_visits: VisitFilter | None = None
    service_applications: ServiceApplicationFilter | None = None
    inspection_rounds: InspectionRoundFilter | None = None
    building_leaders: BuildingLeadersFilter | None = None
    staff_members: StaffMembersFilter | None = None
    volunteer_activities: VolunteerActivityFilter | None = None
    inspection_tally: InspectionTallyFilter | None = None
    households: PopulationFilter | None = None
    care_visits_due: CareVisitsDueFilter | None = None
    visit_coverage: VisitCoverageFilter | None = None
    full_view_audit: FullViewAuditFilter | None = None


@strawberry.input
class RequestMonthlyReportInput:
    month: str = strawberry.field(description="YYYY-MM, this month or before.")


@strawberry.type
class ExportPayload:
    export: Export | None
    errors: list[UserError]


@dataclasses.dataclass(frozen=True)
class ListFilter:
    """A list's filter in the input: its field, and the decoder its own query uses."""

    field: str
    attribute: str
    decode: Callable[[Any], Any]


FILTERS = {
    ExportSubject.COMPLAINTS: ListFilter("complaints", "complaints", complaint_filter),
    ExportSubject.BOOKINGS: ListFilter("roomBookings", "room_bookings", booking_filter),
    ExportSubject.APPOINTMENTS: ListFilter("appointments", "appointments", appointment_filter),
    ExportSubject.VOLUNTEERS: ListFilter("volunteers", "volunteers", volunteer_filter),
    ExportSubject.PEOPLE: ListFilter("people", "people", population_filter),
    ExportSubject.ATTENDANCE: ListFilter("communityWorkdays", "community_workdays", _workdays_filter),
    ExportSubject.HAZARDS: ListFilter("openHazards", "open_hazards", _hazards_filter),
    ExportSubject.VISITS: ListFilter("householdVisits", "household_visits", visit_filter),
    ExportSubject.APPLICATIONS: ListFilter("serviceApplications", "service_applications", application_filter),
    ExportSubject.ROUNDS: ListFilter("inspectionRounds", "inspection_rounds", round_filter),
    ExportSubject.LEADERS: ListFilter("buildingLeaders", "building_leaders", _leaders_filter),
    ExportSubject.STAFF: ListFilter("staffMembers", "staff_members", _staff_filter),
    ExportSubject.ACTIVITIES: ListFilter("volunteerActivities", "volunteer_activities", activity_filter),
    ExportSubject.TALLY: ListFilter("inspectionTally", "inspection_tally", _tally_filter),
    ExportSubject.HOUSEHOLDS: ListFilter("households", "households", population_filter),
    ExportSubject.CARE_DUE: ListFilter("careVisitsDue", "care_visits_due", _care_due_filter),
    ExportSubject.COVERAGE: ListFilter("visitCoverage", "visit_coverage", _coverage_filter),
    ExportSubject.FULL_VIEWS: ListFilter("fullViewAudit", "full_view_audit", full_view_filter),
}


def _refiled(error: DomainError, field: str) -> DomainError:
    """The list's errors name `filter.…`, as its query's argument is called; here it is `field`."""
    return DomainError(
        *(
            dataclasses.replace(issue, field=f"{field}.{issue.field.removeprefix('filter.')}")
            if issue.field and issue.field.startswith("filter.")
            else issue
            for issue in error.issues
        )
    )


async def _request(info: Info, input: RequestExportInput) -> uuid.UUID:
    subject = ExportSubject(input.list.value)
    own = FILTERS.get(subject)
    for other in FILTERS.values():
        if other is not own and getattr(input, other.attribute) is not None:
            raise DomainError(Issue(ErrorCode.INVALID, "筛选条件与所导出的列表不符。", other.field))
    if own is None:  # a list without a filter, or the report: refused by the use case, which names the field
        return await exports.request_export(
            info.context, subject, ExportFormat(input.format.value), exports.Unfiltered(), input.whole_personal_data
        )
    try:
        return await exports.request_export(
            info.context,
            subject,
            ExportFormat(input.format.value),
            own.decode(getattr(input, own.attribute)),
            input.whole_personal_data,
        )
    except DomainError as error:
        raise _refiled(error, own.field) from error


def _month(value: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}", value):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(f"{value}-01")
    raise DomainError(Issue(ErrorCode.INVALID, "月份应写作 YYYY-MM，例如 2026-11。", "month"))


async def _respond(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> ExportPayload:
    outcome = await attempt(info, action)
    row = await exports.export(info.context, outcome.value) if outcome.value else None
    return ExportPayload(export=Export.from_row(row) if row else None, errors=outcome.errors)


@strawberry.type
class Query:
    @strawberry.field(
        description="Admins: exports and reports, newest first. A tenant admin sees every one of the office (the record of exports); a community admin their own."
    )
    async def exports(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Export]:
        return connection(await exports.list_exports(info.context, page_request(info, first, after)), Export.from_row)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Admins: export one of their lists (the rows they see, the filter applied) as CSV or XLSX with Chinese headers. Made by a job: watch `status` and `rowsDone`, then fetch `downloadUrl`."
    )
    async def request_export(self, info: Info, input: RequestExportInput) -> ExportPayload:
        return await _respond(info, lambda: _request(info, input))

    @strawberry.mutation(
        description="Tenant admins: the street office's monthly report as PDF, made by a job like an export."
    )
    async def request_monthly_report(self, info: Info, input: RequestMonthlyReportInput) -> ExportPayload:
        return await _respond(info, lambda: exports.request_monthly_report(info.context, _month(input.month)))
