"""Counting attempts in the database, atomically: one `INSERT … ON CONFLICT DO UPDATE …
RETURNING` per hit, so two requests at the same moment get two different counts (PostgreSQL
locks the row for the second until the first commits; SQLite writes one at a time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select

from models.base import new_id
from models.digests import keyed_digest
from models.throttles import Throttle
from resolvers.permissions import session_of
from resolvers.upserts import upsert
from tenants.context import RequestContext


@dataclass(frozen=True)
class Count:
    hits: int
    window_ends_at: datetime

    def over(self, limit: int) -> bool:
        return self.hits > limit


def key_of(ctx: RequestContext, *parts: str) -> str:
    return keyed_digest(ctx.settings.secret_key or "", "throttle", *parts)


async def hit(ctx: RequestContext, key: str, window: timedelta) -> Count:
    """Counts one more attempt in the current window, or starts a new window with this one."""
    session = session_of(ctx)
    assert ctx.tenant is not None
    now = ctx.clock()
    window_over = Throttle.window_ends_at <= now
    statement = (
        (await upsert(session, Throttle))
        .values(tenant_id=ctx.tenant.id, id=new_id(), key=key, hits=1, window_ends_at=now + window)
        .on_conflict_do_update(
            index_elements=[Throttle.tenant_id, Throttle.key],
            set_={
                "hits": case((window_over, 1), else_=Throttle.hits + 1),
                "window_ends_at": case((window_over, now + window), else_=Throttle.window_ends_at),
            },
        )
        .returning(Throttle.hits, Throttle.window_ends_at)
    )
    row = (await session.execute(statement)).one()
    return Count(row.hits, row.window_ends_at)


async def current(ctx: RequestContext, key: str) -> Count:
    """The count of the window still open, zero if there is none; changes nothing."""
    now = ctx.clock()
    row = (
        await session_of(ctx).execute(
            select(Throttle.hits, Throttle.window_ends_at).where(Throttle.key == key, Throttle.window_ends_at > now)
        )
    ).one_or_none()
    return Count(row.hits, row.window_ends_at) if row else Count(0, now)


async def forget(ctx: RequestContext, *keys: str) -> None:
    await session_of(ctx).execute(delete(Throttle).where(Throttle.key.in_(keys)))
