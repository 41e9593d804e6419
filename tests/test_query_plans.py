"""Plan guards: the statements behind the hot complaint lists read the complaints table through
index ranges, never by scanning it. The test tables are small, so on PostgreSQL the planner is
shown a big one: for this module the tenant holds 100,000 more complaints (mostly closed, over
its grids, deadlines over years), vacuumed and analyzed so that every index has its statistics,
and deleted afterwards; sequential scans are disabled, and every index the plan reads complaints
through must be narrowed by more than the tenant (an Index Cond on another column). SQLite's
EXPLAIN QUERY PLAN must SEARCH complaints, never SCAN it. Each test fails when its query shape
starts scanning. PostgreSQL's search index is read by a function that runs as its owner, whose
plan the caller's EXPLAIN does not show: what it ran is counted instead (search_index_scans)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from models.database import create_engine
from tests.conftest import BACKEND, TENANT_ADMIN, WORKER_1
from tests.provision import ProvisionedDatabase
from tests.support import Api, TenantHandle, fresh_phone, statements_of

# A big street office's history for the planner: 100,000 copies of one complaint (marked by their
# version), one in thirty still open, over the tenant's grids, deadlines spread over years.
BIG_TABLE = """
INSERT INTO complaints (tenant_id, id, resident_id, filed_by_id, source, category_id, title, content, building_id,
    address, latitude, longitude, grid_id, community_id, handler_id, department_id, department_accepted_at, status,
    is_public, acknowledge_due_at, resolve_due_at, acknowledged_at, resolved_at, closed_at, overdue_at, resolution,
    rating, feedback, submitted_at, updated_at, version)
SELECT c.tenant_id, gen_random_uuid(), NULL, c.filed_by_id, c.source, c.category_id,
    (ARRAY['楼道堆放杂物', '路灯不亮', '噪音扰民', '垃圾未清运', '井盖松动', '电梯故障', '外墙渗水', '停车占道'])[1 + mod(n, 8)]
        || n, (ARRAY['晚上很吵', '影响出行', '已经三天', '请尽快处理', '存在隐患'])[1 + mod(n, 5)] || n, NULL, c.address, NULL, NULL, g.id, g.community_id,
    g.worker_id, NULL, NULL, CASE WHEN mod(n, 30) = 0 THEN 'submitted' ELSE 'closed' END, false,
    c.acknowledge_due_at - n * interval '1 hour', c.resolve_due_at - n * interval '1 hour', NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, c.submitted_at - n * interval '1 hour', c.updated_at, -1
