"""Fields answered directly (schema.direct) answer exactly what strawberry and graphql-core
answer: the same data and the same errors, for any value an attribute may hold, also the ones
the field's type refuses (a null where the type says non-null, text where it says Int, a list
that is not one), in leaves, in objects and lists answered as a whole, and beside fields that
keep their resolver."""

from __future__ import annotations

import asyncio
from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError
from hypothesis import given
from hypothesis import strategies as st
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig

from schema.batched import BatchedExecution
from schema.direct import LEAF, DirectExecution, answer_directly
from schema.organisation import Building


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item(relay.Node):
    id: relay.NodeID[str]
    name: str
    count: int
    note: str | None
    colour: Colour


@strawberry.type
class Tag:
    name: str
    items: list[Item] | None
    words: list[str] | None = None


@strawberry.type
class Box:
    items: list[Item]
    label: str | None
    tags: list[Tag | None] | None
    favourite: Item | None
    words: list[str] | None

    @strawberry.field
    def size(self) -> int:
        return len(self.items)


@strawberry.type
class Query:
    @strawberry.field
    def box(self, info: strawberry.Info) -> Box:
        box: Box = info.context["box"]
        return box


ITEM_FIELDS = "id name count note colour renamed: name __typename"
QUERY = f"""{{ box {{ label size words items {{ {ITEM_FIELDS} }} favourite {{ ...Named }}
  tags {{ name words items {{ {ITEM_FIELDS} }} }} }} }}
fragment Named on Item {{ name colour }}"""


