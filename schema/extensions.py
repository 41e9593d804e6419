"""Schema extensions: one transaction per operation, and errors presented in the caller's terms."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from models.database import WRITES
from resolvers.errors import DomainError
from tenants.context import RequestContext
from tenants.sessions import open_session

logger = logging.getLogger("wanjia.errors")


class TenantTransaction(SchemaExtension):
    """Opens the tenant-scoped session for the execution, after parsing and validation passed,
    so a malformed query costs no connection. Mutations commit (each mutation field already
    rolled back its own failure); queries roll back, having written nothing."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx: RequestContext = self.execution_context.context
        if ctx.tenant is None:
            yield
            return
        writes = self.execution_context.operation_type == OperationType.MUTATION
        session = open_session(ctx.sessions, ctx.tenant.id)
        ctx.session = session
        try:
            await session.connection(execution_options={WRITES: writes})
            yield
            if writes:
                await session.commit()
            else:
                await session.rollback()
        finally:
            ctx.session = None
            await session.close()


def is_expected(error: GraphQLError) -> bool:
    """Parse, validation and domain errors are the caller's; anything else is ours."""
    return error.original_error is None or isinstance(error.original_error, DomainError)


class PresentErrors(SchemaExtension):
    """Domain errors carry their code and field; unexpected ones are masked to a generic
    message with the request id (their stack is logged by the schema, see build_schema)."""

    def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        result = self.execution_context.result
        if not result or not result.errors:
            return
        ctx: RequestContext = self.execution_context.context
        result.errors = [self._present(error, ctx.request_id) for error in result.errors]

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
