"""Pages read in one statement that builds the whole JSON answer, on PostgreSQL.

A nested list (the organisation tree: communities, their grids, their buildings) is answered
by the resolvers one page per level, then made into objects and a response field by field:
most of the time goes to that Python, not to the SQL. For the lists declared here as a
`Listing` (one table's rows in a fixed order, for the callers its use case admits), the schema
may instead describe the shape the client asked for (`PageShape`); `read_pages` turns it into
one statement in which PostgreSQL builds the response's JSON (as PostGraphile does), nested
lists as correlated subqueries, each limited to its page.

A Listing scoped to its caller (the resident's own complaints) says so in its selection with
`VIEWER` and is compiled only for callers whose roles are exactly `viewer_roles`, the roles for
which that selection is the resolvers' scope; what the resolvers show such a caller in place of
a column (a masked phone) is a column the listing adds (`shown`), made by the same rule.

A Listing is made from the same `Selection` and order the resolvers page with, so the rows,
their order and their filter are the resolvers'; the tenant is stated in every level as the
session states it for ORM statements (and row-level security holds besides). Anything the
shape cannot say (an edge's cursor, counts, another page than the first) is answered by the
resolvers.

A root Listing may show its caller whole values others see masked (a resident's phone, whole to
the grid worker handling the complaint): such a `shown` column is `Audited`, and the statement
answers, beside the JSON, which people's whole values the page carries, for the audit log as the
resolvers' answer would have them logged (tenants.context). A Listing that merges lanes (the
grid worker's inbox: one index range per grid or handler and status) stops each lane at the
page's rows: `PAGE_ROWS` in its selection, set by the statement.

One object asked for by its id (`node(id:)`) is a `Record`: a row of its use case's selection,
null if the tenant holds none. A list its row makes rather than stores (a room's free slots) is
a `Derivation`, declared beside the rule it writes in SQL. The id and a derivation's arguments
are the request's: they are given with it as parameters of the statement, which is made once.
"""

from __future__ import annotations

import functools
import re
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Label,
    Select,
    Uuid,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import Subquery

from models.audit import AuditedField, FullView, SubjectKind
from models.base import UTCDateTime
from models.calendar import SHANGHAI
from models.database import is_postgresql, one_row_on_driver
from models.people import Role
from resolvers.permissions import permits, roles_of
from resolvers.rows import Selection
from tenants.context import RequestContext

# Response names and type names are GraphQL names, written into the statement as they are.
NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


# The caller's user id, in a listing scoped to its caller.
VIEWER = bindparam("viewer_id", type_=Uuid())
# The tenant of the request, stated in every level of a compiled read.
TENANT = bindparam("tenant_id", type_=Uuid())
# The id of the row a Record reads.
RECORD_ID = bindparam("record_id", type_=Uuid())
# The moment the request reads at (its clock): what is overdue, which slots are still bookable.
NOW = bindparam("now", type_=DateTime(timezone=True))
# In a listing's selection that merges lanes: the rows each lane gives at most, the page's
# size and one (to tell whether there is a next page).
PAGE_ROWS = bindparam("page_rows", type_=Integer())


@dataclass(frozen=True)
class Audited:
    """A whole value a shown column holds on the rows where `whole` holds (the caller sees it
    whole): a view of `subject`'s `field` for the audit log."""

    subject: ColumnElement[uuid.UUID | None] | InstrumentedAttribute[uuid.UUID | None]
    whole: ColumnElement[bool]
    field: AuditedField
    kind: SubjectKind = SubjectKind.PERSON


# What the whole values of each list of ids a statement answers beside its JSON are.
Audits = tuple[tuple[SubjectKind, AuditedField], ...]


@dataclass(frozen=True)
class Shown:
    """A column a listing makes for its caller beside its selection's (a masked phone);
    `audited`: whole on some rows, to another than its owner."""

    column: Label[Any]
    nullable: bool = True
    audited: Audited | None = None


