"""Per-request DataLoaders: nested fields ask for one thing each, the loader batches them into
one statement per kind per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import InstrumentedAttribute
from strawberry.dataloader import DataLoader

from resolvers.pagination import Counter, Page, PageRequest, Total, counts_per_parent, paginate_per_parent
from resolvers.permissions import session_of
from resolvers.rows import Selection, one_of
from tenants.context import RequestContext

T = TypeVar("T")
V = TypeVar("V")

# A batch function: (ctx, keys, *variant) to one value per key. Typed by its values only: its
# variant arguments differ from one to the next.
Batch = Callable[..., Awaitable[Sequence[V]]]


def loader(ctx: RequestContext, batch: Batch[V], *variant: Hashable) -> DataLoader[Any, V]:
    """The request's loader calling `batch(ctx, keys, *variant)`, made on first use. A variant
    (such as the page asked for) gets a loader of its own."""

    async def load(keys: list[Any]) -> Sequence[Any]:
        return await batch(ctx, keys, *variant)

    return ctx.loaders.get((batch, *variant), lambda: DataLoader(load_fn=load))


def batch_by_key(selection: Selection[T], key: InstrumentedAttribute[Any]) -> Callable[..., Awaitable[list[T | None]]]:
    """A batch function (for `loader`) fetching the row of `selection` with each key, or None."""

    async def batch(ctx: RequestContext, keys: list[Any]) -> list[T | None]:
        rows = await selection.where(one_of(ctx, key, keys)).all(session_of(ctx))
        found = {getattr(row, key.key): row for row in rows}
        return [found.get(k) for k in keys]

    return batch


def groups_by_key(selection: Selection[T], key: InstrumentedAttribute[Any]) -> Callable[..., Awaitable[list[list[T]]]]:
    """A batch function (for `loader`) fetching, for each key, the rows of `selection` with it."""

    async def batch(ctx: RequestContext, keys: list[Any]) -> list[list[T]]:
        grouped: dict[Any, list[T]] = {k: [] for k in keys}
        for row in await selection.where(one_of(ctx, key, keys)).all(session_of(ctx)):
            grouped[getattr(row, key.key)].append(row)
        return [grouped[k] for k in keys]

    return batch


async def _children_counted(
    ctx: RequestContext, parent_ids: list[Any], selection: Selection[Any], parent: InstrumentedAttribute[Any]
) -> list[Total]:
    totals = await counts_per_parent(ctx, selection, parent, parent_ids)
    return [totals[parent_id] for parent_id in parent_ids]


async def pages_per_parent(
    ctx: RequestContext,
    selection: Selection[T],
    parent: InstrumentedAttribute[Any],
    parent_ids: Sequence[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
) -> dict[Any, Page[T]]:
    """Each parent's page of children in one statement; their totals, only if a client asks,
    in one more for all parents of the batch."""

    def total(parent_id: Any) -> Counter:
        return lambda: loader(ctx, _children_counted, selection, parent).load(parent_id)

    return await paginate_per_parent(ctx, selection, parent, parent_ids, order, page, total)


def pages_by_parent(
    selection: Selection[T], parent: InstrumentedAttribute[Any], order: Sequence[InstrumentedAttribute[Any]]
) -> Callable[..., Awaitable[list[Page[T]]]]:
    """A batch function (for `loader`, with the page as its variant) fetching each parent's page
    of children (pages_per_parent)."""

    async def batch(ctx: RequestContext, parent_ids: list[Any], page: PageRequest) -> list[Page[T]]:
        pages = await pages_per_parent(ctx, selection, parent, parent_ids, order, page)
        return [pages[parent_id] for parent_id in parent_ids]

    return batch
