"""Keeping the rollups (models.analytics) right: in the transaction of every change they count,
and from scratch by `wanjia rollups rebuild`.

A lifecycle step calls `tracked(ctx, item)` before it changes the complaint (or its work order)
and `await change.record()` after: the difference between the complaint's contributions before and after
is added to the rollup rows in one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n` per
row, so two steps on two complaints of the same grid and day add up instead of overwriting each
other, and a step that fails rolls its counts back with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.analytics import (
    Contribution,
    Totals,
    add_up,
    contributions,
    rebuild,
    recount,
    stored,
    work_order_contributions,
)
from models.calendar import WorkingCalendar
from models.complaints import Complaint, WorkOrder
from resolvers.deadlines import calendar_of
from resolvers.permissions import session_of
from resolvers.upserts import prepared
from tenants.context import RequestContext, Services, unit_of_work
from tenants.directory import TenantInfo

Contributing = Callable[[Any, WorkingCalendar], list[Contribution]]


@dataclass
class TrackedChange:
    ctx: RequestContext
    item: Complaint | WorkOrder
    contributing: Contributing
    before: list[Contribution] = field(default_factory=list)

    async def record(self) -> None:
        after = self.contributing(self.item, calendar_of(self.ctx))
        await apply(session_of(self.ctx), self.ctx.tenant_id, add_up(add_up({}, after), self.before, -1))


def _contributing(item: Complaint | WorkOrder) -> Contributing:
    return work_order_contributions if isinstance(item, WorkOrder) else contributions


def tracked(ctx: RequestContext, item: Complaint | WorkOrder) -> TrackedChange:
    """The complaint's (or work order's) contributions as it is now, to record what its change changes."""
    contributing = _contributing(item)
    return TrackedChange(ctx, item, contributing, contributing(item, calendar_of(ctx)))


def created(ctx: RequestContext, item: Complaint | WorkOrder) -> TrackedChange:
    """A new complaint or work order: all it contributes is new."""
    return TrackedChange(ctx, item, _contributing(item))


async def apply(session: AsyncSession, tenant_id: uuid.UUID | None, deltas: Totals) -> None:
    # In one order across transactions, so two of them touching the same rows never deadlock.
    for (table, key), counts in sorted(deltas.items(), key=lambda entry: (entry[0][0].__name__, repr(entry[0][1]))):
        adding = await prepared(session, _adding, table, tuple(name for name, _ in key), tuple(sorted(counts)))
        await session.execute(adding, {"tenant_id": tenant_id, **dict(key), **counts})


def _adding(insert: Callable[[type[Any]], Any], table: type[Any], key: tuple[str, ...], counts: tuple[str, ...]) -> Any:
    """Inserts a rollup row, or adds its counts to the row already there."""
    statement = insert(table)
    columns = table.__table__.c
    return statement.on_conflict_do_update(
        index_elements=["tenant_id", *key],
        set_={name: columns[name] + statement.excluded[name] for name in counts},
    )


async def rebuild_tenant(ctx: RequestContext) -> int:
    """The tenant of this unit of work, recounted from its complaints and work orders."""
    assert ctx.tenant_id is not None
    return await rebuild(session_of(ctx), ctx.tenant_id, calendar_of(ctx))


async def rebuild_offices(services: Services, offices: Sequence[TenantInfo]) -> dict[str, int]:
    """`wanjia rollups rebuild`: each office recounted in a transaction of its own; rows written per office."""
    rebuilt = {}
    for office in offices:
        async with unit_of_work(services, tenant=office, viewer=None, writes=True) as ctx:
            rebuilt[office.slug] = await rebuild_tenant(ctx)
    return rebuilt


async def consistent(ctx: RequestContext) -> tuple[Totals, Totals]:
    """The tenant's rollups as stored and as a recount has them: equal, unless something broke."""
    session = session_of(ctx)
    return await stored(session), await recount(session, calendar_of(ctx))
