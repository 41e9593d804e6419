"""`INSERT … ON CONFLICT DO UPDATE`, which PostgreSQL and SQLite both have, in the dialect of the
session's database: one statement that creates a row or changes it, whatever runs beside it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


async def upsert(session: AsyncSession, model: type[Any]) -> Any:
    """An insert into `model` that has `on_conflict_do_update`."""
    return _INSERT[(await session.connection()).dialect.name](model)
