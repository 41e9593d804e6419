"""Global ids as callers send them: a malformed one is the caller's mistake, never ours.

Strawberry converts an `ID` argument to a `GlobalID` just before the resolver runs and fails
the field with an internal error when the text is not one. Checked here first, for every field
at once: `node` answers null, a mutation answers its payload with an INVALID_ID user error, any
other field an INVALID_ID error; a well-formed id of a type that is not a node (`Me:`, `User:`)
makes `node` answer null too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
)
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.types.base import StrawberryObjectDefinition

from resolvers.errors import DomainError, Issue
from schema.common import Info, UserError

DEFINITION = "strawberry-definition"


async def resolve_node(info: Info, global_id: relay.GlobalID) -> relay.Node | None:
    definition = info.schema.get_type_by_name(global_id.type_name)
    if not isinstance(definition, StrawberryObjectDefinition) or not issubclass(definition.origin, relay.Node):
        return None
    found = definition.origin.resolve_node(global_id.node_id, info=info, required=False)
    return await found if inspect.isawaitable(found) else found


def is_global_id(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        relay.from_base64(value)
    except ValueError:
        return False
    return True


def malformed_ids(arguments: dict[str, Any], types: dict[str, GraphQLInputType]) -> Iterator[str]:
    """Where, in the caller's terms (`residentId`, `filter.categoryId`), an ID is malformed."""
    for name, value in arguments.items():
        if name in types:
            # The one `input` of a mutation is left out of the path, as the use cases name fields.
            yield from _malformed(types[name], value, [] if name == "input" else [name])


def _malformed(input_type: GraphQLInputType, value: Any, path: list[str]) -> Iterator[str]:
    if value is None:
        return
    if isinstance(input_type, GraphQLNonNull):
        yield from _malformed(input_type.of_type, value, path)
    elif isinstance(input_type, GraphQLList):
        for item in value if isinstance(value, list) else [value]:
            yield from _malformed(input_type.of_type, item, path)
    elif isinstance(input_type, GraphQLInputObjectType) and isinstance(value, dict):
        for name, field in input_type.fields.items():
            yield from _malformed(field.type, value.get(name), [*path, name])
    elif input_type is GraphQLID and not is_global_id(value):
        yield ".".join(path)


class MalformedIds(SchemaExtension):
    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            return _next(root, info, *args, **kwargs)
        field = info.parent_type.fields[info.field_name]
        fields = list(malformed_ids(kwargs, {name: argument.type for name, argument in field.args.items()}))
        if not fields:
            return _next(root, info, *args, **kwargs)
        if info.parent_type is info.schema.query_type and info.field_name == "node":
            return None
        issues = [Issue("INVALID_ID", "编号无效。", name or None) for name in fields]
        payload = _payload_type(info.return_type)
        if payload is None:
            raise DomainError(*issues)
        values: dict[str, Any] = {
            f.python_name: None for f in payload.__strawberry_definition__.fields if f.base_resolver is None
        }
        values["errors"] = [UserError(field=i.field, code=i.code, message=i.message) for i in issues]
        return payload(**values)


def _payload_type(return_type: Any) -> Any:
    """The class of a mutation's payload (an object with `errors: [UserError!]!`), else None."""
    named = get_named_type(return_type)
    if not isinstance(named, GraphQLObjectType) or "errors" not in named.fields:
        return None
    if get_named_type(named.fields["errors"].type).name != "UserError":
        return None
    return named.extensions[DEFINITION].origin
