"""Queries answered by one SQL statement that builds their JSON (resolvers.compiled).

A query whose every root field is a list declared here, asked for with nothing but the first
page's edges, nodes of declared columns, to-one objects joined into the list and nested declared
lists, `pageInfo` (but an edge's cursor) and `__typename`, is described as a shape and answered
by the database in one statement; so is a root field declared as one SQL value (the unread
count), and `node(id:)` of a type declared as a record (a room: its columns and the list its
row makes, its free slots, whose arguments are checked as its use case checks them). A root
list may be declared for some callers and arguments only (the resident's own complaints: a
caller who is only a resident, no filter, newest first; the grid worker's inbox: a caller who
is only a grid worker, by deadline, filtered by status at most), and a page may hold a row it
leaves to the resolvers (a notification about something other than a complaint): the whole
query is then answered the usual way. The selection is read the way graphql-core reads it
(fragments, `@skip` and `@include` applied by its own field collection), so a shape is exactly
what the client asked for. Anything else (a cursor, a count, `after`, another field, an
argument out of bounds, a caller the list does not admit, SQLite) is answered the usual way
(schema.batched), errors included (tests/test_compiled_reads.py compares the two).
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from strawberry import relay
from strawberry.schema.schema_converter import GraphQLCoreConverter

from models.complaints import ComplaintStatus
from models.notifications import Notification, SubjectType
from models.people import Role
from resolvers import bookings, complaints, notifications, organisation
from resolvers.compiled import (
    Column,
    Constant,
    Cursor,
    Derivation,
    Derived,
    Edge,
    HasNextPage,
    Joined,
    Listing,
    Node,
    NodeId,
    NotCompiled,
    PageInfo,
    PageShape,
    Record,
    RecordShape,
    Root,
    Value,
    can_read,
    read_pages,
)
from resolvers.errors import DomainError
from resolvers.pagination import PageRequest, checked
from schema.direct import LEAF
from tenants.context import RequestContext

if TYPE_CHECKING:
    from schema.batched import BatchedExecution

P = TypeVar("P")


# What answers a root field for this caller with these arguments (beyond `first` and `after`),
# if something is declared: a listing, or for a field without arguments or selection a value.
Chooser = Callable[[RequestContext, dict[str, Any]], Listing | Value | None]


def without_arguments(answer: Listing | Value) -> Chooser:
    return lambda _, arguments: answer if not arguments else None


def _complaints(ctx: RequestContext, arguments: dict[str, Any]) -> Listing | None:
    """A resident's own newest first, without a filter; a grid worker's inbox by deadline,
    filtered by status at most."""
    if not set(arguments) <= {"filter", "order"}:
        return None
    order = getattr(arguments.get("order"), "value", None)
    narrowed = {name: value for name, value in (arguments.get("filter") or {}).items() if value is not None}
    if order == complaints.ComplaintOrder.NEWEST and not narrowed:
        return complaints.RESIDENTS_OWN_NEWEST
    if order == complaints.ComplaintOrder.DEADLINE and set(narrowed) <= {"statuses"}:
        statuses = frozenset(ComplaintStatus(status.value) for status in narrowed.get("statuses", ()))
        return complaints.grid_workers_inbox(statuses or frozenset(ComplaintStatus))
    return None


# The caller's notifications, for a caller of one of these roles alone (the subjects they are
# told about are nearly all complaints; a page with another is left to the resolvers).
NOTIFICATIONS_OF = {
    role: notifications.compiled_notifications(
        role, SubjectType.COMPLAINT, complaints.caller_sees_complaint(role, Notification.subject_id)
    )
    for role in (Role.RESIDENT, Role.GRID_WORKER)
}


def _notifications(ctx: RequestContext, arguments: dict[str, Any]) -> Listing | None:
    if arguments.get("unreadOnly") or ctx.viewer is None or len(ctx.viewer.roles) != 1:
        return None
    return NOTIFICATIONS_OF.get(next(iter(ctx.viewer.roles)))


def _unread_count(ctx: RequestContext, arguments: dict[str, Any]) -> Value | None:
    return notifications.compiled_unread_count(ctx) if not arguments else None


def prefixed(prefix: str, *fields: str) -> dict[str, str]:
    """Each field read from the parent's column of the same name after `prefix`_."""
    return {field: f"{prefix}_{field}" for field in fields}


@dataclass(frozen=True)
class JoinedObject:
    """A to-one object field read from its parent's row: null unless `present` are all set;
    `columns`: its fields' columns by field (python) name, an `id` as its type's global id."""

    present: tuple[str, ...]
    columns: dict[str, str]
    type_name: str | None = None  # the object's type, where the field's is an interface


