"""Analytics: the rollups stay equal to a recount whatever steps are taken (a property-based
test), and each dashboard figure equals the answer worked out by hand on a small street office
of its own, on both databases."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import true
from starlette.applications import Starlette

from models import analytics
from models.analytics import (
    ComplaintCommunityStatusRollup,
    ComplaintDayRollup,
    Contribution,
    RememberedCalendar,
    WorkOrderDayRollup,
    WorkOrderMonthRollup,
    working_minutes_between,
)
from models.calendar import WorkingCalendar
from models.settings import Settings
from resolvers import rollups
from resolvers.analytics import monthly_report
from resolvers.complaints import count_overdue, count_overdue_in
from resolvers.permissions import session_of
from server.app import create_app
from server.jobs import run_jobs, sweep_tenant
from tenants.context import unit_of_work
from tests.conftest import _handle, settings_for
from tests.provision import ProvisionedDatabase
from tests.support import PASSWORD, Api, Clock, TenantHandle, fresh_phone, gid

T = TypeVar("T")

ADMIN = "13700000001"
COMMUNITY_ADMIN = "13700000002"
WORKER_1 = "13700000011"
WORKER_2 = "13700000012"
WORKER_3 = "13700000013"
STAFF = "13700000021"


def _staff(phone: str, name: str, role: dict[str, str]) -> dict[str, object]:
    return {"phone": phone, "name": name, "roles": [role], "initial_password": PASSWORD}


def street_office(slug: str, name: str) -> dict[str, object]:
    return {
        "slug": slug,
        "name": name,
        "departments": [{"code": "justice", "name": "司法所"}],
        "categories": [
            {"code": "environment", "name": "环境卫生", "acknowledge_hours": 4, "resolve_days": 3},
            {"code": "property", "name": "物业管理", "acknowledge_hours": 8, "resolve_days": 5},
        ],
        "communities": [
            {
                "code": "C1",
                "name": "朝阳社区",
                "grids": [
                    {
                        "code": "C1-G1",
                        "name": "朝阳一网格",
                        "worker": WORKER_1,
                        "buildings": [{"code": "C1-G1-B1", "name": "1号楼"}, {"code": "C1-G1-B2", "name": "2号楼"}],
                    },
                    {
                        "code": "C1-G2",
                        "name": "朝阳二网格",
                        "worker": WORKER_2,
                        "buildings": [{"code": "C1-G2-B1", "name": "3号楼"}],
                    },
                ],
            },
            {
                "code": "C2",
                "name": "青山社区",
                "grids": [
                    {
                        "code": "C2-G1",
                        "name": "青山一网格",
                        "worker": WORKER_3,
                        "buildings": [{"code": "C2-G1-B1", "name": "5号楼"}],
                    }
                ],
            },
        ],
        "staff": [
            _staff(ADMIN, "街道管理员丙", {"role": "tenant_admin"}),
            _staff(COMMUNITY_ADMIN, "朝阳社区管理员", {"role": "community_admin", "community": "C1"}),
            _staff(WORKER_1, "网格员甲", {"role": "grid_worker"}),
            _staff(WORKER_2, "网格员乙", {"role": "grid_worker"}),
            _staff(WORKER_3, "网格员丙", {"role": "grid_worker"}),
            _staff(STAFF, "司法所干事", {"role": "staff", "department": "justice"}),
        ],
    }


# Random steps in one street office; the fixed data set of the dashboards in another.
STEPPED_OFFICE = street_office("shuju", "数据街道")
FIXED_OFFICE = street_office("tongji", "统计街道")


@pytest.fixture(scope="module")
async def stepped(app: Starlette) -> TenantHandle:
    return await _handle(app, STEPPED_OFFICE)


async def _catalogue(api: Api, slug: str) -> dict[str, str]:
    """Global ids of a street office's categories and departments, by code."""
    data = await api.data(
        "{ complaintCategories(first: 10) { edges { node { id code } } }"
        " departments(first: 10) { edges { node { id code } } } }",
        tenant=slug,
    )
    return {
        e["node"]["code"]: e["node"]["id"] for e in data["complaintCategories"]["edges"] + data["departments"]["edges"]
    }


@pytest.fixture(scope="module")
async def catalogue(api: Api, stepped: TenantHandle) -> dict[str, str]:
    return await _catalogue(api, "shuju")


async def _consistent(app: Starlette, stepped: TenantHandle) -> tuple[rollups.Totals, rollups.Totals]:
    services = app.state.services
    tenant = await services.directory.by_id(stepped.id)
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        return await rollups.consistent(ctx)


async def _overdue_both_ways(app: Starlette, stepped: TenantHandle, now: datetime) -> tuple[int, int]:
    """The office's overdue items at `now` as the admins' counts have them (flagged ones from the
    rollups, the others through the unsettled deadlines) and counted one by one."""
    services = app.state.services
    tenant = await services.directory.by_id(stepped.id)
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        session = session_of(ctx)
        return await count_overdue_in(session, None, now), await count_overdue(session, true(), now)


async def _overdue_counted_live(app: Starlette, stepped: TenantHandle, now: datetime) -> int:
    """The office's overdue items at `now` that the status rollups do not count (its admins'
    count less the rollups' flagged ones): read row by row, through the unsettled deadlines."""
    services = app.state.services
    tenant = await services.directory.by_id(stepped.id)
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        session = session_of(ctx)
        flagged = sum(
            counts.get("overdue", 0)
            for (table, _), counts in (await rollups.stored(session)).items()
            if table is ComplaintCommunityStatusRollup
        )
        return await count_overdue_in(session, None, now) - flagged


# --- the rollups against a recount -------------------------------------------------------------

STEP = """mutation($input: %s!) { %s(input: $input) { errors { code } } }"""
STEPS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # step: (actor, input type, input beside complaintId)
    "acceptComplaint": (ADMIN, "ComplaintStepInput", {}),
    "startComplaintWork": (ADMIN, "ComplaintStepInput", {}),
    "resolveComplaint": (ADMIN, "ResolveComplaintInput", {"reply": "已处理完毕。"}),
    "resolveWorkOrder": (STAFF, "ResolveComplaintInput", {"reply": "部门已办结。"}),
    "rejectComplaint": (ADMIN, "ComplaintReasonInput", {"reason": "不属于受理范围。"}),
    "dispatchComplaint": (ADMIN, "DispatchComplaintInput", {"dueInWorkingDays": 2}),
    "acceptWorkOrder": (STAFF, "ComplaintStepInput", {}),
    "returnComplaintToGrid": (STAFF, "ComplaintReasonInput", {"reason": "不属于本部门职责。"}),
    "reassignComplaint": (ADMIN, "ReassignComplaintInput", {}),
    "superviseComplaint": (ADMIN, "SuperviseComplaintInput", {"note": "请尽快办理。", "dueInWorkingDays": 1}),
    "confirmComplaint": ("resident", "ConfirmComplaintInput", {}),
    "reopenComplaint": ("resident", "ComplaintReasonInput", {"reason": "问题仍未解决。"}),
    "withdrawComplaint": ("resident", "ComplaintStepInput", {}),
}

complaint_drafts = st.fixed_dictionaries(
    {
        "category": st.sampled_from(["environment", "property"]),
        "building": st.sampled_from(["C1-G1-B1", "C1-G2-B1", "C2-G1-B1"]),
        "located": st.booleans(),
    }
)
steps = st.one_of(
    st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 2), st.integers(1, 5)),
    st.tuples(st.just("sweep"), st.integers(0, 2), st.integers(1, 20)),
)


def _on(loop: asyncio.AbstractEventLoop, work: Awaitable[T]) -> T:
    return asyncio.run_coroutine_threadsafe(work, loop).result()  # type: ignore[arg-type]


