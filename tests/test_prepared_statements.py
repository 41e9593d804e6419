"""psycopg prepares a statement a connection has run five times, and forgets every prepared
statement at a rollback: reading units of work end with a commit on PostgreSQL (their
transaction is read-only), so the pages read most are not parsed and planned afresh on every
request. (Collected on PostgreSQL only: SQLite has no server to prepare them on.)"""

from __future__ import annotations

from starlette.applications import Starlette

from tenants.context import unit_of_work
from tests.support import TenantHandle

READ = "SELECT count(*) FROM grids WHERE code <> %(code)s"


async def test_a_read_asked_again_and_again_is_prepared_on_its_connection(app: Starlette, alpha: TenantHandle) -> None:
    services = app.state.services
    tenant = await services.directory.by_id(alpha.id)
    # Enough times for every pooled connection to have run it five times, lent in turn.
    for _ in range(6 * 2 * services.settings.database_pool_size):
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
            assert ctx.session is not None
            await (await ctx.session.connection()).exec_driver_sql(READ, {"code": ""})
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        assert ctx.session is not None
        connection = await ctx.session.connection()
        prepared = (await connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any("FROM grids WHERE code <> $1" in statement for statement in prepared), prepared
