"""Typed rows: a query and the frozen dataclass each of its rows becomes, declared side by side.

The schema reads `row.category_name` from a type a checker knows, not from a SQLAlchemy `Row`
whose attributes are anything: renaming a column breaks the type check where it is read, and a
query that drifts from its row class fails as soon as the module is imported.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import ARRAY, ColumnElement, CompoundSelect, Row, Select, any_, bindparam, func, literal_column
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models.database import is_postgresql
from tenants.context import RequestContext

T = TypeVar("T")

# SQLAlchemy's Select and Row are variadic in their columns: `Select[Any]` would be one column.
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


@dataclasses.dataclass(frozen=True)
class Selection(Generic[T]):
    """`stmt` selects exactly the fields of `row_type`, in order (checked on creation)."""

    row_type: type[T]
    stmt: AnySelect

    def __post_init__(self) -> None:
        fields = tuple(f.name for f in dataclasses.fields(self.row_type))  # type: ignore[arg-type]
        selected = tuple(self.stmt.selected_columns.keys())
        if selected != fields:
            raise TypeError(f"{self.row_type.__name__} has fields {fields}, its query selects {selected}")

    def where(self, *conditions: ColumnElement[bool]) -> Selection[T]:
        return dataclasses.replace(self, stmt=self.stmt.where(*conditions))

    def order_by(self, *columns: Any) -> Selection[T]:
        return dataclasses.replace(self, stmt=self.stmt.order_by(*columns))

    def limit(self, count: int) -> Selection[T]:
        return dataclasses.replace(self, stmt=self.stmt.limit(count))

    def typed(self, row: AnyRow | Sequence[Any]) -> T:
        """The row as `row_type`; columns added after the selected ones (sort keys) are left out."""
        return self.row_type(*row[: len(self.stmt.selected_columns)])

    async def all(self, session: AsyncSession) -> list[T]:
        return [self.typed(row) for row in (await session.execute(self.stmt)).all()]

    async def one_or_none(self, session: AsyncSession) -> T | None:
        row = (await session.execute(self.stmt)).one_or_none()
        return self.typed(row) if row is not None else None


def written_in(column: InstrumentedAttribute[Any], members: Iterable[enum.StrEnum]) -> ColumnElement[bool]:
    """`column IN members`, the members' stored values written into the SQL rather than bound:
    a prepared statement's generic plan then still sees them (an index over those rows only),
    and a compiled read's SQL is sent as it is."""
    return column.in_([literal_column(f"'{member.value}'") for member in sorted(members)])


def one_of(ctx: RequestContext, column: InstrumentedAttribute[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`, for a batch. On PostgreSQL one array parameter (`= ANY`): the
    statement's text is then the same whatever the number of values, so psycopg converts it once,
    where `IN (...)` has a placeholder per value and a new text to split for each batch size."""
    values = list(values)
    if is_postgresql(ctx.settings.database_url):
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def one_of_found(
    ctx: RequestContext, column: InstrumentedAttribute[Any], found: Select[Any] | CompoundSelect[Any]
) -> ColumnElement[bool]:
    """`column IN (found)`, for the few keys a subquery finds (a page's candidates, what the
    sweep has to flag). On PostgreSQL `= ANY(ARRAY(found))`: the subquery is planned on its own (an
    init plan), not as a semi-join within every join around it, whose planning cost more than
    running it and is paid on every call where the plan depends on the values (a search word)."""
    if is_postgresql(ctx.settings.database_url):
        return column == any_(func.array(found.scalar_subquery()))
    return column.in_(found)