async def test_rollups_equal_a_recount_after_any_steps(
    api: Api, app: Starlette, clock: Clock, stepped: TenantHandle, catalogue: dict[str, str]
) -> None:
    loop = asyncio.get_running_loop()
    phone = fresh_phone()
    registered = await api.register_resident("shuju", stepped.buildings["C1-G1-B1"], phone=phone, name="李四")
    assert registered["errors"] == []
    tokens = {"resident": await api.token("shuju", phone)}
    for actor in (ADMIN, STAFF):
        tokens[actor] = await api.token("shuju", actor)

    async def submit(draft: dict[str, Any]) -> str:
        fields = {
            "title": "路灯不亮",
            "content": "小区东门路灯连续三晚不亮。",
            "categoryId": catalogue[draft["category"]],
            "buildingId": gid("Building", stepped.buildings[draft["building"]]),
            **({"latitude": 40.6561, "longitude": 109.8402} if draft["located"] else {}),
        }
        body = await api.data(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } errors { code } } }",
            {"input": {"complaint": fields}},
            token=tokens["resident"],
        )
        return body["submitComplaint"]["complaint"]["id"]

    async def take(name: str, complaint_id: str, number: int) -> None:
        if name == "sweep":
            with clock.at(clock.now() + timedelta(days=number)):
                await sweep_tenant(app.state.services, await app.state.services.directory.by_id(stepped.id))
                # Whatever it found overdue, the sweep leaves counted by the rollups: the live
                # part of the count holds only what turns overdue until it runs again.
                assert await _overdue_counted_live(app, stepped, clock.now()) == 0
            return
        actor, input_type, extra = STEPS[name]
        fields: dict[str, Any] = {"complaintId": complaint_id, **extra}
        if name == "dispatchComplaint":
            fields["departmentId"] = catalogue["justice"]
        if name == "reassignComplaint":
            fields["gridId"] = gid("Grid", stepped.grids[["C1-G1", "C1-G2", "C2-G1"][number % 3]])
        if name == "confirmComplaint":
            fields["rating"] = number
        mutation = "resolveComplaint" if name == "resolveWorkOrder" else name
        await api.data(STEP % (input_type, mutation), {"input": fields}, token=tokens[actor])

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(complaint_drafts, min_size=1, max_size=3), st.lists(steps, max_size=12))
    # A work order signed for, returned, sent again, supervised and resolved: every step that
    # moves the departments' rollups, whatever the random examples happen to reach.
    @example(
        [{"category": "environment", "building": "C1-G1-B1", "located": False}],
        [
            ("acceptComplaint", 0, 1),
            ("dispatchComplaint", 0, 1),
            ("acceptWorkOrder", 0, 1),
            ("returnComplaintToGrid", 0, 1),
            ("dispatchComplaint", 0, 1),
            ("sweep", 0, 3),
            ("superviseComplaint", 0, 1),
            ("acceptWorkOrder", 0, 1),
            ("resolveWorkOrder", 0, 1),
        ],
    )
    # Flagged for the late acknowledgement, accepted, then past the resolve deadline at a sweep.
    @example(
        [{"category": "environment", "building": "C1-G1-B1", "located": False}],
        [("sweep", 0, 1), ("acceptComplaint", 0, 1), ("sweep", 0, 10)],
    )
    def any_steps(drafts: list[dict[str, Any]], taken: list[tuple[str, int, int]]) -> None:
        ids = [_on(loop, submit(draft)) for draft in drafts]
        for name, which, number in taken:
            _on(loop, take(name, ids[which % len(ids)], number))
        kept, recounted = _on(loop, _consistent(app, stepped))
        assert kept == recounted
        # From the latest sweep's moment on (a flag is never later than the clock), whatever
        # was flagged and whatever happened since.
        for days in (20, 45):
            counted, one_by_one = _on(loop, _overdue_both_ways(app, stepped, clock.now() + timedelta(days=days)))
            assert counted == one_by_one

    await asyncio.to_thread(any_steps)


# --- the dashboards against figures worked out by hand ------------------------------------------


def shanghai(moment: str) -> datetime:
    return datetime.fromisoformat(moment + "+08:00").astimezone(UTC)


SUBMIT = (
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } errors { code } } }"
)
FILE = "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id } errors { code } } }"

LAKE = {"latitude": 40.6561, "longitude": 109.8402}  # cell 40656:109840, centre (40.6565, 109.8405)
HILL = {"latitude": 40.6571, "longitude": 109.8412}  # cell 40657:109841, centre (40.6575, 109.8415)


class Office:
    """The fixed data set: a street office, its people, and steps taken at fixed moments."""

    def __init__(self, api: Api, clock: Clock, handle: TenantHandle, catalogue: dict[str, str]) -> None:
        self.api = api
        self.clock = clock
        self.handle = handle
        self.catalogue = catalogue
        self.residents: dict[str, str] = {}
        self.resident_ids: dict[str, str] = {}

    async def as_(self, who: str) -> str:
        return await self.api.token(self.handle.slug, self.residents.get(who, who))

    async def register(self, who: str, building: str, when: str) -> None:
        phone = fresh_phone()
        with self.clock.at(shanghai(when)):
            registered = await self.api.register_resident(
                self.handle.slug, self.handle.buildings[building], phone=phone
            )
        assert registered["errors"] == []
        self.residents[who] = phone
        self.resident_ids[who] = registered["resident"]["id"]

    def draft(self, category: str, building: str, place: dict[str, float] | None = None) -> dict[str, Any]:
        return {
            "title": "楼道堆放杂物",
            "content": "楼道堆满纸箱，存在消防隐患。",
            "categoryId": self.catalogue[category],
            "buildingId": gid("Building", self.handle.buildings[building]),
            **(place or {}),
        }

    async def submit(self, when: str, category: str, building: str, place: dict[str, float] | None = None) -> str:
        with self.clock.at(shanghai(when)):
            body = await self.api.data(
                SUBMIT, {"input": {"complaint": self.draft(category, building, place)}}, token=await self.as_("R1")
            )
        assert body["submitComplaint"]["errors"] == []
        return body["submitComplaint"]["complaint"]["id"]

    async def step(self, when: str, who: str, name: str, complaint_id: str, **fields: Any) -> None:
        input_type = {
            "resolveComplaint": "ResolveComplaintInput",
            "rejectComplaint": "ComplaintReasonInput",
            "reopenComplaint": "ComplaintReasonInput",
            "returnComplaintToGrid": "ComplaintReasonInput",
            "dispatchComplaint": "DispatchComplaintInput",
            "confirmComplaint": "ConfirmComplaintInput",
        }.get(name, "ComplaintStepInput")
        await self.do(when, who, name, input_type, complaintId=complaint_id, **fields)

    async def do(self, when: str, who: str, name: str, input_type: str, payload: str = "", **fields: Any) -> Any:
        """A mutation at a moment; answers its payload's `payload` fields."""
        mutation = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {payload} errors {{ code }} }} }}"
        with self.clock.at(shanghai(when)):
            body = await self.api.data(mutation, {"input": fields}, token=await self.as_(who))
        assert body[name]["errors"] == [], (name, body)
        return body[name]


@pytest.fixture(scope="module")
async def office(api: Api, app: Starlette, clock: Clock) -> Office:
    """Week of Monday 16 November 2026 (no holidays): five complaints; the week before, one.

    A  env, 1号楼, LAKE, Mon 10:00: accepted 11:00 (due 14:00, on time), resolved Tue 10:00
       (8 working hours; due Thu 17:00, on time), rated 5: closed.
    B  env, 1号楼, Tue 09:30: accepted Wed 10:00 (due Tue 13:30, late), resolved next Tue 12:00
       (42.5 working hours; due Fri 17:00, late), reopened: open and overdue.
    C  property, 3号楼 (grid C1-G2), Wed 14:00: rejected.
    D  property, 5号楼 (community C2), HILL, Thu 10:00: never acknowledged (due Fri 10:00): overdue.
    E  env, 2号楼, by phone, Fri 16:00: accepted 16:30 (on time), dispatched with 2 working days
       (due next Tue 17:00), signed for and resolved by the department Mon 11:00 (3 working
       hours, on time), rated 3: closed.
    F  env, 1号楼, the Tuesday before, 10:00: withdrawn.
    R1 registers on Monday 09:00 (1号楼) and is verified at 09:30; R2 registers the Tuesday
    before (5号楼) and waits.
    """
    handle = await _handle(app, FIXED_OFFICE)
    office = Office(api, clock, handle, await _catalogue(api, "tongji"))
    await office.register("R2", "C2-G1-B1", "2026-11-10 09:00")
    await office.register("R1", "C1-G1-B1", "2026-11-16 09:00")
    with clock.at(shanghai("2026-11-16 09:30")):
        verified = await api.data(
            "mutation($input: VerifyResidentInput!) { verifyResident(input: $input) { errors { code } } }",
            {"input": {"residentId": office.resident_ids["R1"]}},
            token=await office.as_(WORKER_1),
        )
    assert verified["verifyResident"]["errors"] == []
    f = await office.submit("2026-11-10 10:00", "environment", "C1-G1-B1")
    await office.step("2026-11-10 11:00", "R1", "withdrawComplaint", f)
    a = await office.submit("2026-11-16 10:00", "environment", "C1-G1-B1", LAKE)
    await office.step("2026-11-16 11:00", WORKER_1, "acceptComplaint", a)
    await office.step("2026-11-16 11:05", WORKER_1, "startComplaintWork", a)
    await office.step("2026-11-17 10:00", WORKER_1, "resolveComplaint", a, reply="已清理。")
    await office.step("2026-11-17 12:00", "R1", "confirmComplaint", a, rating=5)
    b = await office.submit("2026-11-17 09:30", "environment", "C1-G1-B1")
    await office.step("2026-11-18 10:00", WORKER_1, "acceptComplaint", b)
    await office.step("2026-11-18 10:05", WORKER_1, "startComplaintWork", b)
    await office.step("2026-11-24 12:00", WORKER_1, "resolveComplaint", b, reply="已清理。")
    await office.step("2026-11-24 13:00", "R1", "reopenComplaint", b, reason="又堆满了。")
    c = await office.submit("2026-11-18 14:00", "property", "C1-G2-B1")
    await office.step("2026-11-18 15:00", ADMIN, "rejectComplaint", c, reason="属于私人纠纷。")
    await office.submit("2026-11-19 10:00", "property", "C2-G1-B1", HILL)
    with clock.at(shanghai("2026-11-20 16:00")):
        body = await api.data(
            FILE,
            {
                "input": {
                    "complaint": office.draft("environment", "C1-G1-B2"),
                    "source": "PHONE",
                    "residentId": office.resident_ids["R1"],
                }
            },
            token=await office.as_(ADMIN),
        )
    assert body["fileComplaint"]["errors"] == []
    e = body["fileComplaint"]["complaint"]["id"]
    await office.step("2026-11-20 16:30", WORKER_1, "acceptComplaint", e)
    await office.step(
        "2026-11-20 16:40",
        WORKER_1,
        "dispatchComplaint",
        e,
        departmentId=office.catalogue["justice"],
        dueInWorkingDays=2,
    )
    await office.step("2026-11-23 09:30", STAFF, "acceptWorkOrder", e)
    await office.step("2026-11-23 11:00", STAFF, "resolveComplaint", e, reply="已调解。")
    await office.step("2026-11-23 12:00", "R1", "confirmComplaint", e, rating=3)
    return office