FROM (SELECT * FROM complaints LIMIT 1) c
CROSS JOIN generate_series(1, 100000) n
JOIN LATERAL (SELECT array_agg(grids ORDER BY code) AS every FROM grids) gs ON true
CROSS JOIN LATERAL (SELECT (gs.every[1 + mod(n, cardinality(gs.every))]).*) g
"""
OPEN = "[SUBMITTED, ACCEPTED, IN_PROGRESS, REOPENED]"
FIELDS = "edges { node { id title category { name } resident { name } grid { name } } } pageInfo { hasNextPage }"


@pytest.fixture(scope="module")
async def complaints(api: Api, alpha: TenantHandle) -> str:
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


@pytest.fixture(scope="module")
async def planned_at_scale(database: ProvisionedDatabase, alpha: TenantHandle, complaints: str) -> AsyncIterator[None]:
    if BACKEND != "postgresql":
        yield
        return
    owner = create_engine(database.owner_url)

    async def run(*statements: str) -> None:
        async with owner.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql(
                "SELECT set_config('app.tenant_id', %(tenant)s, false)", {"tenant": str(alpha.id)}
            )
            for statement in statements:
                await connection.exec_driver_sql(statement)
            await connection.exec_driver_sql("RESET app.tenant_id")

    try:
        await run(BIG_TABLE, "VACUUM (ANALYZE)")
        yield
    finally:
        await run("DELETE FROM complaints WHERE version = -1", "VACUUM (ANALYZE)")
        await owner.dispose()


async def complaint_plans(
    app: Any, api: Api, database: ProvisionedDatabase, alpha: TenantHandle, query: str, token: str
) -> list[str]:
    """The plan of every statement reading complaints that answering `query` sends."""
    with statements_of(app) as sent:
        await api.data(query, token=token)
    reading = [(s, p) for s, p in sent if re.search(r"\bFROM complaints\b", s)]
    assert reading, "the request sent no statement reading complaints"
    plans = []
    if BACKEND == "postgresql":
        async with app.state.services.engine.connect() as connection:
            await connection.exec_driver_sql(
                "SELECT set_config('app.tenant_id', %(tenant)s, true)", {"tenant": str(alpha.id)}
            )
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for statement, parameters in reading:
                result = await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
                plans.append(json.dumps(result.scalar_one()))
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


def assert_complaints_by_index_ranges(plan: str) -> None:
    if BACKEND == "postgresql":
        for node in _nodes(json.loads(plan)[0]["Plan"]):
            if node.get("Relation Name") != "complaints" and node.get("Node Type") != "Bitmap Index Scan":
                continue
            assert node["Node Type"] != "Seq Scan", plan
            if node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
                narrowing = re.sub(r"\(?tenant_id = '[^']*'::uuid\)?( AND )?", "", node.get("Index Cond", ""))
                assert narrowing.strip("() "), f"every row of the tenant walked: {node}"
    else:
        assert not re.search(r"^SCAN complaints\b(?!_search)", plan, re.M), plan
        assert re.search(r"^SEARCH complaints USING (INDEX|PRIMARY KEY|COVERING INDEX)", plan, re.M), plan


def uses(plan: str, index: str) -> bool:
    return index in plan


async def test_the_grid_workers_inbox_merges_per_grid_and_per_handler_index_ranges(
    app: Any, api: Api, database: ProvisionedDatabase, alpha: TenantHandle, planned_at_scale: None
) -> None:
    worker = await api.token("alpha", WORKER_1)
    query = f"{{ complaints(first: 20, order: DEADLINE, filter: {{statuses: {OPEN}}}) {{ {FIELDS} }} }}"
    plans = await complaint_plans(app, api, database, alpha, query, worker)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    assert any(uses(p, "ix_complaints_grid_queue") and uses(p, "ix_complaints_handler_queue") for p in plans), plans


async def search_index_scans(app: Any, alpha: TenantHandle, text: str) -> tuple[int, int]:
    """How many times complaints_matching(`text`), called as the app role, scans the trigram index
    and how many times it reads the whole of complaints_search (PostgreSQL: the function runs as
    its owner, so its plan is not in the caller's EXPLAIN; these are the counts of what it ran)."""
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
    app: Any, api: Api, database: ProvisionedDatabase, alpha: TenantHandle, planned_at_scale: None
) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    query = f'{{ complaints(first: 20, filter: {{search: "搜索的楼道"}}) {{ {FIELDS} }} }}'
    plans = await complaint_plans(app, api, database, alpha, query, admin)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    if BACKEND == "postgresql":
        assert any(re.search(r'"Index Cond": "[^"]*\bid = ANY\b', p) for p in plans), plans
        index_scans, table_scans = await search_index_scans(app, alpha, "搜索的楼道")
        assert index_scans > 0 and table_scans == 0, (index_scans, table_scans)
    else:
        assert any(uses(p, "complaints_search VIRTUAL TABLE") for p in plans), plans


async def test_searching_a_two_character_word_walks_the_deadline_ranges(
    app: Any, api: Api, database: ProvisionedDatabase, alpha: TenantHandle, planned_at_scale: None
) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    query = f'{{ complaints(first: 20, filter: {{search: "楼道"}}) {{ {FIELDS} }} }}'
    plans = await complaint_plans(app, api, database, alpha, query, admin)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    assert any(uses(p, "ix_complaints_open_deadlines") for p in plans), plans


async def test_a_residents_own_complaints_newest_first_are_one_index_range(
    app: Any, api: Api, database: ProvisionedDatabase, alpha: TenantHandle, planned_at_scale: None, complaints: str
) -> None:
    resident = await api.token("alpha", complaints)
    query = f"{{ complaints(first: 20, order: NEWEST) {{ {FIELDS} }} }}"
    plans = await complaint_plans(app, api, database, alpha, query, resident)
    for plan in plans:
        assert_complaints_by_index_ranges(plan)
    assert any(uses(p, "ix_complaints_resident") for p in plans), plans
