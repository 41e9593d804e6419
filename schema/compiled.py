"""Queries answered by one SQL statement that builds their JSON (resolvers.compiled).

A query whose every root field is a list declared here, asked for with nothing but the first
page's edges, nodes of declared columns and nested declared lists, `pageInfo`'s
`hasNextPage`/`hasPreviousPage` and `__typename`, is described as a shape and answered by the
database in one statement. The selection is read the way graphql-core reads it (fragments,
`@skip` and `@include` applied by its own field collection), so a shape is exactly what the
client asked for. Anything else (a cursor, a count, `after`, another field, an argument out of
bounds, a caller the list does not admit, SQLite) is answered the usual way
(schema.batched), errors included (tests/test_compiled_reads.py compares the two).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import GraphQLObjectType, get_named_type, is_non_null_type
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from strawberry.schema.schema_converter import GraphQLCoreConverter

from resolvers import organisation
from resolvers.compiled import (
    Column,
    Constant,
    Edge,
    HasNextPage,
    Listing,
    Node,
    NodeId,
    NotCompiled,
    PageInfo,
    PageShape,
    can_read,
    read_pages,
)
from resolvers.errors import DomainError
from resolvers.pagination import PageRequest, checked
from schema.direct import LEAF

if TYPE_CHECKING:
    from schema.batched import BatchedExecution

P = TypeVar("P")


@dataclass(frozen=True)
class Compilable:
    roots: dict[str, Listing]  # Query's fields
    lists: dict[tuple[str, str], Listing]  # an object type's list fields
    columns: dict[str, frozenset[str]]  # an object type's fields read from the column of the same name


COMPILABLE = Compilable(
    roots={"communities": organisation.COMMUNITIES, "departments": organisation.DEPARTMENTS},
    lists={
        ("Community", "grids"): organisation.GRIDS_OF_COMMUNITY,
        ("Grid", "buildings"): organisation.BUILDINGS_OF_GRID,
    },
    columns={
        "Community": frozenset({"code", "name"}),
        "Grid": frozenset({"code", "name"}),
        "Building": frozenset({"code", "name", "units"}),
        "Department": frozenset({"code", "name"}),
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
        text = await read_pages(ctx, shapes)
    except NotCompiled:  # raised in making the statement, before it runs
        return None
    # Over HTTP and websockets the endpoint's encoder puts the text into the response as it is
    # (server.http): decoding a page of a thousand nodes to encode it again was half of its
    # time. A caller of the schema itself (no request) gets it decoded.
    return EncodedJSON(text) if ctx.request is not None else json.loads(text)


class EncodedJSON:
    """An answer's data already written as JSON, for the HTTP response to carry as it is
    (server.http.GraphQLEndpoint.encode_json)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _root(executor: BatchedExecution, root_type: GraphQLObjectType, details: FieldDetailsList) -> PageShape:
    listing = COMPILABLE.roots.get(details[0].node.name.value)
    if listing is None:
        raise NotCompiled
    return _page(executor, root_type, details, listing)


def _page(
    executor: BatchedExecution, parent_type: GraphQLObjectType, details: FieldDetailsList, listing: Listing
) -> PageShape:
    node = _plain(details)
    field = parent_type.fields[node.name.value]
    try:
        arguments = get_argument_values(field, node, executor.variable_values)
    except Exception as error:  # graphql-core's error to give
        raise NotCompiled from error
    ctx = executor.context_value
    first = arguments.get("first")
    try:  # the resolvers' own bounds, and their error to give
        page = checked(ctx, PageRequest(ctx.settings.default_page_size if first is None else first))
    except DomainError as error:
        raise NotCompiled from error
    if arguments.get("after") is not None:
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


def _page_info_part(asked: str, _: FieldDetailsList) -> HasNextPage | Constant:
    if asked == "hasNextPage":
        return HasNextPage()
    if asked == "hasPreviousPage":  # only the first page is compiled
        return Constant(False)
    raise NotCompiled  # a cursor


def _node(executor: BatchedExecution, node_type: GraphQLObjectType, details: FieldDetailsList) -> Node:
    columns = COMPILABLE.columns.get(node_type.name, frozenset())

    def part(asked: str, sub: FieldDetailsList) -> Column | NodeId | PageShape:
        field = node_type.fields[asked]
        listing = COMPILABLE.lists.get((node_type.name, asked))
        if listing is not None:
            return _page(executor, node_type, sub, listing)
        if asked == "id" and LEAF in field.extensions and columns:
            return NodeId(node_type.name)
        if asked in columns and LEAF in field.extensions:
            definition = field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
            return Column(definition.python_name, is_non_null_type(field.type))
        raise NotCompiled

    return Node(_parts(executor, node_type, details, part))


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
