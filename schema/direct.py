"""Fields answered without strawberry's per-field plumbing, where it adds nothing.

Strawberry wraps every field's resolver: a field with a resolver gets its `Info` built and its
arguments converted, a plain field three calls to read one attribute. graphql-core runs that
wrapper for every field of every object in a response: on a page of a thousand nodes, a few
thousand times, which cost more than the SQL. The fields below are answered as strawberry
would answer them, with that work left out; everything else keeps strawberry's resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry import Schema, relay
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
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


def _node_id(schema: Schema, named: GraphQLObjectType) -> None:
    """A node's `id` from its id attribute and its type's name, as strawberry's `Node.id`
    answers it, where the type keeps strawberry's own `resolve_id` and `resolve_typename`."""
    definition = schema.get_type_by_name(named.name)
    origin = definition.origin if isinstance(definition, StrawberryObjectDefinition) else None
    if (
        isinstance(origin, type)
        and issubclass(origin, relay.Node)
        and "id" in named.fields
        and origin.resolve_id.__func__ is relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
        and origin.resolve_typename.__func__ is relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    ):
        named.fields["id"].resolve = _global_id(named.name, origin.resolve_id_attr())


def _global_id(type_name: str, attribute: str) -> Callable[[Any, Any], str]:
    def resolve(root: Any, _: Any) -> str:
        return relay.to_base64(type_name, str(getattr(root, attribute)))

    return resolve


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(root: Any, _: Any, **__: Any) -> Any:
        return getattr(root, name)

    return resolve