@dataclass(frozen=True)
class DerivedList:
    """A list field its object's row makes (a Derivation), with the request's parameters read
    from the field's arguments (a DomainError for arguments its use case refuses)."""

    derivation: Derivation
    parameters: Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Compilable:
    roots: dict[str, Chooser]  # Query's fields
    lists: dict[tuple[str, str], Listing]  # an object type's list fields
    columns: dict[str, frozenset[str]]  # an object type's fields read from the column of the same name
    joined: dict[tuple[str, str], JoinedObject]  # an object type's to-one fields
    records: dict[str, Record]  # the node types `node(id:)` may read
    derived: dict[tuple[str, str], DerivedList]  # a record's list fields made from its row


COMPILABLE = Compilable(
    roots={
        "communities": without_arguments(organisation.COMMUNITIES),
        "departments": without_arguments(organisation.DEPARTMENTS),
        "complaints": _complaints,
        "notifications": _notifications,
        "unreadNotificationCount": _unread_count,
    },
    lists={
        ("Community", "grids"): organisation.GRIDS_OF_COMMUNITY,
        ("Grid", "buildings"): organisation.BUILDINGS_OF_GRID,
        ("Complaint", "timeline"): complaints.TIMELINE,
    },
    columns={
        "Community": frozenset({"code", "name"}),
        "Grid": frozenset({"code", "name"}),
        "Building": frozenset({"code", "name", "units"}),
        "Department": frozenset({"code", "name"}),
        "Complaint": frozenset(
            {
                "title",
                "content",
                "status",
                "source",
                "is_public",
                "address",
                "resolution",
                "rating",
                "feedback",
                "acknowledge_due_at",
                "resolve_due_at",
                "submitted_at",
                "updated_at",
                "acknowledged_at",
                "resolved_at",
                "closed_at",
                "overdue",
            }
        ),
        "TimelineEvent": frozenset({"action", "actor_name", "from_status", "to_status", "note", "at"}),
        "Notification": frozenset({"kind", "title", "body", "created_at", "read"}),
        "Room": frozenset(
            {
                "name",
                "capacity",
                "requires_approval",
                "slot_minutes",
                "min_notice_hours",
                "max_days_ahead",
                "max_duration_minutes",
                "weekly_quota_hours",
            }
        ),
        "Slot": frozenset({"starts_at", "ends_at"}),
    },
    joined={
        ("Complaint", "category"): JoinedObject(
            ("category_id",), prefixed("category", "id", "code", "name", "acknowledge_hours", "resolve_days")
        ),
        ("Complaint", "grid"): JoinedObject(("grid_id",), prefixed("grid", "id", "code", "name")),
        # The phone as the listing shows it to its caller (a listing without it is not compiled).
        ("Complaint", "handler"): JoinedObject(
            ("handler_id", "handler_name", "handler_phone", "handler_shown_phone"),
            {**prefixed("handler", "id", "name"), "phone": "handler_shown_phone"},
        ),
        ("Complaint", "resident"): JoinedObject(
            ("resident_id", "resident_name", "resident_phone", "resident_shown_phone"),
            {**prefixed("resident", "id", "name"), "phone": "resident_shown_phone"},
        ),
        ("Notification", "subject"): JoinedObject(
            ("complaint_subject_id",), {"id": "complaint_subject_id"}, type_name="Complaint"
        ),
    },
    records={"Room": bookings.ROOM_RECORD},
    derived={
        ("Room", "freeSlots"): DerivedList(
            bookings.FREE_SLOTS,
            lambda arguments: bookings.free_slot_parameters(arguments["fromDate"], arguments["toDate"]),
        )
    },
)


async def compiled_answer(
    executor: BatchedExecution, root_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
) -> EncodedJSON | dict[str, Any] | None:
    """The query's data from one statement, or None if it cannot be compiled."""
    try:
        shapes = tuple((name, _root(executor, root_type, details)) for name, details in grouped_field_set.items())
    except NotCompiled:
        return None
    ctx = executor.context_value
    if not shapes or not can_read(ctx, shapes):
        return None
    try:
        answer = await read_pages(ctx, shapes)
    except NotCompiled:  # raised in making the statement, before it runs
        return None
    if answer is None:  # a page holds a row left to the resolvers
        return None
    ctx.full_views |= answer.full_views
    # Over HTTP and websockets the endpoint's encoder puts the text into the response as it is
    # (server.http): decoding a page of a thousand nodes to encode it again was half of its
    # time. A caller of the schema itself (no request) gets it decoded.
    return EncodedJSON(answer.text) if ctx.request is not None else json.loads(answer.text)


