"""Keyset pagination, the one way every list is paged.

A cursor is the sort key of the last row seen, so paging stays correct and fast while rows are
added, and it works unchanged for nested lists batched across many parents (window function
per parent). Cursors are opaque to clients and carry nothing but that key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import BindParameter, Select, func, select, tuple_, union
from sqlalchemy.orm import InstrumentedAttribute

from models.errors import ErrorCode
from resolvers.errors import fail
from resolvers.permissions import session_of
from resolvers.rows import AnyRow, AnySelect, Selection, one_of, one_of_found
from tenants.context import RequestContext

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: str | None = None


# Counting a list stops here: a client showing "10,000+" needs no exact figure, and counting a
# street office's million complaints exactly on every page would cost more than the page.
TOTAL_COUNT_CAP = 10_000


@dataclass(frozen=True)
class Total:
    count: int  # at most TOTAL_COUNT_CAP
    capped: bool  # there are more than TOTAL_COUNT_CAP


Counter = Callable[[], Awaitable[Total]]


def total_of(counted: int) -> Total:
    return Total(min(counted, TOTAL_COUNT_CAP), counted > TOTAL_COUNT_CAP)


def once(count: Counter) -> Counter:
    """`count` run at most once, however many fields ask (totalCount, totalCountIsCapped)."""
    running: asyncio.Future[Total] | None = None

    async def memo() -> Total:
        nonlocal running
        if running is None:
            running = asyncio.ensure_future(count())
        return await running

    return memo


class Cursors(Sequence[str]):
    """The cursors of a page's rows, each encoded only when read: a client asks for a few
    (pageInfo's end cursor) or none, and encoding every row's cost a tenth of a large nested
    page such as the organisation tree's."""

    def __init__(self, rows: Sequence[AnyRow], width: int) -> None:
        self._rows = rows
        self._width = width

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [encode_cursor(row[-self._width :]) for row in self._rows[index]]
        return encode_cursor(self._rows[index][-self._width :])


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool
    # The whole list's size, counted only if a client asks (totalCount): no statement otherwise.
    total: Counter

    @classmethod
    def empty(cls) -> Page[T]:
        """A list the caller may not see the items of: nothing, and nothing to count."""
        return cls(rows=[], cursors=[], has_next_page=False, has_previous_page=False, total=_nothing)

    def carrying(self, rows: list[U]) -> Page[U]:
        """The same page (cursors, neighbours, count) carrying other rows, one for each of its own."""
        assert len(rows) == len(self.rows)
        return Page(rows, self.cursors, self.has_next_page, self.has_previous_page, self.total)


async def _nothing() -> Total:
    return Total(0, False)


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _python_value(column: InstrumentedAttribute[Any], value: Any) -> Any:
    python_type = column.type.python_type
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    return python_type(value)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_json_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, order: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(values, list) or len(values) != len(order):
            raise ValueError
        return [_python_value(column, value) for column, value in zip(order, values, strict=True)]
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as error:
        raise fail(ErrorCode.INVALID_CURSOR, "分页游标无效。", "after") from error


def checked(ctx: RequestContext, page: PageRequest) -> PageRequest:
    """The page asked for, if its size is within the settings' bounds."""
    maximum = ctx.settings.max_page_size
    if not 1 <= page.first <= maximum:
        raise fail(ErrorCode.INVALID, f"每页条数应为 1–{maximum}。", "first")
    return page


def _after(
    stmt: AnySelect, order: Sequence[InstrumentedAttribute[Any]], after: str | None, descending: bool = False
) -> AnySelect:
    if after is None:
        return stmt
    key, seen = tuple_(*order), tuple_(*_decode_cursor(after, order))
    return stmt.where(key < seen if descending else key > seen)


def _sort_keys(order: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    # Labelled, because select() drops a column it already has and the cursor needs them all.
    return [column.label(f"sort_key_{i}") for i, column in enumerate(order)]


def _page(selection: Selection[T], rows: list[AnyRow], page: PageRequest, width: int, total: Counter) -> Page[T]:
    visible = rows[: page.first]
    return Page(
        rows=[selection.typed(row) for row in visible],
        cursors=Cursors(visible, width),
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
        total=total,
    )


def _key_only(stmt: AnySelect) -> AnySelect:
    """The same rows (joins and conditions kept), selecting only the first column: the id."""
    return stmt.with_only_columns(stmt.selected_columns[0])


async def count_capped(ctx: RequestContext, selection: Selection[Any]) -> Total:
    """One COUNT over at most TOTAL_COUNT_CAP + 1 rows of the list, whatever its page."""
    capped = _key_only(selection.stmt).limit(TOTAL_COUNT_CAP + 1).subquery()
    counted = await session_of(ctx).scalar(select(func.count()).select_from(capped))
    return total_of(int(counted or 0))


async def paginate(
    ctx: RequestContext,
    selection: Selection[T],
    order: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
    *,
    descending: bool = False,
    counted: Selection[Any] | None = None,
) -> Page[T]:
    """`order` ends with a unique column (the id). Its values are added as the last columns of
    each row to make the cursor. `descending` pages newest first (ids are time-ordered).
    `counted` is the list totalCount counts when `selection` holds only candidates for the page."""
    page = checked(ctx, page)
    stmt = (
        _after(selection.stmt, order, page.after, descending)
        .add_columns(*_sort_keys(order))
        .order_by(*_ordering(order, descending))
        .limit(page.first + 1)
    )
    rows = list((await session_of(ctx).execute(stmt)).all())
    return _page(selection, rows, page, len(order), once(lambda: count_capped(ctx, counted or selection)))


async def paginate_lanes(
    ctx: RequestContext,
    selection: Selection[T],
    lanes: Sequence[Select[Any]],
    order: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
    *,
    rows: Selection[T],
    descending: bool = False,
) -> Page[T]:
    """`paginate` for a list (`selection`) that is the union of `lanes`, each selecting the keys
    (`order`'s columns, nothing else) of one index range that the index keeps in `order`. Each
    lane yields its own first page of keys, an index range scan that stops after a page; only the
    page picked from their union is read as whole `rows` (the row shape, unfiltered: the keys
    are the filter). The cost grows with the lanes and the page size, not with the rows in each
    lane, where one condition ORing the lanes would walk or sort every row of the scope."""
    page = checked(ctx, page)
    firsts = [
        _after(lane, order, page.after, descending).order_by(*_ordering(order, descending)).limit(page.first + 1)
        for lane in lanes
    ]
    candidates = picked_from_lanes([select(*first.subquery().c) for first in firsts], order, page.first + 1, descending)
    return await paginate(
        ctx, rows.where(one_of_found(ctx, order[-1], candidates)), order, page, descending=descending, counted=selection
    )


def picked_from_lanes(
    lanes: Sequence[Select[Any]],
    order: Sequence[InstrumentedAttribute[Any]],
    limit: int | BindParameter[int],
    descending: bool = False,
) -> Select[Any]:
    """The keys (`order`'s last column) of the first `limit` rows in `order` of the lanes, each
    selecting `order`'s columns: picked from the keys before any row is read, where reading the
    rows of every lane's page read lanes × page rows for a page's worth."""
    merged = union(*lanes).subquery("lanes")
    picked = [merged.c[column.key] for column in order]
    return select(picked[-1]).order_by(*_ordering(picked, descending)).limit(limit)


def _ordering(order: Sequence[Any], descending: bool) -> list[Any]:
    return [column.desc() for column in order] if descending else list(order)


async def paginate_per_parent(
    ctx: RequestContext,
    selection: Selection[T],
    parent: InstrumentedAttribute[Any],
    parent_ids: Sequence[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
    totals: Callable[[Any], Counter],
) -> dict[Any, Page[T]]:
    """One statement for the pages of many parents' children (a DataLoader's batch). `totals`
    gives each parent's count, batched across parents by the caller (resolvers.loaders)."""
    sort_keys = _sort_keys(order)
    position = func.row_number().over(partition_by=parent, order_by=list(order)).label("position")
    ranked = (
        _after(selection.stmt, order, page.after)
        .add_columns(parent.label("batch_parent"), *sort_keys, position)
        .where(one_of(ctx, parent, parent_ids))
        .subquery()
    )
    keys = [ranked.c[key.name] for key in sort_keys]
    outer = (
        select(*[column for column in ranked.c if column.name != "position"])
        .where(ranked.c.position <= page.first + 1)
        .order_by(ranked.c.batch_parent, *keys)
    )
    grouped: dict[Any, list[AnyRow]] = {parent_id: [] for parent_id in parent_ids}
    for row in (await session_of(ctx).execute(outer)).all():
        grouped[row.batch_parent].append(row)
    return {
        parent_id: _page(selection, rows, page, len(order), totals(parent_id)) for parent_id, rows in grouped.items()
    }


async def counts_per_parent(
    ctx: RequestContext, selection: Selection[Any], parent: InstrumentedAttribute[Any], parent_ids: Sequence[Any]
) -> dict[Any, Total]:
    """One statement counting many parents' children (nested lists are small: counted exactly,
    then capped like any other)."""
    stmt = (
        selection.stmt.with_only_columns(parent, func.count()).where(one_of(ctx, parent, parent_ids)).group_by(parent)
    )
    counted = {row[0]: row[1] for row in (await session_of(ctx).execute(stmt)).all()}
    return {parent_id: total_of(counted.get(parent_id, 0)) for parent_id in parent_ids}
