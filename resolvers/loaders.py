"""Per-request DataLoaders: nested fields ask for one thing each, the loader batches them into
one statement per kind per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.orm import InstrumentedAttribute
from strawberry.dataloader import DataLoader

from resolvers.pagination import Page, PageRequest, paginate_per_parent
from resolvers.permissions import session_of
from tenants.context import RequestContext

Batch = Callable[..., Awaitable[Sequence[Any]]]


def loader(ctx: RequestContext, batch: Batch, *variant: Hashable) -> DataLoader[Any, Any]:
    """The request's loader calling `batch(ctx, keys, *variant)`, made on first use. A variant
    (such as the page asked for) gets a loader of its own."""

    async def load(keys: list[Any]) -> Sequence[Any]:
        return await batch(ctx, keys, *variant)

    return ctx.loaders.get((batch, *variant), lambda: DataLoader(load_fn=load))


def batch_by_key(stmt: Select[Any], key: InstrumentedAttribute[Any]) -> Batch:
    """A batch function (for `loader`) fetching the row of `stmt` with each key, or None."""

    async def batch(ctx: RequestContext, keys: list[Any]) -> list[Row[Any] | None]:
        rows = (await session_of(ctx).execute(stmt.where(key.in_(keys)))).all()
        found = {getattr(row, key.key): row for row in rows}
        return [found.get(k) for k in keys]

    return batch


def groups_by_key(stmt: Select[Any], key: InstrumentedAttribute[Any]) -> Batch:
    """A batch function (for `loader`) fetching, for each key, the list of rows of `stmt` with it."""

    async def batch(ctx: RequestContext, keys: list[Any]) -> list[list[Row[Any]]]:
        grouped: dict[Any, list[Row[Any]]] = {k: [] for k in keys}
        for row in (await session_of(ctx).execute(stmt.where(key.in_(keys)))).all():
            grouped[getattr(row, key.key)].append(row)
        return [grouped[k] for k in keys]

    return batch


async def pages_by_parent(
    ctx: RequestContext,
    stmt: Select[Any],
    parent: InstrumentedAttribute[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
    parent_ids: list[Any],
) -> list[Page]:
    pages = await paginate_per_parent(session_of(ctx), stmt, parent, parent_ids, order, page)
    return [pages[parent_id] for parent_id in parent_ids]