class EncodedJSON:
    """An answer's data already written as JSON, for the HTTP response to carry as it is
    (server.http.GraphQLEndpoint.encode_json)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _root(executor: BatchedExecution, root_type: GraphQLObjectType, details: FieldDetailsList) -> Root:
    node = _plain(details)
    if node.name.value == "node":
        return _record(executor, root_type, details)
    choose = COMPILABLE.roots.get(node.name.value)
    if choose is None:
        raise NotCompiled
    field = root_type.fields[node.name.value]
    if field.args or node.selection_set is not None:
        return _page(executor, root_type, details, choose)
    value = choose(executor.context_value, {})
    if not isinstance(value, Value) or not is_leaf_type(get_named_type(field.type)):
        raise NotCompiled
    return value


def _arguments(executor: BatchedExecution, parent_type: GraphQLObjectType, details: FieldDetailsList) -> dict[str, Any]:
    node = _plain(details)
    try:
        return get_argument_values(parent_type.fields[node.name.value], node, executor.variable_values)
    except Exception as error:  # graphql-core's error to give
        raise NotCompiled from error


def _record(executor: BatchedExecution, root_type: GraphQLObjectType, details: FieldDetailsList) -> RecordShape:
    """`node(id:)` of a type declared as a record; any other id (malformed, of another type)
    is the resolvers' to answer."""
    try:
        type_name, key = relay.from_base64(_arguments(executor, root_type, details)["id"])
        record_id = uuid.UUID(key)
    except (ValueError, TypeError) as error:
        raise NotCompiled from error
    record = COMPILABLE.records.get(type_name)
    if record is None:
        raise NotCompiled
    object_type = _object_type(executor.schema.get_type(type_name))

    def part(asked: str, sub: FieldDetailsList) -> Column | NodeId | Derived:
        derived = COMPILABLE.derived.get((type_name, asked))
        if derived is None:
            return _leaf(object_type, asked)
        items = _object_type(object_type.fields[asked].type)
        try:
            parameters = derived.parameters(_arguments(executor, object_type, sub))
        except DomainError as error:  # the resolvers' error to give
            raise NotCompiled from error

        def item(asked_of_item: str, _: FieldDetailsList) -> Column:
            leaf = _leaf(items, asked_of_item)
            if not isinstance(leaf, Column):
                raise NotCompiled
            return leaf

        return Derived(derived.derivation, _parts(executor, items, sub, item), parameters)

    return RecordShape(record, _parts(executor, object_type, details, part), record_id)


def _page(
    executor: BatchedExecution,
    parent_type: GraphQLObjectType,
    details: FieldDetailsList,
    choose: Chooser | Listing,
) -> PageShape:
    field = parent_type.fields[_plain(details).name.value]
    arguments = _arguments(executor, parent_type, details)
    first, after = arguments.pop("first", None), arguments.pop("after", None)
    listing = choose if isinstance(choose, Listing) else choose(executor.context_value, arguments)
    if not isinstance(listing, Listing):
        raise NotCompiled
    ctx = executor.context_value
    try:  # the resolvers' own bounds, and their error to give
        page = checked(ctx, PageRequest(ctx.settings.default_page_size if first is None else first))
    except DomainError as error:
        raise NotCompiled from error
    if after is not None:
        raise NotCompiled
    connection = _object_type(field.type)
    edge, page_info = _field_type(connection, "edges"), _field_type(connection, "pageInfo")

    def part(asked: str, sub: FieldDetailsList) -> Edge | PageInfo:
        if asked == "edges":
            return Edge(_parts(executor, edge, sub, edge_part))
        if asked == "pageInfo":
            return PageInfo(_parts(executor, page_info, sub, _page_info_part))
        raise NotCompiled

    def edge_part(asked: str, sub: FieldDetailsList) -> Node:
        if asked != "node":  # a cursor
            raise NotCompiled
        return _node(executor, _field_type(edge, asked), sub)

    return PageShape(listing, page.first, _parts(executor, connection, details, part))


def _page_info_part(asked: str, _: FieldDetailsList) -> HasNextPage | Cursor | Constant:
    if asked == "hasNextPage":
        return HasNextPage()
    if asked == "hasPreviousPage":  # only the first page is compiled
        return Constant(False)
    if asked in ("startCursor", "endCursor"):
        return Cursor(last=asked == "endCursor")
    raise NotCompiled


