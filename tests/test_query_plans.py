"""Plan guards: the statements behind the hot complaint lists read the complaints table through
index ranges, never by scanning it. The test tables are small, so on PostgreSQL the planner is
shown a big one: the module has a database of its own (a clone of the session's migrated
template, dropped afterwards, so nothing has to be deleted), whose street office holds 100,000
more complaints (mostly closed, over its grids, deadlines over years), vacuumed and analyzed so
that every index has its statistics; sequential scans are disabled, and every index the plan
reads complaints through must be narrowed by more than the tenant (an Index Cond on another
column). SQLite's EXPLAIN QUERY PLAN must SEARCH complaints, never SCAN it. Each test fails when
its query shape starts scanning. PostgreSQL's search index is read by a function that runs as its
owner, whose plan the caller's EXPLAIN does not show: what it ran is counted instead
(search_index_scans)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from starlette.applications import Starlette

from models.database import one_row_on_driver
from schema import batched
from server.app import create_app
from server.jobs import sweep_tenant
from tests.conftest import ALPHA, BACKEND, COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1, _handle, settings_for
from tests.provision import DATABASE_NAME, ProvisionedDatabase, admin_dsn, clone, drop
from tests.support import TEXTS, Api, Clock, TenantHandle, fresh_phone, statements_of
from tests.test_batched_execution import not_compiled

# A big street office's history for the planner: 100,000 copies of one complaint (marked by their
# version), one in thirty still open, over the tenant's grids, deadlines spread over years; the
# open ones past their deadline flagged overdue, as the sweep would have. Run by
# the superuser, whom row-level security does not bind: the office is named.
BIG_TABLE = """
INSERT INTO complaints (tenant_id, id, resident_id, filed_by_id, source, category_id, title, content, building_id,
    address, latitude, longitude, grid_id, community_id, handler_id, department_id, department_accepted_at, status,
    is_public, acknowledge_due_at, resolve_due_at, acknowledged_at, resolved_at, closed_at, overdue_at, resolution,
    rating, feedback, submitted_at, updated_at, version)
SELECT c.tenant_id, gen_random_uuid(), NULL, c.filed_by_id, c.source, c.category_id,
    (ARRAY['楼道堆放杂物', '路灯不亮', '噪音扰民', '垃圾未清运', '井盖松动', '电梯故障', '外墙渗水', '停车占道'])[1 + mod(n, 8)]
        || n, (ARRAY['晚上很吵', '影响出行', '已经三天', '请尽快处理', '存在隐患'])[1 + mod(n, 5)] || n, NULL, c.address, NULL, NULL, g.id, g.community_id,
    g.worker_id, NULL, NULL, CASE WHEN mod(n, 30) = 0 THEN 'submitted' ELSE 'closed' END, false,
    c.acknowledge_due_at - n * interval '1 hour', c.resolve_due_at - n * interval '1 hour', NULL, NULL, NULL,
    CASE WHEN mod(n, 30) = 0 AND c.acknowledge_due_at - n * interval '1 hour' < now()
        THEN c.acknowledge_due_at - n * interval '1 hour' + interval '5 minutes' END,
    NULL, NULL, NULL, c.submitted_at - n * interval '1 hour', c.updated_at, -1
