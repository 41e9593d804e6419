"""The app's PostgreSQL connections. A restart drops every connection the pool holds. The pool
lends a connection used moments ago without pinging it (a round trip every request otherwise),
and pings one that sat idle: after a restart the next request is answered, not failed. Each
connection runs without the JIT compiler, keeping any server options its URL names.
(Collected on PostgreSQL only: the embedded database has no server.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from starlette.applications import Starlette

from models import database as engines
from server.app import create_app
from tests.conftest import TENANT_ADMIN, settings_for
from tests.provision import ProvisionedDatabase, admin_url
from tests.support import TEXTS, Api, Clock, TenantHandle

# Only this test's app connects under this name, so only its connections are dropped.
APPLICATION = "wanjia_restart_test"
CATEGORIES = "{ complaintCategories(first: 5) { edges { node { name } } } }"
# Compiled into one statement on PostgreSQL (schema.compiled).
COMMUNITIES = "{ communities(first: 3) { edges { node { name grids(first: 2) { edges { node { name } } } } } } }"


@pytest.fixture
async def own_app(database: ProvisionedDatabase, clock: Clock, alpha: TenantHandle) -> AsyncIterator[Starlette]:
    url = make_url(database.app_url).update_query_dict({"application_name": APPLICATION})
    app = create_app(settings_for(url.render_as_string(hide_password=False)), clock=clock.now, phone_code_sender=TEXTS)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def own_api(own_app: Starlette, clock: Clock) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=own_app), base_url="http://testserver") as client:
        yield Api(client, clock)


def drop_connections_of(application: str, *, backend: int | None = None) -> int:
    """What a restart does to a client's connections (or to the one of `backend`, its server
    process), each gone when this returns; answers how many were dropped."""
    with psycopg.connect(make_url(admin_url()).render_as_string(hide_password=False), autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid = coalesce(%s, pid)",
            (application, backend),
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


async def test_a_connection_lost_under_a_compiled_read_fails_it_as_unavailable_and_is_not_lent_again(
    own_app: Starlette, own_api: Api
) -> None:
    """A compiled read runs on the driver's own cursor (models.database.one_row_on_driver):
    a connection lost just before its statement fails the request as the database being
    unavailable, as under the resolvers, and is thrown away rather than lent to the next."""
    before = await own_api.data(COMMUNITIES, tenant="alpha")
    dropped: list[int] = []

    def drop_before_the_answer(connection: Connection, _cursor: object, statement: str, *_: object) -> None:
        if "json_build_object" in statement and not dropped:
            backend = connection.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
            dropped.append(drop_connections_of(APPLICATION, backend=backend))

    engine = own_app.state.services.engine.sync_engine
    with watching(engine, drop_before_the_answer) as thrown_away:
        failed = await own_api.post(COMMUNITIES, tenant="alpha")
    assert dropped == [1]
    # Thrown away for the statement's own error, not for a rollback failing on it afterwards.
    assert [type(error) for error in thrown_away] == [psycopg.errors.AdminShutdown]
    assert failed.status_code == 503, failed.text
    assert [error["extensions"]["code"] for error in failed.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert "data" not in failed.json()
    assert await own_api.data(COMMUNITIES, tenant="alpha") == before


async def test_a_compiled_read_cancelled_under_way_is_cancelled_and_its_connection_thrown_away(
    database: ProvisionedDatabase, own_app: Starlette, own_api: Api
) -> None:
    """A client gone mid-request cancels it: a compiled read's statement, waiting for a lock,
    is cancelled as a statement SQLAlchemy runs would be. The cancellation goes on up (no
    answer, no error logged as ours) and the connection it interrupted is thrown away, alone."""
    before = await own_api.data(COMMUNITIES, tenant="alpha")
    loop = asyncio.get_running_loop()
    request = asyncio.ensure_future(own_api.post(COMMUNITIES, tenant="alpha"))

    def cancel_once_sent(_connection: Connection, _cursor: object, statement: str, *_: object) -> None:
        if "json_build_object" in statement:
            loop.call_soon(request.cancel)

    owner = make_url(database.owner_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with (
        psycopg.connect(owner) as locker,
        watching(own_app.state.services.engine.sync_engine, cancel_once_sent) as thrown_away,
    ):
        locker.execute("LOCK TABLE communities IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(asyncio.CancelledError):
            await request
    assert [type(error) for error in thrown_away] == [asyncio.CancelledError]
    assert await own_api.data(COMMUNITIES, tenant="alpha") == before


@contextmanager
def watching(engine: Engine, before_each_statement: Callable[..., None]) -> Iterator[list[BaseException | None]]:
    """Runs `before_each_statement` before each statement `engine` sends while the block runs,
    and lists why each of its connections was thrown away meanwhile."""
    thrown_away: list[BaseException | None] = []

    def note(_dbapi_connection: object, _record: object, error: BaseException | None) -> None:
        thrown_away.append(error)

    event.listen(engine, "before_cursor_execute", before_each_statement)
    event.listen(engine.pool, "invalidate", note)
    try:
        yield thrown_away
    finally:
        event.remove(engine, "before_cursor_execute", before_each_statement)
        event.remove(engine.pool, "invalidate", note)


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