DASHBOARD = """query($period: DashboardPeriod!, $on: Date, $communityId: ID) {
  complaintDashboard(period: $period, on: $on, communityId: $communityId) {
    current { first last } previous { first last }
    figures { ...figures } previousFigures { ...figures }
    overdueNow
    byCategory { name count previousCount } byCommunity { name count previousCount }
    byGrid { name count previousCount } bySource { source count previousCount }
    topGrids { name count } topBuildings { name count } risingCategories { name count previousCount }
    heatMap { latitude longitude count } trend { first submitted closed } hotspotMonths { first last }
  }
}
fragment figures on ComplaintFigures {
  submitted closed closureRate onTimeAcknowledgeRate onTimeResolveRate averageHandlingHours p90HandlingHours
  reopenRate satisfaction { rated averageRating distribution { rating count } }
}"""
NOW = "2026-11-25 12:00"


async def dashboard(office: Office, who: str, **variables: Any) -> dict[str, Any]:
    with office.clock.at(shanghai(NOW)):
        return (await office.api.data(DASHBOARD, variables, token=await office.as_(who)))["complaintDashboard"]


async def test_the_tenant_admin_sees_the_weeks_complaints_beside_the_week_before(office: Office) -> None:
    week = await dashboard(office, ADMIN, period="WEEK", on="2026-11-18")
    assert week["current"] == {"first": "2026-11-16", "last": "2026-11-22"}
    assert week["previous"] == {"first": "2026-11-09", "last": "2026-11-15"}
    assert week["figures"] == {
        "submitted": 5,
        "closed": 2,
        "closureRate": 0.4,
        "onTimeAcknowledgeRate": 0.6667,  # A and E of A, B, E
        "onTimeResolveRate": 0.6667,  # A and E of A, B, E
        "averageHandlingHours": 17.83,  # (8 + 42.5 + 3) / 3
        "p90HandlingHours": 80.0,  # the third of three, 42.5 h, is in the bucket up to 80
        "reopenRate": 0.3333,
        "satisfaction": {
            "rated": 2,
            "averageRating": 4.0,
            "distribution": [{"rating": r, "count": int(r in (3, 5))} for r in range(1, 6)],
        },
    }
    assert week["previousFigures"]["submitted"] == 1 and week["previousFigures"]["closureRate"] == 0.0
    assert week["previousFigures"]["onTimeAcknowledgeRate"] is None
    assert week["overdueNow"] == 2  # B (reopened past its deadline) and D (never acknowledged)
    assert week["byCategory"] == [
        {"name": "环境卫生", "count": 3, "previousCount": 1},
        {"name": "物业管理", "count": 2, "previousCount": 0},
    ]
    assert week["byCommunity"] == [
        {"name": "朝阳社区", "count": 4, "previousCount": 1},
        {"name": "青山社区", "count": 1, "previousCount": 0},
    ]
    assert week["byGrid"] == [
        {"name": "朝阳一网格", "count": 3, "previousCount": 1},
        {"name": "朝阳二网格", "count": 1, "previousCount": 0},
        {"name": "青山一网格", "count": 1, "previousCount": 0},
    ]
    assert week["topGrids"][0] == {"name": "朝阳一网格", "count": 3}
    assert week["bySource"] == [
        {"source": "APP", "count": 4, "previousCount": 1},
        {"source": "PHONE", "count": 1, "previousCount": 0},
    ]
    assert week["risingCategories"] == [
        {"name": "环境卫生", "count": 3, "previousCount": 1},
        {"name": "物业管理", "count": 2, "previousCount": 0},
    ]


async def test_hotspots_and_the_heat_map_count_the_whole_month(office: Office) -> None:
    week = await dashboard(office, ADMIN, period="WEEK", on="2026-11-18")
    assert week["hotspotMonths"] == {"first": "2026-11-01", "last": "2026-11-30"}
    assert week["topBuildings"] == [
        {"name": "1号楼", "count": 3},  # A, B and F
        {"name": "2号楼", "count": 1},
        {"name": "3号楼", "count": 1},
        {"name": "5号楼", "count": 1},
    ]
    assert week["heatMap"] == [
        {"latitude": 40.6565, "longitude": 109.8405, "count": 1},
        {"latitude": 40.6575, "longitude": 109.8415, "count": 1},
    ]


async def test_the_trend_runs_twelve_periods_to_this_one(office: Office) -> None:
    week = await dashboard(office, ADMIN, period="WEEK", on="2026-11-18")
    assert len(week["trend"]) == 12
    assert week["trend"][0]["first"] == "2026-08-31"
    assert week["trend"][-2:] == [
        {"first": "2026-11-09", "submitted": 1, "closed": 0},
        {"first": "2026-11-16", "submitted": 5, "closed": 2},
    ]
    month = await dashboard(office, ADMIN, period="MONTH", on="2026-11-18")
    assert month["current"] == {"first": "2026-11-01", "last": "2026-11-30"}
    assert month["figures"]["submitted"] == 6 and month["previousFigures"]["submitted"] == 0
    assert month["trend"][-1] == {"first": "2026-11-01", "submitted": 6, "closed": 2}
    day = await dashboard(office, ADMIN, period="DAY", on="2026-11-16")
    assert day["figures"]["submitted"] == 1 and day["figures"]["closureRate"] == 1.0


async def test_a_community_admin_sees_their_community_only(office: Office) -> None:
    week = await dashboard(office, COMMUNITY_ADMIN, period="WEEK", on="2026-11-18")
    assert week["figures"]["submitted"] == 4 and week["overdueNow"] == 1  # D is in 青山社区
    assert [c["name"] for c in week["byCommunity"]] == ["朝阳社区"]
    assert [b["name"] for b in week["topBuildings"]] == ["1号楼", "2号楼", "3号楼"]
    assert week["heatMap"] == [{"latitude": 40.6565, "longitude": 109.8405, "count": 1}]
    narrowed = await dashboard(
        office, ADMIN, period="WEEK", on="2026-11-18", communityId=gid("Community", office.handle.communities["C2"])
    )
    assert narrowed["figures"]["submitted"] == 1 and narrowed["overdueNow"] == 1