FROM (SELECT * FROM complaints WHERE tenant_id = %(tenant)s LIMIT 1) c
CROSS JOIN generate_series(1, 100000) n
JOIN LATERAL (SELECT array_agg(grids ORDER BY code) AS every FROM grids WHERE tenant_id = %(tenant)s) gs ON true
CROSS JOIN LATERAL (SELECT (gs.every[1 + mod(n, cardinality(gs.every))]).*) g
"""
OPEN = "[SUBMITTED, ACCEPTED, IN_PROGRESS, REOPENED]"
FIELDS = "edges { node { id title category { name } resident { name } grid { name } } } pageInfo { hasNextPage }"

# The partial indexes of the open items the sweep has not settled, read by the overdue count and
# by the sweep. SQLite, without statistics, reads the past resolve deadlines per open status
# instead: ranges too.
UNSETTLED_INDEXES = ["ix_complaints_unflagged_acknowledge_deadlines"]
if BACKEND == "postgresql":
    UNSETTLED_INDEXES.append("ix_complaints_unsettled_deadlines")


# What complaints_search_insert would write for those rows, in one statement. The copies go in
# under session_replication_role = replica, which fires neither that trigger nor the foreign-key
# checks: these would look the same few grids, people and category up 100,000 times, rows the
# copies were taken from. The indexes grow row by row as the triggers' way would have grown them:
# indexes built afresh after the copies are denser, and the planner likes them better (at 20,000
# copies the two-character search still walked the deadlines over fresh indexes, and scanned the
# tenant's complaints over grown ones).
SEARCH_ROWS = """
INSERT INTO complaints_search (tenant_id, id, title, content)
SELECT tenant_id, id, title, content FROM complaints WHERE tenant_id = %(tenant)s AND version = -1
"""


@dataclass(frozen=True)
class Planned:
    """The module's own database, app and street office "alpha", and the phone of a resident
    who filed two complaints there."""

    database: ProvisionedDatabase
    app: Starlette
    api: Api
    alpha: TenantHandle
    resident: str


async def file_complaints(api: Api, alpha: TenantHandle) -> str:
    category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha"))[
        "complaintCategories"
    ]["edges"][0]["node"]["id"]
    phone = fresh_phone()
    await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone)
    resident = await api.token("alpha", phone)
    for title in ("楼道灯不亮了", "计划搜索的楼道堆物"):
        await api.data(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { errors { code } } }",
            {"input": {"complaint": {"title": title, "content": "请尽快处理", "categoryId": category}}},
            token=resident,
        )
    return phone


async def grow_to_scale(database: ProvisionedDatabase, alpha: TenantHandle) -> None:
    async with await psycopg.AsyncConnection.connect(admin_dsn(database), autocommit=True) as connection:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            await connection.execute(BIG_TABLE, {"tenant": alpha.id})
            await connection.execute(SEARCH_ROWS, {"tenant": alpha.id})
        await connection.execute("VACUUM (ANALYZE)")


@pytest.fixture(scope="module")
async def planned(database: ProvisionedDatabase, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Planned]:
    assert database.template is not None
    own = clone(database.template, f"{DATABASE_NAME}_plans", tmp_path_factory.mktemp("plans"))
    clock = Clock()
    app = create_app(
        settings_for(own.app_url, upload_dir=tmp_path_factory.mktemp("plans-uploads")),
        clock=clock.now,
        phone_code_sender=TEXTS,
    )
    try:
        alpha = await _handle(app, ALPHA)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            api = Api(client, clock)
            resident = await file_complaints(api, alpha)
            if BACKEND == "postgresql":
                await grow_to_scale(own, alpha)
            yield Planned(own, app, api, alpha, resident)
    finally:
        await app.state.engine.dispose()
        drop(own)


async def complaint_plans(planned: Planned, query: str, token: str, table: str = "complaints") -> list[str]:
    """The plan of every statement reading `table` that answering `query` sends."""
    with statements_of(planned.app) as sent:
        await planned.api.data(query, token=token)
    return await plans_of(planned, sent, table)


async def plans_of(planned: Planned, sent: list[tuple[str, Any]], table: str = "complaints") -> list[str]:
    """The plan of every statement in `sent` that reads `table`."""
    app, alpha = planned.app, planned.alpha
    reading = [(s, p) for s, p in sent if re.search(rf"\bFROM {table}\b", s)]
    assert reading, f"no statement reading {table} was sent"
    plans = []
    if BACKEND == "postgresql":
        async with app.state.services.engine.connect() as connection:
            await connection.exec_driver_sql(
                "SELECT set_config('app.tenant_id', %(tenant)s, true)", {"tenant": str(alpha.id)}
            )
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for statement, parameters in reading:
                explain = "EXPLAIN (FORMAT JSON) " + statement
                if re.search(r"\$1\b", statement):  # a compiled read, in PostgreSQL's placeholders
                    plans.append(json.dumps((await one_row_on_driver(connection, [(explain, parameters)]))[0]))
                else:
                    plans.append(json.dumps((await connection.exec_driver_sql(explain, parameters)).scalar_one()))
            await connection.rollback()
    else:
        async with app.state.services.engine.connect() as connection:
            for statement, parameters in reading:
                result = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append("\n".join(row[-1] for row in result.all()))
    return plans


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def assert_complaints_by_index_ranges(plan: str, table: str = "complaints") -> None:
    if BACKEND == "postgresql":
        for node in _nodes(json.loads(plan)[0]["Plan"]):
            if node.get("Relation Name") != table and node.get("Node Type") != "Bitmap Index Scan":
                continue
            assert node["Node Type"] != "Seq Scan", plan
            if node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
                narrowing = re.sub(r"\(?tenant_id = '[^']*'::uuid\)?( AND )?", "", node.get("Index Cond", ""))
                assert narrowing.strip("() "), f"every row of the tenant walked: {node}"
    else:
        assert not re.search(rf"^SCAN {table}\b(?!_search)", plan, re.M), plan
        assert re.search(rf"^SEARCH {table} USING (INDEX|PRIMARY KEY|COVERING INDEX)", plan, re.M), plan


def uses(plan: str, index: str) -> bool:
    return index in plan


@pytest.mark.parametrize("resolved", [False, True], ids=["compiled on postgresql", "by the resolvers"])
async def test_the_grid_workers_inbox_merges_per_grid_and_per_handler_index_ranges(
    planned: Planned, monkeypatch: pytest.MonkeyPatch, resolved: bool
) -> None:
    if resolved:
        monkeypatch.setattr(batched, "compiled_answer", not_compiled)
    worker = await planned.api.token("alpha", WORKER_1)
    query = f"{{ complaints(first: 20, order: DEADLINE, filter: {{statuses: {OPEN}}}) {{ {FIELDS} }} }}"
    plans = await complaint_plans(planned, query, worker)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    assert any(uses(p, "ix_complaints_grid_queue") and uses(p, "ix_complaints_handler_queue") for p in plans), plans
    if BACKEND == "postgresql":
        for plan in plans:
            assert_lanes_read_in_order(plan)
            assert_lanes_stop_at_a_page(plan)
            assert_page_picked_from_the_lanes_keys(plan)
        assert any('"root_0"' in plan for plan in plans) != resolved, "the compiled statement is the one planned"
        if resolved:
            for plan in plans:
                assert_page_read_by_key_after_its_lanes(plan)


def assert_lanes_read_in_order(plan: str) -> None:
    """No lane is read whole and sorted to take its page: each is an index range in the
    deadline order, stopped by its limit."""
    for node in _nodes(json.loads(plan)[0]["Plan"]):
        if node["Node Type"] != "Sort":
            continue
        below = node["Plans"][0]
        while below["Node Type"] == "Result" and below.get("Plans"):
            below = below["Plans"][0]
        assert not below["Node Type"].startswith("Index"), f"a lane sorted after its index range: {node}"


def assert_page_picked_from_the_lanes_keys(plan: str) -> None:
    """The page's keys are picked from the lanes' keys (merged, limited to a page and one) before
    any complaint is read whole: joining every lane's page of rows first read each complaint of
    every lane's page (84 at 12 million complaints, each once per category) for a page of 21."""

    def lane_scans(node: dict[str, Any]) -> int:
        return sum(1 for n in _nodes(node) if n.get("Index Name", "").endswith("_queue"))

    picks = [
        node
        for node in _nodes(json.loads(plan)[0]["Plan"])
        if node["Node Type"] == "Limit"
        and lane_scans(node) > 1
        and not any(n.get("Index Name") == "pk_complaints" for n in _nodes(node))
    ]
    assert picks, f"the rows of every lane's page read before the page is picked: {plan}"


