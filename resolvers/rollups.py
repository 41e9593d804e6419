"""Keeping the rollups (models.analytics) right: in the transaction of every change they count,
and from scratch by `wanjia rollups rebuild`.

A lifecycle step calls `tracked(ctx, item)` before it changes the complaint and `await
change.record()` after: the difference between the complaint's contributions before and after
is added to the rollup rows in one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n` per
row, so two steps on two complaints of the same grid and day add up instead of overwriting each
other, and a step that fails rolls its counts back with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.analytics import (
    CONTRIBUTING_COLUMNS,
    ROLLUPS,
    Contribution,
    RememberedCalendar,
    Totals,
    add_up,
    contributions,
)
from models.base import Base
from models.calendar import WorkingCalendar
from models.complaints import Complaint
from resolvers.deadlines import calendar_of
from resolvers.permissions import session_of
from resolvers.upserts import upsert
from tenants.context import RequestContext

# Rows written per INSERT by a rebuild: well under SQLite's 32,766 bound parameters.
REBUILD_BATCH = 500


@dataclass
class TrackedChange:
    ctx: RequestContext
    item: Complaint
    before: list[Contribution] = field(default_factory=list)

    async def record(self) -> None:
        after = contributions(self.item, calendar_of(self.ctx))
        await apply(session_of(self.ctx), self.ctx.tenant_id, add_up(add_up({}, after), self.before, -1))


def tracked(ctx: RequestContext, item: Complaint) -> TrackedChange:
    """The complaint's contributions as it is now, to record what its change changes."""
    return TrackedChange(ctx, item, contributions(item, calendar_of(ctx)))


def created(ctx: RequestContext, item: Complaint) -> TrackedChange:
    """A new complaint: all it contributes is new."""
    return TrackedChange(ctx, item)


async def apply(session: AsyncSession, tenant_id: uuid.UUID | None, deltas: Totals) -> None:
    # In one order across transactions, so two of them touching the same rows never deadlock.
    for (table, key), counts in sorted(deltas.items(), key=lambda entry: (entry[0][0].__name__, repr(entry[0][1]))):
        insert = (await upsert(session, table)).values(tenant_id=tenant_id, **dict(key), **counts)
        columns = table.__table__.c  # type: ignore[attr-defined]
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["tenant_id", *(name for name, _ in key)],
                set_={name: columns[name] + insert.excluded[name] for name in counts},
            )
        )


async def recount(session: AsyncSession, calendar: WorkingCalendar) -> Totals:
    """Every rollup row as the complaints now are: the sum of their contributions."""
    totals: Totals = {}
    calendar = RememberedCalendar(calendar)
    # Rows of the columns contributions() reads, not ORM objects: a million of them in seconds.
    read = select(*(getattr(Complaint, name) for name in CONTRIBUTING_COLUMNS)).execution_options(yield_per=5000)
    async for item in await session.stream(read):
        add_up(totals, contributions(item, calendar))
    return totals


async def stored(session: AsyncSession) -> Totals:
    """The rollup rows as stored (counters at zero left out), comparable with `recount`."""
    totals: Totals = {}
    for table in ROLLUPS:
        columns = table.__table__.c  # type: ignore[attr-defined]
        keys = _key_columns(table)
        counters = [c.name for c in columns if c.name not in keys and c.name not in ("tenant_id", "id")]
        for row in (await session.execute(select(table))).scalars():
            counts = {name: getattr(row, name) for name in counters if getattr(row, name)}
            if counts:
                totals[(table, tuple((name, getattr(row, name)) for name in keys))] = counts
    return totals


async def rebuild(session: AsyncSession, tenant_id: uuid.UUID, calendar: WorkingCalendar) -> int:
    """Replaces the tenant's rollups with a recount; answers how many rows it wrote."""
    totals = await recount(session, calendar)
    for table in ROLLUPS:
        await session.execute(delete(table).where(table.tenant_id == tenant_id))  # type: ignore[attr-defined]
    by_table: dict[type[Base], list[dict[str, Any]]] = {}
    for (table, key), counts in totals.items():
        by_table.setdefault(table, []).append({"tenant_id": tenant_id, **dict(key), **counts})
    for table, rows in by_table.items():
        # Each batch lists every counter, so rows of one statement share one column set.
        counters = {name for row in rows for name in row}
        for start in range(0, len(rows), REBUILD_BATCH):
            batch = [{name: row.get(name, 0) for name in counters} for row in rows[start : start + REBUILD_BATCH]]
            await session.execute(table.__table__.insert(), batch)  # type: ignore[attr-defined]
    return len(totals)


def _key_columns(table: type[Base]) -> list[str]:
    constraint = next(c for c in table.__table__.constraints if c.name == f"uq_{table.__tablename__}_key")  # type: ignore[attr-defined]
    return [c.name for c in constraint.columns if c.name != "tenant_id"]


async def rebuild_tenant(ctx: RequestContext) -> int:
    """`wanjia rollups rebuild`: the tenant of this unit of work, recounted from its complaints."""
    assert ctx.tenant_id is not None
    return await rebuild(session_of(ctx), ctx.tenant_id, calendar_of(ctx))
