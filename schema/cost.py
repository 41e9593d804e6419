"""What an operation may cost, counted before it runs: the most objects it can return.

Depth, alias and token limits bound a document's shape, not its size: thirty aliases of
communities(first: 100) → grids(first: 100) → buildings(first: 100) pass them all and ask for
thirty million rows. So every connection's page (`first`, else the default page size, never
more than the largest page) multiplies everything below it, a list of objects multiplies by
the items it can hold, and a field whose resolver is expensive (a count, a text search) adds the
weight declared next to it with `cost(...)`. Variables and fragments count as they will run;
on an abstract type the costliest possible type counts.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_composite_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from models.errors import ErrorCode

COST = "wanjia.cost"
DEFINITION = "strawberry-definition"
# A list of objects that declares no bound (a payload's `errors`, say) is taken to hold this many.
UNDECLARED_LIST_ITEMS = 10


@dataclass(frozen=True)
class Cost:
    """`weight`: objects' worth of work each time the field resolves, beyond the objects it
    returns. `items`: how many objects a list field holds at most, or a function of its
    arguments that says so."""

    weight: int = 0
    items: int | Callable[[dict[str, Any]], int] | None = None


def cost(*, weight: int = 0, items: int | Callable[[dict[str, Any]], int] | None = None) -> dict[str, Cost]:
    """Field metadata: `strawberry.field(..., metadata=cost(weight=100))`."""
    return {COST: Cost(weight=weight, items=items)}


def declared(definition: Any) -> Cost:
    strawberry_definition = (definition.extensions or {}).get(DEFINITION)
    metadata = getattr(strawberry_definition, "metadata", None) or {}
    found = metadata.get(COST)
    return found if isinstance(found, Cost) else Cost()


@dataclass(frozen=True)
class Paging:
    default: int
    maximum: int

    def page(self, first: object) -> int:
        size = first if isinstance(first, int) else self.default
        return max(0, min(size, self.maximum))


class CostAnalysis:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: VariableValues, paging: Paging):
        self.schema = schema
        self.variables = variables
        self.paging = paging
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def of(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        assert root is not None
        return self._each(operation.selection_set, root)

    def _each(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        """What one object of `parent` costs with this selection, objects below it included."""
        if selection_set is None:
            return 0
        if is_abstract_type(parent):
            return max((self._object(selection_set, t) for t in self.schema.get_possible_types(parent)), default=0)
        return self._object(selection_set, parent)

    def _object(self, selection_set: SelectionSetNode, object_type: GraphQLObjectType) -> int:
        return sum(self._field(node, field) for node, field in self._fields(selection_set, object_type))

    def _fields(
        self, selection_set: SelectionSetNode, object_type: GraphQLObjectType
    ) -> Iterator[tuple[FieldNode, GraphQLField]]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if not name.startswith("__"):
                    yield selection, object_type.fields[name]
                continue
            fragment: InlineFragmentNode | FragmentDefinitionNode = (
                self.fragments[selection.name.value] if isinstance(selection, FragmentSpreadNode) else selection  # type: ignore[assignment]
            )
            condition = fragment.type_condition
            applies = condition is None or self._applies(condition.name.value, object_type)
            if applies:
                yield from self._fields(fragment.selection_set, object_type)

    def _applies(self, type_name: str, object_type: GraphQLObjectType) -> bool:
        condition = self.schema.get_type(type_name)
        if condition is object_type:
            return True
        return is_abstract_type(condition) and self.schema.is_sub_type(condition, object_type)

    def _field(self, node: FieldNode, field: GraphQLField) -> int:
        declaration = declared(field)
        arguments = self._arguments(field, node)
        weight = declaration.weight + sum(
            _input_weight(field.args[name].type, value) for name, value in arguments.items() if name in field.args
        )
        named = get_named_type(field.type)
        if not is_composite_type(named):
            return weight
        if "first" in field.args and isinstance(named, GraphQLObjectType) and "edges" in named.fields:
            return weight + self._connection(node, named, self.paging.page(arguments.get("first")))
        if is_list_type(get_nullable_type(field.type)):
            items = declaration.items
            count = items(arguments) if callable(items) else UNDECLARED_LIST_ITEMS if items is None else items
            return weight + count * (1 + self._each(node.selection_set, named))
        return weight + 1 + self._each(node.selection_set, named)

    def _connection(self, node: FieldNode, connection: GraphQLObjectType, rows: int) -> int:
        """A page costs its rows, and each row what is selected under edges → node."""
        total = rows
        for field_node, field in self._fields(node.selection_set, connection):  # type: ignore[arg-type]
            if field_node.name.value != "edges":
                total += self._field(field_node, field)
                continue
            edge = get_named_type(field.type)
            for edge_node, edge_field in self._fields(field_node.selection_set, edge):  # type: ignore[arg-type]
                if edge_node.name.value == "node":
                    total += rows * self._each(edge_node.selection_set, get_named_type(edge_field.type))
                else:
                    total += rows * self._field(edge_node, edge_field)
        return total

    def _arguments(self, field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(field, node, self.variables)
        except GraphQLError:
            # Bad literal arguments were refused by validation already; what is left errs at run time.
            return {}


def _input_weight(input_type: GraphQLInputType, value: Any) -> int:
    """Weights declared on the input fields a caller filled in (a text search, say)."""
    if value is None:
        return 0
    if isinstance(input_type, GraphQLNonNull):
        return _input_weight(input_type.of_type, value)
    if isinstance(input_type, GraphQLList):
        values = value if isinstance(value, list) else [value]
        return sum(_input_weight(input_type.of_type, item) for item in values)
    if not isinstance(input_type, GraphQLInputObjectType) or not isinstance(value, dict):
        return 0
    total = 0
    for name, field in input_type.fields.items():
        if value.get(name) is not None:
            total += declared(field).weight + _input_weight(field.type, value[name])
    return total


# The costs counted lately, by document, operation and variables (a digest of them: a request
# may carry a megabyte of variables). The parser's cache gives a request the document object the
# last one with the same text had, and counting walks all of it: for a small page, a tenth of
# the request's time. The entry keeps its document, so its id cannot stand for another while
# the entry lasts.
_COUNTED: OrderedDict[tuple[int, int, str | None, bytes, Paging], tuple[DocumentNode, int | list[GraphQLError]]] = (
    OrderedDict()
)
COUNTED_MAX = 1024


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    paging: Paging,
) -> int | list[GraphQLError]:
    """The cost of a validated document's operation, or why its variables do not fit it:
    counted once for each document, operation and variables while in use."""
    try:
        written = json.dumps(variables, sort_keys=True).encode()
    except (TypeError, ValueError, RecursionError):  # a file among them (multipart), or too deep to write
        key = None
    else:
        key = (id(schema), id(document), operation_name, hashlib.blake2b(written, digest_size=20).digest(), paging)
        found = _COUNTED.get(key)
        if found is not None and found[0] is document:
            _COUNTED.move_to_end(key)
            return found[1]
    operation = get_operation_ast(document, operation_name)
    assert operation is not None, "validated, and the operation was found before validation"
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    counted = coerced if isinstance(coerced, list) else CostAnalysis(schema, document, coerced, paging).of(operation)
    if key is not None:
        _COUNTED[key] = (document, counted)
        if len(_COUNTED) > COUNTED_MAX:
            _COUNTED.popitem(last=False)
    return counted


class CostLimit(SchemaExtension):
    """Refuses an operation that may return more than `limit` objects before it runs (so before
    any SQL), and announces every operation's cost in the response's `extensions`.

    Counting needs the variables, so they are coerced here, once validation has passed: a
    variable of the wrong type is then a request error like a validation error, and the
    operation never starts either. Must come right after ValidationCache, which validates in
    the same hook: errors added once the hook has returned would be too late to stop execution.
    """

    def __init__(self, *, limit: int, paging: Paging) -> None:
        super().__init__()
        self.limit = limit
        self.paging = paging
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None:
            context.pre_execution_errors = validate_document(
                context.schema._schema,
                context.graphql_document,  # type: ignore[arg-type]
                context.validation_rules,
            )
        if context.pre_execution_errors:
            context.pre_execution_errors = [
                callers(error, ErrorCode.GRAPHQL_VALIDATION_FAILED) for error in context.pre_execution_errors
            ]
            yield
            return
        counted = operation_cost(
            context.schema._schema,
            context.graphql_document,  # type: ignore[arg-type]
            context.operation_name,
            context.variables or {},
            self.paging,
        )
        if isinstance(counted, list):
            context.pre_execution_errors = [callers(error, ErrorCode.BAD_USER_INPUT) for error in counted]
            yield
            return
        self.cost = counted
        if self.cost > self.limit:
            context.pre_execution_errors = [
                GraphQLError(
                    f"查询代价 {self.cost} 超过上限 {self.limit}：请减少每页条数（first）或嵌套的列表。",
                    extensions={"code": ErrorCode.QUERY_TOO_COSTLY, "cost": self.cost, "limit": self.limit},
                )
            ]
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.cost, "limit": self.limit}} if self.cost is not None else {}


def callers(error: GraphQLError, code: ErrorCode) -> GraphQLError:
    """An error of the request itself (the operation never ran) is the caller's to fix, whatever
    exception a scalar raised underneath: it is shown with `code`, not masked and logged as ours."""
    return GraphQLError(
        error.message, nodes=error.nodes, path=error.path, extensions={"code": code, **(error.extensions or {})}
    )
