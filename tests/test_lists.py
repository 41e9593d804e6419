"""Lists apps can build screens from: every connection says how many items the whole list holds
(capped, counted only when asked, batched for nested lists, weighed by the cost analysis);
complaints filter by place, department, category, source, dates and lateness, and page in each
of their orders with keyset cursors."""

from __future__ import annotations

from typing import Any

import pytest

from models.database import counting_statements
from tests.conftest import BACKEND, COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1
from tests.support import Api, TenantHandle, fresh_phone, gid, statements_of

EDGES = "edges { node { id title status } } pageInfo { hasNextPage endCursor } totalCount totalCountIsCapped"


@pytest.fixture(scope="module")
async def placed(api: Api, alpha: TenantHandle) -> dict[str, Any]:
    """Complaints in three grids of two communities, from the app and by phone, one dispatched."""
    admin = await api.token("alpha", TENANT_ADMIN)
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    departments = await api.data("{ departments(first: 10) { edges { node { id code } } } }", tenant="alpha")
    category = categories["complaintCategories"]["edges"][0]["node"]["id"]
    justice = next(e["node"]["id"] for e in departments["departments"]["edges"] if e["node"]["code"] == "justice")
    ids: dict[str, list[str]] = {"A1-G1": [], "A1-G2": [], "A2-G1": [], "phone": []}
    for grid in ("A1-G1", "A1-G2", "A2-G1"):
        building = {"A1-G1": "A1-G1-B1", "A1-G2": "A1-G2-B1", "A2-G1": "A2-G1-B1"}[grid]
        phone = fresh_phone()
        await api.register_resident("alpha", alpha.buildings[building], phone=phone)
        for n in range(2):
            submitted = await api.data(
                """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } } }""",
                {"input": {"complaint": {"title": f"列表{grid}-{n}", "content": "筛选与排序", "categoryId": category}}},
                token=await api.token("alpha", phone),
            )
            ids[grid].append(submitted["submitComplaint"]["complaint"]["id"])
    filed = await api.data(
        """mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id } errors { code } } }""",
        {
            "input": {
                "source": "PHONE",
                "complaint": {
                    "title": "列表电话",
                    "content": "电话反映",
                    "categoryId": category,
                    "gridId": gid("Grid", alpha.grids["A1-G1"]),
                    "address": "东风路口",
                },
            }
        },
        token=admin,
    )
    ids["phone"].append(filed["fileComplaint"]["complaint"]["id"])
    worker = await api.token("alpha", WORKER_1)
    first = ids["A1-G1"][0]
    for name, extra in (
        ("acceptComplaint", {}),
        ("dispatchComplaint", {"departmentId": justice, "dueInWorkingDays": 2}),
    ):
        input_type = {"acceptComplaint": "ComplaintStepInput", "dispatchComplaint": "DispatchComplaintInput"}[name]
        done = await api.data(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {{ code }} }} }}",
            {"input": {"complaintId": first, **extra}},
            token=worker,
        )
        assert done[name]["errors"] == []
    return {
        "ids": ids,
        "justice": justice,
        "grids": {code: gid("Grid", alpha.grids[code]) for code in ("A1-G1", "A1-G2", "A2-G1")},
        "communities": {code: gid("Community", alpha.communities[code]) for code in ("A1", "A2")},
    }


async def listed(api: Api, token: str, **arguments: Any) -> dict[str, Any]:
    data = await api.data(
        f"""query($filter: ComplaintFilter, $order: ComplaintOrder!, $first: Int, $after: String) {{
              complaints(filter: $filter, order: $order, first: $first, after: $after) {{ {EDGES} }} }}""",
        {"order": "NEWEST", **arguments},
        token=token,
    )
    connection: dict[str, Any] = data["complaints"]
    return connection


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in connection["edges"]]


async def test_total_count_counts_the_whole_filtered_list_not_the_page(api: Api, placed: dict[str, Any]) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    everything = await listed(api, admin, first=100)
    assert everything["totalCount"] == len(everything["edges"]) and not everything["totalCountIsCapped"]
    one = await listed(api, admin, first=1)
    assert one["totalCount"] == everything["totalCount"] and len(one["edges"]) == 1
    later = await listed(api, admin, first=1, after=one["pageInfo"]["endCursor"])
    assert later["totalCount"] == everything["totalCount"]
    # Other tests' complaints may be in the grid too: ours are the ones titled so.
    grid = await listed(api, admin, filter={"gridId": placed["grids"]["A1-G2"], "search": "列表A1-G2"})
    assert grid["totalCount"] == 2 and set(ids_of(grid)) == set(placed["ids"]["A1-G2"])


