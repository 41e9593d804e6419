"""`schema/schema.graphql` is the printed contract front ends review; it must match the code."""

from __future__ import annotations

from schema.build import SDL_PATH, printed_sdl


def test_checked_in_sdl_matches_the_code() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == printed_sdl(), "run `wanjia schema export` and commit the result"


def test_every_mutation_takes_one_input_and_answers_errors() -> None:
    from graphql import GraphQLNonNull, build_schema

    schema = build_schema(printed_sdl())
    mutation = schema.mutation_type
    assert mutation is not None
    for name, field in mutation.fields.items():
        assert list(field.args) == ["input"], name
        payload = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        assert "errors" in payload.fields, name
