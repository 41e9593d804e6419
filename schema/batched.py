"""A query answered level by level: each field resolved for all its objects at once.

graphql-core completes a response object by object: for every object it collects the
selection, builds a resolve info, converts the arguments, awaits the resolver and completes the
value, then does the same for each of the object's children. On the organisation tree's 1,210
objects that work was nine tenths of the request; the SQL, four statements, a few
milliseconds. `BatchedExecution` answers a query breadth-first instead: a field's arguments
and resolve info are made once for the whole level, its resolver is called for every object
of the level in one gather (so DataLoaders batch as before), and the values are completed
level by level, the leaves read and coerced in one step (schema.direct).

The same resolvers run with the same arguments, so the answer is the one graphql-core would
give, whenever graphql-core would give it without an error. Anything else (a resolver that
raises, a null where the type says non-null, a value of another type, an interface or a union,
@defer, a middleware) stops the batched answer and graphql-core answers the whole operation
from the start, errors and all (tests/test_batched_execution.py compares the two). A query
only reads, so answering it again changes nothing; the loaders keep what they read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from types import GeneratorType
from typing import Any, cast

from graphql import (
    GraphQLAbstractType,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationType,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from sqlalchemy.exc import DBAPIError

from schema.compiled import compiled_answer
from schema.direct import DirectExecution, reader, unusual


class NotBatched(Exception):
    """This operation is left to graphql-core (see the module's docstring)."""


class BatchedExecution(DirectExecution):
    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        position_context: Any,
    ) -> Any:
        if serially or not self.direct or self.operation.operation != OperationType.QUERY:
            return super().execute_root_grouped_field_set(
                root_type, root_value, grouped_field_set, serially, position_context
            )
        return self._batched_or_graphql_cores(root_type, root_value, grouped_field_set, position_context)

    async def _batched_or_graphql_cores(
        self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: GroupedFieldSet, position_context: Any
    ) -> Any:
        compiled = await compiled_answer(self, root_type, grouped_field_set)
        if compiled is not None:
            return compiled
        try:
            return (await self._answer_level(root_type, [root_value], grouped_field_set))[0]
        except NotBatched as stopped:
            ctx = self.context_value
            if _database_failure(stopped) and ctx.session is not None:
                # The failed statement may have ended the transaction (PostgreSQL aborts it):
                # graphql-core answers in a new one. A query has written nothing to lose.
                await ctx.read_afresh()
        answer = super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, False, position_context
        )
        return await answer if self.is_awaitable(answer) else answer

    async def _answer_level(
        self, object_type: GraphQLObjectType, sources: list[Any], grouped_field_set: GroupedFieldSet
    ) -> list[dict[str, Any]]:
        """The response objects of `sources`, all of `object_type`, for one selection."""
        names = list(grouped_field_set)
        # Every field of the level at once, so that loads of one loader from two fields (a
        # complaint's resident and its handler) are still one batch.
        columns = await _all(
            [self._answer_field(object_type, sources, name, grouped_field_set[name]) for name in names]
        )
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    async def _answer_field(
        self, object_type: GraphQLObjectType, sources: list[Any], response_name: str, details: FieldDetailsList
    ) -> list[Any]:
        first = details[0]
        node = first.node
        if first.defer_usage is not None or first.fragment_variable_values is not None or node.directives:
            raise NotBatched
        name = node.name.value
        if name == "__typename":
            return [object_type.name] * len(sources)
        field = object_type.fields.get(name)
        if field is None:  # __schema, __type: graphql-core's own
            raise NotBatched
        # One info for the level: the resolvers read its context (and schema), never its path.
        info = self.build_resolve_info(field, [d.node for d in details], object_type, Path(None, response_name, None))
        read = reader(field)
        if read is not None:
            try:
                values = [read(source) for source in sources]
            except Exception as error:
                raise NotBatched from error
        else:
            values = await self._resolve(field, info, sources)
        return await self._complete(field.type, details, info, values)

    async def _resolve(self, field: GraphQLField, info: GraphQLResolveInfo[Any], sources: list[Any]) -> list[Any]:
        node = info.field_nodes[0]
        resolve = field.resolve or self.field_resolver
        try:
            arguments = get_argument_values(field, node, self.variable_values) if field.args or node.arguments else {}
            values = [resolve(source, info, **arguments) for source in sources]
        except Exception as error:
            raise NotBatched from error
        pending = [(index, value) for index, value in enumerate(values) if self.is_awaitable(value)]
        if pending:
            settled = await _all([value for _, value in pending])
            for (index, _), value in zip(pending, settled, strict=True):
                values[index] = value
        return values

    async def _complete(
        self,
        output_type: GraphQLOutputType,
        details: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        values: list[Any],
    ) -> list[Any]:
        """`values` completed as graphql-core would complete each, or NotBatched."""
        nullable = get_nullable_type(output_type)
        required = is_non_null_type(output_type)
        present = []
        for value in values:
            if value is None:
                if required:
                    raise NotBatched
            elif _ordinary(value):
                present.append(value)
            else:
                _abandon(values)
                raise NotBatched
        if isinstance(nullable, GraphQLList):
            if not all(isinstance(value, (list, tuple)) for value in present):
                raise NotBatched
            items = await self._complete(nullable.of_type, details, info, [item for value in present for item in value])
            completed: list[Any] = []
            start = 0
            for value in present:
                completed.append(items[start : start + len(value)])
                start += len(value)
        elif is_leaf_type(nullable):
            completed = [_coerced(nullable.coerce_output_value, value) for value in present]
        elif isinstance(nullable, GraphQLObjectType):
            completed = await self._complete_objects(nullable, details, present)
        else:
            completed = await self._complete_abstract(nullable, details, info, present)  # type: ignore[arg-type]
        if len(present) == len(values):
            return completed
        answers = iter(completed)
        return [None if value is None else next(answers) for value in values]

    async def _complete_objects(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, sources: list[Any]
    ) -> list[dict[str, Any]]:
        is_type_of = object_type.is_type_of
        if is_type_of is not None and not all(is_type_of(source, None) is True for source in sources):  # type: ignore[arg-type]
            raise NotBatched
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, details)
        if new_defer_usages:
            raise NotBatched
        return await self._answer_level(object_type, sources, grouped_field_set) if sources else []

    async def _complete_abstract(
        self,
        abstract: GraphQLAbstractType,
        details: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        sources: list[Any],
    ) -> list[dict[str, Any]]:
        """An interface's or a union's objects, each answered as the object type it resolves to
        (a notification's subject, `node(id:)`), the objects of one type together."""
        resolve_type = abstract.resolve_type or self.type_resolver
        by_type: dict[str, list[int]] = {}
        for index, source in enumerate(sources):
            try:
                name = resolve_type(source, info, abstract)
            except Exception as error:
                raise NotBatched from error
            if not isinstance(name, str):  # an awaitable type name: graphql-core awaits it
                raise NotBatched
            runtime_type = self.schema.get_type(name)
            if not isinstance(runtime_type, GraphQLObjectType) or not self.schema.is_sub_type(abstract, runtime_type):
                raise NotBatched  # graphql-core's error
            by_type.setdefault(name, []).append(index)
        completed: list[Any] = [None] * len(sources)
        groups = list(by_type.items())
        answers = await _all(
            [
                self._complete_objects(
                    cast(GraphQLObjectType, self.schema.get_type(name)), details, [sources[i] for i in indexes]
                )
                for name, indexes in groups
            ]
        )
        for (_, indexes), answered in zip(groups, answers, strict=True):
            for index, answer in zip(indexes, answered, strict=True):
                completed[index] = answer
        return completed


