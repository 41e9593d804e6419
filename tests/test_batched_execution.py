"""Queries answered level by level (schema.batched) answer exactly what graphql-core answers
field by field: the same data, the same errors, as each role, through the endpoint; anything
the batched answer does not take on (an error, a directive, introspection) is answered by
graphql-core from the start. The organisation tree, the reason it exists, must stay batched."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from resolvers import organisation
from schema import batched as batched_module
from schema.batched import BatchedExecution
from schema.direct import DirectExecution
from tenants.context import RequestContext
from tests.conftest import BACKEND, TENANT_ADMIN, WORKER_1
from tests.support import Api, TenantHandle, answered_alike, gid
from tests.test_subscriptions import submit_complaint

Both = Callable[..., Awaitable[dict[str, Any]]]

TREE = """query Tree($n: Int!) { communities(first: $n) { totalCount edges { cursor node { __typename id name
  ...Cells } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
fragment Cells on Community { grids(first: 2) { edges { node { id code
  houses: buildings(first: 3) { totalCount edges { node { id name units } } pageInfo { endCursor } } } } } }"""
MINE = """{ complaints(first: 5, order: NEWEST) { totalCount edges { cursor node { id title status submittedAt resolveDueAt
  overdue category { name } handler { name phone } resident { name phone }
  timeline(first: 3) { edges { node { action actorName note at } } } } } pageInfo { hasNextPage endCursor } } }"""
NOTIFICATIONS = """{ unreadNotificationCount notifications(first: 10) { edges { node { id kind title body createdAt read
  subject { __typename id ... on Complaint { title status resident { name phone } } } } } pageInfo { hasNextPage } } }"""


async def not_compiled(*_: Any) -> None:
    return None


@pytest.fixture
def both(api: Api, monkeypatch: pytest.MonkeyPatch) -> Both:
    """Asks the same twice, batched and then as graphql-core answers; asserts the two bodies
    are equal and returns the batched one."""

    field_by_field = (
        BatchedExecution,
        "execute_root_grouped_field_set",
        DirectExecution.execute_root_grouped_field_set,
    )

    async def ask(query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return await answered_alike(api, monkeypatch, field_by_field, query, variables, **kwargs)

    return ask


async def test_the_anonymous_organisation_tree_is_answered_as_graphql_core_answers_it(
    both: Both, alpha: TenantHandle
) -> None:
    for n in (1, 2):
        data = (await both(TREE, {"n": n}, tenant="alpha"))["data"]
        communities = data["communities"]
        assert len(communities["edges"]) == n and communities["edges"][0]["node"]["__typename"] == "Community"
        assert communities["edges"][0]["node"]["grids"]["edges"], "the nested levels were answered"


async def test_each_role_s_pages_are_answered_as_graphql_core_answers_them(
    both: Both, api: Api, alpha: TenantHandle
) -> None:
    resident, complaint = await submit_complaint(api, alpha)
    mine = (await both(MINE, token=resident))["data"]["complaints"]
    assert [edge["node"]["id"] for edge in mine["edges"]] == [complaint]
    worker = await api.token("alpha", WORKER_1)
    notified = (await both(NOTIFICATIONS, token=worker))["data"]
    assert any(
        edge["node"]["subject"] and edge["node"]["subject"]["id"] == complaint
        for edge in notified["notifications"]["edges"]
    )
    admin = await api.token("alpha", TENANT_ADMIN)
    await both(MINE.replace("order: NEWEST", "order: DEADLINE"), token=admin)
    node = "query($id: ID!) { node(id: $id) { __typename id ... on Complaint { title handler { name } } } }"
    assert (await both(node, {"id": complaint}, token=resident))["data"]["node"]["title"] == "电梯异响"


async def test_what_the_batched_answer_leaves_alone_is_answered_by_graphql_core(
    both: Both, api: Api, alpha: TenantHandle, beta: TenantHandle
) -> None:
    resident, complaint = await submit_complaint(api, alpha)
    # Errors: a field the role may not read, a page too long, an object of another tenant.
    denied = await both(
        "{ fullViewAudit(first: 1) { totalCount } communities(first: 1) { edges { node { name } } } }", token=resident
    )
    assert denied["errors"]
    too_long = await both("{ communities(first: 1000) { edges { node { name } } } }", tenant="alpha")
    assert too_long["errors"]
    elsewhere = gid("Building", beta.buildings["B1-G1-B1"])
    assert (await both("query($id: ID!) { node(id: $id) { id } }", {"id": elsewhere}, token=resident))["data"] == {
        "node": None
    }
    # A directive and introspection, which graphql-core alone interprets.
    skipped = await both(
        "query($no: Boolean!) { complaints(first: 1) { edges { node { id title @skip(if: $no) } } } }",
        {"no": True},
        token=resident,
    )
    assert skipped["data"]["complaints"]["edges"] == [{"node": {"id": complaint}}]
    await both("{ __typename communities(first: 1) { __typename } }", tenant="alpha")


async def test_the_tree_stays_batched_and_costs_no_more_statements(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked_field_by_field = []
    field_by_field = DirectExecution.execute_field

    def counted(self: DirectExecution, *args: Any, **kwargs: Any) -> Any:
        asked_field_by_field.append(args[2][0].node.name.value)
        return field_by_field(self, *args, **kwargs)

    monkeypatch.setattr(DirectExecution, "execute_field", counted)
    monkeypatch.setattr(batched_module, "compiled_answer", not_compiled)  # the tree a shape cannot say
    batched = await api.statements(TREE, {"n": 2}, tenant="alpha")
    assert asked_field_by_field == [], "no field of the tree was left to graphql-core"
    monkeypatch.setattr(
        BatchedExecution, "execute_root_grouped_field_set", DirectExecution.execute_root_grouped_field_set
    )
    assert batched == await api.statements(TREE, {"n": 2}, tenant="alpha")
    assert asked_field_by_field, "the comparison ran field by field"


async def test_a_database_failure_is_the_same_error_as_graphql_core_gives(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement that fails leaves the transaction unable to answer again (PostgreSQL aborts
    it): the batched answer gives the failure itself, with graphql-core's code for it."""
    list_communities = organisation.list_communities

    async def cancelled(ctx: RequestContext, page: Any) -> Any:
        session = ctx.session
        assert session is not None
        if BACKEND == "postgresql":
            await session.execute(text("SET LOCAL statement_timeout = 1"))
            await session.execute(text("SELECT pg_sleep(1)"))
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))

    # Another field fails first, for another reason (an anonymous caller has no household).
    query = """{ myHousehold { id } departments(first: 1) { edges { node { name } } }
      communities(first: 1) { edges { node { name } } } }"""
    monkeypatch.setattr(organisation, "list_communities", cancelled)
    monkeypatch.setattr(batched_module, "compiled_answer", not_compiled)
    batched = await api.run(query, tenant="alpha")
    monkeypatch.setattr(
        BatchedExecution, "execute_root_grouped_field_set", DirectExecution.execute_root_grouped_field_set
    )
    field_by_field = await api.run(query, tenant="alpha")
    monkeypatch.setattr(organisation, "list_communities", list_communities)
    codes = [sorted(error["extensions"]["code"] for error in body["errors"]) for body in (batched, field_by_field)]
    assert codes[0] == codes[1] and len(codes[0]) == 2, (batched, field_by_field)
    assert batched["data"] == field_by_field["data"]
    if BACKEND == "postgresql":  # the statement timeout: the database's failure, not ours
        assert "SERVICE_UNAVAILABLE" in codes[0]