class SelectedRows:
    """Columns of a `selection`'s rows and of the `shown` ones made beside them: what a
    Listing and a Record share (each dataclass declares the two fields)."""

    selection: Selection[Any]
    shown: tuple[Shown, ...]

    def column(self, name: str) -> ColumnElement[Any] | None:
        selected = self.selection.stmt.selected_columns.get(name)
        return selected if selected is not None else next((s.column for s in self.shown if s.column.name == name), None)

    def nullable(self, name: str) -> bool:
        """What the row type (or the `shown` column) says of the column."""
        shown = self._shown(name)
        return shown.nullable if shown else self._nullable_fields.get(name, True)

    def audited(self, name: str) -> Audited | None:
        shown = self._shown(name)
        return shown.audited if shown else None

    def _shown(self, name: str) -> Shown | None:
        return next((s for s in self.shown if s.column.name == name), None)

    @functools.cached_property
    def _nullable_fields(self) -> dict[str, bool]:
        hints = typing.get_type_hints(self.selection.row_type)
        return {name: type(None) in typing.get_args(hint) for name, hint in hints.items()}


@dataclass(frozen=True)
class Listing(SelectedRows):
    """A list the compiled reads may build: `selection`'s rows in `order` (ending with a
    unique column; `descending`: newest first), children of `parent` when nested, for the
    callers its use case admits (`use_case`, the function `allowed_to` guards that the
    resolvers page the list with) and, if it is scoped to its caller, whose roles are exactly
    `viewer_roles`. `shown`: columns made for the caller beside the selection's. `unanswered`:
    a row the statement cannot answer as the resolvers would (a notification about something
    whose visibility is not written here); a page holding one is left to the resolvers, the
    whole query with it (a root listing only). `merges_lanes`: its selection merges lanes
    that each stop at `PAGE_ROWS`, which the statement sets to its page's rows (a root listing
    only). `planned_once`: as a Derivation's (a root listing only); if the page is then left to
    the resolvers, their statements run on the plans they would have had."""

    selection: Selection[Any]
    order: tuple[InstrumentedAttribute[Any], ...]
    use_case: Callable[..., Any]
    parent: InstrumentedAttribute[Any] | None = None
    descending: bool = False
    viewer_roles: frozenset[Role] | None = None
    shown: tuple[Shown, ...] = ()
    unanswered: ColumnElement[bool] | None = None
    merges_lanes: bool = False
    planned_once: bool = False

    @property
    def roles(self) -> tuple[Role | None, ...]:
        return roles_of(self.use_case)

    def admits(self, ctx: RequestContext) -> bool:
        return _admits(ctx, self.use_case, self.viewer_roles)


@dataclass(frozen=True)
class Record(SelectedRows):
    """The row of `selection` whose `key` is the request's `RECORD_ID`, for the callers its use
    case admits (`use_case`, the function that finds it for the resolvers, a node's lookup)."""

    selection: Selection[Any]
    key: InstrumentedAttribute[uuid.UUID]
    use_case: Callable[..., Any]
    shown: tuple[Shown, ...] = ()

    def admits(self, ctx: RequestContext) -> bool:
        return _admits(ctx, self.use_case, None)


@dataclass(frozen=True)
class Derivation:
    """A list a record's row makes in SQL, as `use_case` makes it for the resolvers: `rows(row)`
    selects its items' columns (never null) and their `position`, from the record's row (a
    subquery) and the request's parameters (`bindparam`s the derivation declares).
    `planned_once`: the statement reading it is run on the plan PostgreSQL makes for any values,
    where it would plan it again for each request's (its choice when every plan it makes for
    given values looks cheaper, though it is the same)."""

    rows: Callable[[Subquery], Select[Any]]
    use_case: Callable[..., Any]
    planned_once: bool = False

    def admits(self, ctx: RequestContext) -> bool:
        return _admits(ctx, self.use_case, None)


@dataclass(frozen=True)
class Value:
    """A root field answered by one SQL value (`expression`, which states the tenant and the
    caller it is for), for the callers its use case admits and, if it is the caller's own,
    whose roles are exactly `viewer_roles`."""

    expression: ColumnElement[Any]
    use_case: Callable[..., Any]
    viewer_roles: frozenset[Role] | None = None

    def admits(self, ctx: RequestContext) -> bool:
        return _admits(ctx, self.use_case, self.viewer_roles)


def _admits(ctx: RequestContext, use_case: Callable[..., Any], viewer_roles: frozenset[Role] | None) -> bool:
    if not permits(ctx, *roles_of(use_case)):
        return False
    return viewer_roles is None or (ctx.viewer is not None and ctx.viewer.roles == viewer_roles)


