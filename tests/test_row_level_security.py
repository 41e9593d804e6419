"""PostgreSQL's row-level security holds on its own: with the application's tenant scoping
switched off, another tenant's rows are still out of reach. (Collected on PostgreSQL only.)"""

from __future__ import annotations

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from server.app import create_app
from tests.conftest import TENANT_ADMIN, WORKER_1, settings_for
from tests.provision import APP_ROLE, ProvisionedDatabase
from tests.support import TEXTS, Api, Clock, TenantHandle, gid
from tests.test_catalog import GLOBAL_TABLES


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    )


@pytest.fixture
async def unscoped_api(database: ProvisionedDatabase, clock: Clock, alpha: TenantHandle, beta: TenantHandle):  # type: ignore[no-untyped-def]
    app = create_app(settings_for(database.app_url), scope_queries=False, clock=clock.now, phone_code_sender=TEXTS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client)
    await app.state.engine.dispose()


async def test_without_app_scoping_a_tenant_still_lists_only_its_own_rows(unscoped_api: Api) -> None:
    data = await unscoped_api.data("{ communities(first: 100) { edges { node { name } } } }", tenant="beta")
    assert {e["node"]["name"] for e in data["communities"]["edges"]} == {"南山社区"}


async def test_without_app_scoping_another_tenants_id_finds_nothing(unscoped_api: Api, alpha: TenantHandle) -> None:
    data = await unscoped_api.data(
        "query($id: ID!) { node(id: $id) { ... on Grid { name } } }",
        {"id": gid("Grid", alpha.grids["A1-G1"])},
        tenant="beta",
    )
    assert data == {"node": None}


async def test_without_app_scoping_sign_in_and_queues_stay_inside_the_tenant(
    unscoped_api: Api, alpha: TenantHandle
) -> None:
    registered = await unscoped_api.register_resident("alpha", alpha.buildings["A1-G1-B1"])
    assert registered["errors"] == []
    token = await unscoped_api.token("beta", TENANT_ADMIN)
    me = await unscoped_api.data("{ me { name } }", token=token)
    assert me["me"]["name"] == "街道管理员乙"
    queue = await unscoped_api.data("{ residentsAwaitingReview(first: 100) { edges { node { id } } } }", token=token)
    assert registered["resident"]["id"] not in {e["node"]["id"] for e in queue["residentsAwaitingReview"]["edges"]}
    worker = await unscoped_api.token("beta", WORKER_1)
    grids = await unscoped_api.data(
        "{ communities(first: 10) { edges { node { grids(first: 10) { edges { node { code } } } } } } }", token=worker
    )
    codes = {g["node"]["code"] for c in grids["communities"]["edges"] for g in c["node"]["grids"]["edges"]}
    assert codes == {"B1-G1"}


def test_with_no_tenant_set_the_app_role_sees_no_rows_at_all(database: ProvisionedDatabase) -> None:
    with connect(database.app_url) as connection:
        for table in ("users", "communities", "grids", "resident_profiles", "refresh_tokens"):
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        # After a transaction that did set a tenant, the leftover empty setting still fails closed.
        with connection.transaction():
            connection.execute("SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants LIMIT 1), true)")
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_rows_cannot_be_written_into_another_tenant(
    database: ProvisionedDatabase, alpha: TenantHandle, beta: TenantHandle
) -> None:
    with (
        connect(database.app_url) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        connection.transaction(),
    ):
        connection.execute("SELECT set_config('app.tenant_id', %s, true)", (str(beta.id),))
        connection.execute(
            "INSERT INTO communities (tenant_id, id, code, name) VALUES (%s, gen_random_uuid(), 'X', '越界')",
            (alpha.id,),
        )


def test_every_tenant_table_forces_a_policy_with_using_and_with_check(database: ProvisionedDatabase) -> None:
    with connect(database.owner_url) as connection:
        tables = connection.execute(
            """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL(%s)""",
            (sorted(GLOBAL_TABLES),),
        ).fetchall()
        policies = {
            row[0]: row[1:]
            for row in connection.execute(
                "SELECT tablename, qual, with_check FROM pg_policies WHERE schemaname = 'public'"
            )
        }
    assert len(tables) >= 10
    for name, enabled, forced in tables:
        assert enabled and forced, name
        qual, with_check = policies[name]
        assert "app.tenant_id" in qual and "app.tenant_id" in with_check, name


def test_the_app_role_cannot_bypass_security_and_owns_nothing(database: ProvisionedDatabase) -> None:
    with connect(database.owner_url) as connection:
        role = connection.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (APP_ROLE,)
        ).fetchone()
        owned = connection.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", (APP_ROLE,)).fetchone()
    assert role == (False, False)
    assert owned == (0,)