# Whether values of a type are ones graphql-core completes as they are (no error, awaitable or
# Undefined): a question of the type alone, asked once per type.
_ORDINARY_TYPES: dict[type, bool] = {}


def _ordinary(value: Any) -> bool:
    kind = type(value)
    ordinary = _ORDINARY_TYPES.get(kind)
    if ordinary is None:
        ordinary = not unusual(value)
        if kind is not GeneratorType:  # a generator is awaitable or not by its function's flags
            _ORDINARY_TYPES[kind] = ordinary
    return ordinary


def _abandon(values: list[Any]) -> None:
    """Closes the coroutines held as values, which nothing will await now: graphql-core's
    answer runs their resolvers again."""
    for value in values:
        if isinstance(value, Coroutine):
            value.close()


def _database_failure(stopped: BaseException) -> bool:
    seen: BaseException | None = stopped
    while seen is not None and not isinstance(seen, DBAPIError):
        seen = seen.__cause__
    return seen is not None


def _coerced(coerce: Callable[[Any], Any], value: Any) -> Any:
    try:
        coerced = coerce(value)
    except Exception as error:
        raise NotBatched from error
    if coerced is None or coerced is Undefined:
        raise NotBatched
    return coerced


async def _all(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """Every awaitable settled before anything is decided: a failure must not leave others
    running on the session while graphql-core answers again. Of several failures, a database
    failure is the one told (it decides how graphql-core may answer again)."""
    settled = await asyncio.gather(*awaitables, return_exceptions=True)
    failures = [value for value in settled if isinstance(value, BaseException)]
    if not failures:
        return settled
    failure = next((value for value in failures if _database_failure(value)), failures[0])
    if isinstance(failure, NotBatched) or not isinstance(failure, Exception):
        raise failure  # cancellation and the like are not the operation's to answer
    raise NotBatched from failure