def _node(executor: BatchedExecution, node_type: GraphQLObjectType, details: FieldDetailsList) -> Node:
    def part(asked: str, sub: FieldDetailsList) -> Column | NodeId | Joined | PageShape:
        field = node_type.fields[asked]
        listing = COMPILABLE.lists.get((node_type.name, asked))
        if listing is not None:
            return _page(executor, node_type, sub, listing)
        joined = COMPILABLE.joined.get((node_type.name, asked))
        if joined is not None:
            object_type = executor.schema.get_type(joined.type_name) if joined.type_name else field.type
            return _joined(executor, _object_type(object_type), sub, joined, required=is_non_null_type(field.type))
        return _leaf(node_type, asked)

    return Node(_parts(executor, node_type, details, part))


def _leaf(object_type: GraphQLObjectType, asked: str) -> Column | NodeId:
    """A field read from the row's column of its name (a declared one), or a node's `id`,
    where the type has no resolver of its own for it."""
    columns = COMPILABLE.columns.get(object_type.name, frozenset())
    field = object_type.fields[asked]
    if LEAF not in field.extensions:
        raise NotCompiled
    if asked == "id" and columns:
        return NodeId(object_type.name)
    name = _python_name(field)
    if name in columns:
        return _column(field, name)
    raise NotCompiled


def _joined(
    executor: BatchedExecution,
    object_type: GraphQLObjectType,
    details: FieldDetailsList,
    joined: JoinedObject,
    *,
    required: bool,
) -> Joined:
    def part(asked: str, _: FieldDetailsList) -> Column | NodeId:
        field = object_type.fields[asked]
        column = joined.columns.get("id" if asked == "id" else _python_name(field) or "")
        if column is None or LEAF not in field.extensions:
            raise NotCompiled
        return NodeId(object_type.name, column) if asked == "id" else _column(field, column)

    return Joined(joined.present, _parts(executor, object_type, details, part), required)


def _python_name(field: GraphQLField) -> str | None:
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return getattr(definition, "python_name", None)


def _column(field: GraphQLField, column: str) -> Column:
    """The column as the field's type writes it: an enum by its names, a DateTime as the
    scalar writes it, text, numbers and truth as they are."""
    named = get_named_type(field.type)
    required = is_non_null_type(field.type)
    if isinstance(named, GraphQLEnumType):
        names = tuple((_stored(value.value), name) for name, value in named.values.items())
        return Column(column, required, names=names)
    if isinstance(named, GraphQLScalarType) and named.name == "DateTime":
        return Column(column, required, moment=True)
    if isinstance(named, GraphQLScalarType) and named.name in ("String", "Int", "Boolean", "ID"):
        return Column(column, required)
    raise NotCompiled(f"a {named} column")


def _stored(value: Any) -> str:
    stored = value.value if isinstance(value, enum.Enum) else value
    if not isinstance(stored, str):
        raise NotCompiled(f"enum value {value!r}")
    return stored


def _parts(
    executor: BatchedExecution,
    object_type: GraphQLObjectType,
    details: FieldDetailsList,
    part: Callable[[str, FieldDetailsList], P],
) -> tuple[tuple[str, P | Constant], ...]:
    """Each response name of the selection on `object_type` with what answers it: its type's
    name for `__typename`, else `part` of the field asked (NotCompiled if it cannot say it)."""
    parts: list[tuple[str, P | Constant]] = []
    for name, sub in _selection(executor, object_type, details).items():
        asked = _plain(sub).name.value
        parts.append((name, Constant(object_type.name) if asked == "__typename" else part(asked, sub)))
    return tuple(parts)


def _selection(
    executor: BatchedExecution, object_type: GraphQLObjectType, details: FieldDetailsList
) -> GroupedFieldSet:
    grouped_field_set, new_defer_usages, _ = executor.collect_subfields(object_type, details)
    if new_defer_usages:
        raise NotCompiled
    return grouped_field_set


def _plain(details: FieldDetailsList) -> Any:
    """The field's node, if nothing but graphql-core's own field collection bears on it."""
    first = details[0]
    if first.defer_usage is not None or first.fragment_variable_values is not None or first.node.directives:
        raise NotCompiled
    return first.node


def _field_type(object_type: GraphQLObjectType, name: str) -> GraphQLObjectType:
    field = object_type.fields.get(name)
    return _object_type(field.type if field else None)


def _object_type(output_type: Any) -> GraphQLObjectType:
    named = get_named_type(output_type)
    if not isinstance(named, GraphQLObjectType):
        raise NotCompiled
    return named
