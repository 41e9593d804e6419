"""Pages read in one statement that builds the whole JSON answer, on PostgreSQL.

A nested list (the organisation tree: communities, their grids, their buildings) is answered
by the resolvers one page per level, then made into objects and a response field by field:
most of the time goes to that Python, not to the SQL. For the lists declared here as a
`Listing` (one table's rows in a fixed order, for the callers its use case admits), the schema
may instead describe the shape the client asked for (`PageShape`); `read_pages` turns it into
one statement in which PostgreSQL builds the response's JSON (as PostGraphile does), nested
lists as correlated subqueries, each limited to its page.

A Listing is made from the same `Selection` and order the resolvers page with, so the rows,
their order and their filter are the resolvers'; the tenant is stated in every level as the
session states it for ORM statements (and row-level security holds besides). Anything the
shape cannot say (cursors, counts, another page than the first) is answered by the resolvers.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Uuid, bindparam, func, literal_column, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import Subquery

from models.database import is_postgresql
from models.people import Role
from resolvers.permissions import permits, roles_of
from resolvers.rows import Selection
from tenants.context import RequestContext

# Response names and type names are GraphQL names, written into the statement as they are.
NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


@dataclass(frozen=True)
class Listing:
    """A list the compiled reads may build: `selection`'s rows in `order` (ending with a
    unique column), children of `parent` when nested, for the callers its use case admits
    (`use_case`, the function `allowed_to` guards that the resolvers page the list with)."""

    selection: Selection[Any]
    order: tuple[InstrumentedAttribute[Any], ...]
    use_case: Callable[..., Any]
    parent: InstrumentedAttribute[Any] | None = None

    @property
    def roles(self) -> tuple[Role | None, ...]:
        return roles_of(self.use_case)

    def column(self, name: str) -> ColumnElement[Any] | None:
        return self.selection.stmt.selected_columns.get(name)


# The shape of an answer, in the client's response names.
@dataclass(frozen=True)
class Constant:
    value: str | bool


@dataclass(frozen=True)
class Column:
    """The row's column `name`; `required`: the client's type has no null for it."""

    name: str
    required: bool


@dataclass(frozen=True)
class NodeId:
    """A Relay global id: base64 of "Type:uuid" of the row's `id`."""

    type_name: str


@dataclass(frozen=True)
class Node:
    fields: tuple[tuple[str, Constant | Column | NodeId | PageShape], ...]


@dataclass(frozen=True)
class Edge:
    fields: tuple[tuple[str, Constant | Node], ...]


@dataclass(frozen=True)
class HasNextPage:
    pass


@dataclass(frozen=True)
class PageInfo:
    fields: tuple[tuple[str, Constant | HasNextPage], ...]


@dataclass(frozen=True)
class PageShape:
    """The first `first` rows of `listing` as a Relay connection."""

    listing: Listing
    first: int
    fields: tuple[tuple[str, Constant | Edge | PageInfo], ...]


class NotCompiled(Exception):
    """The shape holds something this module does not build: the resolvers answer it."""


def can_read(ctx: RequestContext, shapes: Sequence[tuple[str, PageShape]]) -> bool:
    """Compiled reads are for PostgreSQL, for callers every listing admits."""
    return (
        ctx.session is not None
        and ctx.tenant is not None
        and is_postgresql(ctx.settings.database_url)
        and all(permits(ctx, *listing.roles) for listing in _listings(shape for _, shape in shapes))
    )


async def read_pages(ctx: RequestContext, shapes: tuple[tuple[str, PageShape], ...]) -> str:
    """The answer of each root list of `shapes`, by response name, as JSON text from one
    statement. It carries no whole phone or ID number (no listing selects one), so nothing in
    it is for the audit log."""
    assert ctx.session is not None and ctx.tenant is not None
    statement, parameters = statement_for(shapes)
    connection = await ctx.session.connection()
    row = (await connection.exec_driver_sql(statement, {**parameters, TENANT.key: ctx.tenant.id})).one()
    text: str = row[0]
    return text


@functools.lru_cache(maxsize=256)
def statement_for(shapes: tuple[tuple[str, PageShape], ...]) -> tuple[str, dict[str, Any]]:
    """The SQL of a shape and its fixed parameters (page sizes), made and compiled once: the
    request adds the tenant. Run as the driver's SQL, it costs SQLAlchemy no cache lookup."""
    answer = _object([(name, _page(shape, None)) for name, shape in shapes])
    compiled = select(func.json_build_object(*answer).cast(postgresql.TEXT)).compile(dialect=DIALECT)
    return str(compiled), {name: value for name, value in compiled.params.items() if name != TENANT.key}


