"""An operation's cost (the most objects it can return) is counted before it runs, refused over
the limit, and announced in every response."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from graphql import get_operation_ast, parse, validate
from graphql.execution.values import VariableValues
from hypothesis import given, settings
from hypothesis import strategies as st

from models.database import counting_statements
from schema.build import build_schema
from schema.cost import CostAnalysis, Paging, operation_cost
from tests.conftest import WORKER_1
from tests.support import Api

README = Path(__file__).resolve().parent.parent / "README.md"
LIMIT = 10_000
PAGING = Paging(default=20, maximum=100)
SCHEMA = build_schema()._schema

NESTED = "communities(first: {a}) {{ edges {{ node {{ grids(first: {b}) {{ edges {{ node {{ buildings(first: {c}) {{ edges {{ node {{ name }} }} }} }} }} }} }} }} }}"
# The request: 30 aliases, each asking a million buildings of 10,100 grids and communities.
FLOOD = "{ " + " ".join(f"a{i}: " + NESTED.format(a=100, b=100, c=100) for i in range(30)) + " }"
FLOOD_COST = 30 * (100 + 100 * 100 + 100 * 100 * 100)


def cost_of(query: str, variables: dict[str, object] | None = None) -> int:
    document = parse(query)
    assert not validate(SCHEMA, document), validate(SCHEMA, document)
    if variables is None:  # an example whose variables are left to the reader: each at its default
        operation = get_operation_ast(document)
        assert operation is not None
        return CostAnalysis(SCHEMA, document, VariableValues({}, {}), PAGING).of(operation)
    counted = operation_cost(SCHEMA, document, None, variables, PAGING)
    assert isinstance(counted, int), counted
    return counted


async def test_the_thirty_alias_flood_is_refused_before_any_sql_runs(api: Api) -> None:
    await api.data("{ tenant { slug } }", tenant="alpha")  # the tenant lookup is cached from here on
    with counting_statements() as statements:
        response = await api.post(FLOOD, tenant="alpha")
    assert response.status_code == 400 and "data" not in response.json()
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": FLOOD_COST, "limit": LIMIT}
    assert str(FLOOD_COST) in error["message"] and str(LIMIT) in error["message"]
    assert statements.count == 0


async def test_a_costly_query_is_a_graphql_error_with_200_for_plain_json_clients(api: Api) -> None:
    response = await api.post(FLOOD, tenant="alpha", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_every_response_announces_its_cost(api: Api) -> None:
    query = "{ tenant { name } " + NESTED.format(a=2, b=3, c=4) + " }"
    body = await api.run(query, tenant="alpha")
    assert "errors" not in body
    assert body["extensions"]["cost"] == {"requested": 1 + 2 + 2 * 3 + 2 * 3 * 4, "limit": LIMIT}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (NESTED.format(a="$a", b="$b", c="$c"), {"a": 100, "b": 100, "c": 100}),
        (NESTED.format(a="$a", b="$b", c="$c"), {"a": 100, "b": 100}),
        (
            NESTED.format(a="$a", b="$b", c="$c").replace("buildings(first: $c) { edges { node { name } } }", "...G"),
            {"a": 100, "b": 100, "c": 100},
        ),
        (
            NESTED.format(a="$a", b="$b", c="$c")
            .replace("node { buildings", "node { ... on Grid { buildings")
            .replace("name } } } }", "name } } } } }", 1),
            {"a": 100, "b": 100, "c": 100},
        ),
    ],
    ids=["variables", "variable with its default", "fragment spread", "inline fragment"],
)
async def test_variables_and_fragments_count_as_they_will_run(api: Api, query: str, variables: dict[str, int]) -> None:
    document = f"query($a: Int, $b: Int, $c: Int = 100) {{ {query} }}"
    if "...G" in query:
        document += " fragment G on Grid { buildings(first: $c) { edges { node { name } } } }"
    response = await api.post(document, variables, tenant="alpha")
    assert response.json()["errors"][0]["extensions"]["cost"] == 100 + 100 * 100 + 100 * 100 * 100


async def test_the_same_document_is_counted_anew_for_other_variables(api: Api) -> None:
    """A document's cost is kept while in use, by its variables: the same text with other page
    sizes costs what they ask."""
    document = "query($a: Int, $b: Int) { " + NESTED.format(a="$a", b="$b", c=1) + " }"
    costs = []
    for a, b in ((1, 1), (2, 3), (1, 1), (2, 3)):
        body = await api.run(document, {"a": a, "b": b}, tenant="alpha")
        costs.append(body["extensions"]["cost"]["requested"])
    assert costs == [1 + 1 + 1, 2 + 2 * 3 + 2 * 3, 1 + 1 + 1, 2 + 2 * 3 + 2 * 3]


async def test_a_text_search_and_a_count_add_their_declared_weight(api: Api) -> None:
    token = await api.token("alpha", WORKER_1)
    plain = await api.run("{ complaints(first: 5) { edges { node { title } } } }", token=token)
    search = await api.run(
        "query($s: String) { complaints(first: 5, filter: {search: $s}) { edges { node { title } } } }",
        {"s": "楼道"},
        token=token,
    )
    counts = await api.run("{ complaintCounts { total byStatus { status count } } }", token=token)
    assert plain["extensions"]["cost"]["requested"] == 5
    assert search["extensions"]["cost"]["requested"] == 5 + 100
    assert counts["extensions"]["cost"]["requested"] == 1 + 100 + 9


async def test_a_wrongly_typed_page_size_is_a_request_error_and_runs_nothing(api: Api) -> None:
    query = "query($n: Int) { communities(first: $n) { edges { cursor } } }"
    with counting_statements() as statements:
        response = await api.post(query, {"n": "x"}, tenant="alpha")
    assert response.status_code == 400 and "data" not in response.json()
    assert "$n" in response.json()["errors"][0]["message"]
    assert statements.count == 0


@settings(max_examples=200, deadline=None)
@given(
    a=st.one_of(st.none(), st.integers(-5, 150)),
    b=st.one_of(st.none(), st.integers(-5, 150)),
    c=st.one_of(st.none(), st.integers(-5, 150)),
)
def test_nested_pages_multiply_down_the_tree(a: int | None, b: int | None, c: int | None) -> None:
    def page(first: int | None) -> int:
        return 20 if first is None else max(0, min(first, 100))

    arguments = {"a": a, "b": b, "c": c}
    query = "query($a: Int, $b: Int, $c: Int) { " + NESTED.format(a="$a", b="$b", c="$c") + " }"
    expected = page(a) + page(a) * page(b) + page(a) * page(b) * page(c)
    assert cost_of(query, {k: v for k, v in arguments.items() if v is not None}) == expected


TYPED_PLACEHOLDERS = {
    "<today>": "2026-12-01",
    "<in 4 days>": "2026-12-05",
    "<a free slot's startsAt>": "2026-12-01T09:00:00+08:00",
    "<its endsAt>": "2026-12-01T10:00:00+08:00",
    "<a month ago>": "2026-11-01T00:00:00+08:00",
    "<now>": "2026-12-01T00:00:00+08:00",
}


def readme_operations() -> list[str]:
    """Every GraphQL operation the README shows front-end developers: its graphql blocks and the
    queries inside its curl examples."""
    text = README.read_text(encoding="utf-8")
    operations = []
    for block in re.findall(r"```graphql\n(.*?)```", text, re.S):
        lines = [line for line in block.splitlines() if not line.lstrip().startswith("#")]
        document = "\n".join(lines)
        # Placeholders where a date or a time goes (tests/test_demo.py fills in real ones).
        for placeholder, sample in TYPED_PLACEHOLDERS.items():
            document = document.replace(placeholder, sample)
        operations += [op for op in re.split(r"\n(?=\{|mutation|query)", document) if op.strip()]
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for quoted in re.findall(r'"query":"((?:[^"\\]|\\.)*)"', block):
            operations.append(json.loads(f'"{quoted}"'))
    return operations


def test_every_query_the_readme_shows_fits_under_the_limit() -> None:
    operations = readme_operations()
    assert len(operations) >= 15
    costs = {op.split("{")[0].strip() + " " + op.split("{")[1][:40]: cost_of(op) for op in operations}
    assert all(cost <= LIMIT for cost in costs.values()), costs


def test_every_list_of_objects_declares_how_many_it_holds() -> None:
    """A list field without a declared bound would be counted as ten: new ones must say."""
    from graphql import GraphQLObjectType, get_named_type, get_nullable_type, is_list_type

    from schema.cost import declared

    undeclared = []
    for type_ in SCHEMA.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            item = get_named_type(field.type)
            if (
                is_list_type(get_nullable_type(field.type))
                and isinstance(item, GraphQLObjectType)
                and name != "edges"
                and item.name != "UserError"
                and declared(field).items is None
            ):
                undeclared.append(f"{type_.name}.{name}")
    assert undeclared == []


def test_the_flood_costs_thirty_million_objects() -> None:
    assert cost_of(FLOOD) == FLOOD_COST == 30_303_000
