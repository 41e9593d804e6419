"""What every domain's schema module shares: errors, connections, ids, times, mutations."""

from __future__ import annotations

import asyncio
import enum
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar, cast, overload
from zoneinfo import ZoneInfo

import strawberry
from strawberry import relay
from strawberry.types import Info as StrawberryInfo

from models.errors import DESCRIPTIONS as ERROR_CODE_DESCRIPTIONS
from models.errors import ErrorCode
from models.lifecycle import Lifecycle
from resolvers.errors import DomainError, Issue, not_found
from resolvers.pagination import TOTAL_COUNT_CAP, Counter, Page, PageRequest
from schema.cost import cost
from tenants.context import RequestContext

Info = StrawberryInfo[RequestContext, None]
T = TypeVar("T")
NodeT = TypeVar("NodeT")
# Named as strawberry.relay names it: the generic Connection below resolves its edges by this name.
NodeType = TypeVar("NodeType")
R = TypeVar("R")
E = TypeVar("E", bound=enum.Enum)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@overload
def shanghai(moment: datetime) -> datetime: ...
@overload
def shanghai(moment: None) -> None: ...
def shanghai(moment: datetime | None) -> datetime | None:
    """Stored in UTC, shown in China Standard Time."""
    return moment.astimezone(SHANGHAI) if moment is not None else None


def mirror_enum(
    source: type[E], descriptions: Mapping[E, str], *, name: str, description: str | None = None
) -> type[enum.Enum]:
    """The GraphQL enum of a model's enum: the same members with the same values, each with its
    Chinese description (a member without one fails on import). Convert with `Mirror(member.value)`
    and `Source(value.value)`. A type checker cannot see a class made at run time: declare the
    mirror as the model's enum under `if TYPE_CHECKING` (same members, same values), so a
    misspelt member or a wrong enum fails the check."""
    members = {member.name: strawberry.enum_value(member.value, description=descriptions[member]) for member in source}
    mirrored = cast(type[enum.Enum], enum.Enum(name, members))
    return strawberry.enum(mirrored, name=name, description=description)


# Every code the server answers with, user errors and request errors alike (models.errors says
# why one enum rather than one per domain): `UserError.code` here, `extensions.code` elsewhere.
if TYPE_CHECKING:  # see mirror_enum
    ErrorCodeType = ErrorCode
else:
    ErrorCodeType = mirror_enum(
        ErrorCode,
        ERROR_CODE_DESCRIPTIONS,
        name="ErrorCode",
        description="Every code the server answers with: `UserError.code` in a mutation's payload, `extensions.code` of a GraphQL error, the errors of `POST /uploads`.",
    )


@strawberry.type(description="A problem with the input, in the caller's terms.")
class UserError:
    field: str | None = strawberry.field(description="Input field at fault, if one is.")
    code: ErrorCodeType = strawberry.field(description="What went wrong, for the client to switch on.")
    message: str = strawberry.field(description="Chinese message to show to the user.")


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError(field=i.field, code=ErrorCodeType(i.code.value), message=i.message) for i in error.issues]


@dataclass
class Outcome(Generic[T]):
    value: T | None
    errors: list[UserError]


async def attempt(info: Info, action: Callable[[], Awaitable[T]]) -> Outcome[T]:
    """Runs one mutation as a write step of the unit of work: an expected failure becomes
    `errors` and leaves the database as it was (unless the use case asks to keep what it
    recorded, e.g. a failed login); an unexpected one is undone and re-raised, to be masked."""
    try:
        async with info.context.write_step(keep=lambda error: isinstance(error, DomainError) and error.keep_changes):
            value = await action()
    except DomainError as error:
        return Outcome(None, user_errors(error))
    return Outcome(value, [])


def page_request(info: Info, first: int | None, after: str | None) -> PageRequest:
    return PageRequest(first=first if first is not None else info.context.settings.default_page_size, after=after)


# A count over at most TOTAL_COUNT_CAP rows through an index, beside the page it comes with.
TOTAL_COUNT_COST = cost(weight=10)


