"""Complaints through the endpoint: each path of the lifecycle as the right roles, every wrong
role refused, deadlines in working days, the periodic sweep, and the race between two people."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1, WORKER_2, WORKER_3, Wanjia
from tests.support import Api, Clock, TenantHandle, code_of, fresh_phone, gid

FIELDS = """id title status overdue resolveDueAt acknowledgeDueAt resolution rating
  handler { name } resident { name phone } grid { code } category { name resolveDays }
  department { name } timeline(first: 20) { edges { node { action actorName fromStatus toStatus note } } }"""
PAYLOAD = f"complaint {{ {FIELDS} }} errors {{ field code message }}"
SUBMIT = f"mutation($input: SubmitComplaintInput!) {{ submitComplaint(input: $input) {{ {PAYLOAD} }} }}"
LIST = f"query($filter: ComplaintFilter, $order: ComplaintOrder! = DEADLINE) {{ complaints(filter: $filter, order: $order, first: 100) {{ edges {{ node {{ {FIELDS} }} }} }} }}"


def step(name: str, input_type: str = "ComplaintStepInput") -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"


@pytest.fixture(scope="module")
async def category(api: Api) -> str:
    data = await api.data("{ complaintCategories(first: 10) { edges { node { id code } } } }", tenant="alpha")
    return next(e["node"]["id"] for e in data["complaintCategories"]["edges"] if e["node"]["code"] == "environment")


@pytest.fixture(scope="module")
async def justice(api: Api) -> str:
    data = await api.data("{ departments(first: 10) { edges { node { id code } } } }", tenant="alpha")
    return next(e["node"]["id"] for e in data["departments"]["edges"] if e["node"]["code"] == "justice")


class Story:
    """A resident of grid A1-G1 and the people around their complaints."""

    def __init__(self, api: Api, resident_phone: str, category: str) -> None:
        self.api = api
        self.phone = resident_phone
        self.category = category

    async def resident(self) -> str:
        return await self.api.token("alpha", self.phone)

    async def submit(self, **draft: Any) -> dict[str, Any]:
        complaint = {
            "title": "楼道堆放杂物",
            "content": "3单元楼道堆满纸箱，存在消防隐患。",
            "categoryId": self.category,
            **draft,
        }
        body = await self.api.data(SUBMIT, {"input": {"complaint": complaint}}, token=await self.resident())
        return body["submitComplaint"]

    async def act(
        self, token: str, name: str, complaint_id: str, input_type: str = "ComplaintStepInput", **fields: Any
    ) -> dict[str, Any]:
        data = await self.api.data(
            step(name, input_type), {"input": {"complaintId": complaint_id, **fields}}, token=token
        )
        return data[name]

    async def as_role(self, phone: str) -> str:
        return await self.api.token("alpha", phone)


@pytest.fixture
async def story(api: Api, alpha: TenantHandle, category: str) -> Story:
    phone = fresh_phone()
    assert (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="王大妈", phone=phone))[
        "errors"
    ] == []
    return Story(api, phone, category)


def actions(complaint: dict[str, Any]) -> list[str]:
    return [e["node"]["action"] for e in complaint["timeline"]["edges"]]


async def test_a_submitted_complaint_goes_to_the_grid_worker_of_the_residents_building(story: Story) -> None:
    result = await story.submit()
    assert result["errors"] == []
    complaint = result["complaint"]
    assert complaint["status"] == "SUBMITTED" and complaint["grid"]["code"] == "A1-G1"
    assert complaint["handler"]["name"] == "网格员一" and complaint["resident"]["name"] == "王大妈"
    assert actions(complaint) == ["SUBMIT"]
    worker = await story.as_role(WORKER_1)
    inbox = await story.api.data(LIST, token=worker)
    assert complaint["id"] in [e["node"]["id"] for e in inbox["complaints"]["edges"]]
    notes = await story.api.data(
        "{ notifications(first: 50) { edges { node { kind subject { id } } } } unreadNotificationCount }", token=worker
    )
    assert {"kind": "COMPLAINT_NEW", "subject": {"id": complaint["id"]}} in [
        e["node"] for e in notes["notifications"]["edges"]
    ]


async def test_only_those_in_scope_see_a_complaint(story: Story, api: Api) -> None:
    complaint = (await story.submit())["complaint"]
    query = "query($id: ID!) { node(id: $id) { ... on Complaint { title resident { phone } } } }"
    seen = {}
    for phone in (WORKER_1, WORKER_2, WORKER_3, STAFF, COMMUNITY_ADMIN, TENANT_ADMIN):
        seen[phone] = (await api.data(query, {"id": complaint["id"]}, token=await story.as_role(phone)))["node"]
    assert seen[WORKER_2] is None and seen[WORKER_3] is None and seen[STAFF] is None
    # Whole to the grid worker handling it, who calls the resident back, and to the admins.
    assert {seen[p]["resident"]["phone"] for p in (WORKER_1, COMMUNITY_ADMIN, TENANT_ADMIN)} == {story.phone}
    other = await api.register_resident("alpha", (await _building(api)), name="邻居")
    assert (await api.data(query, {"id": complaint["id"]}, token=other["tokens"]["accessToken"]))["node"] is None
    beta_admin = await api.token("beta", TENANT_ADMIN)
    assert (await api.data(query, {"id": complaint["id"]}, token=beta_admin))["node"] is None


async def _building(api: Api) -> Any:
    data = await api.data(
        "{ communities(first: 1) { edges { node { grids(first: 1) { edges { node { buildings(first: 1) { edges { node { id } } } } } } } } } }",
        tenant="alpha",
    )
    from strawberry.relay import from_base64

    return from_base64(
        data["communities"]["edges"][0]["node"]["grids"]["edges"][0]["node"]["buildings"]["edges"][0]["node"]["id"]
    )[1]


async def test_the_grid_worker_handles_it_and_the_resident_confirms_and_rates(story: Story) -> None:
    complaint_id = (await story.submit())["complaint"]["id"]
    worker = await story.as_role(WORKER_1)
    assert (await story.act(worker, "acceptComplaint", complaint_id))["complaint"]["status"] == "ACCEPTED"
    assert (await story.act(worker, "startComplaintWork", complaint_id))["complaint"]["status"] == "IN_PROGRESS"
    resolved = await story.act(
        worker, "resolveComplaint", complaint_id, "ResolveComplaintInput", reply="已联系物业清理完毕。"
    )
    assert (
        resolved["complaint"]["status"] == "RESOLVED" and resolved["complaint"]["resolution"] == "已联系物业清理完毕。"
    )
    closed = await story.act(
        await story.resident(), "confirmComplaint", complaint_id, "ConfirmComplaintInput", rating=5, comment="很满意"
    )
    assert closed["errors"] == [] and closed["complaint"]["status"] == "CLOSED" and closed["complaint"]["rating"] == 5
    assert actions(closed["complaint"]) == ["SUBMIT", "ACCEPT", "START_WORK", "RESOLVE", "CONFIRM"]
    kinds = await story.api.data(
        "{ notifications(first: 50) { edges { node { kind body } } } }", token=await story.resident()
    )
    assert len([e for e in kinds["notifications"]["edges"] if e["node"]["kind"] == "COMPLAINT_STATUS"]) == 3


async def test_a_work_order_goes_to_the_department_and_back(story: Story, justice: str) -> None:
    complaint_id = (await story.submit())["complaint"]["id"]
    worker, staff = await story.as_role(WORKER_1), await story.as_role(STAFF)
    await story.act(worker, "acceptComplaint", complaint_id)
    dispatched = await story.act(
        worker,
        "dispatchComplaint",
        complaint_id,
        "DispatchComplaintInput",
        departmentId=justice,
        dueInWorkingDays=5,
        note="涉及纠纷调解",
    )
    assert (
        dispatched["complaint"]["status"] == "DISPATCHED" and dispatched["complaint"]["department"]["name"] == "司法所"
    )
    # The department works on it with the resident's phone masked: only the grid worker calls back.
    seen = await story.api.data(
        "query($id: ID!) { node(id: $id) { ... on Complaint { resident { phone } } } }",
        {"id": complaint_id},
        token=staff,
    )
    assert seen["node"]["resident"]["phone"] == f"{story.phone[:3]}****{story.phone[-4:]}"
    early = await story.act(staff, "resolveComplaint", complaint_id, "ResolveComplaintInput", reply="已调解")
    assert early["errors"][0]["code"] == "INVALID_TRANSITION"
    returned = await story.act(
        staff, "returnComplaintToGrid", complaint_id, "ComplaintReasonInput", reason="不属于本部门职责"
    )
    # Sent back, it is no longer the department's to see.
    assert returned == {"complaint": None, "errors": []}
    back = (
        await story.api.data(
            "query($id: ID!) { node(id: $id) { ... on Complaint { status department { name } } } }",
            {"id": complaint_id},
            token=worker,
        )
    )["node"]
    assert back == {"status": "IN_PROGRESS", "department": None}
    await story.act(
        worker, "dispatchComplaint", complaint_id, "DispatchComplaintInput", departmentId=justice, dueInWorkingDays=5
    )
    assert (await story.act(staff, "acceptWorkOrder", complaint_id))["errors"] == []
    resolved = await story.act(
        staff, "resolveComplaint", complaint_id, "ResolveComplaintInput", reply="双方已达成调解协议。"
    )
    assert resolved["complaint"]["status"] == "RESOLVED"
    assert actions(resolved["complaint"]) == [
        "SUBMIT",
        "ACCEPT",
        "DISPATCH",
        "RETURN_TO_GRID",
        "DISPATCH",
        "DEPARTMENT_ACCEPT",
        "RESOLVE",
    ]


async def test_wrong_roles_are_refused_and_nothing_changes(story: Story, justice: str) -> None:
    complaint_id = (await story.submit())["complaint"]["id"]
    refusals = [
        (await story.resident(), "acceptComplaint", "FORBIDDEN"),
        (await story.as_role(WORKER_2), "acceptComplaint", "NOT_FOUND"),
        (await story.as_role(STAFF), "acceptComplaint", "FORBIDDEN"),
        (await story.as_role(WORKER_1), "withdrawComplaint", "FORBIDDEN"),
        (await story.api.token("beta", WORKER_1), "acceptComplaint", "NOT_FOUND"),
    ]
    answered = []
    for token, mutation, _ in refusals:
        result = await story.act(token, mutation, complaint_id)
        answered.append((mutation, result["complaint"], code_of(result)))
    assert answered == [(mutation, None, code) for _, mutation, code in refusals]
    staff_dispatch = await story.act(
        await story.as_role(STAFF),
        "dispatchComplaint",
        complaint_id,
        "DispatchComplaintInput",
        departmentId=justice,
        dueInWorkingDays=3,
    )
    assert staff_dispatch["errors"][0]["code"] == "FORBIDDEN"
    worker_supervise = await story.act(
        await story.as_role(WORKER_1),
        "superviseComplaint",
        complaint_id,
        "SuperviseComplaintInput",
        note="快",
        dueInWorkingDays=1,
    )
    assert worker_supervise["errors"][0]["code"] == "FORBIDDEN"
    state = await story.api.data(LIST, {"filter": {"statuses": ["SUBMITTED"]}}, token=await story.resident())
    mine = [e["node"] for e in state["complaints"]["edges"] if e["node"]["id"] == complaint_id]
    assert mine and actions(mine[0]) == ["SUBMIT"]


async def test_an_illegal_step_names_the_current_state(story: Story) -> None:
    complaint_id = (await story.submit())["complaint"]["id"]
    result = await story.act(
        await story.resident(), "confirmComplaint", complaint_id, "ConfirmComplaintInput", rating=5
    )
    assert result["errors"] == [
        {"field": "complaintId", "code": "INVALID_TRANSITION", "message": "该诉求当前状态为“待受理”，不能确认评价。"}
    ]


async def test_the_resident_withdraws_before_acceptance_but_not_after(story: Story) -> None:
    first = (await story.submit())["complaint"]["id"]
    assert (await story.act(await story.resident(), "withdrawComplaint", first))["complaint"]["status"] == "WITHDRAWN"
    second = (await story.submit())["complaint"]["id"]
    await story.act(await story.as_role(WORKER_1), "acceptComplaint", second)
    assert (await story.act(await story.resident(), "withdrawComplaint", second))["errors"][0][
        "code"
    ] == "INVALID_TRANSITION"


async def test_rejection_needs_a_reason_the_resident_sees(story: Story) -> None:
    complaint_id = (await story.submit())["complaint"]["id"]
    worker = await story.as_role(WORKER_1)
    empty = await story.act(worker, "rejectComplaint", complaint_id, "ComplaintReasonInput", reason="  ")
    assert empty["errors"][0]["field"] == "reason"
    rejected = await story.act(
        worker, "rejectComplaint", complaint_id, "ComplaintReasonInput", reason="属于私人纠纷，请通过司法途径解决"
    )
    assert rejected["complaint"]["status"] == "REJECTED"
    assert rejected["complaint"]["timeline"]["edges"][-1]["node"]["note"] == "属于私人纠纷，请通过司法途径解决"


async def _resolved(story: Story) -> str:
    complaint_id = (await story.submit())["complaint"]["id"]
    worker = await story.as_role(WORKER_1)
    for name in ("acceptComplaint", "startComplaintWork"):
        await story.act(worker, name, complaint_id)
    await story.act(worker, "resolveComplaint", complaint_id, "ResolveComplaintInput", reply="已处理")
    return complaint_id


async def test_an_unsatisfied_resident_reopens_within_the_window_only(story: Story, clock: Clock) -> None:
    complaint_id = await _resolved(story)
    reopened = await story.act(
        await story.resident(), "reopenComplaint", complaint_id, "ComplaintReasonInput", reason="杂物又堆回来了"
    )
    assert reopened["complaint"]["status"] == "REOPENED"
    worker = await story.as_role(WORKER_1)
    assert (await story.act(worker, "startComplaintWork", complaint_id))["complaint"]["status"] == "IN_PROGRESS"
    await story.act(worker, "resolveComplaint", complaint_id, "ResolveComplaintInput", reply="再次清理")
    with clock.later(timedelta(days=8)):
        late = await story.act(
            await story.resident(), "reopenComplaint", complaint_id, "ComplaintReasonInput", reason="还是不行"
        )
    assert late["errors"][0]["code"] == "REOPEN_WINDOW_PASSED"


async def test_an_admin_reassigns_to_another_grid_and_supervises(story: Story, api: Api, alpha: TenantHandle) -> None:
    complaint_id = (await story.submit())["complaint"]["id"]
    admin = await story.as_role(COMMUNITY_ADMIN)
    moved = await story.act(
        admin,
        "reassignComplaint",
        complaint_id,
        "ReassignComplaintInput",
        gridId=gid("Grid", alpha.grids["A1-G2"]),
        note="属于二网格",
    )
    assert moved["complaint"]["grid"]["code"] == "A1-G2" and moved["complaint"]["handler"]["name"] == "网格员二"
    outside = await story.act(
        admin, "reassignComplaint", complaint_id, "ReassignComplaintInput", gridId=gid("Grid", alpha.grids["A2-G1"])
    )
    assert outside["errors"][0]["field"] == "gridId"
    assert (await story.act(await story.as_role(WORKER_1), "acceptComplaint", complaint_id))["errors"][0][
        "code"
    ] == "NOT_FOUND"
    supervised = await story.act(
        admin, "superviseComplaint", complaint_id, "SuperviseComplaintInput", note="请今天内处理", dueInWorkingDays=1
    )
    assert supervised["errors"] == [] and actions(supervised["complaint"])[-1] == "SUPERVISE"
    worker_2 = await story.as_role(WORKER_2)
    notes = await api.data("{ notifications(first: 50) { edges { node { kind } } } }", token=worker_2)
    assert {"COMPLAINT_NEW", "COMPLAINT_SUPERVISED"} <= {e["node"]["kind"] for e in notes["notifications"]["edges"]}


async def test_bad_input_is_explained_field_by_field_and_nothing_is_written(story: Story) -> None:
    before = await story.api.data("{ complaintCounts { total } }", token=await story.resident())
    result = await story.submit(
        title="",
        content="x" * 1001,
        categoryId=gid("ComplaintCategory", "01000000-0000-7000-8000-000000000000"),
        latitude=10.0,
    )
    assert result["complaint"] is None
    assert {e["field"] for e in result["errors"]} == {"title", "content", "categoryId", "latitude"}
    assert await story.api.data("{ complaintCounts { total } }", token=await story.resident()) == before


async def test_an_address_outside_a_building_needs_a_grid(story: Story, alpha: TenantHandle) -> None:
    result = await story.submit(
        address="东风路与青年路交叉口", gridId=gid("Grid", alpha.grids["A2-G1"]), latitude=40.65, longitude=109.84
    )
    assert result["errors"] == [] and result["complaint"]["grid"]["code"] == "A2-G1"
    assert result["complaint"]["handler"]["name"] == "网格员三"


async def test_inbox_filters_search_and_sorts_by_deadline(story: Story) -> None:
    marker = "井盖松动"
    first = (await story.submit(title=f"{marker}一号"))["complaint"]["id"]
    second = (await story.submit(title=f"{marker}二号"))["complaint"]["id"]
    worker = await story.as_role(WORKER_1)
    await story.act(worker, "acceptComplaint", second)
    found = await story.api.data(LIST, {"filter": {"search": marker}}, token=worker)
    assert [e["node"]["id"] for e in found["complaints"]["edges"]] == [first, second]
    accepted = await story.api.data(LIST, {"filter": {"search": marker, "statuses": ["ACCEPTED"]}}, token=worker)
    assert [e["node"]["id"] for e in accepted["complaints"]["edges"]] == [second]
    newest = await story.api.data(LIST, {"filter": {"search": marker}, "order": "NEWEST"}, token=worker)
    assert [e["node"]["id"] for e in newest["complaints"]["edges"]] == [second, first]
    paged = (
        "query($after: String) { complaints(first: 1, after: $after, filter: {search: "
        f'"{marker}"}}) {{ edges {{ node {{ id }} }} pageInfo {{ endCursor hasNextPage }} }} }}'
    )
    page_one = (await story.api.data(paged, token=worker))["complaints"]
    page_two = (await story.api.data(paged, {"after": page_one["pageInfo"]["endCursor"]}, token=worker))["complaints"]
    assert [page_one["edges"][0]["node"]["id"], page_two["edges"][0]["node"]["id"]] == [first, second]
    assert page_one["pageInfo"]["hasNextPage"] and not page_two["pageInfo"]["hasNextPage"]
    counts = await story.api.data(
        "{ complaintCounts { byStatus { status count } overdue total } }", token=await story.resident()
    )
    assert counts["complaintCounts"]["total"] == sum(s["count"] for s in counts["complaintCounts"]["byStatus"])


async def test_search_finds_the_text_as_typed_in_title_or_content_and_only_in_the_tenant(
    story: Story, api: Api, beta: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text of three characters or more goes through the trigram index first (FTS5 on SQLite,
    complaints_matching on PostgreSQL); a word found too often for the index is walked instead:
    the answers are the same, LIKE's wildcards match only themselves and Latin letters match in
    either case."""
    word = f"查找{fresh_phone()}"
    in_title = (await story.submit(title=f"井盖{word}松动"))["complaint"]["id"]
    in_content = (await story.submit(title="路灯不亮", content=f"晚上{word}Lift不亮"))["complaint"]["id"]
    wildcards = (await story.submit(title=f"折扣50%_\\{word}"))["complaint"]["id"]
    phone = fresh_phone()
    await api.register_resident("beta", beta.buildings["B1-G1-B1"], phone=phone)
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="beta")
    draft = {"title": f"井盖{word}松动", "content": "请尽快处理"}
    draft["categoryId"] = categories["complaintCategories"]["edges"][0]["node"]["id"]
    submitted = await api.data(SUBMIT, {"input": {"complaint": draft}}, token=await api.token("beta", phone))
    elsewhere = submitted["submitComplaint"]["complaint"]["id"]
    admin = await story.as_role(TENANT_ADMIN)

    async def found(text: str, token: str = admin) -> set[str]:
        listed = await api.data(LIST, {"filter": {"search": text}}, token=token)
        return {e["node"]["id"] for e in listed["complaints"]["edges"]}

    searches = {
        word: {in_title, in_content, wildcards},
        f"{word}lift": {in_content},
        f"{word}LIFT": {in_content},
        f"0%_\\{word}": {wildcards},
        f"0__\\{word}": set(),
        f"0%%\\{word}": set(),
    }
    assert {text: await found(text) for text in searches} == searches
    assert await found(word, await api.token("beta", TENANT_ADMIN)) == {elsewhere}
    monkeypatch.setattr("resolvers.complaints.SEARCH_INDEX_CAP", 1)
    assert {text: await found(text) for text in searches} == searches


