"""Whatever goes wrong, `/graphql` answers a GraphQL response in the caller's terms: a database
that is down or out of connections is SERVICE_UNAVAILABLE with the request id and nothing of
its SQL or address; malformed input is the caller's error, never an internal one; production
names no schema member the caller did not write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from server.app import create_app
from tests.conftest import BACKEND, WORKER_1, settings_for
from tests.provision import ProvisionedDatabase
from tests.support import GRAPHQL_RESPONSE, Api, Clock, gid

JSON = "application/json"
LEAKS = ("SELECT", "INSERT", "parameters", "QueuePool", "127.0.0.1", "10.9.8.7", "port", "sqlite", "psycopg")


def assert_masked(response: httpx.Response, code: str) -> None:
    body = response.json()
    assert "data" not in body or body["data"] is None
    error = body["errors"][0]
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": code, "requestId": request_id}
    assert request_id in error["message"]
    assert not [leak for leak in LEAKS if leak in response.text], response.text


def unreachable_database(tmp_path: Path) -> str:
    if BACKEND == "postgresql":
        return "postgresql+psycopg://nobody@127.0.0.1:1/none"
    # A directory where the database file should be: SQLite cannot open it.
    return f"sqlite+aiosqlite:///{tmp_path}"


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_a_database_that_is_down_during_the_tenant_lookup_answers_a_graphql_error(
    tmp_path: Path, clock: Clock, accept: str
) -> None:
    app = create_app(settings_for(unreachable_database(tmp_path)), clock=clock.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.post(
            "/graphql", json={"query": "{ tenant { slug } }"}, headers={"X-Tenant": "alpha", "Accept": accept}
        )
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(accept)
    assert_masked(response, "SERVICE_UNAVAILABLE")


@pytest.fixture
async def small_pool(settings, clock: Clock, alpha) -> AsyncIterator[Starlette]:  # type: ignore[no-untyped-def]
    """The app with one pooled connection and one overflow, waiting briefly for a free one."""
    app = create_app(
        settings.model_copy(update={"database_pool_size": 1, "database_pool_timeout": 0.2}), clock=clock.now
    )
    yield app
    await app.state.engine.dispose()


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 503), (JSON, 200)])
async def test_an_exhausted_connection_pool_is_service_unavailable_without_its_details(
    small_pool: Starlette, accept: str, status: int
) -> None:
    query = {"query": "{ communities(first: 1) { edges { node { name } } } }"}
    headers = {"X-Tenant": "alpha", "Accept": accept}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small_pool), base_url="http://testserver") as client:
        assert (await client.post("/graphql", json=query, headers=headers)).status_code == 200  # tenants now cached
        engine = small_pool.state.engine
        async with engine.connect() as first, engine.connect() as second:
            await first.exec_driver_sql("SELECT 1")
            await second.exec_driver_sql("SELECT 1")
            response = await client.post("/graphql", json=query, headers=headers)
    assert response.status_code == status
    assert_masked(response, "SERVICE_UNAVAILABLE")


@pytest.mark.parametrize(
    ("failure", "code", "status"),
    [
        (
            exc.OperationalError(
                "UPDATE refresh_tokens SET revoked_at=%(revoked_at)s",
                {"revoked_at": "2026-01-01"},
                ConnectionError('connection to server at "10.9.8.7", port 5432 failed'),
            ),
            "SERVICE_UNAVAILABLE",
            503,
        ),
        (RuntimeError("commit failed: INSERT INTO users parameters 13800138000"), "INTERNAL_SERVER_ERROR", 500),
    ],
    ids=["database gone", "anything else"],
)
async def test_a_transaction_that_fails_to_commit_is_masked(
    api: Api, monkeypatch: pytest.MonkeyPatch, failure: Exception, code: str, status: int
) -> None:
    async def failing_commit(self: AsyncSession) -> None:
        raise failure

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await api.post('mutation { logout(input: {refreshToken: "x"}) { ok } }', tenant="alpha")
    assert response.status_code == status
    assert_masked(response, code)


NODE = "query($id: ID!) { node(id: $id) { id } }"


@pytest.mark.parametrize(
    "node_id",
    ["garbage!!", "", "TWU6MQ==", gid("User", __import__("uuid").uuid4()), gid("Me", "x"), gid("Community", "x")],
    ids=["not base64", "empty", "Me:1", "User", "Me", "not a uuid"],
)
async def test_node_answers_null_for_an_id_that_names_nothing(api: Api, node_id: str) -> None:
    by_variable = await api.run(NODE, {"id": node_id}, tenant="alpha")
    by_literal = await api.run(f'{{ node(id: "{node_id}") {{ id }} }}', tenant="alpha")
    answered = {
        name: (body["data"], "errors" in body) for name, body in (("variable", by_variable), ("literal", by_literal))
    }
    assert answered == dict.fromkeys(("variable", "literal"), ({"node": None}, False))


@pytest.mark.parametrize(
    ("mutation", "variables", "field"),
    [
        (
            "mutation($input: VerifyResidentInput!) { verifyResident(input: $input) { errors { field code } } }",
            {"input": {"residentId": "garbage!!"}},
            "residentId",
        ),
        (
            'mutation { verifyResident(input: {residentId: "bm90IGFuIGlk"}) { errors { field code } } }',
            {},
            "residentId",
        ),
        (
            "mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) { marked unreadCount errors { field code } } }",
            {"input": {"notificationIds": ["garbage!!"]}},
            "notificationIds",
        ),
    ],
    ids=["variable", "literal", "in a list"],
)
async def test_a_malformed_id_in_a_mutation_is_an_invalid_id_user_error(
    api: Api, mutation: str, variables: dict[str, object], field: str
) -> None:
    token = await api.token("alpha", WORKER_1)
    data = await api.data(mutation, variables, token=token)
    payload = next(iter(data.values()))
    assert payload["errors"] == [{"field": field, "code": "INVALID_ID"}]
    assert payload.get("marked", 0) == 0  # the rest of the payload is answered as for any failure


async def test_a_malformed_id_in_a_query_argument_is_an_invalid_id_error(api: Api) -> None:
    body = await api.run('{ publicComplaints(communityId: "garbage!!") { edges { cursor } } }', tenant="alpha")
    assert body["errors"][0]["extensions"] == {"code": "INVALID_ID", "field": "communityId"}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($n: Int) { communities(first: $n) { edges { cursor } } }", {"n": "x"}),
        ("query($n: Int) { communities(first: $n) { edges { cursor } } }", {"n": 2**40}),
        (
            "query($d: Date!) { rooms(first: 1) { edges { node { freeSlots(fromDate: $d, toDate: $d) { startsAt } } } } }",
            {"d": "garbage"},
        ),
        (
            "query($f: ComplaintFilter) { complaints(filter: $f) { edges { cursor } } }",
            {"f": {"statuses": ["NO_SUCH_STATUS"]}},
        ),
        (
            '{ rooms(first: 1) { edges { node { freeSlots(fromDate: "garbage", toDate: "x") { startsAt } } } } }',
            {},
        ),
    ],
    ids=["string for an Int", "Int out of range", "bad Date variable", "unknown enum value", "bad Date literal"],
)
async def test_wrongly_typed_input_is_a_request_error(api: Api, query: str, variables: dict[str, object]) -> None:
    response = await api.post(query, variables, tenant="alpha")
    assert response.status_code == 400, response.text
    assert "data" not in response.json()
    assert all(
        "extensions" not in e or e["extensions"].get("code") != "INTERNAL_SERVER_ERROR"
        for e in response.json()["errors"]
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ tenant { slug } }", "variables": {"x": "a\\u0000b"}}',
        b'{"query": "mutation { login(input: {phone: \\"\\\\u0000\\", password: \\"x\\"}) { errors { code } } }"}',
        b'{"query": "{ tenant { slug } }", "variables": {"x": "\\ud800"}}',
        b'{"query": "{ tenant { slug } }", "operationName": "\\udfff"}',
        b'{"query": "{ tenant { slug } }", "variables": {"x": "\xff\xfe"}}',
        b"\xff\xfe{}",
        b"1",
        b'"{ tenant { slug } }"',
        b"null",
        b'{"query": "{ tenant { slug } }", "operationName": 7}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "NUL in a variable",
        "NUL in a literal",
        "lone surrogate",
        "lone surrogate in the operation name",
        "invalid UTF-8 in a string",
        "invalid UTF-8 body",
        "a number",
        "a string",
        "null",
        "a numeric operation name",
        "nested too deep",
    ],
)
async def test_bad_bytes_are_400(api: Api, body: bytes) -> None:
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": JSON, "Accept": GRAPHQL_RESPONSE, "X-Tenant": "alpha"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"] and "INTERNAL_SERVER_ERROR" not in response.text


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($i: FileComplaintInpt!) { tenant { slug } }", {}),
        ("{ communities(frist: 1) { edges { cursor } } }", {}),
        ("query($o: ComplaintOrder!) { complaints(order: $o) { edges { cursor } } }", {"o": "DEADLINES"}),
        ('mutation { login(input: {phone: "1", pasword: "x"}) { errors { code } } }', {}),
        ("{ communitie(first: 1) { edges { cursor } } }", {}),
    ],
    ids=["type", "argument", "enum value", "input field", "field"],
)
async def test_production_suggests_no_schema_names(
    database: ProvisionedDatabase,
    clock: Clock,
    alpha,
    query: str,
    variables: dict[str, object],  # type: ignore[no-untyped-def]
) -> None:
    app = create_app(settings_for(database.app_url, env="production"), clock=clock.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Accept": GRAPHQL_RESPONSE, "X-Tenant": "alpha"},
        )
    await app.state.engine.dispose()
    assert response.status_code == 400 and response.json()["errors"]
    assert "Did you mean" not in response.text and "'FileComplaintInput'" not in response.text