# The shape of an answer, in the client's response names.
@dataclass(frozen=True)
class Constant:
    value: str | bool


@dataclass(frozen=True)
class Column:
    """The row's column `name`; `required`: the client's type has no null for it. `names`: an
    enum's stored values and their GraphQL names; `moment`: a DateTime, written as the scalar
    writes it (schema.scalars)."""

    name: str
    required: bool
    names: tuple[tuple[str, str], ...] = ()
    moment: bool = False


@dataclass(frozen=True)
class NodeId:
    """A Relay global id: base64 of "Type:uuid" of the row's `column`."""

    type_name: str
    column: str = "id"


@dataclass(frozen=True)
class Joined:
    """A to-one object made of the row's own columns (joined into the listing's selection or
    `shown`), null unless every column of `present` is set; `required`: the client's type has
    no null for it (then `present` must be columns that are never null)."""

    present: tuple[str, ...]
    fields: tuple[tuple[str, Constant | Column | NodeId], ...]
    required: bool = False


@dataclass(frozen=True)
class Node:
    fields: tuple[tuple[str, Constant | Column | NodeId | Joined | PageShape], ...]


@dataclass(frozen=True)
class Edge:
    fields: tuple[tuple[str, Constant | Node], ...]


@dataclass(frozen=True)
class HasNextPage:
    pass


@dataclass(frozen=True)
class Cursor:
    """The cursor of the page's first row, or of its last (`last`), as the resolvers encode it
    (resolvers.pagination.encode_cursor)."""

    last: bool


@dataclass(frozen=True)
class PageInfo:
    fields: tuple[tuple[str, Constant | HasNextPage | Cursor], ...]


@dataclass(frozen=True)
class PageShape:
    """The first `first` rows of `listing` as a Relay connection."""

    listing: Listing
    first: int
    fields: tuple[tuple[str, Constant | Edge | PageInfo], ...]


@dataclass(frozen=True)
class Derived:
    """The `derivation`'s items, each an object of `fields`, for the request's `parameters`
    (not part of the shape: the statement is the same for all)."""

    derivation: Derivation
    fields: tuple[tuple[str, Constant | Column], ...]
    parameters: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class RecordShape:
    """The row of `record` whose key is `record_id` (a request's, not part of the shape) as an
    object of `fields`, null if there is none."""

    record: Record
    fields: tuple[tuple[str, Constant | Column | NodeId | Derived], ...]
    record_id: uuid.UUID = field(compare=False, hash=False)


class NotCompiled(Exception):
    """The shape holds something this module does not build: the resolvers answer it."""


Root = PageShape | Value | RecordShape


def can_read(ctx: RequestContext, shapes: Sequence[tuple[str, Root]]) -> bool:
    """Compiled reads are for PostgreSQL, for callers every listing, value, record and
    derivation admits."""
    return (
        ctx.session is not None
        and ctx.tenant is not None
        and is_postgresql(ctx.settings.database_url)
        and all(guard.admits(ctx) for guard in _guards(shape for _, shape in shapes))
    )


async def read_pages(ctx: RequestContext, shapes: tuple[tuple[str, Root], ...]) -> Answer | None:
    """The answer of each root field of `shapes`, by response name, as JSON text from one
    statement, with the whole values it shows (for the audit log), or None if a page holds a
    row it leaves to the resolvers (`unanswered`). No listing selects a whole phone or ID
    number: a whole value is a listing's `shown` column, `Audited` where it is not the
    caller's own."""
    assert ctx.session is not None and ctx.tenant is not None
    given = _request_parameters(shape for _, shape in shapes)
    statement = statement_for(shapes)
    caller = {TENANT.key: ctx.tenant.id, VIEWER.key: ctx.viewer.user_id if ctx.viewer else None, NOW.key: ctx.clock()}
    values = {**statement.parameters, **given, **caller}
    run: list[tuple[str, list[Any] | None]] = [(PLANNED_ONCE, None)] if statement.planned_once else []
    run.append((statement.sql, [values[name] for name in statement.placeholders]))
    connection = await ctx.session.connection()
    row = await one_row_on_driver(connection, run)
    if row[0] is None:
        if statement.planned_once:
            await connection.exec_driver_sql(PLANNED_AGAIN)
        return None
    shown_whole: tuple[list[uuid.UUID] | None, ...] = tuple(row[1:])
    views = {
        FullView(kind, subject, field)
        for (kind, field), subjects in zip(statement.audited, shown_whole, strict=True)
        for subject in subjects or ()
    }
    return Answer(row[0], views)