async def test_only_admins_of_the_place_see_a_dashboard(office: Office) -> None:
    other = gid("Community", office.handle.communities["C2"])
    with office.clock.at(shanghai(NOW)):
        refused = await office.api.run(
            DASHBOARD, {"period": "WEEK", "communityId": other}, token=await office.as_(COMMUNITY_ADMIN)
        )
        assert refused["errors"][0]["extensions"]["code"] == "OUT_OF_SCOPE"
        for who in (WORKER_1, STAFF, "R1"):
            body = await office.api.run(DASHBOARD, {"period": "WEEK"}, token=await office.as_(who))
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        anonymous = await office.api.run(DASHBOARD, {"period": "WEEK"}, tenant="tongji")
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        beta = await office.api.run(
            DASHBOARD, {"period": "WEEK", "communityId": other}, token=await office.api.token("beta", "13900000001")
        )
        assert beta["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "dashboard",
    ["complaint", "user", "gridWorker", "department", "service", "volunteer"],
)
@pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01"])
async def test_a_day_outside_the_calendar_is_refused_by_name(office: Office, dashboard: str, on: str) -> None:
    query = f"query($on: Date) {{ {dashboard}Dashboard(period: MONTH, on: $on) {{ __typename }} }}"
    body = await office.api.run(query, {"on": on}, token=await office.as_(ADMIN))
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [("INVALID", "on")]


USERS = """query($period: DashboardPeriod!, $on: Date) {
  userDashboard(period: $period, on: $on) {
    figures { registered verified active requests } previousFigures { registered verified active requests }
    residents verifiedResidents pendingNow
  }
}"""


async def test_residents_registered_active_and_their_requests(office: Office) -> None:
    with office.clock.at(shanghai(NOW)):
        tenant = await office.api.data(USERS, {"period": "WEEK", "on": "2026-11-18"}, token=await office.as_(ADMIN))
        community = await office.api.data(
            USERS, {"period": "WEEK", "on": "2026-11-18"}, token=await office.as_(COMMUNITY_ADMIN)
        )
    assert tenant["userDashboard"] == {
        # R1 registered and signed in this week; A–E were made this week, F the week before.
        "figures": {"registered": 1, "verified": 1, "active": 1, "requests": 5},
        # R2 registered the week before; R1 signed in then to make F.
        "previousFigures": {"registered": 1, "verified": 0, "active": 2, "requests": 1},
        "residents": 2,
        "verifiedResidents": 1,
        "pendingNow": 1,
    }
    assert community["userDashboard"]["residents"] == 1
    assert community["userDashboard"]["previousFigures"] == {"registered": 0, "verified": 0, "active": 1, "requests": 1}


PLATFORM = """query($on: Date) { platformDashboard(period: WEEK, on: $on) {
  figures { submitted } overdueNow residents workOrders { received }
  offices { slug name figures { submitted closed closureRate onTimeResolveRate } previousFigures { submitted } overdueNow residents
    workOrders { received signedOnTime returned resolvedOnTime } }
} }"""
PLATFORM_LOGIN = """mutation($input: PlatformLoginInput!) { platformLogin(input: $input) {
  accessToken errors { field code } } }"""


async def test_a_platform_admin_sees_each_street_office_in_figures_only(office: Office, wanjia: Any) -> None:
    created = await wanjia(
        "platform", "create-admin", "--phone", "13600000001", "--name", "平台管理员", "--password", "Platform@2026"
    )
    assert created.exit_code == 0, created.output
    wrong = await office.api.data(PLATFORM_LOGIN, {"input": {"phone": "13600000001", "password": "wrong-password"}})
    assert wrong["platformLogin"] == {
        "accessToken": None,
        "errors": [{"field": "password", "code": "INVALID_CREDENTIALS"}],
    }
    with office.clock.at(shanghai(NOW)):
        signed_in = await office.api.data(
            PLATFORM_LOGIN, {"input": {"phone": "13600000001", "password": "Platform@2026"}}
        )
        token = signed_in["platformLogin"]["accessToken"]
        seen = (await office.api.data(PLATFORM, {"on": "2026-11-18"}, token=token))["platformDashboard"]
        tongji = next(o for o in seen["offices"] if o["slug"] == "tongji")
        assert tongji == {
            "slug": "tongji",
            "name": "统计街道",
            "figures": {"submitted": 5, "closed": 2, "closureRate": 0.4, "onTimeResolveRate": 0.6667},
            "previousFigures": {"submitted": 1},
            "overdueNow": 2,
            "residents": 2,
            # E: dispatched Friday 16:40, signed for Monday 09:30 (within a working day), resolved in time.
            "workOrders": {"received": 1, "signedOnTime": 1, "returned": 0, "resolvedOnTime": 1},
        }
        assert {"alpha", "beta", "tongji"} <= {o["slug"] for o in seen["offices"]}
        assert seen["workOrders"]["received"] == sum(o["workOrders"]["received"] for o in seen["offices"])
        assert seen["figures"]["submitted"] == sum(o["figures"]["submitted"] for o in seen["offices"])
        assert seen["residents"] == sum(o["residents"] for o in seen["offices"])
        # Nothing of a street office itself: not without X-Tenant, not with it.
        rows = (await office.api.post("{ complaints(first: 1) { totalCount } }", token=token)).json()
        assert rows["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"
        inside = (await office.api.post("{ complaints(first: 1) { totalCount } }", token=token, tenant="tongji")).json()
        assert inside["errors"][0]["extensions"]["code"] == "TENANT_NOT_FOUND"
        refused = (await office.api.post(PLATFORM, {"on": "2026-11-18"}, token=await office.as_(ADMIN))).json()
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_platform_admins_token_stops_working_once_their_password_is_replaced(
    office: Office, wanjia: Any, settings: Settings
) -> None:
    phone, query = "13600000002", "{ platformDashboard(period: WEEK) { residents } }"
    account = ["platform", "create-admin", "--phone", phone, "--name", "平台管理员"]
    assert (await wanjia(*account, "--password", "Platform@2026")).exit_code == 0
    with office.clock.at(shanghai(NOW)):
        signed_in = await office.api.data(PLATFORM_LOGIN, {"input": {"phone": phone, "password": "Platform@2026"}})
        token = signed_in["platformLogin"]["accessToken"]
        assert (await office.api.data(query, token=token))["platformDashboard"]["residents"] >= 2
    assert (await wanjia(*account, "--password", "Replaced@2026")).exit_code == 0
    # Once this process rechecks the version (it caches it for session_recheck_seconds).
    later = shanghai(NOW) + timedelta(seconds=settings.session_recheck_seconds + 1)
    with office.clock.at(later):
        refused = (await office.api.post(query, token=token)).json()
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_platform_admin_is_locked_out_after_failed_sign_ins_like_everyone(
    office: Office, wanjia: Any, settings: Settings, app: Starlette
) -> None:
    phone = "13600000003"
    created = await wanjia(
        "platform", "create-admin", "--phone", phone, "--name", "平台管理员", "--password", "Platform@2026"
    )
    assert created.exit_code == 0

    async def sign_in(password: str) -> Any:
        return (await office.api.data(PLATFORM_LOGIN, {"input": {"phone": phone, "password": password}}))[
            "platformLogin"
        ]

    with office.clock.at(shanghai(NOW)):
        for _ in range(settings.login_max_failures):
            assert (await sign_in("wrong-password"))["errors"] == [{"field": "password", "code": "INVALID_CREDENTIALS"}]
        locked = await sign_in("Platform@2026")
        assert locked["accessToken"] is None and locked["errors"][0]["code"] == "ACCOUNT_LOCKED"
        # The street offices' own sign-ins count apart.
        assert await office.as_(ADMIN)
    after_the_lock = shanghai(NOW) + timedelta(minutes=settings.login_lock_minutes, seconds=1)
    with office.clock.at(after_the_lock):
        assert (await run_jobs(app.state.services)).platform_rows_expired >= 1
        assert (await sign_in("Platform@2026"))["accessToken"]


async def test_create_admin_lifts_the_lock_others_put_on_a_platform_admins_phone(
    database: ProvisionedDatabase, clock: Clock, wanjia: Any
) -> None:
    # A phone locked for everyone after two failures, before any one address is.
    strict = settings_for(database.app_url, login_account_max_failures=2, login_max_failures=100)
    app = create_app(strict, clock=clock.now)
    phone, account = "13600000004", ["platform", "create-admin", "--phone", "13600000004", "--name", "平台管理员"]
    assert (await wanjia(*account, "--password", "Platform@2026")).exit_code == 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)

        async def sign_in(password: str) -> Any:
            return (await api.data(PLATFORM_LOGIN, {"input": {"phone": phone, "password": password}}))["platformLogin"]

        for _ in range(3):
            await sign_in("wrong-password")
        assert (await sign_in("Platform@2026"))["errors"][0]["code"] == "ACCOUNT_LOCKED"
        assert (await wanjia(*account, "--password", "Replaced@2026")).exit_code == 0
        assert (await sign_in("Replaced@2026"))["accessToken"]
    await app.state.engine.dispose()


