"""Fields answered without strawberry's per-field plumbing, where it adds nothing.

Strawberry wraps every field's resolver: a field with a resolver gets its `Info` built and its
arguments converted, a plain field three calls to read one attribute. graphql-core runs that
wrapper for every field of every object in a response: on a page of a thousand nodes, a few
thousand times, which cost more than the SQL. The fields below are answered as strawberry
would answer them, with that work left out; everything else keeps strawberry's resolver.

graphql-core's own work per field (a path, a resolve info, the arguments, completion by type)
then costs more than the resolver. `DirectExecution` leaves it out for these fields too: a leaf
is read and coerced in one step, and an object whose whole selection is directly answered (a
connection's edges and nodes with their names) is answered by a plan made once per request.
The organisation tree's thousand buildings cost a fifth less that way. Anything unusual is
handed back to graphql-core, which answers it, and its errors, exactly as before
(tests/test_direct_fields.py compares the two on any values).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined
from strawberry import Schema, relay
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition, get_object_definition
from strawberry.types.field import StrawberryField


def object_types(schema: Schema) -> list[GraphQLObjectType]:
    """The object types graphql-core runs (strawberry's own schema is built from them)."""
    built: GraphQLSchema = schema._schema
    return [t for t in built.type_map.values() if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")]


def answer_directly(schema: Schema) -> None:
    for named in object_types(schema):
        _node_id(schema, named)
        for field in named.fields.values():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if (
                isinstance(definition, StrawberryField)
                and definition.is_basic_field
                and definition.default_resolver is getattr
                and is_default_resolver(field.resolve)
            ):
                field.resolve = _attribute(definition.python_name)
        for field in named.fields.values():
            _mark_leaf(field)


# Where a directly answered leaf keeps its reader and its type's coercion (GraphQL's own place
# for a field's extra data).
LEAF = "wanjia_direct_leaf"


def _mark_leaf(field: GraphQLField) -> None:
    read = reader(field)
    leaf_type = get_nullable_type(field.type)
    if read is not None and is_leaf_type(leaf_type):
        field.extensions = {**field.extensions, LEAF: (read, leaf_type.coerce_output_value)}


def reader(field: GraphQLField) -> Callable[[Any], Any] | None:
    """How a directly answered field without arguments reads its value from its object."""
    read: Callable[[Any], Any] | None = getattr(field.resolve, "reads", None)
    return None if field.args else read


class NotDirect(Exception):
    """A value graphql-core must answer itself: a null where the type says non-null, a value
    its scalar refuses, an object of another type, an error or an awaitable held as a value."""


Answer = Callable[[Any], Any]


class DirectExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, answering directly answered fields without its per-field work.

    A leaf is read and coerced in one step. An object whose selection holds only directly
    answered fields, down to its leaves (a connection's edges, nodes and their names), is
    answered as a whole by a plan made once per selection and request. Anything unusual is
    handed back to graphql-core, which answers that object (and its errors) as before, reading
    its fields again: the direct readers are pure (attributes, node ids), so a second read
    answers the same. Nothing is answered directly when a middleware wraps every resolver.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.direct = manager is None or not manager.middlewares
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[FieldDetailsList, Answer | None]] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        field = parent_type.fields.get(field_details_list[0].node.name.value)
        leaf = field.extensions.get(LEAF) if field is not None and self.direct else None
        if leaf is not None:
            read, coerce = leaf
            try:
                value = read(source)
                coerced = None if value is None or unusual(value) else coerce(value)
            except Exception:  # graphql-core answers it again, with the field's error
                coerced = None
            if coerced is not None and coerced is not Undefined:
                return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        answer = self._plan(return_type, field_details_list) if self.direct else None
        if answer is not None:
            try:
                return answer(result)
            except Exception:  # something unusual: graphql-core answers the object, errors and all
                pass
        return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)

    def _plan(self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> Answer | None:
        # Keyed like graphql-core's own memo of collected subfields: by the list's identity,
        # kept alive with the plan so that the identity is not reused during the request.
        key = (object_type, id(field_details_list))
        cached = self._plans.get(key)
        if cached is None:
            cached = (field_details_list, self._make_plan(object_type, field_details_list))
            self._plans[key] = cached
        return cached[1]

    def _make_plan(self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> Answer | None:
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return None
        steps: list[tuple[str, Answer]] = []
        for response_name, sub_fields in grouped_field_set.items():
            if any(details.defer_usage is not None for details in sub_fields):  # delivered later
                return None
            node = sub_fields[0].node
            if node.name.value == "__typename":
                steps.append((response_name, _constant(object_type.name)))
                continue
            field = object_type.fields.get(node.name.value)
            read = reader(field) if field is not None else None
            if read is None or node.directives:
                return None
            answer = self._value_plan(field.type, sub_fields)
            if answer is None:
                return None
            steps.append((response_name, _reading(read, answer)))
        return _object(object_type, steps)

    def _value_plan(self, output_type: GraphQLOutputType, sub_fields: FieldDetailsList) -> Answer | None:
        nullable = get_nullable_type(output_type)
        if isinstance(nullable, GraphQLList):
            item = self._value_plan(nullable.of_type, sub_fields)
            answer = None if item is None else _items(item)
        elif is_leaf_type(nullable):
            answer = _leaf(nullable.coerce_output_value)
        elif isinstance(nullable, GraphQLObjectType):
            answer = self._plan(nullable, sub_fields)
        else:  # an interface or a union: graphql-core finds the object's type
            return None
        if answer is None:
            return None
        return _non_null(answer) if is_non_null_type(output_type) else _nullable(answer)


def _constant(value: Any) -> Answer:
    return lambda _: value


def _reading(read: Answer, answer: Answer) -> Answer:
    return lambda source: answer(read(source))


# A plan builds no resolve info (that is much of what it saves). Strawberry's `is_type_of` reads
# only the object; one that read the info would fail, and graphql-core would answer instead.
NO_INFO = cast("GraphQLResolveInfo[Any]", None)


def _object(object_type: GraphQLObjectType, steps: list[tuple[str, Answer]]) -> Answer:
    is_type_of = object_type.is_type_of

    def answer(source: Any) -> dict[str, Any]:
        if is_type_of is not None and is_type_of(source, NO_INFO) is not True:
            raise NotDirect
        return {name: step(source) for name, step in steps}

    return answer


def _leaf(coerce: Answer) -> Answer:
    def answer(value: Any) -> Any:
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise NotDirect
        return coerced

    return answer


def _items(item: Answer) -> Answer:
    def answer(values: Any) -> list[Any]:
        if not isinstance(values, (list, tuple)):
            raise NotDirect
        return [item(value) for value in values]

    return answer


def _non_null(answer: Answer) -> Answer:
    def non_null(value: Any) -> Any:
        if value is None or unusual(value):
            raise NotDirect
        return answer(value)

    return non_null


def _nullable(answer: Answer) -> Answer:
    def nullable(value: Any) -> Any:
        if value is None:
            return None
        if unusual(value):
            raise NotDirect
        return answer(value)

    return nullable


def unusual(value: Any) -> bool:
    """What graphql-core treats before completing a value: an error, an awaitable, Undefined."""
    return value is Undefined or isinstance(value, Exception) or optimized_is_awaitable(value)


def _node_id(schema: Schema, named: GraphQLObjectType) -> None:
    """A node's `id` from its id attribute and its type's name, as strawberry's `Node.id`
    answers it, where the field is strawberry's own (no resolver, permission or extension of
    the type's) and the type keeps strawberry's own `resolve_id` and `resolve_typename`."""
    definition = schema.get_type_by_name(named.name)
    origin = definition.origin if isinstance(definition, StrawberryObjectDefinition) else None
    field = named.fields.get("id")
    if (
        isinstance(origin, type)
        and issubclass(origin, relay.Node)
        and field is not None
        and _is_nodes_own_id(field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF))
        and origin.resolve_id.__func__ is relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
        and origin.resolve_typename.__func__ is relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    ):
        field.resolve = _global_id(named.name, origin.resolve_id_attr(), field.resolve)


NODE_ID = next(f for f in get_object_definition(relay.Node, strict=True).fields if f.python_name == "_id")


def _is_nodes_own_id(definition: object) -> bool:
    resolver = definition.base_resolver if isinstance(definition, StrawberryField) else None
    own = NODE_ID.base_resolver
    return (
        isinstance(definition, StrawberryField)
        and resolver is not None
        and own is not None
        and getattr(resolver.wrapped_func, "__func__", None) is getattr(own.wrapped_func, "__func__", object())
        and not definition.permission_classes
        and not definition.extensions
    )


def _global_id(type_name: str, attribute: str, strawberrys: Callable[..., Any] | None) -> Callable[[Any, Any], Any]:
    """`strawberrys`: the field's own resolver, which answers an id that is not there (its error)."""

    def read(root: Any) -> str:
        value = getattr(root, attribute)
        if value is None:
            raise NotDirect
        return relay.to_base64(type_name, str(value))

    def resolve(root: Any, info: Any) -> Any:
        if getattr(root, attribute, None) is None and strawberrys is not None:
            return strawberrys(root, info)
        return read(root)

    resolve.reads = read  # type: ignore[attr-defined]
    return resolve


def _attribute(name: str) -> Callable[..., Any]:
    read = operator.attrgetter(name)

    def resolve(root: Any, _: Any, **__: Any) -> Any:
        return read(root)

    resolve.reads = read  # type: ignore[attr-defined]
    return resolve
