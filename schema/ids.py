"""Global ids as callers send them: a malformed one is the caller's mistake, never ours.

Strawberry converts an `ID` argument to a `GlobalID` just before the resolver runs and fails
the field with an internal error when the text is not one. So, for every field at once, a
malformed id is first rewritten into a well-formed one that names no type: it then fares as an
id naming nothing does, through each use case's own checks: null from `node`, INVALID_ID (with
the use case's field name) from `decode_id`, in a mutation's payload or as the field's error.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLID, GraphQLInputObjectType, GraphQLInputType, GraphQLList, GraphQLNonNull
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.types.base import StrawberryObjectDefinition

from schema.common import Info

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


class MalformedIds(SchemaExtension):
    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            arguments = info.parent_type.fields[info.field_name].args
            kwargs = {
                name: well_formed(arguments[name].type, value) if name in arguments else value
                for name, value in kwargs.items()
            }
        return _next(root, info, *args, **kwargs)
