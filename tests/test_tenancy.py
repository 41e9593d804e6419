"""Nothing crosses tenants: not a row, an id, a count or an error message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from server.app import create_app
from tests.conftest import TENANT_ADMIN, WORKER_1, settings_for
from tests.provision import ProvisionedDatabase
from tests.support import Api, Clock, TenantHandle, gid

COMMUNITIES = "{ tenant { slug } communities(first: 50) { edges { node { name } } } }"


async def test_each_tenant_sees_only_its_own_communities(api: Api) -> None:
    alpha = await api.data(COMMUNITIES, tenant="alpha")
    beta = await api.data(COMMUNITIES, tenant="beta")
    assert {e["node"]["name"] for e in alpha["communities"]["edges"]} == {"东风社区", "西湖社区"}
    assert {e["node"]["name"] for e in beta["communities"]["edges"]} == {"南山社区"}


async def test_another_tenants_id_looks_exactly_like_a_missing_one(api: Api, alpha: TenantHandle) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    foreign = await api.run(query, {"id": gid("Community", alpha.communities["A1"])}, tenant="beta")
    missing = await api.run(query, {"id": gid("Community", "01000000-0000-7000-8000-000000000000")}, tenant="beta")
    assert foreign == missing and foreign["data"] == {"node": None} and "errors" not in foreign


async def test_a_token_of_one_tenant_naming_another_gets_the_unknown_tenant_answer(api: Api) -> None:
    token = await api.token("alpha", TENANT_ADMIN)
    foreign = await api.post(COMMUNITIES, token=token, tenant="beta")
    unknown = await api.post(COMMUNITIES, token=token, tenant="no-such-office")
    anonymous_unknown = await api.post(COMMUNITIES, tenant="no-such-office")
    assert foreign.status_code == unknown.status_code == anonymous_unknown.status_code == 404
    assert foreign.json() == unknown.json() == anonymous_unknown.json()
    assert foreign.json()["errors"][0]["extensions"]["code"] == "TENANT_NOT_FOUND"


async def test_the_token_names_the_tenant_without_a_header(api: Api) -> None:
    token = await api.token("beta", WORKER_1)
    data = await api.data("{ tenant { slug name } me { name } }", token=token)
    assert data == {"tenant": {"slug": "beta", "name": "贝塔街道"}, "me": {"name": "网格员乙"}}


async def test_the_same_phone_is_two_separate_accounts_in_two_tenants(api: Api) -> None:
    alpha = await api.data("{ me { name } }", token=await api.token("alpha", TENANT_ADMIN))
    beta = await api.data("{ me { name } }", token=await api.token("beta", TENANT_ADMIN))
    assert alpha["me"]["name"] == "街道管理员甲" and beta["me"]["name"] == "街道管理员乙"


async def test_the_subdomain_names_the_tenant(database: ProvisionedDatabase, clock: Clock, alpha: TenantHandle) -> None:
    app = create_app(settings_for(database.app_url, base_domain="wanjia.example.cn"), clock=clock.now)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://beta.wanjia.example.cn"
    ) as client:
        response = await client.post("/graphql", json={"query": "{ tenant { slug } }"})
    await app.state.engine.dispose()
    assert response.json()["data"] == {"tenant": {"slug": "beta"}}


async def test_tenant_scoped_fields_without_a_tenant_say_how_to_name_one(api: Api) -> None:
    body = await api.run("{ communities(first: 1) { edges { node { name } } } }")
    assert body["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"


@pytest.mark.parametrize("pool_size", [1])
async def test_one_pooled_connection_serves_tenant_a_then_b_and_b_sees_only_b(
    database: ProvisionedDatabase, clock: Clock, alpha: TenantHandle, beta: TenantHandle, pool_size: int
) -> None:
    app = create_app(settings_for(database.app_url, database_pool_size=pool_size), clock=clock.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        first = await api.data(COMMUNITIES, tenant="alpha")
        second = await api.data(COMMUNITIES, tenant="beta")
        connections = app.state.engine.pool.checkedin()
    await app.state.engine.dispose()
    assert {e["node"]["name"] for e in first["communities"]["edges"]} == {"东风社区", "西湖社区"}
    assert {e["node"]["name"] for e in second["communities"]["edges"]} == {"南山社区"}
    assert connections == 1


async def test_the_tenant_directory_reloads_on_the_apps_clock_not_the_walls(app, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    from models.database import counting_statements

    directory = app.state.services.directory
    ttl = timedelta(seconds=app.state.services.settings.tenant_cache_seconds)

    async def statements_to_find_alpha() -> int:
        with counting_statements() as counter:
            assert (await directory.by_slug("alpha")) is not None
        return counter.count

    with clock.at(datetime(2026, 12, 1, 1, 0, tzinfo=UTC)):
        await statements_to_find_alpha()
        assert await statements_to_find_alpha() == 0
    with clock.at(datetime(2026, 12, 1, 1, 0, tzinfo=UTC) + ttl):
        assert await statements_to_find_alpha() > 0
        assert await statements_to_find_alpha() == 0