async def test_each_grid_worker_with_the_complaints_of_their_grid(office: Office) -> None:
    with office.clock.at(shanghai(NOW)):
        data = await office.api.data(
            """query { gridWorkerDashboard(period: WEEK, on: "2026-11-18") {
                 current { first } grids { gridName workerName submitted resolved closed registrationsVerified } } }""",
            token=await office.as_(COMMUNITY_ADMIN),
        )
    assert data["gridWorkerDashboard"]["grids"] == [
        # A, B and E: all three resolved once, A and E closed; R1 verified by 网格员甲.
        {
            "gridName": "朝阳一网格",
            "workerName": "网格员甲",
            "submitted": 3,
            "resolved": 3,
            "closed": 2,
            "registrationsVerified": 1,
        },
        {
            "gridName": "朝阳二网格",
            "workerName": "网格员乙",
            "submitted": 1,
            "resolved": 0,
            "closed": 0,
            "registrationsVerified": 0,
        },
    ]


async def test_the_monthly_report_counts_the_month_and_its_late_items(
    office: Office, app: Starlette, wanjia: Any, tmp_path: Any
) -> None:
    services = app.state.services
    with office.clock.at(shanghai(NOW)):
        async with unit_of_work(
            services, tenant=await services.directory.by_id(office.handle.id), viewer=None, writes=False
        ) as ctx:
            report = await monthly_report(ctx, date(2026, 11, 1))
    assert report.dashboard.cohort.submitted == 6 and report.dashboard.cohort["closed"] == 2
    # Weeks from the Monday of 1 November (a Sunday) to that of the 30th: F in the second, A–E in the fourth.
    assert sorted(report.weekly) == [date(2026, 10, 26) + timedelta(weeks=n) for n in range(6)]
    assert report.weekly[date(2026, 11, 9)] == {"环境卫生": 1}
    assert report.weekly[date(2026, 11, 16)] == {"环境卫生": 3, "物业管理": 2}
    # Due in November and already past at NOW without a timely resolution: only B (resolved
    # late, then reopened); D's deadline (26 November) has not come yet.
    assert report.late_total == 1 and [(i.category, i.status.value) for i in report.late] == [("环境卫生", "reopened")]
    pdf = tmp_path / "tongji.pdf"
    made = await wanjia("report", "monthly", "--tenant", "tongji", "--month", "2026-11", "--out", str(pdf))
    assert made.exit_code == 0, made.output
    written = pdf.read_bytes()
    assert written.startswith(b"%PDF") and b"WenQuanYi" in written
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(written)).pages)
    assert f"{report.office} 2026 年 11 月诉求工作月报" in words, words
    assert "六、本月超期事项" in words and "楼道堆放杂物" in words, words
    unknown = await wanjia("report", "monthly", "--tenant", "nowhere", "--month", "2026-11", "--out", str(pdf))
    assert unknown.exit_code == 1


# --- departments, rooms and appointments, volunteers: another street office's fixed data ------

HOUSING_STAFF = "13700000022"


def services_office() -> dict[str, Any]:
    manifest: dict[str, Any] = street_office("fuwu", "服务街道")
    manifest["departments"] = [*manifest["departments"], {"code": "housing", "name": "住建办"}]
    manifest["staff"] = [
        *manifest["staff"],
        _staff(HOUSING_STAFF, "住建办干事", {"role": "staff", "department": "housing"}),
    ]
    room = {"capacity": 20, "slot_minutes": 60, "min_notice_hours": 2}
    manifest["communities"][0]["rooms"] = [
        {"name": "朝阳活动室", **room, "opening_hours": {"mon": ["09:00-11:00"], "tue": ["09:00-11:00"]}}
    ]
    manifest["communities"][1]["rooms"] = [{"name": "青山活动室", **room, "opening_hours": {"mon": ["14:00-15:00"]}}]
    manifest["appointment_types"] = [
        {"code": "mediation", "name": "人民调解", "department": "justice"},
        {"code": "legal", "name": "法律援助", "department": "justice"},
    ]
    return manifest