async def test_the_count_is_capped_and_says_so(
    api: Api, placed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers import pagination

    monkeypatch.setattr(pagination, "TOTAL_COUNT_CAP", 3)
    admin = await api.token("alpha", TENANT_ADMIN)
    capped = await listed(api, admin, first=1)
    assert (capped["totalCount"], capped["totalCountIsCapped"]) == (3, True)
    exact = await listed(api, admin, filter={"gridId": placed["grids"]["A1-G2"], "search": "列表A1-G2"})
    assert (exact["totalCount"], exact["totalCountIsCapped"]) == (2, False)


async def test_a_count_is_one_statement_and_only_when_asked(api: Api, placed: dict[str, Any]) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    query = "{ complaints(first: 5) { edges { cursor } %s } }"
    await api.data(query % "", token=admin)  # the caller's session is checked once, then remembered

    async def statements(selection: str) -> int:
        return await api.statements(query % selection, token=admin)

    plain = await statements("")
    assert await statements("totalCount") == plain + 1
    assert await statements("totalCount totalCountIsCapped") == plain + 1


async def test_nested_counts_are_batched_whatever_the_number_of_parents(api: Api) -> None:
    query = "query($n: Int!) { communities(first: $n) { edges { node { grids(first: 1) { totalCount edges { node { buildings(first: 1) { totalCount } } } } } } } }"
    await api.data(query, {"n": 1}, tenant="alpha")

    async def statements(communities: int) -> tuple[int, list[int]]:
        with counting_statements() as counter:
            data = await api.data(query, {"n": communities}, tenant="alpha")
        return counter.count, [e["node"]["grids"]["totalCount"] for e in data["communities"]["edges"]]

    one, counts = await statements(1)
    two, both = await statements(2)
    assert one == two and counts == [2] and both == [2, 2]


async def test_the_cost_analysis_weighs_a_count(api: Api) -> None:
    async def cost(selection: str) -> int:
        body = await api.run("{ communities(first: 5) { " + selection + " } }", tenant="alpha")
        requested: int = body["extensions"]["cost"]["requested"]
        return requested

    plain = await cost("edges { cursor }")
    assert await cost("edges { cursor } totalCount") > plain
    nested_one = await cost("edges { node { grids(first: 5) { totalCount } } }")
    nested_none = await cost("edges { node { grids(first: 5) { edges { cursor } } } }")
    assert nested_one - nested_none == 5 * (await cost("edges { cursor } totalCount") - plain)


@pytest.mark.parametrize(
    ("role", "arguments", "expected"),
    [
        ("admin", {"communityId": "A2"}, ["A2-G1"]),
        ("admin", {"gridId": "A1-G2"}, ["A1-G2"]),
        ("admin", {"departmentId": "justice"}, ["A1-G1:0"]),
        ("admin", {"sources": ["PHONE"]}, ["phone"]),
        ("admin", {"sources": ["APP"], "communityId": "A1"}, ["A1-G1", "A1-G2"]),
        ("admin", {"statuses": ["DISPATCHED"]}, ["A1-G1:0"]),
        ("community admin", {"communityId": "A2"}, []),
        ("staff", {"gridId": "A1-G1"}, ["A1-G1:0"]),
        ("worker", {"communityId": "A1", "sources": ["APP"]}, ["A1-G1"]),
    ],
    ids=[
        "community",
        "grid",
        "department",
        "source",
        "source and community",
        "status",
        "another community is outside a community admin's scope",
        "a department sees its work orders only",
        "a grid worker their grids only",
    ],
)
async def test_complaints_filter_by_place_department_and_source_within_the_callers_scope(
    api: Api, placed: dict[str, Any], role: str, arguments: dict[str, Any], expected: list[str]
) -> None:
    phones = {"admin": TENANT_ADMIN, "community admin": COMMUNITY_ADMIN, "staff": STAFF, "worker": WORKER_1}
    values = dict(arguments)
    if "communityId" in values:
        values["communityId"] = placed["communities"][values["communityId"]]
    if "gridId" in values:
        values["gridId"] = placed["grids"][values["gridId"]]
    if "departmentId" in values:
        values["departmentId"] = placed["justice"]
    found = await listed(api, await api.token("alpha", phones[role]), filter=values, first=100)
    ours = {i for group in placed["ids"].values() for i in group}
    wanted = set()
    for name in expected:
        group, _, index = name.partition(":")
        wanted |= {placed["ids"][group][int(index)]} if index else set(placed["ids"][group])
    assert {i for i in ids_of(found) if i in ours} == wanted


async def test_complaints_filter_by_submission_dates_and_lateness(api: Api, placed: dict[str, Any]) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    ours = {i for group in placed["ids"].values() for i in group}
    everything = await listed(api, admin, first=100)
    in_range = await listed(
        api,
        admin,
        first=100,
        filter={"submittedFrom": "2000-01-01T00:00:00+08:00", "submittedTo": "2100-01-01T00:00:00Z"},
    )
    assert ours <= set(ids_of(in_range)) and in_range["totalCount"] == everything["totalCount"]
    before = await listed(api, admin, filter={"submittedTo": "2000-01-01T00:00:00+08:00"})
    assert before["totalCount"] == 0
    late = await listed(api, admin, first=100, filter={"overdue": True})
    on_time = await listed(api, admin, first=100, filter={"overdue": False})
    assert late["totalCount"] + on_time["totalCount"] == everything["totalCount"]


@pytest.mark.parametrize("order", ["NEWEST", "DEADLINE", "LAST_UPDATED"])
async def test_each_order_pages_with_keyset_cursors_without_gaps_or_repeats(
    api: Api, placed: dict[str, Any], order: str
) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    fields = "id submittedAt resolveDueAt updatedAt"
    query = f"""query($order: ComplaintOrder!, $after: String) {{
      complaints(order: $order, first: 2, after: $after) {{ edges {{ node {{ {fields} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    seen: list[dict[str, str]] = []
    after = None
    while True:
        page = (await api.data(query, {"order": order, "after": after}, token=admin))["complaints"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    whole = (await api.data(query.replace("first: 2", "first: 100"), {"order": order}, token=admin))["complaints"]
    assert [n["id"] for n in seen] == [e["node"]["id"] for e in whole["edges"]]
    assert len({n["id"] for n in seen}) == len(seen)
    key = {"NEWEST": "submittedAt", "DEADLINE": "resolveDueAt", "LAST_UPDATED": "updatedAt"}[order]
    # Others' complaints may carry times a test's clock chose; ours were made in order, now.
    ours = {i for group in placed["ids"].values() for i in group}
    values = [n[key] for n in seen if order != "NEWEST" or n["id"] in ours]
    assert values == sorted(values, reverse=order != "DEADLINE")
    if order == "LAST_UPDATED":
        # The dispatched complaint moved last of ours, so it comes before the others of its grid.
        moved = [n["id"] for n in seen if n["id"] in ours]
        assert moved[0] == placed["ids"]["A1-G1"][0]


async def test_a_batch_sends_its_keys_as_one_array_on_postgresql(app: Any, api: Api, placed: dict[str, Any]) -> None:
    """A DataLoader's statement reads the same whatever the number of keys on PostgreSQL (one
    array parameter), so the driver converts it once; SQLite gets a placeholder per key."""
    admin = await api.token("alpha", TENANT_ADMIN)
    sent_for = {}
    for first in (1, 100):
        with statements_of(app) as sent:
            await api.data(
                f"{{ complaints(first: {first}) {{ edges {{ node {{ timeline(first: 1) {{ edges {{ cursor }} }} }} }} }} }}",
                token=admin,
            )
        (sent_for[first],) = [(s, p) for s, p in sent if "FROM complaint_events" in s]
    if BACKEND == "postgresql":
        assert sent_for[1][0] == sent_for[100][0] and "= ANY (" in sent_for[1][0], sent_for
        assert max(len(keys) for keys in sent_for[100][1].values() if isinstance(keys, list)) >= 3, sent_for
    else:
        assert sent_for[1][0].count("?") < sent_for[100][0].count("?"), sent_for
