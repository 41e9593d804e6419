"""The assembled schema: every domain's Query and Mutation merged, with the protections on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema import appointments, auth, bookings, complaints, notifications, organisation, people, tenants
from schema.extensions import PresentErrors, UnitOfWork, is_expected

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"
logger = logging.getLogger("wanjia.errors")


def _root_types() -> tuple[type, type]:
    """Made anew for every schema: strawberry binds `relay.node()` to the first schema built
    from it, and the app and the tests build several with different protections."""

    @strawberry.type
    class NodeQuery:
        node: relay.Node | None = relay.node(
            description="Any object by its global id; null if it is not there or not yours to see."
        )

    query = merge_types(
        "Query",
        (
            NodeQuery,
            tenants.Query,
            people.Query,
            organisation.Query,
            complaints.Query,
            bookings.Query,
            appointments.Query,
            notifications.Query,
        ),
    )
    mutation = merge_types(
        "Mutation",
        (
            auth.Mutation,
            people.Mutation,
            complaints.Mutation,
            bookings.Mutation,
            appointments.Mutation,
            notifications.Mutation,
        ),
    )
    return query, mutation


@dataclass(frozen=True)
class Protections:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    production: bool = False


class WanjiaSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Logs only what is ours to fix, with its stack; never the query's variables."""
        request_id = getattr(execution_context.context, "request_id", "-") if execution_context else "-"
        for error in errors:
            if not is_expected(error):
                logger.error(
                    "unexpected error in %s (request %s)",
                    ".".join(str(p) for p in error.path or []),
                    request_id,
                    exc_info=error.original_error,
                )


def build_schema(protections: Protections = Protections()) -> strawberry.Schema:
    # The limiters make a new rule class per instance; built once here, the rules stay the same
    # objects from request to request, so ValidationCache (keyed by them) can hit.
    limiters = [
        QueryDepthLimiter(max_depth=protections.max_depth),
        MaxAliasesLimiter(max_alias_count=protections.max_aliases),
        *([DisableIntrospection()] if protections.production else []),
    ]
    rules = [rule for limiter in limiters for rule in limiter.validation_rules]
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: ParserCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=protections.max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
        UnitOfWork,
        PresentErrors,
    ]
    query, mutation = _root_types()
    return WanjiaSchema(
        query=query,
        mutation=mutation,
        subscription=notifications.Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=True),
    )


def printed_sdl() -> str:
    return build_schema().as_str() + "\n"
