"""What must wait for a transaction to commit (live deliveries, forgetting a cached session
version) waits for the real commit, not for the release of a savepoint: every mutation runs in
one, and nothing in it is visible to anyone else until the outer transaction commits."""

from __future__ import annotations

import contextlib
import uuid

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette

from models.broker import Delivery, LocalBroker
from models.database import when_committed
from tenants.context import unit_of_work
from tests.conftest import BACKEND
from tests.support import TenantHandle


async def test_a_savepoint_is_not_the_commit_and_a_rolled_back_savepoint_is_not_the_end(app: Starlette) -> None:
    events: list[str] = []
    async with app.state.services.sessions() as session:
        when_committed(
            session.sync_session, lambda: events.append("committed"), otherwise=lambda: events.append("undone")
        )
        await session.execute(text("SELECT 1"))
        released = await session.begin_nested()
        await released.commit()
        undone = await session.begin_nested()
        await undone.rollback()
        assert events == []
        await session.commit()
    assert events == ["committed"]


async def test_a_rolled_back_transaction_runs_the_otherwise_once(app: Starlette) -> None:
    events: list[str] = []
    async with app.state.services.sessions() as session:
        when_committed(
            session.sync_session, lambda: events.append("committed"), otherwise=lambda: events.append("undone")
        )
        await session.execute(text("SELECT 1"))
        await session.rollback()
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert events == ["undone"]


async def test_a_live_delivery_waits_for_the_outer_commit(app: Starlette) -> None:
    broker = LocalBroker()
    delivery = Delivery(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    async with broker.subscription(delivery.tenant_id, delivery.recipient_id) as queue:
        async with app.state.services.sessions() as session:
            await session.execute(text("SELECT 1"))
            mutation = await session.begin_nested()
            await broker.publish(session, delivery)
            await mutation.commit()
            assert queue.empty()
            failed = await session.begin_nested()
            await failed.rollback()
            await session.commit()
        assert queue.get_nowait() == delivery


async def test_what_a_reading_unit_of_work_writes_is_refused_or_undone(app: Starlette, alpha: TenantHandle) -> None:
    """A query's unit of work changes nothing: on PostgreSQL its transaction is read-only (and
    commits), on SQLite it rolls back."""
    services = app.state.services
    tenant = await services.directory.by_id(alpha.id)
    rename = text("UPDATE communities SET name = '改了名的社区'")
    try:
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
            assert ctx.session is not None
            await ctx.session.execute(rename)
    except DBAPIError as error:
        assert BACKEND == "postgresql" and "read-only transaction" in str(error.orig)
    else:
        assert BACKEND == "sqlite"
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        assert ctx.session is not None
        names = (await ctx.session.scalars(text("SELECT name FROM communities"))).all()
    assert names and "改了名的社区" not in names


async def test_a_reading_unit_of_work_a_failed_statement_aborted_is_rolled_back(
    app: Starlette, alpha: TenantHandle
) -> None:
    """A commit of a transaction PostgreSQL has aborted would be a rollback reported as a commit
    (to whatever waits for the commit): the unit of work rolls it back instead."""
    services = app.state.services
    tenant = await services.directory.by_id(alpha.id)
    events: list[str] = []
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        assert ctx.session is not None
        when_committed(
            ctx.session.sync_session, lambda: events.append("committed"), otherwise=lambda: events.append("undone")
        )
        with contextlib.suppress(DBAPIError):
            await ctx.session.execute(text("SELECT * FROM no_such_table"))
    assert events == ["undone"]
