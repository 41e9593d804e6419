"""The assembled schema: every domain's Query and Mutation merged, with the protections on."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import strawberry
from graphql import (
    ASTValidationRule,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    Visitor,
    visit,
)
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
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult

from schema import (
    analytics,
    appointments,
    articles,
    attendance,
    audit,
    auth,
    badges,
    bookings,
    complaints,
    exports,
    guides,
    households,
    inspections,
    leaders,
    notices,
    notifications,
    organisation,
    people,
    scalars,
    tenants,
    visits,
    volunteers,
    workday,
)
from schema.batched import BatchedExecution
from schema.common import Info
from schema.cost import CostLimit, Paging
from schema.direct import answer_directly
from schema.extensions import PresentErrors, UnitOfWork, is_expected, present
from schema.ids import mend_malformed_ids, resolve_node

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"
logger = logging.getLogger("wanjia.errors")


def _root_types() -> tuple[type, type]:
    """Made anew for every schema: strawberry binds `relay.node()` to the first schema built
    from it, and the app and the tests build several with different protections."""

    @strawberry.type
    class NodeQuery:
        @strawberry.field(description="Any object by its global id; null if it is not there or not yours to see.")
        async def node(
            self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="The ID of the object.")]
        ) -> relay.Node | None:
            return await resolve_node(info, id)

    query = merge_types(
        "Query",
        (
            NodeQuery,
            tenants.Query,
            people.Query,
            organisation.Query,
            complaints.Query,
            analytics.Query,
            exports.Query,
            bookings.Query,
            appointments.Query,
            notifications.Query,
            volunteers.Query,
            badges.Query,
            guides.Query,
            attendance.Query,
            inspections.Query,
            workday.Query,
            households.Query,
            visits.Query,
            audit.Query,
            leaders.Query,
            articles.Query,
            notices.Query,
        ),
    )
    mutation = merge_types(
        "Mutation",
        (
            auth.Mutation,
            people.Mutation,
            complaints.Mutation,
            analytics.Mutation,
            exports.Mutation,
            bookings.Mutation,
            appointments.Mutation,
            notifications.Mutation,
            volunteers.Mutation,
            badges.Mutation,
            guides.Mutation,
            attendance.Mutation,
            inspections.Mutation,
            households.Mutation,
            visits.Mutation,
            leaders.Mutation,
            articles.Mutation,
            notices.Mutation,
        ),
    )
    return query, mutation


UNPRINTABLE = re.compile("[\x00\ud800-\udfff]")


class PrintableStrings(ValidationRule):
    """No string literal with NUL or a lone surrogate: PostgreSQL cannot store the one, UTF-8
    cannot encode the other (the HTTP layer refuses them in variables the same way)."""

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        if UNPRINTABLE.search(node.value):
            self.report_error(GraphQLError("字符串中含有不允许的字符（NUL 或不成对的代理项）。", node))


class _FragmentSpreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def needing_known_fragments(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """Strawberry's depth limiter follows fragment spreads blindly and fails on one that names
    no fragment; such a document is left to graphql-core's KnownFragmentNamesRule to refuse."""

    class Guarded(rule):  # type: ignore[misc, valid-type]
        def __init__(self, context: ValidationContext) -> None:
            defined = {d.name.value for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)}
            spreads = _FragmentSpreads()
            visit(context.document, spreads)
            if spreads.names <= defined:
                super().__init__(context)
            else:
                ASTValidationRule.__init__(self, context)

    return Guarded


@dataclass(frozen=True)
class Protections:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    max_cost: int = 10_000
    default_page_size: int = 20
    max_page_size: int = 100
    production: bool = False


class WanjiaSchema(strawberry.Schema):
    production: bool = False

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Errors raised outside any resolver (the transaction failing to open or to commit)
        escape the extensions that present errors; they are presented here the same way."""
        result = await super().execute(*args, **kwargs)
        if result.errors:
            context = kwargs.get("context_value")
            request_id = getattr(context, "request_id", "-")
            result.errors = [present(error, request_id, production=self.production) for error in result.errors]
        return result

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


# One schema per set of protections in a process: it holds no app's state (the services come
# with each request's context), and building one takes a second or more.
@functools.cache
def build_schema(protections: Protections = Protections()) -> strawberry.Schema:
    # The limiters make a new rule class per instance; built once here, the rules stay the same
    # objects from request to request, so ValidationCache (keyed by them) can hit.
    limiters = [
        QueryDepthLimiter(max_depth=protections.max_depth),
        MaxAliasesLimiter(max_alias_count=protections.max_aliases),
        *([DisableIntrospection()] if protections.production else []),
    ]
    rules = [
        *(needing_known_fragments(rule) for limiter in limiters for rule in limiter.validation_rules),
        PrintableStrings,
    ]
    paging = Paging(default=protections.default_page_size, maximum=protections.max_page_size)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: ParserCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=protections.max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
        lambda: CostLimit(limit=protections.max_cost, paging=paging),
        UnitOfWork,
        lambda: PresentErrors(production=protections.production),
    ]
    query, mutation = _root_types()
    schema = WanjiaSchema(
        query=query,
        mutation=mutation,
        subscription=notifications.Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=True, name_converter=RememberedNames()),
        scalar_overrides=scalars.OVERRIDES,
        execution_context_class=BatchedExecution,
    )
    schema.production = protections.production
    answer_directly(schema)
    mend_malformed_ids(schema)
    return schema


class RememberedNames(NameConverter):
    """Strawberry converts every argument's name to camel case again on each call of a field that
    takes arguments (on the organisation tree, a seventh of the time of the whole request): the
    names are fixed, so each is converted once."""

    def __init__(self) -> None:
        super().__init__()
        self._converted: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._converted.get(name)
        if converted is None:
            converted = self._converted[name] = super().apply_naming_config(name)
        return converted


def printed_sdl() -> str:
    return build_schema().as_str() + "\n"