def assert_page_read_by_key_after_its_lanes(plan: str) -> None:
    """The lanes run first, apart (init plans), and outside them complaints are read only by the
    keys they found (`id = ANY` of their array): planned as a semi-join within the page's joins,
    the lanes took longer to plan than to run, paid on every call where the plan depends on a
    search word."""
    by_key = re.compile(r"\bid = ANY \(\$\d+\)")
    read: dict[bool, list[dict[str, Any]]] = {True: [], False: []}

    def walk(node: dict[str, Any], in_init_plan: bool) -> None:
        in_init_plan = in_init_plan or node.get("Parent Relationship") == "InitPlan"
        if node.get("Relation Name") == "complaints":
            read[in_init_plan].append(node)
        for child in node.get("Plans", []):
            walk(child, in_init_plan)

    walk(json.loads(plan)[0]["Plan"], False)
    assert read[True], f"no lane planned apart: {plan}"
    assert read[False], f"the page's rows not read: {plan}"
    for node in read[False]:
        assert by_key.search(node.get("Index Cond", "")), f"a lane planned with the page's joins: {node}"


def assert_lanes_stop_at_a_page(plan: str) -> None:
    """Each lane's index range is read under its own limit (a page and one), not to its end."""

    def walk(node: dict[str, Any], above: tuple[dict[str, Any], ...]) -> None:
        if node.get("Index Name", "").endswith("_queue"):
            nearest = next((n for n in reversed(above) if n["Node Type"] not in ("Result", "Subquery Scan")), None)
            assert nearest is not None and nearest["Node Type"] == "Limit", f"a lane read to its end: {node}"
        for child in node.get("Plans", []):
            walk(child, (*above, node))

    walk(json.loads(plan)[0]["Plan"], ())