async def test_the_public_feed_shows_resolved_items_allowed_public_without_the_resident(
    story: Story, api: Api, alpha: TenantHandle
) -> None:
    shown = (await story.submit(title="路灯不亮已修好", isPublic=True))["complaint"]["id"]
    worker = await story.as_role(WORKER_1)
    for name in ("acceptComplaint", "startComplaintWork"):
        await story.act(worker, name, shown)
    await story.act(worker, "resolveComplaint", shown, "ResolveComplaintInput", reply="已更换灯泡")
    await _resolved(story)  # resolved, but not allowed public
    query = "query($c: ID!) { publicComplaints(communityId: $c, first: 100) { edges { node { title resolution categoryName } } } }"
    feed = await api.data(query, {"c": gid("Community", alpha.communities["A1"])}, tenant="alpha")
    titles = [e["node"]["title"] for e in feed["publicComplaints"]["edges"]]
    # PublicComplaint has no field for the resident (schema/schema.graphql): nothing to look for here.
    assert "路灯不亮已修好" in titles and "楼道堆放杂物" not in titles


async def test_deadlines_count_working_days_across_the_national_day_holiday(story: Story, clock: Clock) -> None:
    # Submitted 10:00 on Wednesday 30 September 2026; 1–7 October is the holiday and Saturday
    # 10 October a make-up working day. Three working days: 8, 9 and 10 October.
    with clock.at(datetime(2026, 9, 30, 2, 0, tzinfo=UTC)):
        complaint = (await story.submit())["complaint"]
    assert complaint["resolveDueAt"] == "2026-10-10T17:00:00+08:00"
    assert complaint["acknowledgeDueAt"] == "2026-09-30T14:00:00+08:00"


