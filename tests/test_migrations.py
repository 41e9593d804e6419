"""Alembic is the only way any schema is made: up, all the way down, and up again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from models import Base, migrations
from models.database import create_engine
from tests.conftest import BACKEND
from tests.provision import APP_ROLE, DATABASE_NAME, create_database, drop_postgres_database


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


@pytest.fixture
def scratch(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = create_database(BACKEND, f"{DATABASE_NAME}_migrations", tmp_path)
    yield database
    if database.backend == "postgresql":
        drop_postgres_database(f"{DATABASE_NAME}_migrations")


def test_upgrade_downgrade_upgrade(scratch) -> None:  # type: ignore[no-untyped-def]
    # Synchronous: Alembic's environment runs its own event loop.
    role = APP_ROLE if scratch.backend == "postgresql" else None
    models = set(Base.metadata.tables)

    migrations.upgrade(scratch.owner_url, app_role=role)
    assert models <= asyncio.run(table_names(scratch.owner_url))
    migrations.downgrade(scratch.owner_url, "base", app_role=role)
    assert asyncio.run(table_names(scratch.owner_url)) <= {"alembic_version"}
    migrations.upgrade(scratch.owner_url, app_role=role)
    assert models <= asyncio.run(table_names(scratch.owner_url))
