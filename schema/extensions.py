"""Schema extensions: one unit of work per operation, and errors presented in the caller's terms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult
from strawberry.types.graphql import OperationType

from models.audit import AuditedValue
from models.database import is_unavailable
from models.errors import ErrorCode
from resolvers.errors import DomainError
from tenants.context import LoaderCache, RequestContext


class UnitOfWork(SchemaExtension):
    """Each operation runs in a unit of work of its own, opened after parsing and validation
    passed, so a malformed query costs no connection. The context the transport made (per HTTP
    request, or per WebSocket connection and so shared by its operations) only says who calls.
    Mutations commit (each mutation field already rolled back its own failure); queries roll
    back, having written nothing. A subscription opens one per event it delivers.

    The whole values the response carries are noted for the unit of work to audit as it ends
    (`note_full_views`); those of a subscription's event, as the event's result leaves, while
    its unit of work is still open (resolvers.notifications.live)."""

    async def on_execute(self) -> AsyncIterator[None]:
        caller: RequestContext = self.execution_context.context
        operation = self.execution_context.operation_type
        if caller.tenant is None or operation == OperationType.SUBSCRIPTION:
            self.execution_context.context = replace(caller, loaders=LoaderCache())
            yield
            return
        async with caller.unit_of_work(writes=operation == OperationType.MUTATION) as ctx:
            self.execution_context.context = ctx
            yield
            note_full_views(ctx, self.execution_context.result)

    async def on_stream_result(self, result: StreamExecutionResult) -> AsyncIterator[None]:
        """A subscription's event leaves once the whole values it shows are in the audit log:
        once sent, the subscriber may leave at once, and the event's unit of work with it."""
        ctx: RequestContext = self.execution_context.context
        if self.execution_context.operation_type == OperationType.SUBSCRIPTION and ctx.session is not None:
            note_full_views(ctx, result)
            await ctx.log_what_was_shown()
        yield


def note_full_views(ctx: RequestContext, result: object) -> None:
    """Notes each whole phone or ID number (models.audit.AuditedValue) the result carries.
    Output strings leave the resolvers as they are, so the response holds the very objects the
    resolvers made: a value that reached the response is audited, one built into an object
    whose field nobody selected is not. Walked once per response rather than checked at every
    field's resolution, which the organisation tree's thousand objects paid for; only when the
    resolvers made a whole value for the caller (never for an anonymous one): a room's week of
    free slots, a thousand values, was walked for nothing on every request."""
    data = getattr(result, "data", None)
    if not ctx.made_whole_values or data is None:
        return
    pending: list[Any] = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, AuditedValue):
            ctx.full_views.add(value.view)


def is_expected(error: GraphQLError) -> bool:
    """Parse, validation, input and domain errors are the caller's; anything else is ours."""
    original = error.original_error
    return original is None or isinstance(original, (DomainError, GraphQLError))


SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def present(error: GraphQLError, request_id: str, *, production: bool) -> GraphQLError:
    """An error in the caller's terms. Domain errors carry their code and field; ours are masked
    to a generic message with the request id (their stack is logged by the schema), a database
    that cannot be reached as SERVICE_UNAVAILABLE. Production names no schema member the caller
    did not write (no "Did you mean …")."""
    original = error.original_error
    if isinstance(original, DomainError):
        issue = original.issues[0]
        return GraphQLError(
            issue.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": issue.code, **({"field": issue.field} if issue.field else {})},
        )
    if is_expected(error):
        message = SUGGESTION.sub("", error.message) if production else error.message
        extensions = error.extensions or {}
        if original is None and message == error.message and "code" in extensions:
            return error
        return GraphQLError(
            message, nodes=error.nodes, path=error.path, extensions={"code": _request_code(error), **extensions}
        )
    unavailable = is_unavailable(original)  # type: ignore[arg-type]
    message = "服务暂时不可用" if unavailable else "服务器内部错误"
    return GraphQLError(
        f"{message}，请稍后再试。（请求编号：{request_id}）",
        nodes=error.nodes,
        path=error.path,
        extensions={
            "code": ErrorCode.SERVICE_UNAVAILABLE if unavailable else ErrorCode.INTERNAL_SERVER_ERROR,
            "requestId": request_id,
        },
    )


def _request_code(error: GraphQLError) -> ErrorCode:
    """The code of a caller's error that came with none: a document that does not parse, else
    one refused before it ran (validation), else a value refused while it ran."""
    if isinstance(error, GraphQLSyntaxError) or isinstance(error.original_error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    return ErrorCode.GRAPHQL_VALIDATION_FAILED if error.path is None else ErrorCode.BAD_USER_INPUT


class PresentErrors(SchemaExtension):
    """Presents every error of the operation in the caller's terms (see `present`)."""

    def __init__(self, *, production: bool = False) -> None:
        super().__init__()
        self.production = production

    def on_operation(self) -> Iterator[None]:
        yield
        self._present_all(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Over a WebSocket each result leaves as soon as it is made: presented one by one."""
        self._present_all(result)
        yield

    def _present_all(self, result: object) -> None:
        # A graphql-core result at the operation's end, strawberry's in a stream; both have `errors`.
        if not getattr(result, "errors", None):
            return
        ctx: RequestContext = self.execution_context.context
        result.errors = [present(e, ctx.request_id, production=self.production) for e in result.errors]  # type: ignore[attr-defined]
