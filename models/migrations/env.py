"""Alembic environment: runs migrations over the async engine, then grants the app role."""

from __future__ import annotations

import asyncio
import concurrent.futures

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        app_role = config.attributes.get("app_role")
        if connection.dialect.name == "postgresql" and app_role:
            _grant_app_role(connection, app_role)


def _grant_app_role(connection: Connection, role: str) -> None:
    # Functions too: those that only their owner may run (REVOKE ... FROM PUBLIC, such as 0018's
    # complaints_matching) are the app's to call, no one else's.
    quoted = connection.dialect.identifier_preparer.quote(role)
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"))
    connection.execute(text(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {quoted}"))


async def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic.ini (or the caller) names no sqlalchemy.url")
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def _run_to_completion() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_online())
        return
    # Called from async code (an async test fixture, say): this loop is busy, so another
    # thread gets a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, _run_online()).result()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `wanjia migrate`")
_run_to_completion()
