"""Analytics: the rollups stay equal to a recount whatever steps are taken (a property-based
test), and each dashboard figure equals the answer worked out by hand on a small street office
of its own, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from resolvers import rollups
from resolvers.deadlines import calendar_of
from server.jobs import sweep_tenant
from tenants.context import unit_of_work
from tests.conftest import PASSWORD, _handle
from tests.support import Api, Clock, TenantHandle, fresh_phone, gid

T = TypeVar("T")

ADMIN = "13700000001"
COMMUNITY_ADMIN = "13700000002"
WORKER_1 = "13700000011"
WORKER_2 = "13700000012"
WORKER_3 = "13700000013"
STAFF = "13700000021"


def _staff(phone: str, name: str, role: dict[str, str]) -> dict[str, object]:
    return {"phone": phone, "name": name, "roles": [role], "initial_password": PASSWORD}


GAMMA = {
    "slug": "gamma",
    "name": "伽马街道",
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


@pytest.fixture(scope="module")
async def gamma(app: Starlette) -> TenantHandle:
    return await _handle(app, GAMMA)


@pytest.fixture(scope="module")
async def catalogue(api: Api, gamma: TenantHandle) -> dict[str, str]:
    """Global ids of gamma's categories and department, by code."""
    data = await api.data(
        "{ complaintCategories(first: 10) { edges { node { id code } } }"
        " departments(first: 10) { edges { node { id code } } } }",
        tenant="gamma",
    )
    return {
        e["node"]["code"]: e["node"]["id"] for e in data["complaintCategories"]["edges"] + data["departments"]["edges"]
    }


async def _consistent(app: Starlette, gamma: TenantHandle) -> tuple[rollups.Totals, rollups.Totals]:
    services = app.state.services
    tenant = await services.directory.by_id(gamma.id)
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        assert ctx.session is not None
        return await rollups.stored(ctx.session), await rollups.recount(ctx.session, calendar_of(ctx))


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
    api: Api, app: Starlette, clock: Clock, gamma: TenantHandle, catalogue: dict[str, str]
) -> None:
    loop = asyncio.get_running_loop()
    phone = fresh_phone()
    registered = await api.register_resident("gamma", gamma.buildings["C1-G1-B1"], phone=phone, name="李四")
    assert registered["errors"] == []
    tokens = {"resident": await api.token("gamma", phone)}
    for actor in (ADMIN, STAFF):
        tokens[actor] = await api.token("gamma", actor)

    async def submit(draft: dict[str, Any]) -> str:
        fields = {
            "title": "路灯不亮",
            "content": "小区东门路灯连续三晚不亮。",
            "categoryId": catalogue[draft["category"]],
            "buildingId": gid("Building", gamma.buildings[draft["building"]]),
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
            with clock.later(timedelta(days=number)):
                await sweep_tenant(app.state.services, await app.state.services.directory.by_id(gamma.id))
            return
        actor, input_type, extra = STEPS[name]
        fields: dict[str, Any] = {"complaintId": complaint_id, **extra}
        if name == "dispatchComplaint":
            fields["departmentId"] = catalogue["justice"]
        if name == "reassignComplaint":
            fields["gridId"] = gid("Grid", gamma.grids[["C1-G1", "C1-G2", "C2-G1"][number % 3]])
        if name == "confirmComplaint":
            fields["rating"] = number
        mutation = "resolveComplaint" if name == "resolveWorkOrder" else name
        await api.data(STEP % (input_type, mutation), {"input": fields}, token=tokens[actor])

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(complaint_drafts, min_size=1, max_size=3), st.lists(steps, max_size=12))
    def any_steps(drafts: list[dict[str, Any]], taken: list[tuple[str, int, int]]) -> None:
        ids = [_on(loop, submit(draft)) for draft in drafts]
        for name, which, number in taken:
            _on(loop, take(name, ids[which % len(ids)], number))
        kept, recounted = _on(loop, _consistent(app, gamma))
        assert kept == recounted

    await asyncio.to_thread(any_steps)
