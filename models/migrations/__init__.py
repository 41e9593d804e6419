"""Alembic migrations: the only way any schema is created, on both backends, tests included."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from models.database import create_engine, ensure_sqlite_directory

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str, *, app_role: str | None = None) -> Config:
    """`app_role` is the PostgreSQL role the application connects as; migrations grant it
    read/write on every table, since it owns none of them."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["app_role"] = app_role
    return config


def upgrade(url: str, revision: str = "head", *, app_role: str | None = None) -> None:
    ensure_sqlite_directory(url)
    command.upgrade(alembic_config(url, app_role=app_role), revision)


def downgrade(url: str, revision: str = "base", *, app_role: str | None = None) -> None:
    command.downgrade(alembic_config(url, app_role=app_role), revision)


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def resolve(revision: str) -> str | None:
    """The id a revision name stands for ("head", "base" as None, a whole or partial id).
    Raises alembic's CommandError for one that does not exist."""
    found = _script().get_revision(revision)
    return found.revision if found is not None else None


def lineage(revision: str | None) -> set[str | None]:
    """`revision` and every revision below it, "base" (None) included."""
    below: set[str | None] = {None}
    if revision is not None:
        below.update(script.revision for script in _script().iterate_revisions(revision, "base"))
    return below


def database_revision(url: str) -> str | None:
    """Where a database is now, for the command line (which has no event loop of its own)."""

    async def read() -> str | None:
        engine = create_engine(url, pool_size=1)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync_connection: MigrationContext.configure(sync_connection).get_current_revision()
        )
