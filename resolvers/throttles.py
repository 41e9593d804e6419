"""Counting attempts in the database, atomically: one `INSERT … ON CONFLICT DO UPDATE …
RETURNING` per hit, so two requests at the same moment get two different counts (PostgreSQL
locks the row for the second until the first commits; SQLite writes one at a time).

A street office's counts are its own; a unit of work of no street office (a platform admin
signing in) counts in the platform's table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import new_id
from models.digests import keyed_digest
from models.throttles import PlatformThrottle, Throttle
from resolvers.permissions import session_of
from resolvers.upserts import prepared
from tenants.context import RequestContext


@dataclass(frozen=True)
class Count:
    hits: int
    window_ends_at: datetime

    def over(self, limit: int) -> bool:
        return self.hits > limit


def key_of(ctx: RequestContext, *parts: str) -> str:
    return keyed_digest(ctx.settings.secret_key or "", "throttle", *parts)


@dataclass(frozen=True)
class _Place:
    session: AsyncSession
    table: type[Throttle] | type[PlatformThrottle]
    keyed_by: tuple[str, ...]
    owner: dict[str, Any]


def _place(ctx: RequestContext) -> _Place:
    if ctx.tenant is None and ctx.session is not None:
        return _Place(ctx.session, PlatformThrottle, ("key",), {})
    session = session_of(ctx)
    assert ctx.tenant is not None
    return _Place(session, Throttle, ("tenant_id", "key"), {"tenant_id": ctx.tenant.id})


async def hit(ctx: RequestContext, key: str, window: timedelta) -> Count:
    """Counts one more attempt in the current window, or starts a new window with this one."""
    place = _place(ctx)
    now = ctx.clock()
    counting = await prepared(place.session, _counting, place.table, place.keyed_by)
    hit = {**place.owner, "id": new_id(), "key": key, "hits": 1, "window_ends_at": now + window, "now": now}
    row = (await place.session.execute(counting, hit)).one()
    return Count(row.hits, row.window_ends_at)


def _counting(
    insert: Callable[[type[Any]], Any], table: type[Throttle] | type[PlatformThrottle], keyed_by: tuple[str, ...]
) -> Any:
    """Inserts a count of one, or counts one more in the open window, or opens a new one (the
    inserted row's): `now` is a parameter beside the columns'."""
    statement = insert(table)
    window_over = table.window_ends_at <= bindparam("now")
    return statement.on_conflict_do_update(
        index_elements=list(keyed_by),
        set_={
            "hits": case((window_over, 1), else_=table.hits + 1),
            "window_ends_at": case((window_over, statement.excluded.window_ends_at), else_=table.window_ends_at),
        },
    ).returning(table.hits, table.window_ends_at)


async def current(ctx: RequestContext, key: str) -> Count:
    """The count of the window still open, zero if there is none; changes nothing."""
    place = _place(ctx)
    now = ctx.clock()
    row = (
        await place.session.execute(
            select(place.table.hits, place.table.window_ends_at).where(
                place.table.key == key, place.table.window_ends_at > now
            )
        )
    ).one_or_none()
    return Count(row.hits, row.window_ends_at) if row else Count(0, now)


async def forget(ctx: RequestContext, *keys: str) -> None:
    place = _place(ctx)
    await place.session.execute(delete(place.table).where(place.table.key.in_(keys)))
