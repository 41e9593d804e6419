"""Dashboards of the street office's figures (resolvers.analytics), for its admins."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.bookings import WEEKDAYS
from models.complaints import ComplaintSource
from resolvers import analytics, platform
from schema.auth import client_address
from schema.bookings import WeekdayType
from schema.common import Info, UserError, attempt, decode_id, mirror_enum
from schema.complaints import ComplaintSourceType
from schema.cost import cost

if TYPE_CHECKING:  # see mirror_enum
    DashboardPeriod = analytics.Period
else:
    DashboardPeriod = mirror_enum(
        analytics.Period,
        {analytics.Period.DAY: "日", analytics.Period.WEEK: "周（周一至周日）", analytics.Period.MONTH: "月"},
        name="DashboardPeriod",
        description="The length of a dashboard's period, in China Standard Time.",
    )


@strawberry.type(description="A period of days, both ends included.")
class DashboardWindow:
    first: date
    last: date

    @classmethod
    def of(cls, window: analytics.Window) -> DashboardWindow:
        return cls(first=window.start, last=window.end - timedelta(days=1))


@strawberry.type(
    description="Complaints of one category, community, grid or building: in the period and the one before."
)
class CountFigure:
    subject_id: relay.GlobalID = strawberry.field(
        description="The category, community, grid or building counted (open it with `node(id:)`)."
    )
    name: str
    count: int
    previous_count: int


@strawberry.type(description="Complaints that came in one way: in the period and the one before.")
class SourceFigure:
    source: ComplaintSourceType
    count: int
    previous_count: int


@strawberry.type(description="How many complaints were rated with this many stars (1–5).")
class RatingCount:
    rating: int
    count: int


@strawberry.type(description="The residents' ratings of the period's complaints.")
class Satisfaction:
    rated: int
    average_rating: float | None = strawberry.field(description="null when none was rated.")
    distribution: list[RatingCount] = strawberry.field(metadata=cost(items=5))


@strawberry.type(
    description="The complaints submitted in a period and what has become of them since. A rate is null "
    "when there is nothing to divide by."
)
class ComplaintFigures:
    submitted: int
    closed: int
    closure_rate: float | None = strawberry.field(description="Closed of those submitted, 0–1.")
    on_time_acknowledge_rate: float | None = strawberry.field(
        description="Acknowledged by the deadline, of those acknowledged."
    )
    on_time_resolve_rate: float | None = strawberry.field(description="Resolved by the deadline, of those resolved.")
    average_handling_hours: float | None = strawberry.field(
        description="Working hours from submission to resolution, on average over those resolved."
    )
    p90_handling_hours: float | None = strawberry.field(
        description="90% of those resolved took at most this many working hours (2, 4, 8, 16, 24, 40, 80 or 160); "
        "null if more than 160 or none was resolved."
    )
    reopen_rate: float | None = strawberry.field(description="Reopened by the resident, of those resolved.")
    satisfaction: Satisfaction

    @classmethod
    def of(cls, cohort: analytics.Cohort) -> ComplaintFigures:
        return cls(
            submitted=cohort.submitted,
            closed=cohort["closed"],
            closure_rate=cohort.closure_rate,
            on_time_acknowledge_rate=cohort.on_time_acknowledge_rate,
            on_time_resolve_rate=cohort.on_time_resolve_rate,
            average_handling_hours=cohort.average_handling_hours,
            p90_handling_hours=cohort.p90_handling_hours,
            reopen_rate=cohort.reopen_rate,
            satisfaction=Satisfaction(
                rated=cohort["rated"],
                average_rating=cohort.average_rating,
                distribution=[RatingCount(rating=r, count=n) for r, n in cohort.ratings],
            ),
        )


@strawberry.type(description="A cell of about 110 m of the map and the complaints reported in it.")
class HeatCell:
    latitude: float = strawberry.field(description="The cell's centre.")
    longitude: float
    count: int


@strawberry.type(description="Complaints submitted in one period of a trend, and how many of them are closed now.")
class TrendPoint:
    first: date
    submitted: int
    closed: int


@strawberry.type(description="What the complaints of a community or of the street office say, in a period.")
class ComplaintDashboard:
    period: DashboardPeriod
    current: DashboardWindow
    previous: DashboardWindow
    figures: ComplaintFigures
    previous_figures: ComplaintFigures
    overdue_now: int = strawberry.field(description="Open complaints past a deadline now, whenever submitted.")
    by_category: list[CountFigure] = strawberry.field(metadata=cost(items=50))
    by_community: list[CountFigure] = strawberry.field(metadata=cost(items=50))
    by_grid: list[CountFigure] = strawberry.field(metadata=cost(items=500))
    by_source: list[SourceFigure] = strawberry.field(metadata=cost(items=len(ComplaintSource)))
    top_grids: list[CountFigure] = strawberry.field(
        description="The ten grids with most complaints in the period.", metadata=cost(items=analytics.TOP)
    )
    top_buildings: list[CountFigure] = strawberry.field(
        description="The ten buildings with most complaints in `hotspotMonths` (顽疾).",
        metadata=cost(items=analytics.TOP),
    )
    rising_categories: list[CountFigure] = strawberry.field(
        description="Up to five categories that grew most against the period before.", metadata=cost(items=5)
    )
    heat_map: list[HeatCell] = strawberry.field(
        description="Complaints with coordinates in `hotspotMonths`, by cell: the busiest 500 cells.",
        metadata=cost(items=analytics.HEAT_CELLS),
    )
    trend: list[TrendPoint] = strawberry.field(
        description="The twelve periods up to this one, oldest first.", metadata=cost(items=analytics.TREND_PERIODS)
    )
    hotspot_months: DashboardWindow = strawberry.field(
        description="Buildings and map cells are counted by month: the whole months the period falls in."
    )


def _figures(type_name: str, volumes: list[analytics.Volume]) -> list[CountFigure]:
    return [
        CountFigure(
            subject_id=relay.GlobalID(type_name, str(v.key)),
            name=v.name,
            count=v.count,
            previous_count=v.previous_count,
        )
        for v in volumes
    ]


def _dashboard(found: analytics.ComplaintDashboard) -> ComplaintDashboard:
    by_grid = _figures("Grid", found.by_grid)
    return ComplaintDashboard(
        period=DashboardPeriod(found.period.value),
        current=DashboardWindow.of(found.current),
        previous=DashboardWindow.of(found.previous),
        figures=ComplaintFigures.of(found.cohort),
        previous_figures=ComplaintFigures.of(found.previous_cohort),
        overdue_now=found.overdue_now,
        by_category=_figures("ComplaintCategory", found.by_category),
        by_community=_figures("Community", found.by_community),
        by_grid=by_grid,
        by_source=[
            SourceFigure(
                source=ComplaintSourceType(ComplaintSource(v.key).value), count=v.count, previous_count=v.previous_count
            )
            for v in found.by_source
        ],
        top_grids=by_grid[: analytics.TOP],
        top_buildings=_figures("Building", found.top_buildings),
        rising_categories=_figures("ComplaintCategory", found.rising_categories),
        heat_map=[HeatCell(latitude=c.latitude, longitude=c.longitude, count=c.count) for c in found.heat_map],
        trend=[TrendPoint(first=p.start, submitted=p.submitted, closed=p.closed) for p in found.trend],
        hotspot_months=DashboardWindow.of(found.hotspot_months),
    )


@strawberry.type(description="Residents in a period.")
class UserFigures:
    registered: int = strawberry.field(description="Residents who registered.")
    verified: int = strawberry.field(description="Residents their grid worker verified.")
    active: int = strawberry.field(description="Residents who signed in or used the app.")
    requests: int = strawberry.field(description="Requests served: complaints, room bookings and appointments made.")


@strawberry.type(description="The residents of a community or of the street office: registered, verified, active.")
class UserDashboard:
    period: DashboardPeriod
    current: DashboardWindow
    previous: DashboardWindow
    figures: UserFigures
    previous_figures: UserFigures
    residents: int = strawberry.field(description="Registered residents to date.")
    verified_residents: int = strawberry.field(description="Verified residents to date.")
    pending_now: int = strawberry.field(description="Residents waiting to be verified now.")


def _user_figures(found: analytics.UserFigures) -> UserFigures:
    return UserFigures(
        registered=found.registered, verified=found.verified, active=found.active, requests=found.requests
    )


def _community(community_id: relay.GlobalID | None) -> uuid.UUID | None:
    return None if community_id is None else decode_id(community_id, "Community", "communityId")


PERIOD_ARGS = (
    "`on` is a day in the period (today if left out); `communityId` narrows a tenant admin's view to one community."
)


@strawberry.type(description="One grid and its grid worker in a period.")
class GridWorkerFigures:
    grid_id: relay.GlobalID
    grid_name: str
    worker_name: str | None = strawberry.field(description="null for a grid without a worker.")
    submitted: int = strawberry.field(description="Complaints submitted in the grid in the period.")
    resolved: int = strawberry.field(description="Of those, resolved at least once.")
    closed: int = strawberry.field(description="Of those, closed.")
    registrations_verified: int = strawberry.field(description="Residents the grid worker verified in the period.")


@strawberry.type(description="The grid workers of a community or of the street office in a period.")
class GridWorkerDashboard:
    current: DashboardWindow
    grids: list[GridWorkerFigures] = strawberry.field(metadata=cost(items=500))


@strawberry.type(description="Appointments requested in a period, by how they stand now.")
class AppointmentOutcomes:
    requested: int
    completed: int
    cancelled: int
    open: int = strawberry.field(description="Neither completed nor cancelled yet.")


@strawberry.type(
    description="Rooms and appointments in a period, as counts that add up across street offices (no hour, "
    "appointment type or approval hours: those are each street office's own). A rate is null when there is "
    "nothing to divide by."
)
class ServiceFigures:
    rooms: int = strawberry.field(description="Rooms now.")
    open_minutes: int = strawberry.field(description="Minutes the rooms were open in the period (their hours now).")
    booked_minutes: int = strawberry.field(description="Minutes granted to bookings starting in the period.")
    utilisation: float | None = strawberry.field(description="Booked of open minutes, 0–1.")
    bookings: int = strawberry.field(description="Bookings starting in the period, in any state.")
    answered: int = strawberry.field(description="Of those, requests for rooms that need approval, answered.")
    answered_on_time: int = strawberry.field(description="Of those, answered within one working day.")
    answered_on_time_rate: float | None
    no_shows: int
    no_show_rate: float | None = strawberry.field(description="No-shows of the bookings that came or did not.")
    appointments: AppointmentOutcomes

    @classmethod
    def of(cls, found: analytics.ServiceFigures) -> ServiceFigures:
        return cls(
            rooms=found.rooms,
            open_minutes=found.open_minutes,
            booked_minutes=found.booked_minutes,
            utilisation=found.utilisation_rate,
            bookings=found.bookings,
            answered=found.answered,
            answered_on_time=found.answered_on_time,
            answered_on_time_rate=found.answered_on_time_rate,
            no_shows=found.no_shows,
            no_show_rate=found.no_show_rate,
            appointments=AppointmentOutcomes(
                requested=found.appointments,
                completed=found.appointments_completed,
                cancelled=found.appointments_cancelled,
                open=found.appointments_open,
            ),
        )


@strawberry.type(description="One street office's figures on the platform's dashboard: counts only.")
class OfficeFigures:
    slug: str
    name: str
    figures: ComplaintFigures
    previous_figures: ComplaintFigures
    overdue_now: int
    residents: int
    work_orders: WorkOrderFigures = strawberry.field(description="Work orders dispatched to departments in the period.")
    services: ServiceFigures
    previous_services: ServiceFigures
    volunteers: VolunteerFigures
    previous_volunteers: VolunteerFigures


@strawberry.type(description="Every active street office side by side, and their sum: never a person, never a row.")
class PlatformDashboard:
    period: DashboardPeriod
    current: DashboardWindow
    previous: DashboardWindow
    figures: ComplaintFigures
    previous_figures: ComplaintFigures
    overdue_now: int
    residents: int
    work_orders: WorkOrderFigures = strawberry.field(description="Work orders dispatched to departments in the period.")
    services: ServiceFigures
    previous_services: ServiceFigures
    volunteers: VolunteerFigures
    previous_volunteers: VolunteerFigures
    offices: list[OfficeFigures] = strawberry.field(metadata=cost(items=300))


@strawberry.type(
    description="Work orders dispatched to departments in a period and what has become of them since. A rate "
    "is null when there is nothing to divide by."
)
class WorkOrderFigures:
    received: int = strawberry.field(description="Work orders dispatched (立项派单) in the period.")
    signed: int = strawberry.field(description="Of those, signed for by the department.")
    signed_on_time: int = strawberry.field(description="Of those, signed for within one working day of dispatch.")
    signed_on_time_rate: float | None = strawberry.field(description="Signed for in time, of those received.")
    returned: int = strawberry.field(description="Of those, returned to the grid.")
    return_rate: float | None = strawberry.field(description="Returned, of those received.")
    resolved: int = strawberry.field(description="Of those, resolved by the department.")
    resolved_on_time: int = strawberry.field(description="Of those, resolved by the work order's deadline.")
    on_time_resolve_rate: float | None = strawberry.field(description="Resolved in time, of those resolved.")

    @classmethod
    def of(cls, found: analytics.WorkOrderFigures) -> WorkOrderFigures:
        return cls(
            received=found["received"],
            signed=found["signed"],
            signed_on_time=found["signed_on_time"],
            signed_on_time_rate=found.signed_on_time_rate,
            returned=found["returned"],
            return_rate=found.return_rate,
            resolved=found["resolved"],
            resolved_on_time=found["resolved_on_time"],
            on_time_resolve_rate=found.on_time_resolve_rate,
        )


@strawberry.type(description="One department's work orders: in the period and the one before.")
class DepartmentFigures:
    department_id: relay.GlobalID
    name: str
    figures: WorkOrderFigures
    previous_figures: WorkOrderFigures


@strawberry.type(description="The departments' work orders from a community or the street office, in a period.")
class DepartmentDashboard:
    period: DashboardPeriod
    current: DashboardWindow
    previous: DashboardWindow
    figures: WorkOrderFigures = strawberry.field(description="All departments together.")
    previous_figures: WorkOrderFigures
    departments: list[DepartmentFigures] = strawberry.field(
        description="Every department of the street office, in code order.", metadata=cost(items=100)
    )


@strawberry.type(description="One hour of one weekday, summed over the period's days and the rooms counted.")
class RoomHour:
    weekday: WeekdayType
    hour: int = strawberry.field(description="0–23, China Standard Time: the hour starting then.")
    open_minutes: int
    booked_minutes: int = strawberry.field(description="Minutes granted to bookings (approved, used or not).")
    utilisation: float | None = strawberry.field(description="Booked of open minutes, 0–1.")


@strawberry.type(description="How long residents waited for an answer to a booking request.")
class BookingApprovals:
    answered: int = strawberry.field(description="Requests for rooms that need approval, approved or rejected.")
    answered_on_time: int = strawberry.field(description="Of those, answered within one working day.")
    average_hours: float | None = strawberry.field(description="Working hours from request to answer, on average.")
    p90_hours: float | None = strawberry.field(description="90% were answered within this many working hours.")


@strawberry.type(description="The appointments of one type requested in the period, by how they stand now.")
class AppointmentTypeFigures:
    type_id: relay.GlobalID
    name: str
    requested: int
    completed: int
    cancelled: int
    open: int = strawberry.field(description="Neither completed nor cancelled yet.")


@strawberry.type(description="Rooms and appointments of a community or the street office, in a period.")
class ServiceDashboard:
    period: DashboardPeriod
    current: DashboardWindow
    rooms: int
    open_minutes: int = strawberry.field(description="Minutes the rooms were open in the period (their hours now).")
    booked_minutes: int = strawberry.field(description="Minutes of bookings starting in the period.")
    utilisation: float | None = strawberry.field(description="Booked of open minutes, 0–1.")
    by_hour: list[RoomHour] = strawberry.field(
        description="Each hour of each weekday in which a room was open, Monday first.", metadata=cost(items=7 * 24)
    )
    bookings: int = strawberry.field(description="Bookings starting in the period, in any state.")
    approvals: BookingApprovals
    no_shows: int
    no_show_rate: float | None = strawberry.field(description="No-shows of the bookings that came or did not.")
    appointment_types: list[AppointmentTypeFigures] = strawberry.field(metadata=cost(items=50))


@strawberry.type(description="Volunteers in a period.")
class VolunteerFigures:
    hours_served: float = strawberry.field(description="Hours served in the period's activities, to two places.")
    active_volunteers: int = strawberry.field(description="Volunteers who served at least a minute.")
    activities: int = strawberry.field(description="Activities in which someone served.")

    @classmethod
    def of(cls, found: analytics.VolunteerFigures) -> VolunteerFigures:
        return cls(
            hours_served=round(found.served_minutes / 60, 2),
            active_volunteers=found.active_volunteers,
            activities=found.activities,
        )


@strawberry.type(description="The volunteers of a community or of the street office: in the period and the one before.")
class VolunteerDashboard:
    period: DashboardPeriod
    current: DashboardWindow
    previous: DashboardWindow
    figures: VolunteerFigures
    previous_figures: VolunteerFigures


@strawberry.type
class PlatformLoginPayload:
    access_token: str | None = strawberry.field(description="Send as `Authorization: Bearer …`, without X-Tenant.")
    expires_in: int | None = strawberry.field(description="Seconds the token stays valid; then sign in again.")
    errors: list[UserError]


@strawberry.input
class PlatformLoginInput:
    phone: str
    password: str


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A platform admin (made by `wanjia platform create-admin`) signs in, without X-Tenant."
    )
    async def platform_login(self, info: Info, input: PlatformLoginInput) -> PlatformLoginPayload:
        outcome = await attempt(
            info, lambda: platform.login(info.context, input.phone, input.password, client=client_address(info))
        )
        token, seconds = outcome.value or (None, None)
        return PlatformLoginPayload(access_token=token, expires_in=seconds, errors=outcome.errors)


@strawberry.type
class Query:
    @strawberry.field(
        description="Complaints of the caller's community (community admin) or street office (tenant admin), "
        f"from the rollups. {PERIOD_ARGS}",
        metadata=cost(weight=50),
    )
    async def complaint_dashboard(
        self,
        info: Info,
        period: DashboardPeriod = DashboardPeriod.MONTH,
        on: date | None = None,
        community_id: relay.GlobalID | None = None,
    ) -> ComplaintDashboard:
        found = await analytics.complaint_dashboard(
            info.context, analytics.Period(period.value), on, _community(community_id)
        )
        return _dashboard(found)

    @strawberry.field(
        description=f"Residents of the caller's community or street office. {PERIOD_ARGS}",
        metadata=cost(weight=50),
    )
    async def user_dashboard(
        self,
        info: Info,
        period: DashboardPeriod = DashboardPeriod.MONTH,
        on: date | None = None,
        community_id: relay.GlobalID | None = None,
    ) -> UserDashboard:
        found = await analytics.user_dashboard(
            info.context, analytics.Period(period.value), on, _community(community_id)
        )
        return UserDashboard(
            period=DashboardPeriod(found.period.value),
            current=DashboardWindow.of(found.current),
            previous=DashboardWindow.of(found.previous),
            figures=_user_figures(found.figures),
            previous_figures=_user_figures(found.previous_figures),
            residents=found.residents,
            verified_residents=found.verified_residents,
            pending_now=found.pending_now,
        )

    @strawberry.field(
        description=f"Each grid of the caller's community or street office and its worker. {PERIOD_ARGS}",
        metadata=cost(weight=50),
    )
    async def grid_worker_dashboard(
        self,
        info: Info,
        period: DashboardPeriod = DashboardPeriod.MONTH,
        on: date | None = None,
        community_id: relay.GlobalID | None = None,
    ) -> GridWorkerDashboard:
        current, grids = await analytics.grid_worker_dashboard(
            info.context, analytics.Period(period.value), on, _community(community_id)
        )
        return GridWorkerDashboard(
            current=DashboardWindow.of(current),
            grids=[
                GridWorkerFigures(
                    grid_id=relay.GlobalID("Grid", str(g.grid_id)),
                    grid_name=g.grid_name,
                    worker_name=g.worker_name,
                    submitted=g.submitted,
                    resolved=g.resolved,
                    closed=g.closed,
                    registrations_verified=g.registrations_verified,
                )
                for g in grids
            ],
        )

    @strawberry.field(
        description="For a platform admin (signed in with platformLogin, no X-Tenant): each street office's "
        "complaint figures, residents, work orders, rooms, appointments and volunteers, and their sum. "
        "`on` is a day in the period (today if left out).",
        metadata=cost(weight=200),
    )
    async def platform_dashboard(
        self,
        info: Info,
        period: DashboardPeriod = DashboardPeriod.MONTH,
        on: date | None = None,
    ) -> PlatformDashboard:
        found = await analytics.platform_dashboard(info.context, analytics.Period(period.value), on)
        return PlatformDashboard(
            period=DashboardPeriod(found.period.value),
            current=DashboardWindow.of(found.current),
            previous=DashboardWindow.of(found.previous),
            figures=ComplaintFigures.of(found.cohort),
            previous_figures=ComplaintFigures.of(found.previous_cohort),
            overdue_now=found.overdue_now,
            residents=found.residents,
            work_orders=WorkOrderFigures.of(found.work_orders),
            services=ServiceFigures.of(found.services),
            previous_services=ServiceFigures.of(found.previous_services),
            volunteers=VolunteerFigures.of(found.volunteers),
            previous_volunteers=VolunteerFigures.of(found.previous_volunteers),
            offices=[
                OfficeFigures(
                    slug=o.slug,
                    name=o.name,
                    figures=ComplaintFigures.of(o.cohort),
                    previous_figures=ComplaintFigures.of(o.previous_cohort),
                    overdue_now=o.overdue_now,
                    residents=o.residents,
                    work_orders=WorkOrderFigures.of(o.work_orders),
                    services=ServiceFigures.of(o.services),
                    previous_services=ServiceFigures.of(o.previous_services),
                    volunteers=VolunteerFigures.of(o.volunteers),
                    previous_volunteers=VolunteerFigures.of(o.previous_volunteers),
                )
                for o in found.offices
            ],
        )

    @strawberry.field(
        description="Work orders each department received from the caller's community or street office, "
        f"from the rollups. {PERIOD_ARGS}",
        metadata=cost(weight=50),
    )
    async def department_dashboard(
        self,
        info: Info,
        period: DashboardPeriod = DashboardPeriod.MONTH,
        on: date | None = None,
        community_id: relay.GlobalID | None = None,
    ) -> DepartmentDashboard:
        found = await analytics.department_dashboard(
            info.context, analytics.Period(period.value), on, _community(community_id)
        )
        return DepartmentDashboard(
            period=DashboardPeriod(found.period.value),
            current=DashboardWindow.of(found.current),
            previous=DashboardWindow.of(found.previous),
            figures=WorkOrderFigures.of(found.figures),
            previous_figures=WorkOrderFigures.of(found.previous_figures),
            departments=[
                DepartmentFigures(
                    department_id=relay.GlobalID("Department", str(d.department_id)),
                    name=d.name,
                    figures=WorkOrderFigures.of(d.figures),
                    previous_figures=WorkOrderFigures.of(d.previous_figures),
                )
                for d in found.departments
            ],
        )

    @strawberry.field(
        description=f"Room use and appointments of the caller's community or street office. {PERIOD_ARGS}",
        metadata=cost(weight=50),
    )
    async def service_dashboard(
        self,
        info: Info,
        period: DashboardPeriod = DashboardPeriod.MONTH,
        on: date | None = None,
        community_id: relay.GlobalID | None = None,
    ) -> ServiceDashboard:
        found = await analytics.service_dashboard(
            info.context, analytics.Period(period.value), on, _community(community_id)
        )
        return ServiceDashboard(
            period=DashboardPeriod(found.period.value),
            current=DashboardWindow.of(found.current),
            rooms=found.rooms,
            open_minutes=found.open_minutes,
            booked_minutes=found.booked_minutes,
            utilisation=found.utilisation_rate,
            by_hour=[
                RoomHour(
                    weekday=WeekdayType(WEEKDAYS[c.weekday].value),
                    hour=c.hour,
                    open_minutes=c.open_minutes,
                    booked_minutes=c.booked_minutes,
                    utilisation=c.rate,
                )
                for c in found.utilisation
            ],
            bookings=found.bookings,
            approvals=BookingApprovals(
                answered=found.answered,
                answered_on_time=found.answered_on_time,
                average_hours=found.average_answer_hours,
                p90_hours=found.p90_answer_hours,
            ),
            no_shows=found.no_shows,
            no_show_rate=found.no_show_rate,
            appointment_types=[
                AppointmentTypeFigures(
                    type_id=relay.GlobalID("AppointmentType", str(t.type_id)),
                    name=t.name,
                    requested=t.requested,
                    completed=t.completed,
                    cancelled=t.cancelled,
                    open=t.open,
                )
                for t in found.appointment_types
            ],
        )

    @strawberry.field(
        description=f"Hours served by the volunteers of the caller's community or street office. {PERIOD_ARGS}",
        metadata=cost(weight=50),
    )
    async def volunteer_dashboard(
        self,
        info: Info,
        period: DashboardPeriod = DashboardPeriod.MONTH,
        on: date | None = None,
        community_id: relay.GlobalID | None = None,
    ) -> VolunteerDashboard:
        found = await analytics.volunteer_dashboard(
            info.context, analytics.Period(period.value), on, _community(community_id)
        )
        return VolunteerDashboard(
            period=DashboardPeriod(found.period.value),
            current=DashboardWindow.of(found.current),
            previous=DashboardWindow.of(found.previous),
            figures=VolunteerFigures.of(found.figures),
            previous_figures=VolunteerFigures.of(found.previous_figures),
        )