@dataclass(frozen=True)
class Answer:
    """The JSON text of a compiled read and the whole values it shows another than their owner."""

    text: str
    full_views: set[FullView]


@dataclass(frozen=True)
class Statement:
    """A shape's SQL, the parameter of each of its placeholders ($1, $2, ...), its fixed
    parameters (page sizes) and what each column after the answer lists the ids of: whose whole
    phone or ID number the answer shows (`audited`)."""

    sql: str
    placeholders: tuple[str, ...]
    parameters: dict[str, Any]
    audited: Audits
    planned_once: bool = False


@functools.lru_cache(maxsize=256)
def statement_for(shapes: tuple[tuple[str, Root], ...]) -> Statement:
    """The SQL of a shape, made and compiled once: the request adds the tenant, the caller and
    the clock. Sent as it is on the driver's cursor (models.database.one_row_on_driver), its
    text is parsed again by neither SQLAlchemy nor psycopg. A root page with a row it leaves to
    the resolvers is null (never otherwise: a page is an aggregate, one row), and the answer
    then too."""
    lanes = {shape.first + 1 for _, shape in shapes if isinstance(shape, PageShape) and shape.listing.merges_lanes}
    if len(lanes) > 1:
        raise NotCompiled("pages of lanes of two sizes")
    # Each root once, in a subquery of its own of one row (a page is an aggregate): a page
    # written out in place where it is read twice below would be built twice.
    built = [_root(shape) for _, shape in shapes]
    roots = [rows.subquery(f"root_{i}") for i, (rows, _) in enumerate(built)]
    values = [root.c.answer for root in roots]
    answer: ColumnElement[str | None] = func.json_build_object(
        *_object([(name, value) for (name, _), value in zip(shapes, values, strict=True)])
    ).cast(postgresql.TEXT)
    unanswered = [
        value.is_(None)
        for (_, shape), value in zip(shapes, values, strict=True)
        if isinstance(shape, PageShape) and shape.listing.unanswered is not None
    ]
    if unanswered:
        answer = case((or_(*unanswered), None), else_=answer)
    audited = [
        (root.c[f"audited_{n}"], audit)
        for root, (_, audits) in zip(roots, built, strict=True)
        for n, audit in enumerate(audits)
    ]
    compiled = select(answer, *(column for column, _ in audited)).select_from(*roots).compile(dialect=DIALECT)
    parameters = {name: value for name, value in compiled.params.items() if name not in CALLER}
    if lanes:
        parameters[PAGE_ROWS.key] = lanes.pop()
    planned_once = any(_planned_once(shape) for _, shape in shapes)
    return Statement(
        str(compiled), tuple(compiled.positiontup or ()), parameters, tuple(audit for _, audit in audited), planned_once
    )


def _planned_once(shape: Root) -> bool:
    if isinstance(shape, PageShape):
        return shape.listing.planned_once
    if isinstance(shape, RecordShape):
        return any(part.derivation.planned_once for _, part in shape.fields if isinstance(part, Derived))
    return False


def _root(shape: Root) -> tuple[Select[Any], Audits]:
    """One row: the root field's JSON as `answer`, then as `audited_<n>` the ids of the whole
    values it shows (what each is a view of, in the same order)."""
    if isinstance(shape, Value):
        return select(shape.expression.label("answer")), ()
    if isinstance(shape, RecordShape):
        return select(_record(shape).label("answer")), ()
    return _page(shape, None)


def _guards(shapes: Iterable[Root]) -> Iterator[Value | Listing | Record | Derivation]:
    """What decides who may read each part of the shapes."""
    for shape in shapes:
        if isinstance(shape, Value):
            yield shape
        elif isinstance(shape, RecordShape):
            yield shape.record
            yield from (part.derivation for _, part in shape.fields if isinstance(part, Derived))
        else:
            yield shape.listing
            for _, part in shape.fields:
                if isinstance(part, Edge):
                    for _, node in part.fields:
                        if isinstance(node, Node):
                            yield from _guards(value for _, value in node.fields if isinstance(value, PageShape))


