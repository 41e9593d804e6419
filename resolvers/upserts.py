"""`INSERT … ON CONFLICT DO UPDATE`, which PostgreSQL and SQLite both have, in the dialect of the
session's database: one statement that creates a row or changes it, whatever runs beside it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.database import UPSERT_INSERT


async def upsert(session: AsyncSession, model: type[Any]) -> Any:
    """An insert into `model` that has `on_conflict_do_update`."""
    return UPSERT_INSERT[await _dialect(session)](model)


async def prepared(session: AsyncSession, build: Callable[..., Any], *shape: Hashable) -> Any:
    """`build(insert, *shape)`, built once per database and shape, for the upserts that run on
    every request: building one costs more than running it. Its values travel as the execution's
    parameters (`session.execute(statement, {column: value, …})`), so `build` names none. None
    is no value there: executed so, an ORM insert leaves a None column out and its default
    applies."""
    return _prepared(await _dialect(session), build, shape)


@functools.lru_cache(maxsize=256)
def _prepared(dialect: str, build: Callable[..., Any], shape: tuple[Hashable, ...]) -> Any:
    return build(UPSERT_INSERT[dialect], *shape)


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name
