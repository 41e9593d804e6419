"""PostgreSQL's row-level security holds on its own: with the application's tenant scoping
switched off, another tenant's rows are still out of reach. (Collected on PostgreSQL only.)"""

from __future__ import annotations

import uuid

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from server.app import create_app
from tests.conftest import TENANT_ADMIN, WORKER_1, settings_for
from tests.provision import APP_ROLE, OWNER_ROLE, ProvisionedDatabase
from tests.support import TEXTS, Api, Clock, TenantHandle, fresh_phone, gid
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


# Tables whose policy binds every role but their owner, and why (the owner alone reads them whole).
OWNER_READS_WHOLE = {
    # The copy of complaints' titles and contents that the trigram index serves (migration 0018):
    # read by complaints_matching(), which runs as the owner so that the planner may use the index,
    # and filters by app.tenant_id itself (test_the_search_function_answers_only_...).
    "complaints_search",
}


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
    guarded = {
        name: (enabled, forced, *("app.tenant_id" in (clause or "") for clause in policies.get(name, (None, None))))
        for name, enabled, forced in tables
    }
    assert guarded == {name: (True, name not in OWNER_READS_WHOLE, True, True) for name, _, _ in tables}


def test_the_app_role_cannot_bypass_security_and_owns_nothing(database: ProvisionedDatabase) -> None:
    with connect(database.owner_url) as connection:
        role = connection.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (APP_ROLE,)
        ).fetchone()
        owned = connection.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", (APP_ROLE,)).fetchone()
    assert role == (False, False)
    assert owned == (0,)


@pytest.fixture
async def searched(api: Api, alpha: TenantHandle, beta: TenantHandle) -> str:
    """A word in one new complaint of each tenant, and in no other complaint."""
    word = f"越界搜索{fresh_phone()}"
    for slug, building in (("alpha", alpha.buildings["A1-G1-B1"]), ("beta", beta.buildings["B1-G1-B1"])):
        phone = fresh_phone()
        await api.register_resident(slug, building, phone=phone)
        category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant=slug))[
            "complaintCategories"
        ]["edges"][0]["node"]["id"]
        submitted = await api.data(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { errors { code } } }",
            {"input": {"complaint": {"title": word, "content": "请尽快处理", "categoryId": category}}},
            token=await api.token(slug, phone),
        )
        assert submitted["submitComplaint"]["errors"] == []
    return word


def matching(connection: psycopg.Connection, word: str, tenant: object | None) -> set[object]:
    """What complaints_matching(word) answers in a transaction that sets `tenant` (None: sets none)."""
    with connection.transaction():
        if tenant is not None:
            connection.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
        return {row[0] for row in connection.execute("SELECT complaints_matching(%s)", (word,))}


def own_complaints(database: ProvisionedDatabase, tenant: uuid.UUID, title: str) -> set[object]:
    with connect(database.owner_url) as connection, connection.transaction():
        connection.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
        return {row[0] for row in connection.execute("SELECT id FROM complaints WHERE title = %s", (title,))}


def test_the_search_function_answers_only_for_the_tenant_the_transaction_set(
    database: ProvisionedDatabase, alpha: TenantHandle, beta: TenantHandle, searched: str
) -> None:
    """complaints_matching runs as the owner, whom complaints_search's policy does not bind: it
    must filter by app.tenant_id itself, and answer nothing when no tenant is set."""
    with connect(database.app_url) as connection:
        assert matching(connection, searched, None) == set()  # never set in this session
        mine = matching(connection, searched, alpha.id)
        assert mine == own_complaints(database, alpha.id, searched) and len(mine) == 1
        theirs = matching(connection, searched, beta.id)
        assert theirs == own_complaints(database, beta.id, searched) and len(theirs) == 1
        assert matching(connection, searched, None) == set()  # left as '' by the transactions above
        wildcards = ("越界搜_", "越界%", "越界搜\\索")  # LIKE's wildcards and escape stand for themselves
        found = {w: matching(connection, searched.replace("越界搜索", w), alpha.id) for w in wildcards}
        assert found == {w: set() for w in wildcards}
        assert matching(connection, searched, uuid.uuid4()) == set()
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            matching(connection, searched, "alpha")
        # The copy the function reads is under the tenant policy for the app role itself.
        with connection.transaction():
            connection.execute("SELECT set_config('app.tenant_id', %s, true)", (str(alpha.id),))
            tenants = connection.execute("SELECT DISTINCT tenant_id FROM complaints_search").fetchall()
        assert tenants == [(alpha.id,)]


def test_only_the_app_role_may_run_the_search_function_and_its_search_path_is_fixed(
    database: ProvisionedDatabase,
) -> None:
    with connect(database.owner_url) as connection:
        acl, definer, config = connection.execute(
            "SELECT proacl::text[], prosecdef, proconfig FROM pg_proc WHERE proname = 'complaints_matching'"
        ).fetchone() or (None, None, None)
    assert definer is True and config == ["search_path=pg_catalog, pg_temp"]
    assert {entry.split("=")[0] for entry in acl} == {OWNER_ROLE, APP_ROLE}  # PUBLIC would be ""


def test_the_search_index_follows_inserts_edits_and_deletions(
    database: ProvisionedDatabase, alpha: TenantHandle, searched: str
) -> None:
    original = own_complaints(database, alpha.id, searched)
    with connect(database.owner_url) as connection, connection.transaction(force_rollback=True):

        def found(word: str) -> set[object]:
            return {row[0] for row in connection.execute("SELECT complaints_matching(%s)", (word,))}

        connection.execute("SELECT set_config('app.tenant_id', %s, true)", (str(alpha.id),))
        connection.execute("CREATE TEMP TABLE copied AS SELECT * FROM complaints WHERE title = %s", (searched,))
        row = connection.execute("UPDATE copied SET id = gen_random_uuid() RETURNING id").fetchone()
        assert row is not None
        copy = row[0]
        connection.execute("INSERT INTO complaints SELECT * FROM copied")
        assert found(searched) == {*original, copy}
        connection.execute("UPDATE complaints SET title = %s WHERE id = %s", (f"改后{searched}", copy))
        assert found(f"改后{searched}") == {copy}
        connection.execute("UPDATE complaints SET title = '井盖松动' WHERE id = %s", (copy,))
        assert found(searched) == original
        connection.execute("UPDATE complaints SET title = %s WHERE id = %s", (searched, copy))
        connection.execute("DELETE FROM complaints WHERE id = %s", (copy,))
        assert found(searched) == original