@pytest.fixture(scope="module")
async def services(api: Api, app: Starlette, clock: Clock) -> Office:
    """The week of Monday 16 November 2026 again, in 服务街道 (朝阳 C1, 青山 C2):

    Work orders (sign for within one working day of dispatch):
    P  C1, dispatched Mon 09:20 to 司法所 (due Wed 17:00), signed 10:00, resolved Tue 11:00: in time.
    Q  C1, dispatched Tue 09:30 to 司法所, signed Thu 10:00 (due Wed 09:30: late), returned Thu 11:00;
       dispatched again Thu 14:00 to 住建办 (due Fri 17:00), signed 15:00, resolved next Mon 10:00: late.
    R  C2, dispatched Wed 10:00 to 住建办, never signed.
    S  C1, the Tuesday before, dispatched 10:00 to 司法所, signed 10:30, resolved 11:00.

    Rooms: 朝阳活动室 open Mon and Tue 09–11, 青山活动室 Mon 14–15 (hourly slots). R1 (C1) books
    B1 Mon 09–10 (asked Fri 13 10:00, approved 12:00: 2 working hours; a no-show), B2 Tue 09–11
    (asked Fri 14:00, approved Mon 10:00: 4 working hours; checked in and completed), B3 Mon
    10–11 (asked Fri 15:00, rejected 16:00: 1 working hour).

    Appointments by R1: 人民调解 Mon (completed) and Tue (cancelled), 法律援助 Wed (open), and
    法律援助 the Tuesday before.

    Volunteers: V1 = R1 (C1), V2 = R2 (C2). Street-wide activity X Wed 09:00–11:00: V1 in 09:00 out
    10:30 (90 min), V2 in 09:30 out 11:30 (90 min, to the end); activity Y the Tuesday before
    09:00–10:00: V1 60 min.
    """
    handle = await _handle(app, services_office())
    office = Office(api, clock, handle, await _catalogue(api, "fuwu"))
    await office.register("R1", "C1-G1-B1", "2026-11-01 09:00")
    await office.register("R2", "C2-G1-B1", "2026-11-01 09:00")
    justice, housing = office.catalogue["justice"], office.catalogue["housing"]

    async def work_order(when: str, building: str, worker: str) -> str:
        complaint = await office.submit(when, "environment", building)
        await office.step(when, worker, "acceptComplaint", complaint)
        return complaint

    async def dispatch(when: str, worker: str, complaint: str, department: str, days: int) -> None:
        await office.step(when, worker, "dispatchComplaint", complaint, departmentId=department, dueInWorkingDays=days)

    s = await work_order("2026-11-10 09:00", "C1-G1-B1", WORKER_1)
    await dispatch("2026-11-10 10:00", WORKER_1, s, justice, 2)
    await office.step("2026-11-10 10:30", STAFF, "acceptWorkOrder", s)
    await office.step("2026-11-10 11:00", STAFF, "resolveComplaint", s, reply="已调解。")
    p = await work_order("2026-11-16 09:00", "C1-G1-B1", WORKER_1)
    await dispatch("2026-11-16 09:20", WORKER_1, p, justice, 2)
    await office.step("2026-11-16 10:00", STAFF, "acceptWorkOrder", p)
    await office.step("2026-11-17 11:00", STAFF, "resolveComplaint", p, reply="已调解。")
    q = await work_order("2026-11-17 09:00", "C1-G1-B1", WORKER_1)
    await dispatch("2026-11-17 09:30", WORKER_1, q, justice, 2)
    await office.step("2026-11-19 10:00", STAFF, "acceptWorkOrder", q)
    await office.step("2026-11-19 11:00", STAFF, "returnComplaintToGrid", q, reason="不属于本部门职责。")
    await dispatch("2026-11-19 14:00", WORKER_1, q, housing, 1)
    await office.step("2026-11-19 15:00", HOUSING_STAFF, "acceptWorkOrder", q)
    await office.step("2026-11-23 10:00", HOUSING_STAFF, "resolveComplaint", q, reply="已维修。")
    r = await work_order("2026-11-18 09:00", "C2-G1-B1", WORKER_3)
    await dispatch("2026-11-18 10:00", WORKER_3, r, housing, 3)

    rooms = await api.data("{ rooms(first: 10) { edges { node { id name } } } }", token=await office.as_("R1"))
    room = next(e["node"]["id"] for e in rooms["rooms"]["edges"] if e["node"]["name"] == "朝阳活动室")
    booking = "booking { id }"

    async def book(when: str, starts: str, ends: str) -> str:
        fields = {"roomId": room, "purpose": "合唱排练", "attendees": 10}
        fields |= {"startsAt": f"{starts}:00+08:00", "endsAt": f"{ends}:00+08:00"}
        done = await office.do(when, "R1", "requestRoomBooking", "RequestRoomBookingInput", booking, **fields)
        return done["booking"]["id"]

    b1 = await book("2026-11-13 10:00", "2026-11-16T09:00", "2026-11-16T10:00")
    b2 = await book("2026-11-13 14:00", "2026-11-17T09:00", "2026-11-17T11:00")
    b3 = await book("2026-11-13 15:00", "2026-11-16T10:00", "2026-11-16T11:00")
    for when, name, booking_id, extra in (
        ("2026-11-13 12:00", "approveRoomBooking", b1, {}),
        ("2026-11-13 16:00", "rejectRoomBooking", b3, {"reason": "当天另有安排。"}),
        ("2026-11-16 10:00", "approveRoomBooking", b2, {}),
        ("2026-11-16 10:30", "markRoomBookingNoShow", b1, {}),
        ("2026-11-17 09:00", "checkInRoomBooking", b2, {}),
        ("2026-11-17 11:00", "completeRoomBooking", b2, {}),
    ):
        input_type = "RoomBookingReasonInput" if extra else "RoomBookingStepInput"
        await office.do(when, COMMUNITY_ADMIN, name, input_type, bookingId=booking_id, **extra)
    # B3's hour again, withdrawn by the resident before anyone answered: a request, no answer to time.
    b4 = await book("2026-11-13 16:30", "2026-11-16T10:00", "2026-11-16T11:00")
    await office.do("2026-11-13 16:40", "R1", "cancelRoomBooking", "RoomBookingReasonInput", bookingId=b4)

    kinds = await api.data("{ appointmentTypes(first: 10) { edges { node { id code } } } }", tenant="fuwu")
    kind = {e["node"]["code"]: e["node"]["id"] for e in kinds["appointmentTypes"]["edges"]}
    staff = await api.data("{ staffMembers(first: 20) { edges { node { id name } } } }", token=await office.as_(ADMIN))
    clerk = next(e["node"]["id"] for e in staff["staffMembers"]["edges"] if e["node"]["name"] == "司法所干事")

    async def ask(when: str, code: str) -> str:
        fields = {"typeId": kind[code], "description": "邻里纠纷，希望调解。", "preferredTimes": ["工作日下午"]}
        done = await office.do(
            when, "R1", "requestAppointment", "RequestAppointmentInput", "appointment { id }", **fields
        )
        return done["appointment"]["id"]

    await ask("2026-11-10 10:00", "legal")
    completed = await ask("2026-11-16 10:00", "mediation")
    await office.do(
        "2026-11-16 11:00", ADMIN, "assignAppointment", "AssignAppointmentInput", appointmentId=completed, staffId=clerk
    )
    await office.do(
        "2026-11-16 14:00",
        STAFF,
        "recordAppointmentContact",
        "RecordAppointmentContactInput",
        appointmentId=completed,
        contactedAt=shanghai("2026-11-16 13:50").isoformat(),
        method="PHONE",
    )
    await office.do(
        "2026-11-16 14:10",
        STAFF,
        "scheduleAppointment",
        "ScheduleAppointmentInput",
        appointmentId=completed,
        scheduledAt=shanghai("2026-11-18 15:00").isoformat(),
    )
    await office.do(
        "2026-11-18 16:00",
        STAFF,
        "completeAppointment",
        "CompleteAppointmentInput",
        appointmentId=completed,
        outcome="双方达成调解协议。",
    )
    cancelled = await ask("2026-11-17 10:00", "mediation")
    await office.do(
        "2026-11-17 11:00",
        "R1",
        "cancelAppointment",
        "CancelAppointmentInput",
        appointmentId=cancelled,
        reason="已和解。",
    )
    await ask("2026-11-18 10:00", "legal")

    for who in ("R1", "R2"):
        applied = await office.do(
            "2026-11-02 09:00",
            who,
            "applyAsVolunteer",
            "ApplyAsVolunteerInput",
            "volunteer { id }",
            skills=["助老助残"],
            availability=["WEEKEND_MORNING"],
        )
        await office.do(
            "2026-11-02 10:00",
            ADMIN,
            "approveVolunteer",
            "VolunteerDecisionInput",
            volunteerId=applied["volunteer"]["id"],
        )

    async def activity(starts: str, ends: str) -> str:
        day = starts[:10]
        fields = {
            "title": "敬老院陪伴",
            "description": "陪伴老人聊天、读报。",
            "place": "社区敬老院",
            "startsAt": shanghai(starts).isoformat(),
            "endsAt": shanghai(ends).isoformat(),
            "signupDeadline": shanghai(f"{day} 08:00").isoformat(),
            "capacity": 5,
            "pointsPerHour": 10,
        }
        created = await office.do(
            "2026-11-03 09:00",
            ADMIN,
            "createVolunteerActivity",
            "CreateVolunteerActivityInput",
            "activity { id }",
            activity=fields,
        )
        activity_id = created["activity"]["id"]
        await office.do(
            "2026-11-03 09:05", ADMIN, "publishVolunteerActivity", "VolunteerActivityStepInput", activityId=activity_id
        )
        return activity_id

    async def serve(activity_id: str, who: str, came: str, left: str) -> None:
        signed = await office.do(
            "2026-11-04 09:00",
            who,
            "signUpForVolunteerActivity",
            "SignUpForVolunteerActivityInput",
            "signup { id }",
            activityId=activity_id,
        )
        for when, step in ((came, "CHECK_IN"), (left, "CHECK_OUT")):
            await office.do(
                when,
                ADMIN,
                "recordVolunteerAttendance",
                "RecordVolunteerAttendanceInput",
                signupId=signed["signup"]["id"],
                step=step,
            )

    y = await activity("2026-11-10 09:00", "2026-11-10 10:00")
    x = await activity("2026-11-18 09:00", "2026-11-18 11:00")
    await serve(y, "R1", "2026-11-10 09:00", "2026-11-10 10:00")
    await serve(x, "R1", "2026-11-18 09:00", "2026-11-18 10:30")
    await serve(x, "R2", "2026-11-18 09:30", "2026-11-18 11:30")
    return office


DEPARTMENTS = """query($period: DashboardPeriod!, $on: Date, $communityId: ID) {
  departmentDashboard(period: $period, on: $on, communityId: $communityId) {
    current { first last } previous { first last }
    figures { ...orders } previousFigures { ...orders }
    departments { name figures { ...orders } previousFigures { received signed resolved } }
  }
}
fragment orders on WorkOrderFigures {
  received signed signedOnTime signedOnTimeRate returned returnRate resolved resolvedOnTime onTimeResolveRate
}"""


def orders(
    received: int, signed: int, on_time: int, returned: int, resolved: int, resolved_on_time: int
) -> dict[str, Any]:
    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "received": received,
        "signed": signed,
        "signedOnTime": on_time,
        "signedOnTimeRate": rate(on_time, received),
        "returned": returned,
        "returnRate": rate(returned, received),
        "resolved": resolved,
        "resolvedOnTime": resolved_on_time,
        "onTimeResolveRate": rate(resolved_on_time, resolved),
    }


async def ask_dashboard(office: Office, query: str, who: str, **variables: Any) -> dict[str, Any]:
    with office.clock.at(shanghai(NOW)):
        data = await office.api.data(query, variables, token=await office.as_(who))
    return next(iter(data.values()))


async def test_each_department_with_its_work_orders_beside_the_week_before(services: Office) -> None:
    week = await ask_dashboard(services, DEPARTMENTS, ADMIN, period="WEEK", on="2026-11-18")
    assert week["current"] == {"first": "2026-11-16", "last": "2026-11-22"}
    # P and Q's first dispatch to 司法所; Q's second and R to 住建办.
    assert week["figures"] == orders(4, 3, 2, 1, 2, 1)
    assert week["previousFigures"] == orders(1, 1, 1, 0, 1, 1)  # S
    # In the departments' code order: housing, justice.
    assert week["departments"] == [
        {
            "name": "住建办",
            "figures": orders(2, 1, 1, 0, 1, 0),
            "previousFigures": {"received": 0, "signed": 0, "resolved": 0},
        },
        {
            "name": "司法所",
            "figures": orders(2, 2, 1, 1, 1, 1),
            "previousFigures": {"received": 1, "signed": 1, "resolved": 1},
        },
    ]
    month = await ask_dashboard(services, DEPARTMENTS, ADMIN, period="MONTH", on="2026-11-18")
    assert month["figures"] == orders(5, 4, 3, 1, 3, 2) and month["previousFigures"] == orders(0, 0, 0, 0, 0, 0)
    day = await ask_dashboard(services, DEPARTMENTS, ADMIN, period="DAY", on="2026-11-19")
    assert [d["figures"]["received"] for d in day["departments"]] == [1, 0]