def _request_parameters(shapes: Iterable[Root]) -> dict[str, Any]:
    """The values the request gives the statement: a record's id and its derivations'
    arguments. Two parts giving the same parameter (two records asked in one query) cannot
    share one statement."""
    given: dict[str, Any] = {}
    for shape in shapes:
        if not isinstance(shape, RecordShape):
            continue
        parts = [{RECORD_ID.key: shape.record_id}]
        parts += [part.parameters for _, part in shape.fields if isinstance(part, Derived)]
        for parameters in parts:
            if given.keys() & parameters.keys():
                raise NotCompiled("a parameter given twice")
            given.update(parameters)
    return given


CALLER = {TENANT.key, VIEWER.key, NOW.key}
# For the rest of the transaction, which a reading request ends after its compiled statement,
# unless the statement leaves its answer to the resolvers: they then plan as always.
PLANNED_ONCE = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"
PLANNED_AGAIN = "SET LOCAL plan_cache_mode TO DEFAULT"
MAX_TYPE_NAME = 19
# PostgreSQL passes a function at most 100 arguments: json_build_object takes two a field.
MAX_FIELDS = 50
# Written in PostgreSQL's own placeholders, which the statement is sent in as it is
# (models.database.one_row_on_driver).
DIALECT = postgresql.psycopg.dialect(paramstyle="numeric_dollar")


