"""Schema extensions: one unit of work per operation, and errors presented in the caller's terms."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult
from strawberry.types.graphql import OperationType

from resolvers.errors import DomainError
from tenants.context import LoaderCache, RequestContext

logger = logging.getLogger("wanjia.errors")


class UnitOfWork(SchemaExtension):
    """Each operation runs in a unit of work of its own, opened after parsing and validation
    passed, so a malformed query costs no connection. The context the transport made (per HTTP
    request, or per WebSocket connection and so shared by its operations) only says who calls.
    Mutations commit (each mutation field already rolled back its own failure); queries roll
    back, having written nothing. A subscription opens one per event it delivers."""

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


def is_expected(error: GraphQLError) -> bool:
    """Parse, validation and domain errors are the caller's; anything else is ours."""
    return error.original_error is None or isinstance(error.original_error, DomainError)


class PresentErrors(SchemaExtension):
    """Domain errors carry their code and field; unexpected ones are masked to a generic
    message with the request id (their stack is logged by the schema, see build_schema)."""

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
        result.errors = [self._present(error, ctx.request_id) for error in result.errors]  # type: ignore[attr-defined]

    @staticmethod
    def _present(error: GraphQLError, request_id: str) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            issue = original.issues[0]
            return GraphQLError(
                issue.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": issue.code, **({"field": issue.field} if issue.field else {})},
            )
        if original is None:
            return error
        return GraphQLError(
            f"服务器内部错误，请稍后再试。（请求编号：{request_id}）",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