async def test_a_community_admin_sees_the_work_orders_of_their_community(services: Office) -> None:
    week = await ask_dashboard(services, DEPARTMENTS, COMMUNITY_ADMIN, period="WEEK", on="2026-11-18")
    assert week["figures"] == orders(3, 3, 2, 1, 2, 1)  # R is 青山社区's
    assert week["departments"][0]["figures"] == orders(1, 1, 1, 0, 1, 0)
    qingshan = gid("Community", services.handle.communities["C2"])
    narrowed = await ask_dashboard(services, DEPARTMENTS, ADMIN, period="WEEK", on="2026-11-18", communityId=qingshan)
    assert narrowed["figures"] == orders(1, 0, 0, 0, 0, 0)


SERVICES = """query($period: DashboardPeriod!, $on: Date, $communityId: ID) {
  serviceDashboard(period: $period, on: $on, communityId: $communityId) {
    current { first last } rooms openMinutes bookedMinutes utilisation
    byHour { weekday hour openMinutes bookedMinutes utilisation }
    bookings approvals { answered answeredOnTime averageHours p90Hours } noShows noShowRate
    appointmentTypes { name requested completed cancelled open }
  }
}"""


async def test_room_use_by_hour_approval_times_no_shows_and_appointments(services: Office) -> None:
    week = await ask_dashboard(services, SERVICES, ADMIN, period="WEEK", on="2026-11-18")
    hour = lambda weekday, h, open_, booked: {  # noqa: E731
        "weekday": weekday,
        "hour": h,
        "openMinutes": open_,
        "bookedMinutes": booked,
        "utilisation": round(booked / open_, 4),
    }
    assert week["byHour"] == [
        hour("MON", 9, 60, 60),  # B1: granted, then a no-show
        hour("MON", 10, 60, 0),  # B3 was rejected
        hour("MON", 14, 60, 0),  # 青山活动室
        hour("TUE", 9, 60, 60),  # B2
        hour("TUE", 10, 60, 60),
    ]
    assert {k: week[k] for k in ("rooms", "openMinutes", "bookedMinutes", "utilisation", "bookings")} == {
        "rooms": 2,
        "openMinutes": 300,
        "bookedMinutes": 180,
        "utilisation": 0.6,
        "bookings": 4,
    }
    # 2, 4 and 1 working hours; the 90th percentile of three is the largest.
    assert week["approvals"] == {"answered": 3, "answeredOnTime": 3, "averageHours": 2.33, "p90Hours": 4.0}
    assert week["noShows"] == 1 and week["noShowRate"] == 0.5
    # In the types' code order (legal, mediation); the 法律援助 of the Tuesday before is not this week's.
    assert week["appointmentTypes"] == [
        {"name": "法律援助", "requested": 1, "completed": 0, "cancelled": 0, "open": 1},
        {"name": "人民调解", "requested": 2, "completed": 1, "cancelled": 1, "open": 0},
    ]
    chaoyang = await ask_dashboard(services, SERVICES, COMMUNITY_ADMIN, period="WEEK", on="2026-11-18")
    assert chaoyang["rooms"] == 1 and chaoyang["openMinutes"] == 240 and chaoyang["utilisation"] == 0.75
    assert [(h["weekday"], h["hour"]) for h in chaoyang["byHour"]] == [("MON", 9), ("MON", 10), ("TUE", 9), ("TUE", 10)]
    qingshan = gid("Community", services.handle.communities["C2"])
    narrowed = await ask_dashboard(services, SERVICES, ADMIN, period="WEEK", on="2026-11-18", communityId=qingshan)
    assert narrowed["bookedMinutes"] == 0 and narrowed["approvals"]["averageHours"] is None
    assert [t["requested"] for t in narrowed["appointmentTypes"]] == [0, 0]


VOLUNTEERS = """query($period: DashboardPeriod!, $on: Date, $communityId: ID) {
  volunteerDashboard(period: $period, on: $on, communityId: $communityId) {
    current { first last }
    figures { hoursServed activeVolunteers activities } previousFigures { hoursServed activeVolunteers activities }
  }
}"""


async def test_hours_served_and_active_volunteers(services: Office) -> None:
    week = await ask_dashboard(services, VOLUNTEERS, ADMIN, period="WEEK", on="2026-11-18")
    assert week["figures"] == {"hoursServed": 3.0, "activeVolunteers": 2, "activities": 1}
    assert week["previousFigures"] == {"hoursServed": 1.0, "activeVolunteers": 1, "activities": 1}
    chaoyang = await ask_dashboard(services, VOLUNTEERS, COMMUNITY_ADMIN, period="WEEK", on="2026-11-18")
    assert chaoyang["figures"] == {"hoursServed": 1.5, "activeVolunteers": 1, "activities": 1}
    month = await ask_dashboard(services, VOLUNTEERS, ADMIN, period="MONTH", on="2026-11-18")
    assert month["figures"] == {"hoursServed": 4.0, "activeVolunteers": 2, "activities": 2}


NEW_DASHBOARDS = {"departmentDashboard": DEPARTMENTS, "serviceDashboard": SERVICES, "volunteerDashboard": VOLUNTEERS}


@pytest.mark.parametrize("name", sorted(NEW_DASHBOARDS))
async def test_only_admins_see_the_new_dashboards_and_other_street_offices_nothing(services: Office, name: str) -> None:
    query = NEW_DASHBOARDS[name]
    qingshan = gid("Community", services.handle.communities["C2"])
    with services.clock.at(shanghai(NOW)):
        refused = await services.api.run(
            query, {"period": "WEEK", "communityId": qingshan}, token=await services.as_(COMMUNITY_ADMIN)
        )
        assert refused["errors"][0]["extensions"]["code"] == "OUT_OF_SCOPE"
        for who in (WORKER_1, STAFF, "R1"):
            body = await services.api.run(query, {"period": "WEEK"}, token=await services.as_(who))
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", who
        beta_admin = await services.api.token("beta", "13900000001")
        beta = await services.api.run(query, {"period": "WEEK", "communityId": qingshan}, token=beta_admin)
        assert beta["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        own = (await services.api.data(query, {"period": "WEEK", "on": "2026-11-18"}, token=beta_admin))[name]
    fuwu = await ask_dashboard(services, query, ADMIN, period="WEEK", on="2026-11-18")
    assert fuwu != own  # the same week of another street office counts none of this one's
    assert not {str(d) for d in own.get("departments", []) + own.get("appointmentTypes", [])} & {
        str(d) for d in fuwu.get("departments", []) + fuwu.get("appointmentTypes", [])
    }


@pytest.mark.parametrize("name", sorted(NEW_DASHBOARDS))
async def test_a_dashboard_costs_the_same_statements_whatever_the_scope(services: Office, name: str) -> None:
    """One tenant admin's view of the street office, of one community, and a community admin's:
    the statements do not grow with the communities, rooms or departments counted."""
    query = NEW_DASHBOARDS[name]
    qingshan = gid("Community", services.handle.communities["C2"])
    with services.clock.at(shanghai(NOW)):
        admin, community_admin = await services.as_(ADMIN), await services.as_(COMMUNITY_ADMIN)
        counts = {
            await services.api.statements(query, {"period": period, "on": "2026-11-18"}, token=token)
            for period in ("WEEK", "MONTH")
            for token in (admin, community_admin)
        }
        narrowed = await services.api.statements(query, {"period": "WEEK", "communityId": qingshan}, token=admin)
    assert len(counts) == 1
    # Naming one community costs one more statement: finding it.
    assert narrowed == counts.pop() + 1


async def test_the_work_order_rollups_equal_a_recount_and_a_rebuild_changes_no_figure(
    services: Office, app: Starlette, wanjia: Any
) -> None:
    kept, recounted = await _consistent(app, services.handle)
    assert kept == recounted
    assert {WorkOrderDayRollup, WorkOrderMonthRollup} <= {table for table, _ in kept}
    before = await ask_dashboard(services, DEPARTMENTS, ADMIN, period="WEEK", on="2026-11-18")
    rebuilt = await wanjia("rollups", "rebuild", "--tenant", "fuwu")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert await ask_dashboard(services, DEPARTMENTS, ADMIN, period="WEEK", on="2026-11-18") == before
    assert await _consistent(app, services.handle) == (kept, recounted)


def test_a_step_records_only_the_counters_it_changes() -> None:
    """What a lifecycle step writes (resolvers.rollups): its contributions after less those
    before, with counters and rows that come to zero left out, so nothing is written for them."""
    day = (("day", date(2026, 11, 2)), ("community_id", "c1"), ("category_id", "k1"), ("source", "app"))
    accepted, closed = ((("community_id", "c1"), ("status", status)) for status in ("accepted", "closed"))
    before = [
        Contribution(ComplaintDayRollup, day, {"submitted": 1, "closed": 0, "rejected": 0}),
        Contribution(ComplaintCommunityStatusRollup, accepted, {"complaints": 1, "overdue": 0}),
    ]
    after = [
        Contribution(ComplaintDayRollup, day, {"submitted": 1, "closed": 1, "rejected": 0}),
        Contribution(ComplaintCommunityStatusRollup, closed, {"complaints": 1, "overdue": 0}),
    ]
    assert analytics.add_up(analytics.add_up({}, after), before, -1) == {
        (ComplaintDayRollup, day): {"closed": 1},
        (ComplaintCommunityStatusRollup, accepted): {"complaints": -1},
        (ComplaintCommunityStatusRollup, closed): {"complaints": 1},
    }
    assert analytics.add_up(analytics.add_up({}, before), before, -1) == {}


# Years chinese_calendar knows, so that holidays and the working weekends around them count.
CALENDAR_MOMENTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(CALENDAR_MOMENTS, st.integers(0, 8 * 60 * 40)), min_size=1, max_size=12))
def test_the_working_minutes_between_two_moments_undo_the_working_hours_after(
    spans: list[tuple[datetime, int]],
) -> None:
    """From any moment, the working time to the moment `minutes` working minutes later is
    `minutes`: counted by walking the days, and from the running totals a recount keeps while it
    is asked about spans in any order."""
    calendar = WorkingCalendar()
    remembered = RememberedCalendar(calendar)
    for start, minutes in spans:
        end = calendar.working_hours_after(start, minutes / 60)
        assert working_minutes_between(calendar, start, end) == minutes
        assert working_minutes_between(remembered, start, end) == minutes