class Exclaiming(SchemaExtension):
    """A middleware around every resolver: the executor must then leave every field to it."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value + "！" if info.field_name == "name" else value


def _schemas(*, extensions: list[Any]) -> tuple[strawberry.Schema, strawberry.Schema]:
    as_strawberry_answers = strawberry.Schema(query=Query, extensions=extensions)
    directly = strawberry.Schema(query=Query, extensions=extensions, execution_context_class=DirectExecution)
    answer_directly(directly)
    return as_strawberry_answers, directly


PLAIN = _schemas(extensions=[])
WITH_MIDDLEWARE = _schemas(extensions=[Exclaiming])
# Level by level (schema.batched), falling back to the direct executor on anything unusual.
BATCHED = strawberry.Schema(query=Query, execution_context_class=BatchedExecution)
answer_directly(BATCHED)


def _answer(schema: strawberry.Schema, box: Box) -> tuple[Any, list[tuple[str, Any]]]:
    result = asyncio.run(schema.execute(QUERY, context_value={"box": box}))
    errors: list[GraphQLError] = result.errors or []
    return result.data, sorted((error.message, error.path) for error in errors)


def _box(items: list[Any], label: Any, tags: Any = None, favourite: Any = None, words: Any = None) -> Box:
    return Box(
        items=[Item(**item) if isinstance(item, dict) else item for item in items],
        label=label,
        tags=tags,
        favourite=favourite,
        words=words,
    )


ANY_VALUE = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True),
    st.booleans(),
    st.sampled_from(Colour),
    st.builds(object),
)
ITEM = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(min_size=1, max_size=5), st.integers()),
        "name": ANY_VALUE,
        "count": ANY_VALUE,
        "note": ANY_VALUE,
        "colour": ANY_VALUE,
    }
)


ITEMS = st.lists(st.one_of(ITEM, st.none()), max_size=4)
WORDS = st.one_of(
    ANY_VALUE, st.dictionaries(st.text(max_size=2), ANY_VALUE, max_size=2), st.lists(ANY_VALUE, max_size=3)
)
TAG = st.builds(
    Tag,
    name=ANY_VALUE,
    items=st.one_of(st.none(), ANY_VALUE, ITEMS.map(lambda items: _box(items, "").items)),
    words=WORDS,
)
# Has every attribute an Item has, but is not one: graphql-core refuses it as an Item.
LOOKALIKE = ITEM.map(lambda item: SimpleNamespace(**item))


@given(
    items=ITEMS,
    label=ANY_VALUE,
    tags=st.one_of(ANY_VALUE, st.lists(st.one_of(st.none(), TAG, ANY_VALUE), max_size=3)),
    favourite=st.one_of(ANY_VALUE, ITEM.map(lambda item: Item(**item)), LOOKALIKE, TAG),
    words=WORDS,
)
def test_a_directly_answered_field_answers_what_strawberry_answers(
    items: list[Any], label: Any, tags: Any, favourite: Any, words: Any
) -> None:
    as_strawberry_answers, directly = PLAIN
    box = _box(items, label, tags, favourite, words)
    expected = _answer(as_strawberry_answers, box)
    assert _answer(directly, box) == expected
    assert _answer(BATCHED, box) == expected


def test_with_a_middleware_every_field_still_goes_through_it() -> None:
    as_strawberry_answers, directly = WITH_MIDDLEWARE
    box = _box([{"id": "1", "name": "路灯", "count": 2, "note": None, "colour": Colour.BLUE}], "盒")
    data, errors = _answer(directly, box)
    assert (data, errors) == _answer(as_strawberry_answers, box)
    assert data is not None and data["box"]["items"][0]["name"] == "路灯！"
    assert data["box"]["items"][0]["renamed"] == "路灯！"


def test_a_null_in_a_non_null_field_is_the_field_s_error_and_the_rest_is_answered() -> None:
    _, directly = PLAIN
    box = _box([{"id": "1", "name": None, "count": 3, "note": "门口", "colour": Colour.RED}], "一号")
    data, errors = _answer(directly, box)
    assert data is None  # the null travels up to the nullable parent: here the whole answer
    assert errors == [("Cannot return null for non-nullable field Item.name.", ["box", "items", 0, "name"])]


def test_a_value_refused_deep_down_nulls_the_nearest_nullable_field_only() -> None:
    _, directly = PLAIN
    good = {"id": "1", "name": "路灯", "count": 3, "note": None, "colour": Colour.RED}
    box = _box([good], "一号", tags=[Tag(name="照明", items=[Item(**{**good, "count": "三"})]), None])
    data, errors = _answer(directly, box)
    assert data is not None
    assert data["box"]["tags"] == [{"name": "照明", "words": None, "items": None}, None]
    assert data["box"]["items"][0]["count"] == 3
    assert errors == [("Int cannot represent non-integer value: '三'", ["box", "tags", 0, "items", 0, "count"])]


def test_the_app_s_plain_leaves_take_the_direct_path() -> None:
    """The organisation tree's leaves are the ones the direct path was made for: if they stop
    being marked (a strawberry change, a resolver added), the tree is slow again, silently."""
    from schema.build import build_schema

    building = build_schema()._schema.type_map[Building.__name__]
    assert {name for name, field in building.fields.items() if LEAF in field.extensions} == {
        "id",
        "code",
        "name",
        "units",
    }


@pytest.mark.parametrize("words", ["路灯", {"路灯": 1}, b"lu", range(2), ("路灯", 2)])
def test_what_may_stand_for_a_list_is_what_graphql_core_takes(words: Any) -> None:
    as_strawberry_answers, directly = PLAIN
    box = _box([], "一号", tags=[Tag(name="照明", items=None, words=words)])
    assert _answer(directly, box) == _answer(as_strawberry_answers, box)
    assert _answer(BATCHED, box) == _answer(as_strawberry_answers, box)


class Deny(BasePermission):
    message = "不许看"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Guarded(relay.Node):
    code: relay.NodeID[str]

    @strawberry.field(name="id", permission_classes=[Deny])
    def own_id(self) -> strawberry.ID:
        return strawberry.ID("whatever")


@strawberry.type
class Part:
    x: int
    y: int


@strawberry.type
class Parts:
    parts: list[Part]


@strawberry.type
class Shelf:
    tags: list[Tag | None]
    pending: list[Tag | None]


async def _later(tag: Tag | None) -> Tag | None:
    return tag


@strawberry.type
class Edges:
    """What the executor may not shortcut: a node type's own id field, an id that is not there,
    an error or an awaitable where a value should be, and parts delivered later."""

    @strawberry.field
    def guarded(self) -> Guarded:
        return Guarded(code="g")

    @strawberry.field
    def missing(self) -> Item | None:
        return Item(id=None, name="无号", count=1, note=None, colour=Colour.RED)  # type: ignore[arg-type]

    @strawberry.field
    def shelf(self) -> Shelf:
        return Shelf(tags=[Tag(name="照明", items=None), ValueError("坏了")], pending=[])  # type: ignore[list-item]

    @strawberry.field
    def queue(self) -> Shelf:
        return Shelf(tags=[], pending=[_later(Tag(name="门禁", items=None)), _later(None)])  # type: ignore[list-item]

    @strawberry.field
    def box(self) -> Parts:
        return Parts(parts=[Part(x=1, y=2)])


EDGES = [
    ("{ guarded { id } }", "a node type's own id field keeps its permission"),
    ("{ missing { id name } }", "a node whose id is not there is strawberry's error"),
    ("{ shelf { tags { __typename } } }", "an error where an object should be"),
    ("{ queue { pending { __typename } } }", "an awaitable where an object should be"),
]


@pytest.mark.parametrize("executor", [DirectExecution, BatchedExecution])
@pytest.mark.parametrize(("query", "case"), EDGES, ids=[case for _, case in EDGES])
def test_what_only_strawberry_may_answer_is_answered_as_it_answers(
    query: str, case: str, executor: type[DirectExecution]
) -> None:
    plain = strawberry.Schema(query=Edges)
    directly = strawberry.Schema(query=Edges, execution_context_class=executor)
    answer_directly(directly)

    def answer(schema: strawberry.Schema) -> tuple[Any, list[tuple[str, Any]]]:
        result = asyncio.run(schema.execute(query))
        return result.data, sorted((error.message, error.path) for error in result.errors or [])

    assert answer(directly) == answer(plain)


@pytest.mark.parametrize("executor", [DirectExecution, BatchedExecution])
def test_parts_deferred_are_still_delivered_later(executor: type[DirectExecution]) -> None:
    config = StrawberryConfig(enable_experimental_incremental_execution=True)
    plain = strawberry.Schema(query=Edges, config=config)
    directly = strawberry.Schema(query=Edges, config=config, execution_context_class=executor)
    answer_directly(directly)

    async def delivered(schema: strawberry.Schema) -> list[Any]:
        result: Any = await schema.execute("{ box { parts { x } ... @defer { parts { x y } } } }")
        later = [repr(part) async for part in result.subsequent_results]
        return [result.initial_result.data, later]

    initial, later = asyncio.run(delivered(directly))
    assert [initial, later] == asyncio.run(delivered(plain))
    assert initial == {"box": {"parts": [{"x": 1}]}} and len(later) == 1
