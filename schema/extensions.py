"""Schema extensions: one transaction per operation, and errors presented in the caller's terms."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from models.database import WRITES, is_unavailable
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
        if original is None and message == error.message:
            return error
        return GraphQLError(message, nodes=error.nodes, path=error.path, extensions=error.extensions)
    unavailable = is_unavailable(original)  # type: ignore[arg-type]
    message = "服务暂时不可用" if unavailable else "服务器内部错误"
    return GraphQLError(
        f"{message}，请稍后再试。（请求编号：{request_id}）",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "SERVICE_UNAVAILABLE" if unavailable else "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


class PresentErrors(SchemaExtension):
    """Presents every error of the operation in the caller's terms (see `present`)."""

    def __init__(self, *, production: bool = False) -> None:
        super().__init__()
        self.production = production

    def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        result = self.execution_context.result
        if not result or not result.errors:
            return
        ctx: RequestContext = self.execution_context.context
        result.errors = [present(error, ctx.request_id, production=self.production) for error in result.errors]