def _listings(shapes: Any) -> list[Listing]:
    found = []
    for shape in shapes:
        found.append(shape.listing)
        for _, part in shape.fields:
            if isinstance(part, Edge):
                for _, node in part.fields:
                    if isinstance(node, Node):
                        found += _listings(value for _, value in node.fields if isinstance(value, PageShape))
    return found


TENANT = bindparam("tenant_id", type_=Uuid())
MAX_TYPE_NAME = 19
DIALECT = postgresql.psycopg.dialect()


def _page(shape: PageShape, parent: tuple[Listing, Subquery] | None) -> ColumnElement[Any]:
    """The connection's JSON; `parent`: the listing and page of rows a nested listing's rows
    belong to."""
    listing = shape.listing
    order = list(listing.order)
    model = order[0].class_
    stmt = listing.selection.stmt.where(model.tenant_id == TENANT)
    if not _belongs(listing, parent[0] if parent else None):
        raise NotCompiled("a listing asked under another than its parent")
    if listing.parent is not None and parent is not None:
        stmt = stmt.where(listing.parent == parent[1].c.id)
    rows = (
        stmt.add_columns(func.row_number().over(order_by=order).label("position"))
        .order_by(*order)
        .limit(shape.first + 1)
    )
    if parent is not None:
        rows = rows.correlate(parent[1])
    page = rows.subquery()
    on_page = page.c.position <= shape.first
    fields = []
    for name, part in shape.fields:
        if isinstance(part, Constant):
            fields.append((name, _constant(part)))
        elif isinstance(part, Edge):
            edge = _object([(key, _edge_part(value, listing, page)) for key, value in part.fields])
            edges = func.json_agg(aggregate_order_by(func.json_build_object(*edge), page.c.position))
            fields.append((name, func.coalesce(edges.filter(on_page), literal_column("'[]'::json"))))
        else:
            info = [
                (key, _constant(value) if isinstance(value, Constant) else func.count() > shape.first)
                for key, value in part.fields
            ]
            fields.append((name, func.json_build_object(*_object(info))))
    # An aggregate over the page whatever is asked: one row, also for an empty page or a
    # selection with nothing to aggregate (only `__typename`).
    return select(func.json_build_object(*_object(fields))).select_from(page).having(true()).scalar_subquery()


def _edge_part(part: Constant | Node, listing: Listing, page: Subquery) -> ColumnElement[Any]:
    if isinstance(part, Constant):
        return _constant(part)
    fields = []
    for name, value in part.fields:
        if isinstance(value, Constant):
            fields.append((name, _constant(value)))
        elif isinstance(value, Column):
            column = listing.column(value.name)
            if column is None or (value.required and getattr(column, "nullable", True)):
                raise NotCompiled(f"column {value.name}")
            fields.append((name, page.c[value.name]))
        elif isinstance(value, NodeId):
            fields.append((name, _global_id(value.type_name, page.c.id)))
        else:
            fields.append((name, _page(value, (listing, page))))
    return func.json_build_object(*_object(fields))


def _belongs(listing: Listing, parent: Listing | None) -> bool:
    """A root listing at the root; a nested one under the listing its parent column refers to."""
    if listing.parent is None or parent is None:
        return listing.parent is None and parent is None
    parents = parent.order[0].class_.__table__
    return any(key.column.table is parents for key in listing.parent.property.columns[0].foreign_keys)


def _global_id(type_name: str, row_id: ColumnElement[uuid.UUID]) -> ColumnElement[str]:
    """As strawberry encodes it. PostgreSQL's base64 ends a line after every 57 bytes, which
    "Type:uuid" stays under for a type name of up to 19 characters."""
    if not NAME.match(type_name) or len(type_name) > MAX_TYPE_NAME:
        raise NotCompiled(f"type name {type_name!r}")
    text: ColumnElement[str] = literal_column(f"'{type_name}:'") + row_id.cast(postgresql.TEXT)
    return func.encode(func.convert_to(text, literal_column("'UTF8'")), literal_column("'base64'"))


def _constant(part: Constant) -> ColumnElement[Any]:
    if isinstance(part.value, bool):
        return literal_column("true" if part.value else "false")
    if not NAME.match(part.value):
        raise NotCompiled(f"constant {part.value!r}")
    return literal_column(f"'{part.value}'")


def _object(fields: list[tuple[str, ColumnElement[Any]]]) -> list[ColumnElement[Any]]:
    """json_build_object's arguments: each response name, then its value."""
    arguments: list[ColumnElement[Any]] = []
    for name, value in fields:
        if not NAME.match(name):
            raise NotCompiled(f"response name {name!r}")
        arguments += [literal_column(f"'{name}'"), value]
    return arguments
