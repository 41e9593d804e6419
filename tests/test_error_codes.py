"""Error codes are a closed set in the contract: one `ErrorCode` enum in the SDL holds every code
the server can answer, user errors and request errors alike, each with a description; the
source names codes only through the Python enum it mirrors (so a typo fails), and every code a
response of the suite carried is checked against the SDL (tests/conftest.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, build_schema

from models.errors import DESCRIPTIONS, ErrorCode
from schema.build import SDL_PATH
from tests import codes
from tests.support import GRAPHQL_RESPONSE, Api

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "tenants", "resolvers", "schema", "server")


def sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts and "node_modules" not in path.parts
    ]


def test_the_sdl_enum_is_the_python_enum_and_every_value_is_described() -> None:
    enum = build_schema(SDL_PATH.read_text(encoding="utf-8")).type_map["ErrorCode"]
    assert isinstance(enum, GraphQLEnumType)
    assert set(enum.values) == {code.value for code in ErrorCode} == {code.name for code in ErrorCode}
    assert all(value.description for value in enum.values.values())
    assert set(DESCRIPTIONS) == set(ErrorCode)


def test_user_errors_are_typed_by_the_enum() -> None:
    user_error = build_schema(SDL_PATH.read_text(encoding="utf-8")).type_map["UserError"]
    assert str(user_error.fields["code"].type) == "ErrorCode!"  # type: ignore[attr-defined]


def _codes_named_in(tree: ast.AST) -> tuple[set[str], list[str]]:
    """`ErrorCode.X` references, and string literals standing where a code goes."""
    named: set[str] = set()
    literal: list[str] = []
    member_names = {code.name for code in ErrorCode}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ErrorCode":
            named.add(node.attr)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "code" and isinstance(value, ast.Constant):
                    literal.append(repr(value.value))
        elif isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant):
            literal.append(repr(node.value.value))
        elif isinstance(node, ast.Constant) and node.value in member_names:
            literal.append(repr(node.value))
    return named, literal


def test_the_source_names_codes_only_through_the_enum_and_the_sdl_has_each() -> None:
    in_sdl = codes.in_the_sdl()
    named: set[str] = set()
    literals: list[str] = []
    for path in sources():
        if path == ROOT / "models" / "errors.py":
            continue
        found, written = _codes_named_in(ast.parse(path.read_text(encoding="utf-8")))
        named |= found
        literals += [f"{path.relative_to(ROOT)}: {value}" for value in written]
    assert not literals, "write ErrorCode.X, not a string, where a code goes"
    assert named - in_sdl == set()
    # The scan sees the codes of every layer, not an empty set that would pass anything.
    assert {"NOT_FOUND", "RATE_LIMITED", "UNSUPPORTED_FILE", "QUERY_TOO_COSTLY", "INTERNAL_SERVER_ERROR"} <= named


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ tenant { name "}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ tenant { nothingHere } }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "{ " + " ".join(f"a{i}: tenant {{ name }}" for i in range(40)) + " }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": "query($n: Int!) { communities(first: $n) { edges { cursor } } }", "variables": {"n": "x"}},
            "BAD_USER_INPUT",
        ),
        ({"query": "query($n: Int!) { communities(first: $n) { edges { cursor } } }"}, "BAD_USER_INPUT"),
        ({"query": "{ " + "x " * 4000 + "}"}, "GRAPHQL_PARSE_FAILED"),
    ],
    ids=[
        "does not parse",
        "unknown field",
        "too many aliases",
        "wrong variable type",
        "missing variable",
        "too many tokens",
    ],
)
async def test_a_request_error_carries_its_code_in_extensions(api: Api, body: dict[str, object], code: str) -> None:
    response = await api.client.post("/graphql", json=body, headers={"X-Tenant": "alpha", "Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert {e["extensions"]["code"] for e in response.json()["errors"]} == {code}


async def test_every_error_a_response_carries_has_a_code(api: Api) -> None:
    """A field error while the operation runs (a malformed cursor) and a mutation's user error."""
    body = await api.run('{ communities(after: "@@@") { edges { cursor } } }', tenant="alpha")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    refused = await api.data(
        "mutation { markNotificationsRead(input: {}) { errors { code message } } }", tenant="alpha"
    )
    assert refused["markNotificationsRead"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert codes.seen >= {"INVALID_CURSOR", "UNAUTHENTICATED"}
