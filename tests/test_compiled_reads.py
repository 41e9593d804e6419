"""Queries answered by one statement that builds their JSON (schema.compiled, on PostgreSQL)
answer exactly what the resolvers answer, as each caller, in each tenant: the same data, the
same errors. What a shape cannot say is answered the usual way; on SQLite nothing is compiled."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Uuid, literal, select
from starlette.applications import Starlette
from strawberry import relay

from models.audit import AuditedField
from resolvers import organisation
from resolvers.compiled import MAX_TYPE_NAME, Column, Edge, Node, NotCompiled, PageShape, _global_id, statement_for
from schema import batched
from schema.build import build_schema
from schema.compiled import COMPILABLE
from tenants.context import RequestContext
from tests.conftest import BACKEND, TENANT_ADMIN, WORKER_1, _handle
from tests.support import Api, TenantHandle, answered_alike
from tests.test_batched_execution import not_compiled
from tests.test_subscriptions import receive, send, signed_in

TREE = """query Tree($n: Int!, $g: Int) { communities(first: $n) { __typename edges { __typename node { __typename id name code
  ...Cells } } pageInfo { hasNextPage hasPreviousPage } } }
fragment Cells on Community { cells: grids(first: $g) { edges { node { id code
  buildings(first: 1) { edges { node { id name units } } pageInfo { more: hasNextPage } } } } } }"""
COMPILED = BACKEND == "postgresql"


async def alike(api: Api, monkeypatch: pytest.MonkeyPatch, query: str, variables: Any = None, **kwargs: Any) -> Any:
    """The answer, asserted equal to the one the resolvers give."""
    resolved = (batched, "compiled_answer", not_compiled)
    return await answered_alike(api, monkeypatch, resolved, query, variables, **kwargs)


async def test_the_tree_is_answered_as_the_resolvers_answer_it_by_each_caller_in_each_tenant(
    api: Api, alpha: TenantHandle, beta: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers: list[dict[str, Any]] = [
        {"tenant": "alpha"},
        {"token": await api.token("alpha", TENANT_ADMIN)},
        {"token": await api.token("alpha", WORKER_1)},
        {"tenant": "beta"},
    ]
    seen = []
    for caller in callers:
        for variables in ({"n": 1}, {"n": 5, "g": 1}, {"n": 2, "g": 100}):
            body = await alike(api, monkeypatch, TREE, variables, **caller)
            assert "errors" not in body
            seen.append({edge["node"]["code"] for edge in body["data"]["communities"]["edges"]})
    assert seen[-1] and not seen[-1] & set(alpha.communities), "beta's tree holds none of alpha's"


@pytest.fixture(scope="session")
async def empty_office(app: Starlette) -> TenantHandle:
    """A street office with one community and nothing else: no department, no grid."""
    manifest = {"slug": "kongbai", "name": "空白街道", "departments": [], "categories": [], "staff": []}
    return await _handle(app, {**manifest, "communities": [{"code": "K1", "name": "空白社区", "grids": []}]})


@pytest.mark.parametrize(
    "query",
    [
        "{ departments { __typename } }",
        "{ departments(first: 1) { edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } }",
        "{ communities { edges { node { code grids { __typename } } } } }",
        "{ communities { edges { node { code grids { edges { node { code } } pageInfo { hasNextPage } } } } } }",
    ],
)
async def test_an_empty_list_is_an_empty_connection_as_the_resolvers_answer_it(
    api: Api, empty_office: TenantHandle, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    body = await alike(api, monkeypatch, query, tenant=empty_office.slug)
    assert "errors" not in body and None not in body["data"].values()


async def test_two_lists_are_answered_as_the_resolvers_answer_them(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """{ d: departments { edges { node { id code name } } pageInfo { hasNextPage } }
      communities(first: 1) { edges { node { name } } } }"""
    body = await alike(api, monkeypatch, query, tenant="alpha")
    assert body["data"]["d"]["edges"] and body["data"]["communities"]["edges"]


async def test_the_tree_is_one_statement_on_postgresql(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = await api.statements(TREE, {"n": 5, "g": 5}, tenant="alpha")
    monkeypatch.setattr(batched, "compiled_answer", not_compiled)
    resolved = await api.statements(TREE, {"n": 5, "g": 5}, tenant="alpha")
    # One for the tree where the resolvers need one per level (and SQLite answers that way).
    assert resolved - statements == (2 if COMPILED else 0)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ communities(first: 2) { edges { cursor node { name } } } }", None),
        ("{ communities(first: 2) { totalCount edges { node { name } } } }", None),
        ("{ communities(first: 2) { pageInfo { endCursor } } }", None),
        ("{ communities(first: 2) { edges { node { name contactCard { address } } } } }", None),
        ("query($c: String) { communities(first: 1, after: $c) { edges { node { name } } } }", {"c": None}),
        *(
            (
                "query($no: Boolean!) { communities(first: 2) { edges { node { name @skip(if: $no) code } } } }",
                {"no": no},
            )
            for no in (True, False)
        ),
        ("{ communities(first: 2) { __typename } }", None),
        ("{ communities(first: 5) { pageInfo { hasPreviousPage __typename } } }", None),
        ("{ communities(first: 2) { edges { node { grids(first: 5) { __typename } } } } }", None),
        ("{ communities(first: 0) { edges { node { name } } } }", None),
        ("{ communities(first: 1000) { edges { node { name } } } }", None),
        (
            "{ communities(first: 1) { edges { node { name } } } complaintCategories(first: 1) { edges { node { name } } } }",
            None,
        ),
    ],
)
async def test_the_edges_of_what_a_shape_can_say_are_answered_as_the_resolvers_answer_them(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch, query: str, variables: Any
) -> None:
    """What a shape cannot say (a cursor, a count, another field, a page out of bounds, a list
    not declared, a field under a directive) goes to the resolvers; what it can (a field
    skipped, a null `after`) is compiled: the same answer either way."""
    await alike(api, monkeypatch, query, variables, tenant="alpha")


async def test_without_a_tenant_the_tree_is_the_same_error(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = await alike(api, monkeypatch, "{ communities(first: 1) { edges { node { name } } } }")
    assert body["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"


async def test_the_tree_over_a_websocket_is_what_http_answers(api: Api, alpha: TenantHandle, live_server: str) -> None:
    """Over HTTP a compiled answer goes into the response as the database wrote it; a websocket
    carries it decoded, the same data."""
    token = await api.token("alpha", WORKER_1)
    over_http = await api.data(TREE, {"n": 2, "g": 2}, token=token)
    async with signed_in(live_server, token) as socket:
        await send(
            socket, {"id": "tree", "type": "subscribe", "payload": {"query": TREE, "variables": {"n": 2, "g": 2}}}
        )
        answer = await receive(socket)
    assert answer["type"] == "next" and answer["payload"]["data"] == over_http


async def test_a_caller_of_the_schema_itself_gets_the_tree_decoded(app: Starlette, alpha: TenantHandle) -> None:
    services = app.state.services
    caller = await services.directory.identify(
        authorization=None, tenant_header="alpha", host=None, base_domain=None, secret="", now=services.clock()
    )
    ctx = RequestContext(services=services, request_id="test", tenant=caller.tenant, viewer=None)
    result = await build_schema().execute(TREE, variable_values={"n": 2, "g": 1}, context_value=ctx)
    assert result.errors is None and isinstance(result.data, dict)
    assert [edge["node"]["code"] for edge in result.data["communities"]["edges"]] == sorted(alpha.communities)[:2]


def test_no_compiled_column_is_a_whole_value_the_audit_log_must_see() -> None:
    """A compiled answer goes out as the database wrote it: note_full_views never sees it."""
    audited = {field.value for field in AuditedField}
    assert {column for columns in COMPILABLE.columns.values() for column in columns} & audited == set()


@pytest.mark.parametrize(
    "node",
    [
        Node((("worker", Column("worker_id", True)),)),  # not a column of the communities' selection
        Node((("name", Column("name", True)), ("grids", PageShape(organisation.BUILDINGS_OF_GRID, 1, ())))),
    ],
    ids=["a column the listing does not select", "a listing nested under the wrong parent"],
)
def test_a_shape_the_listings_cannot_answer_is_refused_before_any_sql(node: Node) -> None:
    shape = PageShape(organisation.COMMUNITIES, 1, (("edges", Edge((("node", node),))),))
    with pytest.raises(NotCompiled):
        statement_for((("communities", shape),))


async def test_a_global_id_is_written_as_strawberry_writes_it_up_to_the_longest_type_name(app: Starlette) -> None:
    """PostgreSQL's base64 ends a line after 57 bytes: a longer "Type:uuid" is not compiled."""
    row_id = uuid.UUID(int=2**128 - 1)
    longest = "T" * MAX_TYPE_NAME
    with pytest.raises(NotCompiled):
        _global_id(longest + "x", literal(row_id, Uuid()))
    if BACKEND == "postgresql":
        async with app.state.services.engine.connect() as connection:
            written = await connection.scalar(select(_global_id(longest, literal(row_id, Uuid()))))
        assert written == relay.to_base64(longest, str(row_id))