async def test_the_sweep_flags_overdue_once_and_closes_unconfirmed(story: Story, app, api: Api, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    from server.jobs import run_jobs

    overdue_id = (await story.submit(title="超期测试"))["complaint"]["id"]
    resolved_id = await _resolved(story)
    with clock.later(timedelta(days=30)):
        await run_jobs(app.state.services)
        await run_jobs(app.state.services)
        worker = await story.as_role(WORKER_1)
        item = (
            await api.data(
                "query($id: ID!) { node(id: $id) { ... on Complaint { overdue timeline(first: 20) { edges { node { action } } } } } }",
                {"id": overdue_id},
                token=worker,
            )
        )["node"]
        closed = (
            await api.data(
                "query($id: ID!) { node(id: $id) { ... on Complaint { status timeline(first: 20) { edges { node { action actorName } } } } } }",
                {"id": resolved_id},
                token=await story.resident(),
            )
        )["node"]
    assert item["overdue"] is True and actions(item).count("MARK_OVERDUE") == 1
    assert closed["status"] == "CLOSED" and closed["timeline"]["edges"][-1]["node"] == {
        "action": "AUTO_CLOSE",
        "actorName": None,
    }
    admin_notes = await api.data(
        "{ notifications(first: 100) { edges { node { kind subject { id } } } } }",
        token=await story.as_role(TENANT_ADMIN),
    )
    overdue_notes = [
        e
        for e in admin_notes["notifications"]["edges"]
        if e["node"] == {"kind": "COMPLAINT_OVERDUE", "subject": {"id": overdue_id}}
    ]
    assert len(overdue_notes) == 1


async def _every_node(api: Api, token: str, connection: str, node: str) -> list[dict[str, Any]]:
    """Every node of one of the caller's connections (`node`: the fields asked), page by page."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = (
            await api.data(
                f"query($after: String) {{ {connection}(first: 100, after: $after) "
                f"{{ edges {{ node {{ {node} }} }} pageInfo {{ endCursor hasNextPage }} }} }}",
                {"after": after},
                token=token,
            )
        )[connection]
        found += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def _overdue_listed(api: Api, token: str) -> set[str]:
    """The complaints the caller's list shows overdue, each judged on its own deadlines."""
    return {c["id"] for c in await _every_node(api, token, "complaints", "id overdue") if c["overdue"]}


async def test_admins_count_overdue_items_as_their_lists_show_them_before_and_after_the_sweep(  # type: ignore[no-untyped-def]
    story: Story, app, api: Api, clock: Clock
) -> None:
    """An admin's overdue count comes from the status rollups (items the sweep flagged overdue
    for good) plus the items past a deadline since: through each state in between, it is the
    number of overdue items the admin's own list shows, and the item followed is among them
    exactly when it is overdue. It happens two months ahead: the other tests' sweeps ran at most
    a month ahead, and a flag set later than the clock now says would not be overdue yet."""
    from server.jobs import run_jobs

    with clock.later(timedelta(days=60)):
        submitted = (await story.submit(title="超期计数"))["complaint"]
    followed = submitted["id"]
    # The app's clock tells UTC, as in production (SQLite compares the times as written).
    acknowledge_due = datetime.fromisoformat(submitted["acknowledgeDueAt"]).astimezone(UTC)
    resolve_due = datetime.fromisoformat(submitted["resolveDueAt"]).astimezone(UTC)
    assert acknowledge_due < resolve_due - timedelta(hours=1)

    async def counted(expected_overdue: bool) -> None:
        for phone in (TENANT_ADMIN, COMMUNITY_ADMIN):
            token = await story.as_role(phone)
            listed = await _overdue_listed(api, token)
            counts = await api.data("{ complaintCounts { overdue } }", token=token)
            assert counts["complaintCounts"]["overdue"] == len(listed), phone
            assert (followed in listed) is expected_overdue, phone

    with clock.at(acknowledge_due + timedelta(minutes=1)):
        await counted(True)  # not acknowledged in time, not yet flagged
        await run_jobs(app.state.services)
        await counted(True)  # flagged while unacknowledged: counted by the rollups
        accepted = await story.act(await story.as_role(WORKER_1), "acceptComplaint", followed)
        assert accepted["complaint"]["status"] == "ACCEPTED"
        await counted(False)  # acknowledged late, its resolve deadline still ahead
    with clock.at(resolve_due + timedelta(minutes=1)):
        await counted(True)  # past its resolve deadline, flagged only for the acknowledgement
        await run_jobs(app.state.services)
        await counted(True)  # flagged again: counted by the rollups
        worker = await story.as_role(WORKER_1)
        started = await story.act(worker, "startComplaintWork", followed)
        flags = [e["node"] for e in started["complaint"]["timeline"]["edges"] if e["node"]["action"] == "MARK_OVERDUE"]
        assert [flag["note"] for flag in flags] == ["已超过受理期限", "已超过办理期限"]
        told = await _every_node(api, worker, "notifications", "kind subject { id } body")
        overdue_told = [
            n["body"] for n in told if n["kind"] == "COMPLAINT_OVERDUE" and n["subject"] == {"id": followed}
        ]
        assert sorted(overdue_told) == ["“超期计数”已超过办理期限。", "“超期计数”已超过受理期限。"]
        await counted(True)
        resolved = await story.act(worker, "resolveComplaint", followed, "ResolveComplaintInput", reply="已处理")
        assert resolved["complaint"]["status"] == "RESOLVED"
        await counted(False)


async def test_people_accepting_at_once_exactly_one_wins(story: Story, app) -> None:  # type: ignore[no-untyped-def]
    complaint_id = (await story.submit())["complaint"]["id"]
    tokens = [await story.as_role(phone) for phone in (WORKER_1, COMMUNITY_ADMIN, TENANT_ADMIN)] * 2
    results = await asyncio.gather(*(story.act(token, "acceptComplaint", complaint_id) for token in tokens))
    winners = [r for r in results if not r["errors"]]
    losers = [r for r in results if r["errors"]]
    assert len(winners) == 1 and len(losers) == 5
    # Refused either at the write (the version moved under it) or at the read (already accepted).
    assert {r["errors"][0]["code"] for r in losers} <= {"CONFLICT", "INVALID_TRANSITION"}
    assert actions(winners[0]["complaint"]).count("ACCEPT") == 1


async def test_notifications_are_marked_read(story: Story, api: Api) -> None:
    await story.submit()
    worker = await story.as_role(WORKER_1)
    before = (await api.data("{ unreadNotificationCount }", token=worker))["unreadNotificationCount"]
    assert before > 0
    marked = await api.data(
        "mutation { markNotificationsRead(input: {}) { marked unreadCount errors { code } } }", token=worker
    )
    assert marked["markNotificationsRead"] == {"marked": before, "unreadCount": 0, "errors": []}


async def test_a_tenant_admin_edits_a_category_and_others_cannot(api: Api, category: str) -> None:
    mutation = "mutation($input: UpdateComplaintCategoryInput!) { updateComplaintCategory(input: $input) { category { name resolveDays } errors { field code } } }"
    edit = {"categoryId": category, "name": "环境卫生", "acknowledgeHours": 4, "resolveDays": 3}
    worker = await api.data(mutation, {"input": edit}, token=await api.token("alpha", WORKER_1))
    assert worker["updateComplaintCategory"]["errors"][0]["code"] == "FORBIDDEN"
    bad = await api.data(mutation, {"input": {**edit, "resolveDays": 0}}, token=await api.token("alpha", TENANT_ADMIN))
    assert bad["updateComplaintCategory"]["errors"] == [{"field": "resolveDays", "code": "INVALID"}]
    foreign = await api.data(mutation, {"input": edit}, token=await api.token("beta", TENANT_ADMIN))
    assert foreign["updateComplaintCategory"]["errors"] == [{"field": "categoryId", "code": "NOT_FOUND"}]
    good = await api.data(mutation, {"input": edit}, token=await api.token("alpha", TENANT_ADMIN))
    assert good["updateComplaintCategory"] == {"category": {"name": "环境卫生", "resolveDays": 3}, "errors": []}


async def test_a_grid_without_a_worker_falls_to_the_admins(api: Api, alpha: TenantHandle, category: str) -> None:
    phone = fresh_phone()
    await api.register_resident("alpha", alpha.buildings["A2-G2-B1"], phone=phone)
    story = Story(api, phone, category)
    complaint = (await story.submit(title="无人网格的诉求"))["complaint"]
    assert complaint["handler"] is None
    admin = await api.token("alpha", TENANT_ADMIN)
    notes = await api.data("{ notifications(first: 100) { edges { node { kind subject { id } } } } }", token=admin)
    assert {"kind": "COMPLAINT_NEW", "subject": {"id": complaint["id"]}} in [
        e["node"] for e in notes["notifications"]["edges"]
    ]
    accepted = await story.act(admin, "acceptComplaint", complaint["id"])
    assert accepted["complaint"]["status"] == "ACCEPTED"


FILE = f"mutation($input: FileComplaintInput!) {{ fileComplaint(input: $input) {{ {PAYLOAD} }} }}"


async def test_a_grid_worker_files_for_a_resident_by_phone_and_from_an_inspection(
    api: Api, alpha: TenantHandle, category: str
) -> None:
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B2"], name="赵大爷")
    worker = await api.token("alpha", WORKER_1)
    by_phone = {
        "source": "PHONE",
        "residentId": registered["resident"]["id"],
        "complaint": {"title": "暖气不热", "content": "电话反映家中暖气温度低。", "categoryId": category},
    }
    filed = (await api.data(FILE, {"input": by_phone}, token=worker))["fileComplaint"]
    assert filed["errors"] == [] and filed["complaint"]["resident"]["name"] == "赵大爷"
    mine = await api.data(LIST, token=registered["tokens"]["accessToken"])
    assert filed["complaint"]["id"] in [e["node"]["id"] for e in mine["complaints"]["edges"]]
    inspection = {
        "source": "INSPECTION",
        "complaint": {
            "title": "护栏破损",
            "content": "巡查发现小区北侧护栏破损。",
            "categoryId": category,
            "address": "小区北侧",
            "gridId": gid("Grid", alpha.grids["A1-G1"]),
        },
    }
    found = (await api.data(FILE, {"input": inspection}, token=worker))["fileComplaint"]
    assert found["errors"] == [] and found["complaint"]["resident"] is None
    resident_try = (await api.data(FILE, {"input": inspection}, token=registered["tokens"]["accessToken"]))[
        "fileComplaint"
    ]
    assert resident_try["errors"][0]["code"] == "FORBIDDEN"
    as_app = (await api.data(FILE, {"input": {**inspection, "source": "APP"}}, token=worker))["fileComplaint"]
    assert as_app["errors"][0]["field"] == "source"


async def test_the_complaint_list_costs_the_same_statements_whatever_its_length(story: Story) -> None:
    """As the resident, whose three complaints have the same shape: a page of the whole office
    holds items with and without a handler or department, whose loaders then run or not."""
    for _ in range(3):
        await story.submit()
    resident = await story.resident()
    query = """query($n: Int!) { complaints(first: $n) { edges { node { title community { name } building { name }
      department { name } handler { name } resident { phone } category { name } timeline(first: 5) { edges { node { action } } }
      attachments { url } } } } }"""

    await story.api.data(query, {"n": 1}, token=resident)  # the caller's session is checked once, then remembered

    async def statements(n: int) -> int:
        return await story.api.statements(query, {"n": n}, token=resident)

    assert await statements(1) == await statements(3) == await statements(20)


async def test_the_jobs_command_sweeps_every_tenant(alpha: TenantHandle, beta: TenantHandle, wanjia: Wanjia) -> None:
    # In-process (the suite's one real process of `wanjia` is in tests/test_onboarding.py). At
    # cron's width, 80 without a terminal, each report is still one line.
    done = await wanjia("jobs", "run", COLUMNS="80")
    assert done.exit_code == 0, done.output
    # One report line per street office, every sweep counted (not merely the names printed).
    counted = r"：诉求超期 \d+，自动关闭 \d+，预约超时未审核 \d+，预约超时未联系 \d+，志愿活动提醒 \d+，自动结束 \d+$"
    reported = {slug: bool(re.search(f"^{slug}{counted}", done.stdout, re.MULTILINE)) for slug in ("alpha", "beta")}
    assert reported == {"alpha": True, "beta": True}, done.stdout