async def search_index_scans(planned: Planned, text: str) -> tuple[int, int]:
    """How many times complaints_matching(`text`), called as the app role, scans the trigram index
    and how many times it reads the whole of complaints_search (PostgreSQL: the function runs as
    its owner, so its plan is not in the caller's EXPLAIN; these are the counts of what it ran)."""
    app, alpha = planned.app, planned.alpha
    async with app.state.services.engine.connect() as connection:
        await connection.exec_driver_sql(
            "SELECT set_config('app.tenant_id', %(tenant)s, true)", {"tenant": str(alpha.id)}
        )
        await connection.exec_driver_sql("SELECT count(*) FROM complaints_matching(%(text)s)", {"text": text})
        counted = await connection.exec_driver_sql(
            "SELECT pg_stat_get_xact_numscans('ix_complaints_search'::regclass), "
            "pg_stat_get_xact_numscans('complaints_search'::regclass)"
        )
        index_scans, table_scans = counted.one()
        await connection.rollback()
    return index_scans, table_scans


async def test_searching_three_characters_or_more_goes_through_a_text_index(
    planned: Planned,
) -> None:
    admin = await planned.api.token("alpha", TENANT_ADMIN)
    query = f'{{ complaints(first: 20, filter: {{search: "搜索的楼道"}}) {{ {FIELDS} }} }}'
    plans = await complaint_plans(planned, query, admin)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    if BACKEND == "postgresql":
        assert any(re.search(r'"Index Cond": "[^"]*\bid = ANY\b', p) for p in plans), plans
        index_scans, table_scans = await search_index_scans(planned, "搜索的楼道")
        assert index_scans > 0 and table_scans == 0, (index_scans, table_scans)
    else:
        assert any(uses(p, "complaints_search VIRTUAL TABLE") for p in plans), plans


async def test_searching_a_two_character_word_walks_the_office_by_deadline_once(
    planned: Planned,
) -> None:
    """A tenant admin's search in any status: one range of the office by deadline, read in its
    order and stopped at the page, not one per status (each walked until a page of its own
    matched)."""
    admin = await planned.api.token("alpha", TENANT_ADMIN)
    query = f'{{ complaints(first: 20, filter: {{search: "楼道"}}) {{ {FIELDS} }} }}'
    plans = await complaint_plans(planned, query, admin)
    for plan in plans:
        if BACKEND == "postgresql":
            assert_lanes_read_in_order(plan)
            assert_page_read_by_key_after_its_lanes(plan)
            assert not re.search(r'"Node Type": "Seq Scan", [^}]*"Relation Name": "complaints"', plan), plan
        else:
            assert not re.search(r"^SCAN complaints\b(?!_search)", plan, re.M), plan
    assert any(uses(p, "ix_complaints_deadlines") for p in plans), plans
    assert not any(uses(p, "ix_complaints_open_deadlines") for p in plans), plans


