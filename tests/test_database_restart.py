"""The app's PostgreSQL connections. A restart drops every connection the pool holds. The pool
lends a connection used moments ago without pinging it (a round trip every request otherwise),
and pings one that sat idle: after a restart the next request is answered, not failed. Each
connection runs without the JIT compiler, keeping any server options its URL names.
(Collected on PostgreSQL only: the embedded database has no server.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from models import database as engines
from server.app import create_app
from tests.conftest import TENANT_ADMIN, settings_for
from tests.provision import ProvisionedDatabase, admin_url
from tests.support import TEXTS, Api, Clock, TenantHandle

# Only this test's app connects under this name, so only its connections are dropped.
APPLICATION = "wanjia_restart_test"
CATEGORIES = "{ complaintCategories(first: 5) { edges { node { name } } } }"


@pytest.fixture
async def own_api(database: ProvisionedDatabase, clock: Clock, alpha: TenantHandle) -> AsyncIterator[Api]:
    url = make_url(database.app_url).update_query_dict({"application_name": APPLICATION})
    app = create_app(settings_for(url.render_as_string(hide_password=False)), clock=clock.now, phone_code_sender=TEXTS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client, clock)
    await app.state.engine.dispose()


def drop_connections_of(application: str) -> int:
    """What a restart does to a client's connections; answers how many were dropped."""
    with psycopg.connect(make_url(admin_url()).render_as_string(hide_password=False), autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            (application,),
        ).fetchone()
    assert dropped is not None
    return int(dropped[0])


async def test_after_a_restart_an_idle_connection_is_replaced_before_it_is_lent(
    own_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await own_api.token("alpha", TENANT_ADMIN)
    before = await own_api.data(CATEGORIES, token=token)
    assert drop_connections_of(APPLICATION) >= 1
    # Every pooled connection counts as idle from here on, as it would some seconds later.
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert await own_api.data(CATEGORIES, token=token) == before
    assert await own_api.data(CATEGORIES, tenant="alpha") == before


@pytest.mark.parametrize("options", [None, "-c statement_timeout=4321", "-c max_parallel_workers_per_gather=2"])
async def test_the_app_connects_without_jit_or_parallel_workers_unless_the_url_says(
    database: ProvisionedDatabase, options: str | None
) -> None:
    url = make_url(database.app_url)
    if options is not None:
        url = url.update_query_dict({"options": options})
    engine = engines.create_engine(url.render_as_string(hide_password=False), pool_size=1)
    try:
        async with engine.connect() as connection:
            shown = [
                (await connection.exec_driver_sql(f"SHOW {name}")).scalar()
                for name in ("jit", "max_parallel_workers_per_gather", "statement_timeout")
            ]
    finally:
        await engine.dispose()
    assert shown == [
        "off",
        "2" if options and "parallel" in options else "0",
        "4321ms" if options and "timeout" in options else "0",
    ]
