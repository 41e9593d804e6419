"""`wanjia migrate` only upgrades and says where the database really is; downgrades are
`--down-to`, asked for first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import migrations
from tests.conftest import BACKEND, Wanjia
from tests.provision import DATABASE_NAME, ProvisionedDatabase, create_database, drop_postgres_database

HEAD = migrations.head_revision()


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[ProvisionedDatabase]:
    name = f"{DATABASE_NAME}_migrate"
    database = create_database(BACKEND, name, tmp_path)
    yield database
    if database.backend == "postgresql":
        drop_postgres_database(name)


@pytest.fixture
def on_scratch(wanjia: Wanjia, scratch: ProvisionedDatabase) -> Wanjia:
    async def run(*args: str, **kwargs: str):  # type: ignore[no-untyped-def]
        return await wanjia(
            "migrate",
            *args,
            WANJIA_DATABASE_URL=scratch.app_url,
            WANJIA_MIGRATION_DATABASE_URL=scratch.owner_url,
            **kwargs,
        )

    return run


async def test_migrating_to_an_older_revision_is_refused_and_changes_nothing(
    on_scratch: Wanjia, scratch: ProvisionedDatabase
) -> None:
    created = await on_scratch()
    assert created.exit_code == 0 and f"数据库已迁移到 {HEAD}。" in created.output
    refused = await on_scratch("0003")
    assert refused.exit_code == 1
    assert f"数据库已在 {HEAD}，比 0003 新" in refused.output and "wanjia migrate --down-to 0003" in refused.output
    assert await _revision(scratch) == HEAD


async def test_a_downgrade_is_asked_for_and_names_where_the_database_is(
    on_scratch: Wanjia, scratch: ProvisionedDatabase
) -> None:
    await on_scratch()
    declined = await on_scratch("--down-to", "0004", input="n\n")
    assert declined.exit_code == 1 and f"已取消，数据库仍在 {HEAD}。" in declined.output
    assert await _revision(scratch) == HEAD
    confirmed = await on_scratch("--down-to", "0004", input="y\n")
    assert confirmed.exit_code == 0 and "数据库已迁移到 0004。" in confirmed.output
    assert await _revision(scratch) == "0004"
    down_again = await on_scratch("--down-to", "0003", "--yes")
    assert down_again.exit_code == 0 and "数据库已迁移到 0003。" in down_again.output
    up = await on_scratch()
    assert up.exit_code == 0 and f"数据库已迁移到 {HEAD}。" in up.output and await _revision(scratch) == HEAD


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("--down-to", HEAD, "--yes"), 1, f"{HEAD} 比数据库当前的 0004 新"),
        (("no-such-revision",), 2, "没有“no-such-revision”这个迁移版本"),
        (("--down-to", "no-such-revision", "--yes"), 2, "没有“no-such-revision”这个迁移版本"),
    ],
    ids=["down to a newer revision", "unknown revision", "down to an unknown revision"],
)
async def test_a_migration_that_cannot_be_done_changes_nothing(
    on_scratch: Wanjia, scratch: ProvisionedDatabase, args: tuple[str, ...], code: int, says: str
) -> None:
    await on_scratch("0004")
    result = await on_scratch(*args)
    assert result.exit_code == code and says in result.output
    assert await _revision(scratch) == "0004"


async def _revision(database: ProvisionedDatabase) -> str | None:
    # The command line's own reading, in a thread: it runs an event loop of its own.
    return await asyncio.to_thread(migrations.database_revision, database.owner_url)