async def test_a_residents_own_complaints_newest_first_are_one_index_range(
    planned: Planned,
) -> None:
    resident = await planned.api.token("alpha", planned.resident)
    query = f"{{ complaints(first: 20, order: NEWEST) {{ {FIELDS} }} }}"
    plans = await complaint_plans(planned, query, resident)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    assert any(uses(p, "ix_complaints_resident") for p in plans), plans


@pytest.mark.parametrize("unread_only", [False, True], ids=["all", "unread only"])
async def test_a_page_of_ones_notifications_is_one_index_range_in_its_order(
    planned: Planned, unread_only: bool
) -> None:
    """Whatever the recipient's share of the office's notifications: neither a walk of the
    office's newest, kept when they are the recipient's, nor all of the recipient's sorted."""
    worker = await planned.api.token("alpha", WORKER_1)
    query = f"{{ notifications(first: 20, unreadOnly: {str(unread_only).lower()}) {{ edges {{ node {{ id }} }} }} }}"
    plans = await complaint_plans(planned, query, worker, table="notifications")
    for plan in plans:
        assert_complaints_by_index_ranges(plan, table="notifications")
        if BACKEND == "postgresql":
            assert [n for n in _nodes(json.loads(plan)[0]["Plan"]) if n["Node Type"] == "Sort"] == [], plan
        else:
            assert "TEMP B-TREE" not in plan, plan
    index = "ix_notifications_unread" if unread_only else "ix_notifications_recipient"
    assert any(uses(p, index) for p in plans), plans


@pytest.mark.parametrize("phone", [TENANT_ADMIN, COMMUNITY_ADMIN])
async def test_an_admins_counts_read_the_rollups_per_community_and_status(planned: Planned, phone: str) -> None:
    """A few dozen rows an office at any size: the rollups per grid and category grow with the
    data (1,764 rows for the benchmark's big office at 10,000 complaints, 9,911 at a million)."""
    admin = await planned.api.token("alpha", phone)
    with statements_of(planned.app) as sent:
        await planned.api.data("{ complaintCounts { total overdue byStatus { status count } } }", token=admin)
    rollups_read = re.findall(r"\bFROM (\w*rollups)\b", " ".join(statement for statement, _ in sent))
    assert rollups_read == ["complaint_community_status_rollups"] * 2


@pytest.mark.parametrize("phone", [TENANT_ADMIN, COMMUNITY_ADMIN])
async def test_an_admins_overdue_count_reads_only_the_unsettled_deadlines(planned: Planned, phone: str) -> None:
    """The items flagged overdue for good come from the status rollups; the complaints table is
    read only through the partial indexes of the open items not flagged so, each a range of the
    deadlines already past."""
    admin = await planned.api.token("alpha", phone)
    plans = await complaint_plans(planned, "{ complaintCounts { overdue } }", admin)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    assert any(all(uses(p, index) for index in UNSETTLED_INDEXES) for p in plans), plans


async def test_the_sweep_finds_what_to_flag_in_the_ranges_of_the_deadlines_past(planned: Planned) -> None:
    """Every office's sweep runs every 5 minutes: the items it flags are found through the partial
    indexes of the unsettled deadlines, each a range of those past, not by walking every open
    item of the office."""
    services = planned.app.state.services
    with statements_of(planned.app) as sent:
        await sweep_tenant(services, await services.directory.by_id(planned.alpha.id))
    plans = await plans_of(planned, sent)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    assert any(all(uses(p, index) for index in UNSETTLED_INDEXES) for p in plans), plans