def _page(shape: PageShape, parent: tuple[Listing, Subquery] | None) -> tuple[Select[Any], Audits]:
    """One row: the connection's JSON as `answer`, then the ids of the whole values its nodes
    show (`_root`); `parent`: the listing and page of rows a nested listing's rows belong to."""
    listing = shape.listing
    order = [column.desc() for column in listing.order] if listing.descending else list(listing.order)
    model = listing.order[0].class_
    stmt = listing.selection.stmt.where(model.tenant_id == TENANT)
    if not _belongs(listing, parent[0] if parent else None):
        raise NotCompiled("a listing asked under another than its parent")
    if listing.unanswered is not None and parent is not None:
        raise NotCompiled("a nested listing with rows left to the resolvers")
    if listing.merges_lanes and parent is not None:
        raise NotCompiled("a nested listing of lanes")
    whole = list(dict.fromkeys(_whole_values(shape)))
    if whole and parent is not None:
        raise NotCompiled("whole values in a nested listing")
    audits = [typing.cast(Audited, listing.audited(name)) for name, _ in whole]
    if listing.parent is not None and parent is not None:
        stmt = stmt.where(listing.parent == parent[1].c.id)
    rows = (
        stmt.add_columns(
            *(shown.column for shown in listing.shown),
            *([listing.unanswered.label("unanswered")] if listing.unanswered is not None else []),
            *(case((audit.whole, audit.subject)).label(f"whole_{n}") for n, audit in enumerate(audits)),
            func.row_number().over(order_by=order).label("position"),
        )
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
            info = [(key, _page_info_part(value, shape, page, on_page)) for key, value in part.fields]
            fields.append((name, func.json_build_object(*_object(info))))
    # An aggregate over the page whatever is asked: one row, also for an empty page or a
    # selection with nothing to aggregate (only `__typename`).
    built: ColumnElement[Any] = func.json_build_object(*_object(fields))
    if listing.unanswered is not None:
        built = case((func.bool_or(page.c.unanswered).filter(on_page), None), else_=built)
    # Shown whole where the node shows the value: on the page, its object (if any) present.
    shown_whole = [
        func.array_agg(page.c[f"whole_{n}"])
        .filter(and_(on_page, page.c[f"whole_{n}"].is_not(None), *(page.c[c].is_not(None) for c in present)))
        .label(f"audited_{n}")
        for n, (_, present) in enumerate(whole)
    ]
    answer = select(built.label("answer"), *shown_whole).select_from(page).having(true())
    return answer, tuple((audit.kind, audit.field) for audit in audits)


def _whole_values(shape: PageShape) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The audited columns the page's nodes show: each with the columns its object needs set
    to be shown (a Joined's `present`; none for the node's own)."""
    listing = shape.listing
    for _, part in shape.fields:
        if not isinstance(part, Edge):
            continue
        for _, node in part.fields:
            if not isinstance(node, Node):
                continue
            for _, value in node.fields:
                if isinstance(value, Column) and listing.audited(value.name):
                    yield value.name, ()
                elif isinstance(value, Joined):
                    for _, joined in value.fields:
                        if isinstance(joined, Column) and listing.audited(joined.name):
                            yield joined.name, value.present


def _record(shape: RecordShape) -> ColumnElement[Any]:
    """The record's object, null if the tenant holds no row of that key."""
    record = shape.record
    if any(shown.audited for shown in record.shown):
        raise NotCompiled("whole values in a record")
    row = record.selection.stmt.where(record.key.class_.tenant_id == TENANT, record.key == RECORD_ID)
    found = row.add_columns(*(shown.column for shown in record.shown)).subquery()
    fields = []
    for name, part in shape.fields:
        if isinstance(part, Derived):
            fields.append((name, _derived(part, found)))
        else:
            fields.append((name, _value(part, record, found)))
    return select(func.json_build_object(*_object(fields))).select_from(found).scalar_subquery()


def _derived(part: Derived, row: Subquery) -> ColumnElement[Any]:
    """The derivation's items as a JSON array, in their order."""
    items = part.derivation.rows(row).correlate(row).subquery()
    fields = []
    for name, value in part.fields:
        if isinstance(value, Constant):
            fields.append((name, _constant(value)))
        elif value.name not in items.c or value.name == "position" or value.names:
            raise NotCompiled(f"column {value.name}")
        else:
            column = items.c[value.name]
            fields.append((name, _moment(column) if value.moment else column))
    aggregated = func.json_agg(aggregate_order_by(func.json_build_object(*_object(fields)), items.c.position))
    return select(func.coalesce(aggregated, literal_column("'[]'::json"))).select_from(items).scalar_subquery()


def _page_info_part(
    part: Constant | HasNextPage | Cursor, shape: PageShape, page: Subquery, on_page: ColumnElement[bool]
) -> ColumnElement[Any]:
    if isinstance(part, Constant):
        return _constant(part)
    if isinstance(part, HasNextPage):
        return func.count() > shape.first
    position = page.c.position.desc() if part.last else page.c.position
    cursors = func.array_agg(aggregate_order_by(_cursor(shape.listing, page), position)).filter(on_page)
    return cursors[1]


def _cursor(listing: Listing, page: Subquery) -> ColumnElement[str]:
    """encode_cursor of the row's keys: the JSON array of its order's values, in base64url
    without padding. Written here for keys that are ids (UUIDs) and moments never null, whose
    JSON is a quoted text (their text, their UTC isoformat); any other key is left to the
    resolvers."""
    keys = []
    for column in listing.order:
        if listing.column(column.key) is None:
            raise NotCompiled(f"a cursor on {column.key}")
        value = page.c[column.key]
        written: ColumnElement[str]
        if isinstance(column.type, Uuid):
            written = value.cast(postgresql.TEXT)
        elif isinstance(column.type, UTCDateTime) and not listing.nullable(column.key):
            written = _isoformat(value)
        else:
            raise NotCompiled(f"a cursor on {column.key}")
        keys.append(_concatenated(literal_column("'\"'"), written, literal_column("'\"'")))
    text = _concatenated(literal_column("'['"), func.concat_ws(literal_column("','"), *keys), literal_column("']'"))
    encoded = func.encode(func.convert_to(text, literal_column("'UTF8'")), literal_column("'base64'"))
    # PostgreSQL's base64 is the standard alphabet, a line after every 76 characters.
    return func.rtrim(
        func.translate(encoded, literal_column("E'+/\\n'"), literal_column("'-_'")), literal_column("'='")
    )


def _isoformat(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """datetime.isoformat() of a UTC moment: microseconds only when it has some."""
    utc = moment.op("AT TIME ZONE")(literal_column("'UTC'"))
    fraction = case(
        (func.extract("microseconds", utc) % 1_000_000 != 0, func.to_char(utc, literal_column("'.US'"))),
        else_=literal_column("''"),
    )
    return _concatenated(
        func.to_char(utc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'")), fraction, literal_column("'+00:00'")
    )


def _edge_part(part: Constant | Node, listing: Listing, page: Subquery) -> ColumnElement[Any]:
    if isinstance(part, Constant):
        return _constant(part)
    fields = []
    for name, value in part.fields:
        if isinstance(value, Joined):
            fields.append((name, _joined(value, listing, page)))
        elif isinstance(value, PageShape):
            fields.append((name, _page(value, (listing, page))[0].scalar_subquery()))
        else:
            fields.append((name, _value(value, listing, page)))
    return func.json_build_object(*_object(fields))


def _joined(part: Joined, listing: Listing, page: Subquery) -> ColumnElement[Any]:
    present = frozenset(part.present)
    fields = [(name, _value(value, listing, page, present)) for name, value in part.fields]
    built = func.json_build_object(*_object(fields))
    if part.required:
        for name in part.present:
            _selected(listing, page, name, required=True)
        return built
    return case((and_(*(_selected(listing, page, name).is_not(None) for name in part.present)), built))


def _value(
    part: Constant | Column | NodeId, listing: SelectedRows, page: Subquery, present: frozenset[str] = frozenset()
) -> ColumnElement[Any]:
    """`present`: columns known to be set here (a Joined's)."""
    if isinstance(part, Constant):
        return _constant(part)
    if isinstance(part, NodeId):
        return _global_id(part.type_name, _selected(listing, page, part.column, present, required=True))
    column = _selected(listing, page, part.name, present, required=part.required)
    if part.names:
        return case(*((column == _text(stored), _text(name)) for stored, name in part.names))
    if part.moment:
        return _moment(column)
    return column


def _selected(
    listing: SelectedRows, page: Subquery, name: str, present: frozenset[str] = frozenset(), *, required: bool = False
) -> ColumnElement[Any]:
    """The page's column `name`, if the listing selects it (and, if `required`, its row type
    says it is never null, or it is one of `present`)."""
    if listing.column(name) is None or (required and name not in present and listing.nullable(name)):
        raise NotCompiled(f"column {name}")
    return page.c[name]


def _moment(column: ColumnElement[Any]) -> ColumnElement[str]:
    """A stored UTC moment as schema.scalars.serialize_datetime writes it: RFC 3339 to the whole
    second (its floor), in China Standard Time with the offset it had then (+08:00 since 1991;
    Python writes an offset's seconds only when it has some). Null stays null."""
    # to_char writes a time's whole seconds, the floor of its seconds (PostgreSQL keeps a
    # fraction positive, also before 2000): no truncation to the second is needed.
    local = column.op("AT TIME ZONE")(literal_column(f"'{SHANGHAI.key}'"))
    offset = local - column.op("AT TIME ZONE")(literal_column("'UTC'"))
    sign = case((offset < literal_column("interval '0'"), literal_column("''")), else_=literal_column("'+'"))
    seconds = case(
        (func.extract("second", offset) != 0, func.to_char(offset, literal_column("':SS'"))),
        else_=literal_column("''"),
    )
    # Writing an offset costs more than the rest: the one in use since 1991 is written as it is.
    written_offset = case(
        (offset == literal_column("interval '8 hours'"), literal_column("'+08:00'")),
        else_=_concatenated(sign, func.to_char(offset, literal_column("'HH24:MI'")), seconds),
    )
    return _concatenated(func.to_char(local, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'")), written_offset)


def _concatenated(*parts: ColumnElement[Any]) -> ColumnElement[str]:
    """`||` of the texts: null if any is."""
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(part)
    return joined


def _text(value: str) -> ColumnElement[str]:
    """A constant text of the schema's own (an enum's stored value or name)."""
    if not NAME.match(value):
        raise NotCompiled(f"text {value!r}")
    return literal_column(f"'{value}'")


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
    if len(fields) > MAX_FIELDS:
        raise NotCompiled(f"{len(fields)} fields in one object")
    arguments: list[ColumnElement[Any]] = []
    for name, value in fields:
        if not NAME.match(name):
            raise NotCompiled(f"response name {name!r}")
        arguments += [literal_column(f"'{name}'"), value]
    return arguments