# Relay's PageInfo and Edge (the same names, fields and descriptions), with each cursor encoded
# only if the client selects it (resolvers.pagination.Cursors): most select none.
@strawberry.type(description="Information to aid in pagination.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="When paginating forwards, are there more items?")
    has_previous_page: bool = strawberry.field(description="When paginating backwards, are there more items?")
    cursors: strawberry.Private[Sequence[str]]

    @strawberry.field(description="When paginating backwards, the cursor to continue.")
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @strawberry.field(description="When paginating forwards, the cursor to continue.")
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def _edge_cursor(root: Edge[Any]) -> str:
    return root.cursors[root.index]


@strawberry.type(description="An edge in a connection.")
class Edge(Generic[NodeType]):
    cursor: str = strawberry.field(resolver=_edge_cursor, description="A cursor for use in pagination")
    node: NodeType = strawberry.field(description="The item at the end of the edge")
    cursors: strawberry.Private[Sequence[str]]
    index: strawberry.Private[int]


# Lists of items without ids (timeline events, rankings) page the same way: strawberry serves
# them, though its typing binds a connection's items to Node.
@strawberry.type(description="A page of a list, cursors to page on, and the size of the whole list.")
class Connection(relay.Connection[NodeType]):  # type: ignore[type-var]
    page_info: PageInfo = strawberry.field(description="Pagination data for this connection")  # type: ignore[assignment]
    edges: list[Edge[NodeType]] = strawberry.field(  # type: ignore[assignment]
        description="Contains the nodes in this connection"
    )
    total: strawberry.Private[Counter]

    @strawberry.field(
        description=f"How many items the whole list holds (all pages, the filter applied), counted up to {TOTAL_COUNT_CAP:,}: past that it says {TOTAL_COUNT_CAP:,} and totalCountIsCapped is true.",
        metadata=TOTAL_COUNT_COST,
    )
    async def total_count(self) -> int:
        return (await self.total()).count

    @strawberry.field(
        description=f"The list holds more than {TOTAL_COUNT_CAP:,} items (show “{TOTAL_COUNT_CAP:,}+”).",
        metadata=TOTAL_COUNT_COST,
    )
    async def total_count_is_capped(self) -> bool:
        return (await self.total()).capped


def connection(page: Page[T], to_node: Callable[[T], NodeType]) -> Connection[NodeType]:
    cursors = page.cursors
    return Connection(
        edges=[Edge(node=to_node(row), cursors=cursors, index=index) for index, row in enumerate(page.rows)],
        page_info=PageInfo(has_next_page=page.has_next_page, has_previous_page=page.has_previous_page, cursors=cursors),
        total=page.total,
    )


def decode_id(global_id: relay.GlobalID, type_name: str, field: str) -> uuid.UUID:
    """The id inside a global id of the expected type; anything else is the caller's error."""
    try:
        if global_id.type_name != type_name:
            raise ValueError
        return uuid.UUID(global_id.node_id)
    except ValueError as error:
        raise DomainError(Issue(ErrorCode.INVALID_ID, "编号无效。", field)) from error


def _node_uuids(node_ids: Sequence[str]) -> list[uuid.UUID | None]:
    parsed: list[uuid.UUID | None] = []
    for node_id in node_ids:
        try:
            parsed.append(uuid.UUID(node_id))
        except ValueError:
            parsed.append(None)
    return parsed


async def nodes_by_id(
    node_ids: Sequence[str],
    fetch: Callable[[uuid.UUID], Awaitable[R | None]],
    to_node: Callable[[R], NodeT],
) -> list[NodeT | None]:
    """Node lookups answer null for an id that is malformed, elsewhere, or not the caller's to
    see (their role may not see that type at all): all of these look the same from outside."""

    async def lookup(node_id: uuid.UUID | None) -> R | None:
        if node_id is None:
            return None
        try:
            return await fetch(node_id)
        except DomainError:
            return None

    rows = await asyncio.gather(*(lookup(node_id) for node_id in _node_uuids(node_ids)))
    return [to_node(row) if row is not None else None for row in rows]


class ScopedNode(relay.Node):
    """A Node found through its domain's scoping use case: `lookup_nodes` answers each id with
    the node or null (nodes_by_id), so an id the caller may not see looks like no id at all."""

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        raise NotImplementedError(f"{cls.__name__} names no lookup_nodes")

    @overload
    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: Literal[True]) -> list[Self]: ...

    @overload
    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: Literal[False] = False
    ) -> list[Self | None]: ...

    @overload
    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool
    ) -> list[Self] | list[Self | None]: ...

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self] | list[Self | None]:
        nodes = await cls.lookup_nodes(info, list(node_ids))
        if not required:
            return nodes
        found = [node for node in nodes if node is not None]
        if len(found) < len(nodes):
            raise not_found("对象")
        return found


def referenced(row: R | None) -> R:
    """The row a visible one refers to by foreign key (a complaint's community): it is there,
    and if it is not, the data is broken, which is a server error rather than a null."""
    if row is None:
        raise LookupError("a referenced row is missing")
    return row


A = TypeVar("A", bound=enum.Enum)


@dataclass(frozen=True)
class ViewerCan(Generic[A]):
    """An item's `viewerCan`: one Boolean per mutation the caller might take on it, named after
    the mutation (`acceptComplaint` → `accept`), true when that mutation would take the step now.
    Built from a lifecycle by `viewer_can`, so a domain that declares its lifecycle gets it."""

    type: type
    attributes: Mapping[A, str]  # Python attribute of each step's field
    fields: Mapping[A, str]  # its GraphQL name
    mutations: Mapping[A, str]

    def of(self, allowed: frozenset[A]) -> object:
        return self.type(**{attribute: action in allowed for action, attribute in self.attributes.items()})


def viewer_can(
    name: str,
    noun: str,
    lifecycle: Lifecycle[Any, A, Any],
    *,
    system: enum.Enum | None = None,
    mutations: Mapping[A, str],
) -> ViewerCan[A]:
    """The `viewerCan` type of one domain. `mutations` names the mutation of every step a
    caller (any party but `system`, the sweep, if the domain has one) can take: a step left out fails on import, so
    no step goes without its Boolean. A field is named after its mutation without `noun`."""
    takeable = {t.action for t in lifecycle.transitions if t.parties - {system}}
    if missing := takeable - set(mutations):
        raise ValueError(f"{name}: no mutation named for {sorted(a.name for a in missing)}")
    attributes: dict[A, str] = {}
    fields: dict[A, str] = {}
    namespace: dict[str, Any] = {"__annotations__": {}}
    for action, mutation in mutations.items():
        field_name = mutation.replace(noun, "", 1)
        attribute = re.sub(r"(?<!^)(?=[A-Z])", "_", field_name).lower()
        attributes[action] = attribute
        fields[action] = field_name[0].lower() + field_name[1:]
        namespace["__annotations__"][attribute] = bool
        namespace[attribute] = strawberry.field(description=f"`{mutation}` would take this step now.")
    made = strawberry.type(
        type(name, (), namespace),
        description=f"What the caller may do to this {noun} now, one field per mutation, computed by the rules that guard the mutations themselves: show the buttons that are true.",
    )
    return ViewerCan(made, attributes, fields, dict(mutations))