# --- the platform: rooms, appointments and volunteers of every street office -------------------

PLATFORM_SERVICES = """query($period: DashboardPeriod!, $on: Date) { platformDashboard(period: $period, on: $on) {
  current { first last } previous { first last }
  services { ...services } previousServices { ...services }
  volunteers { ...volunteers } previousVolunteers { ...volunteers }
  offices { slug services { ...services } previousServices { ...services }
    volunteers { ...volunteers } previousVolunteers { ...volunteers } }
} }
fragment services on ServiceFigures {
  rooms openMinutes bookedMinutes utilisation bookings answered answeredOnTime answeredOnTimeRate
  noShows noShowRate appointments { requested completed cancelled open }
}
fragment volunteers on VolunteerFigures { hoursServed activeVolunteers activities }"""


async def platform_token(office: Office, wanjia: Any, phone: str) -> str:
    created = await wanjia(
        "platform", "create-admin", "--phone", phone, "--name", "平台管理员", "--password", "Platform@2026"
    )
    assert created.exit_code == 0, created.output
    with office.clock.at(shanghai(NOW)):
        signed_in = await office.api.data(PLATFORM_LOGIN, {"input": {"phone": phone, "password": "Platform@2026"}})
    return str(signed_in["platformLogin"]["accessToken"])


def service_figures(
    open_minutes: int, booked: int, bookings: int, answered: int, no_shows: int, showed_up: int, appointments: list[int]
) -> dict[str, Any]:
    """服务街道's two rooms, answers all in time (see the `services` fixture)."""
    requested, completed, cancelled, open_ = appointments
    return {
        "rooms": 2,
        "openMinutes": open_minutes,
        "bookedMinutes": booked,
        "utilisation": round(booked / open_minutes, 4),
        "bookings": bookings,
        "answered": answered,
        "answeredOnTime": answered,
        "answeredOnTimeRate": 1.0 if answered else None,
        "noShows": no_shows,
        "noShowRate": round(no_shows / (no_shows + showed_up), 4) if no_shows + showed_up else None,
        "appointments": {"requested": requested, "completed": completed, "cancelled": cancelled, "open": open_},
    }


def summed(offices: list[dict[str, Any]], field: str) -> dict[str, Any]:
    """The offices' counts of one figure added up (rates left out: they are not sums)."""
    total: dict[str, Any] = {}
    for office in offices:
        for name, value in office[field].items():
            if isinstance(value, dict):
                total[name] = {k: total.get(name, {}).get(k, 0) + n for k, n in value.items()}
            elif not name.endswith("Rate") and name != "utilisation":
                total[name] = round(total.get(name, 0) + value, 2)
    return total


async def test_the_platform_sees_each_street_offices_rooms_appointments_and_volunteers(
    services: Office, wanjia: Any
) -> None:
    token = await platform_token(services, wanjia, "13600000005")
    with services.clock.at(shanghai(NOW)):
        week = await services.api.data(PLATFORM_SERVICES, {"period": "WEEK", "on": "2026-11-18"}, token=token)
        month = await services.api.data(PLATFORM_SERVICES, {"period": "MONTH", "on": "2026-11-18"}, token=token)
    week, month = week["platformDashboard"], month["platformDashboard"]
    fuwu = next(o for o in week["offices"] if o["slug"] == "fuwu")
    # B1 (no-show) and B2 (used) granted 180 of the 300 open minutes; B3 rejected, B4 withdrawn.
    # Appointments: 人民调解 completed and cancelled, 法律援助 open; the week before, 法律援助 open.
    assert fuwu["services"] == service_figures(300, 180, 4, 3, 1, 1, [3, 1, 1, 1])
    assert fuwu["previousServices"] == service_figures(300, 0, 0, 0, 0, 0, [1, 0, 0, 1])
    assert fuwu["volunteers"] == {"hoursServed": 3.0, "activeVolunteers": 2, "activities": 1}
    assert fuwu["previousVolunteers"] == {"hoursServed": 1.0, "activeVolunteers": 1, "activities": 1}
    # November: 5 Mondays and 4 Tuesdays (朝阳 9 × 120, 青山 5 × 60); October: 4 and 4.
    fuwu_month = next(o for o in month["offices"] if o["slug"] == "fuwu")
    assert fuwu_month["services"] == service_figures(1380, 180, 4, 3, 1, 1, [4, 1, 1, 2])
    assert fuwu_month["previousServices"] == service_figures(1200, 0, 0, 0, 0, 0, [0, 0, 0, 0])
    assert fuwu_month["volunteers"] == {"hoursServed": 4.0, "activeVolunteers": 2, "activities": 2}
    # The platform's figures are the street offices' added up, each beside its period before.
    for dashboard in (week, month):
        for field in ("services", "previousServices", "volunteers", "previousVolunteers"):
            assert summed([dashboard], field) == summed(dashboard["offices"], field), field
    assert week["previous"] == {"first": "2026-11-09", "last": "2026-11-15"}
    # Counts only: no resident, volunteer or staff member appears by name or phone.
    shown = str(week) + str(month)
    assert not [phone for phone in services.residents.values() if phone in shown]
    assert "网格员" not in shown and "干事" not in shown


async def test_only_a_platform_admin_sees_the_platforms_services_and_volunteers(services: Office) -> None:
    variables = {"period": "WEEK", "on": "2026-11-18"}
    with services.clock.at(shanghai(NOW)):
        for who in (ADMIN, COMMUNITY_ADMIN, WORKER_1, STAFF, "R1"):
            body = await services.api.run(PLATFORM_SERVICES, variables, token=await services.as_(who))
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", who
            assert body["data"] is None
        anonymous = await services.api.run(PLATFORM_SERVICES, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_platform_dashboard_costs_the_same_statements_for_every_street_office(
    services: Office, app: Starlette, wanjia: Any
) -> None:
    """Each street office is read in its own row-level-security context, so the platform's
    dashboard costs a fixed few statements per street office: the same whatever the period and
    the rows in it, and the same for an empty street office as for one with rooms."""
    token = await platform_token(services, wanjia, "13600000006")

    async def statements(period: str, on: str) -> int:
        variables = {"period": period, "on": on}
        with services.clock.at(shanghai(NOW)):
            # Once first: a street office just onboarded makes the next request reload the directory.
            await services.api.data(PLATFORM_SERVICES, variables, token=token)
            return await services.api.statements(PLATFORM_SERVICES, variables, token=token)

    # A day without bookings, a week with four, a month with more appointments and activities.
    periods = (("DAY", "2026-11-19"), ("WEEK", "2026-11-18"), ("MONTH", "2026-11-18"), ("WEEK", "2026-11-02"))
    counts = {await statements(period, on) for period, on in periods}
    assert len(counts) == 1
    before = counts.pop()
    await _handle(app, street_office("kongbai", "空白街道"))
    with_empty = await statements("WEEK", "2026-11-18")
    await _handle(app, services_office() | {"slug": "fuwu2", "name": "服务二街道"})
    with_rooms = await statements("MONTH", "2026-11-18")
    assert with_rooms - with_empty == with_empty - before > 0
