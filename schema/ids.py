"""Global ids as callers send them: a malformed one is the caller's mistake, never ours.

Strawberry converts an `ID` argument to a `GlobalID` just before the resolver runs and fails
the field with an internal error when the text is not one. So, on every field that takes an
id (as an argument, or inside a list or an input object it takes), a malformed id is first
rewritten into a well-formed one that names no type: it then fares as an id naming nothing
does, through each use case's own checks: null from `node`, INVALID_ID (with the use case's
field name) from `decode_id`, in a mutation's payload or as the field's error.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    default_field_resolver,
)
from strawberry import Schema, relay
from strawberry.types.base import StrawberryObjectDefinition

from schema.common import Info
from schema.direct import object_types

# No GraphQL type has an empty name, so no use case accepts an id of this type.
NO_TYPE = ""


async def resolve_node(info: Info, global_id: relay.GlobalID) -> relay.Node | None:
    """Null for an id whose type is not a node or does not exist (`Me:`, `User:`, malformed),
    as for a node that is missing or not the caller's to see."""
    definition = info.schema.get_type_by_name(global_id.type_name)
    if not isinstance(definition, StrawberryObjectDefinition) or not issubclass(definition.origin, relay.Node):
        return None
    found = definition.origin.resolve_node(global_id.node_id, info=info, required=False)
    return await found if inspect.isawaitable(found) else found


def is_global_id(value: object) -> bool:
    try:
        relay.from_base64(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False
    return True


def well_formed(input_type: GraphQLInputType, value: Any) -> Any:
    """`value` with every malformed ID in it replaced by one naming no type (the same object
    when there is none, as for nearly every argument)."""
    if value is None:
        return value
    if isinstance(input_type, GraphQLNonNull):
        return well_formed(input_type.of_type, value)
    if isinstance(input_type, GraphQLList) and isinstance(value, list):
        items = [well_formed(input_type.of_type, item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(input_type, GraphQLInputObjectType) and isinstance(value, dict):
        fields = {
            name: well_formed(input_type.fields[name].type, item)
            for name, item in value.items()
            if name in input_type.fields
        }
        changed = any(fields[name] is not value[name] for name in fields)
        return {**value, **fields} if changed else value
    if input_type is GraphQLID and isinstance(value, str) and not is_global_id(value):
        return relay.to_base64(NO_TYPE, value)
    return value


def holds_ids(input_type: GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a value of this type can hold an ID (input objects may nest themselves)."""
    if isinstance(input_type, GraphQLNonNull | GraphQLList):
        return holds_ids(input_type.of_type, seen)
    if isinstance(input_type, GraphQLInputObjectType):
        inner = seen | {input_type.name}
        return input_type.name not in seen and any(holds_ids(f.type, inner) for f in input_type.fields.values())
    return input_type is GraphQLID


def mend_malformed_ids(schema: Schema) -> None:
    """Puts the rewriting in front of the resolver of each field that takes ids, and of no
    other: as a schema-wide hook it ran on every field of every response (a sixth of the time
    of the organisation tree's thousand objects), though few fields take an id."""
    for named in object_types(schema):
        for field in named.fields.values():
            ids = {name: argument.type for name, argument in field.args.items() if holds_ids(argument.type)}
            if ids:
                field.resolve = _mending(field.resolve or default_field_resolver, ids)


def _mending(resolve: Callable[..., Any], ids: dict[str, GraphQLInputType]) -> Callable[..., Any]:
    def mended(root: Any, info: Any, **kwargs: Any) -> Any:
        for name, input_type in ids.items():
            if name in kwargs:
                kwargs[name] = well_formed(input_type, kwargs[name])
        return resolve(root, info, **kwargs)

    return mended
